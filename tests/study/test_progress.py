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


def test_with_predicted_cell_times_the_eta_follows_them_scaled_by_finished_cells(monkeypatch):
    clock = iter([0.0, 20.0, 20.0, 20.0]).__next__
    monkeypatch.setattr("cotdistill.study.progress.time.monotonic", clock)
    stream = io.StringIO()
    # A short eval-only cell first, then two long ones: the mean of finished cells would say 20 s per cell.
    view = GridProgress(total=3, already_done=0, title="s", stream=stream, live=False,
                        expected={"short": 10.0, "long 1": 100.0, "long 2": 100.0})
    assert "ETA 3m30s" in stream.getvalue()  # the predictions, before anything ran
    view.cell_started("short")  # t=0
    view.cell_finished("done")  # t=20: took twice its prediction, so the rest is scaled by 2
    assert view.eta_seconds() == 400.0
    assert "1 done, 0 running, 2 left, ETA 6m40s" in stream.getvalue()
