"""``cotdistill study --status DIR``: where a (possibly shared) study directory stands, read from its files only:
cells done, running (which worker, host, since when, last heartbeat), stale (a worker stopped renewing: another
will take the cell over), left, and an ETA from the finished cells' times."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from cotdistill.errors import DataError
from cotdistill.study import layout
from cotdistill.study.leases import DEFAULT_TTL, LeaseInfo, read_lease


@dataclass
class StudyStatus:
    cells: int
    done: list[str]
    running: list[tuple[str, LeaseInfo]]
    stale: list[tuple[str, LeaseInfo]]
    left: list[str]
    mean_cell_seconds: float | None

    def eta_seconds(self) -> float | None:
        """Cells not done x the mean finished cell's time, shared by the workers now running (at least one)."""
        if self.mean_cell_seconds is None:
            return None
        remaining = len(self.running) + len(self.stale) + len(self.left)
        return remaining * self.mean_cell_seconds / max(1, len(self.running))

    def lines(self) -> list[str]:
        now = time.time()
        out = [f"{len(self.done)} done, {len(self.running)} running, {len(self.stale)} stale, {len(self.left)} left "
               f"(of {self.cells} cells)"]
        for title, lease in self.running:
            out.append(f"  running {title}: worker {lease.worker} on {lease.host} (pid {lease.pid}) since "
                       f"{_clock(lease.since)}, heartbeat {now - lease.heartbeat:.0f} s ago")
        for title, lease in self.stale:
            out.append(f"  stale   {title}: worker {lease.worker} on {lease.host} silent for "
                       f"{now - lease.heartbeat:.0f} s; the next worker to look takes it over")
        eta = self.eta_seconds()
        if eta is not None:
            out.append(f"ETA ~{eta / 60:.0f} min at {max(1, len(self.running))} worker(s) "
                       f"(mean finished cell {self.mean_cell_seconds / 60:.1f} min)")
        return out


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def study_status(out: Path, *, ttl: float = DEFAULT_TTL) -> StudyStatus:
    out = Path(out)
    if not (out / layout.STUDY_FILE).is_file():
        raise DataError("not a study directory (no study.json: has `cotdistill study` started here?)", path=out)
    record = layout.read_study(out)
    done, running, stale, left, seconds = [], [], [], [], []
    for cell in record.get("cells", []):
        title = f"{cell['task']} / {cell['student']} / {cell['variant']} / seed {cell['seed']}"
        directory = layout.cell_dir(out, cell["key"])
        if layout.is_finished(directory):
            done.append(title)
            manifest = directory / layout.MANIFEST_FILE
            total = json.loads(manifest.read_text()).get("timings", {}).get("total_seconds") \
                if manifest.is_file() else None
            if total:
                seconds.append(float(total))
            continue
        lease = read_lease(out, cell["key"], ttl=ttl)
        if lease is None:
            left.append(title)
        elif lease.stale:
            stale.append((title, lease))
        else:
            running.append((title, lease))
    return StudyStatus(len(record.get("cells", [])), done, running, stale, left,
                       sum(seconds) / len(seconds) if seconds else None)
