"""Leases: how any number of workers share one study directory, each cell run by one of them at a time.

The shared output directory is the only coordination (no server, no queue). A worker *claims* a piece of work
(a cell, or a task's teacher phase) by creating ``OUT/leases/<name>.json`` with ``O_CREAT | O_EXCL``: exactly one
creator succeeds. While it works, a background thread *renews* the lease (touches its modification time) every
``ttl / 4`` seconds; when the work is done the worker *releases* it (deletes the file). A lease whose
modification time is older than ``ttl`` is *stale*: its worker died or hangs. Another worker takes it over by
renaming the stale file aside -- ``rename`` is atomic, so of two workers racing for it one wins and the other gets
``FileNotFoundError`` -- and then claiming it as usual; the cell resumes from its last complete checkpoint. A worker
that finds its lease gone or someone else's (it was taken over while it stalled) learns so at its next renewal
and stops working on that cell (:attr:`Lease.lost`).

What this needs from the file system: ``O_EXCL`` create and ``rename`` atomic within one directory (local file
systems, NFSv3+ on Linux >= 2.6.5, Lustre, GPFS), and the workers' clocks within a small fraction of ``ttl`` of
the file server's (NTP): staleness compares a file's modification time, set by the server, with the reader's
clock. What it does not guarantee: a worker frozen longer than ``ttl`` (SIGSTOP, a suspended VM) and then resumed
may write into a cell for up to one renewal period after another took it over; the checkpoints and the cell's
files are written atomically, so the cell is not corrupted, but its manifest then shows two attempts. Choose
``ttl`` well above the longest pause (default 10 minutes).

A lease whose holder ran on this machine, in this process namespace, and is gone (killed, crashed: no such
process, or a zombie) is stale at once, so rerunning a study after a crash on one machine does not wait out
``ttl``. A holder on another host, or in another container, is judged by its heartbeat alone.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEASES_DIR = "leases"
#: Seconds without renewal after which a lease is stale and its work may be taken over.
DEFAULT_TTL = 600.0


@functools.cache
def _pid_namespace() -> str | None:
    # Pids mean the same process only within one pid namespace (containers on one host have their own).
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs here (or it is a zombie, dead but not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: alive
        return False
    try:
        # /proc/<pid>/stat is "pid (comm) state ...", and comm may hold spaces or parentheses
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def holder_is_gone(record: dict[str, Any]) -> bool:
    """Whether the process that wrote this lease record is known to have ended: it ran on this host, in this pid
    namespace, and no such process is left. Unknown (another host or namespace, an old record) -> False."""
    pid, namespace = int(record.get("pid", 0)), record.get("pid_namespace")
    if pid <= 0 or namespace is None or record.get("host") != socket.gethostname():
        return False
    return namespace == _pid_namespace() and _process_gone(pid)


def worker_id() -> str:
    """This process's identity in lease files: host, pid and a random part (pids repeat across hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as read from the directory (by ``--status`` and by a worker deciding what to do)."""

    name: str
    worker: str
    host: str
    pid: int
    since: float
    heartbeat: float
    stale: bool


def _lease_path(out_dir: Path, name: str) -> Path:
    return out_dir / LEASES_DIR / f"{name}.json"


def read_lease(out_dir: Path, name: str, *, ttl: float = DEFAULT_TTL) -> LeaseInfo | None:
    """The lease on ``name``, or None when there is none (or it vanished while being read)."""
    path = _lease_path(out_dir, name)
    try:
        heartbeat = path.stat().st_mtime
        record: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        # A lease being created is empty for an instant: treat it as held and fresh.
        if path.exists():
            return LeaseInfo(name, "", "", 0, time.time(), time.time(), False)
        return None
    stale = time.time() - heartbeat > ttl or holder_is_gone(record)
    return LeaseInfo(name, record.get("worker", ""), record.get("host", ""), int(record.get("pid", 0)),
                     float(record.get("since", heartbeat)), heartbeat, stale)


def list_leases(out_dir: Path, *, ttl: float = DEFAULT_TTL) -> list[LeaseInfo]:
    found = []
    for path in sorted((out_dir / LEASES_DIR).glob("*.json")):
        info = read_lease(out_dir, path.stem, ttl=ttl)
        if info is not None:
            found.append(info)
    return found


class Lease:
    """A claimed lease; renewed by a daemon thread until :meth:`release`. ``lost`` turns true when a renewal
    finds that the lease is no longer this worker's."""

    def __init__(self, out_dir: Path, name: str, worker: str, ttl: float):
        self.path = _lease_path(out_dir, name)
        self.name, self.worker, self.ttl = name, worker, ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{name}", daemon=True)
        self._thread.start()

    def _owned(self) -> bool:
        try:
            return json.loads(self.path.read_text()).get("worker") == self.worker
        except (FileNotFoundError, json.JSONDecodeError):
            return False

    def renew(self) -> bool:
        """Touch the lease if it is still ours; False (and ``lost``) if another worker holds it now."""
        if self.lost or not self._owned():
            self.lost = True
            return False
        os.utime(self.path)
        return True

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            if not self.renew():
                return

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self._stop.set()
        self._thread.join()
        if not self.lost and self._owned():
            self.path.unlink(missing_ok=True)


def try_claim(out_dir: Path, name: str, *, worker: str, ttl: float = DEFAULT_TTL) -> Lease | None:
    """Claim ``name`` for ``worker``: a fresh lease, or a stale one taken over; None when another worker holds
    a live lease on it."""
    path = _lease_path(out_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            held = read_lease(out_dir, name, ttl=ttl)
            if held is not None and not held.stale:
                return None
            aside = path.with_name(f"{path.name}.stale-{uuid.uuid4().hex[:8]}")
            try:  # take the stale lease over: only one of the racing workers renames it away
                os.rename(path, aside)
            except FileNotFoundError:
                return None
            aside.unlink()
            continue
        now = time.time()
        with os.fdopen(fd, "w") as fh:
            json.dump({"worker": worker, "host": socket.gethostname(), "pid": os.getpid(),
                       "pid_namespace": _pid_namespace(), "since": now}, fh)
        return Lease(out_dir, name, worker, ttl)
    return None


@contextmanager
def claimed(out_dir: Path, name: str, *, worker: str, ttl: float = DEFAULT_TTL) -> Iterator[Lease | None]:
    """``with claimed(...) as lease:`` -- the lease (released on exit) or None when someone else holds it."""
    lease = try_claim(out_dir, name, worker=worker, ttl=ttl)
    try:
        yield lease
    finally:
        if lease is not None:
            lease.release()
