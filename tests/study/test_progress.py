"""The grid progress view: counts, ETA from computed cells only, plain lines off a terminal."""

from __future__ import annotations

import io

from cotdistill.study.progress import GridProgress


def test_plain_lines_count_cells_and_estimate_time_left(monkeypatch):
    clock = iter([0.0, 10.0, 10.0, 30.0]).__next__
    monkeypatch.setattr("cotdistill.study.progress.time.monotonic", clock)
    stream = io.StringIO()
    view = GridProgress(total=5, already_done=2, title="s", stream=stream, live=False)
    assert "2 done, 0 running, 3 left, ETA after the first cell" in stream.getvalue()
    view.cell_started("cell A")  # t=0
    view.cell_phase("training")
    view.cell_finished("accuracy 50%")  # t=10: one computed cell took 10 s; 2 left
    assert view.eta_seconds is not None
    assert "3 done, 0 running, 2 left, ETA 20s" in stream.getvalue()
    view.cell_started("cell B")  # t=10
    assert "cell B: started (s: 3 done, 1 running, 1 left" in stream.getvalue()
    view.close()


def test_live_view_renders(monkeypatch):
    stream = io.StringIO()
    view = GridProgress(total=2, already_done=0, title="live", stream=stream, live=True)
    view.cell_started("cell A")
    view.cell_phase("training")
    view.cell_finished("ok")
    view.close()
    assert "done" in stream.getvalue() and "cell A" in stream.getvalue()
