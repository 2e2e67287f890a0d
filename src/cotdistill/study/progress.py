"""The live view of a running grid: cells done / running / left, ETA, and what the running cell is doing.

On a terminal it is a rich live display; otherwise (CI logs, pipes) one plain line per event.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class GridProgress:
    """Counts cells and estimates the time left from the cells computed in this run (skipped ones are free)."""

    def __init__(self, total: int, already_done: int, *, title: str = "study", stream: TextIO | None = None,
                 live: bool | None = None, expected: dict[str, float] | None = None):
        self.total = total
        self.done = already_done
        self.computed_seconds: list[float] = []
        # Predicted seconds of the cells still to run, by title (cells differ: an eval-only cell takes a fraction
        # of a training one); None: every cell is taken to cost the mean of those computed so far.
        self.expected = dict(expected) if expected else None
        self._expected_done = 0.0  # predicted seconds of the finished cells that had a prediction
        self._actual_done = 0.0  # and what they took
        self.current: str | None = None
        self.phase = ""
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream)
        self.live = self.console.is_terminal if live is None else live
        self.title = title
        self._cell_started = 0.0
        self._progress: Progress | None = None
        if self.live:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                                      redirect_stdout=False, redirect_stderr=False, refresh_per_second=2)
            self._grid_task = self._progress.add_task(self._summary(), total=total, completed=already_done)
            self._cell_task = self._progress.add_task("", total=None)
            self._progress.start()
        else:
            self._line(self._summary())

    @property
    def left(self) -> int:
        return self.total - self.done - (1 if self.current else 0)

    def eta_seconds(self) -> float | None:
        if self.expected is not None:
            return self._eta_from_expected()
        if not self.computed_seconds:
            return None
        per_cell = sum(self.computed_seconds) / len(self.computed_seconds)
        remaining = per_cell * self.left
        if self.current:
            remaining += max(per_cell - (time.monotonic() - self._cell_started), 0.0)
        return remaining

    def _eta_from_expected(self) -> float:
        """The predictions of the cells left, scaled by how long finished cells took against theirs."""
        scale = self._actual_done / self._expected_done if self._expected_done > 0 else 1.0
        remaining = sum(seconds for title, seconds in self.expected.items() if title != self.current)
        if self.current in self.expected:
            remaining += max(self.expected[self.current] - (time.monotonic() - self._cell_started) / scale, 0.0)
        return remaining * scale

    def _summary(self) -> str:
        eta = self.eta_seconds()
        if self.left == 0 and not self.current:
            eta = 0.0
        eta_text = _duration(eta) if eta is not None else "after the first cell"
        return (f"{self.title}: {self.done} done, {1 if self.current else 0} running, {self.left} left, "
                f"ETA {eta_text}")

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._grid_task, description=self._summary(), completed=self.done)
            cell = f"  {self.current}: {self.phase}" if self.current else ""
            self._progress.update(self._cell_task, description=cell)

    def cell_started(self, name: str) -> None:
        self.current = name
        self.phase = "starting"
        self._cell_started = time.monotonic()
        if self._progress is None:
            self._line(f"[{self.done + 1}/{self.total}] {name}: started ({self._summary()})")
        self._refresh()

    def cell_phase(self, phase: str) -> None:
        self.phase = phase
        if self._progress is None:
            self._line(f"[{self.done + 1}/{self.total}] {self.current}: {phase}")
        self._refresh()

    def cell_finished(self, summary: str) -> None:
        seconds = time.monotonic() - self._cell_started
        self.computed_seconds.append(seconds)
        if self.expected is not None and self.current in self.expected:
            self._expected_done += self.expected.pop(self.current)
            self._actual_done += seconds
        self.done += 1
        name, self.current = self.current, None
        if self._progress is None:
            self._line(f"[{self.done}/{self.total}] {name}: done in {_duration(seconds)}, {summary} "
                       f"({self._summary()})")
        else:
            self._progress.console.print(f"[green]done[/green] {name} in {_duration(seconds)}: {summary}")
        self._refresh()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
