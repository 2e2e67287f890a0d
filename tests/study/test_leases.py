"""Leases on a shared study directory: one holder at a time, stale ones taken over, a lost one noticed."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time

from cotdistill.study.leases import claimed, list_leases, read_lease, try_claim


def test_one_holder_at_a_time_and_release_frees_it(tmp_path):
    first = try_claim(tmp_path, "cell-a", worker="w1")
    assert first is not None
    assert try_claim(tmp_path, "cell-a", worker="w2") is None
    assert try_claim(tmp_path, "cell-b", worker="w2") is not None
    info = read_lease(tmp_path, "cell-a")
    assert info.worker == "w1" and info.pid == os.getpid() and not info.stale
    first.release()
    assert read_lease(tmp_path, "cell-a") is None
    with claimed(tmp_path, "cell-a", worker="w2") as again:
        assert again is not None
    assert read_lease(tmp_path, "cell-a") is None


def test_a_stale_lease_is_taken_over_and_its_old_holder_learns_it_lost(tmp_path):
    dead = try_claim(tmp_path, "cell", worker="dead", ttl=0.4)
    dead._stop.set()  # the worker hangs: no more renewals
    dead._thread.join()
    assert try_claim(tmp_path, "cell", worker="other", ttl=0.4) is None  # still fresh
    time.sleep(0.5)
    assert [lease.stale for lease in list_leases(tmp_path, ttl=0.4)] == [True]
    taker = try_claim(tmp_path, "cell", worker="taker", ttl=0.4)
    assert taker is not None and read_lease(tmp_path, "cell", ttl=0.4).worker == "taker"
    assert dead.renew() is False and dead.lost
    dead.release()  # must not delete the taker's lease
    assert read_lease(tmp_path, "cell", ttl=0.4).worker == "taker"
    assert [p.name for p in (tmp_path / "leases").iterdir()] == ["cell.json"]
    taker.release()


def test_renewal_keeps_a_working_lease_fresh(tmp_path):
    lease = try_claim(tmp_path, "cell", worker="w", ttl=0.4)
    time.sleep(0.9)  # more than twice the ttl: the renewal thread touched it meanwhile
    assert not read_lease(tmp_path, "cell", ttl=0.4).stale
    assert try_claim(tmp_path, "cell", worker="other", ttl=0.4) is None
    lease.release()


def _race(directory: str, worker: str, start: float, results) -> None:
    while time.time() < start:
        pass
    lease = try_claim(__import__("pathlib").Path(directory), "cell", worker=worker)
    results.put(worker if lease is not None else None)
    time.sleep(0.3)  # hold it while the others try


def test_of_workers_racing_for_one_cell_exactly_one_wins(tmp_path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 2.0
    workers = [context.Process(target=_race, args=(str(tmp_path), f"w{i}", start, results)) for i in range(4)]
    for worker in workers:
        worker.start()
    winners = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert len([w for w in winners if w is not None]) == 1


_CLAIM_AND_EXIT = ("import sys, os; from pathlib import Path; from cotdistill.study.leases import try_claim; "
                   "try_claim(Path(sys.argv[1]), 'cell', worker='crashed', ttl=600.0); os._exit(0)")


def test_a_lease_whose_process_is_gone_is_stale_at_once(tmp_path):
    # The holder exits without releasing (as under kill -9); within the ttl its lease is taken over anyway.
    child = subprocess.Popen([sys.executable, "-c", _CLAIM_AND_EXIT, str(tmp_path)])
    deadline = time.time() + 60
    while time.time() < deadline and child.poll() is None:
        time.sleep(0.05)
    # not yet reaped: a zombie counts as gone too
    assert read_lease(tmp_path, "cell").worker == "crashed" and read_lease(tmp_path, "cell").stale
    child.wait()
    assert read_lease(tmp_path, "cell").stale
    taker = try_claim(tmp_path, "cell", worker="taker")
    assert taker is not None and read_lease(tmp_path, "cell").worker == "taker"
    taker.release()


def test_a_lease_of_another_host_or_namespace_waits_for_its_ttl(tmp_path):
    (tmp_path / "leases").mkdir()
    record = {"worker": "elsewhere", "pid": 2 ** 22 + 1, "since": time.time()}
    for other in ({"host": "node-17", "pid_namespace": "pid:[1]"},
                  {"host": socket.gethostname(), "pid_namespace": "pid:[1]"},
                  {"host": socket.gethostname()}):  # a record without a namespace: cannot tell
        (tmp_path / "leases" / "cell.json").write_text(json.dumps({**record, **other}))
        assert not read_lease(tmp_path, "cell").stale
        assert try_claim(tmp_path, "cell", worker="me") is None
