"""Several workers on one study directory: each cell once, a killed worker's cell resumed by another, the
submitit path, and ``--status``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from cotdistill.cli.main import main
from cotdistill.study import layout
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import expand_grid, untrained_cells
from cotdistill.study.leases import try_claim
from cotdistill.study.runner import run_study
from cotdistill.study.status import study_status
from cotdistill.study.workers import (SlurmSettings, WorkerArgs, run_local_workers, submit_slurm, worker_command,
                                      worker_environments)

#: 4 variants x 3 seeds + the untrained cell: 13 cells of the tiny study.
GRID = {"variants": [{"name": "label_only"}, {"name": "cot_after_label"}, {"name": "shuffled_cot_after_label"},
                     {"name": "filler_after_label"}], "seeds": [0, 1, 2]}


def test_worker_environments_give_one_gpu_each_or_split_the_cores():
    assert [e["CUDA_VISIBLE_DEVICES"] for e in worker_environments(3, gpus=2)] == ["0", "1", "0"]
    cpu = worker_environments(2, gpus=0, cpus=4)
    assert [e["OMP_NUM_THREADS"] for e in cpu] == ["2", "2"] and cpu[0]["CUDA_VISIBLE_DEVICES"] == ""
    assert worker_environments(4, gpus=0, cpus=2)[0]["OMP_NUM_THREADS"] == "1"


def test_the_worker_command_is_a_plain_study_run_without_the_report():
    command = worker_command(WorkerArgs("s.yaml", "out", {"seed": ["0", "1"]}, False, 30.0))
    assert command[3:] == ["study", "s.yaml", "-o", "out", "--no-report", "--lease-ttl", "30.0", "--drop-weights",
                           "--only", "seed=0", "--only", "seed=1"]


def _accuracies(out: Path) -> pd.DataFrame:
    results = pd.read_csv(out / "results.csv", dtype={"cell": str})
    return results[["cell", "mode", "accuracy"]].sort_values(["cell", "mode"]).reset_index(drop=True)


def _attempts(out: Path) -> dict[str, int]:
    return {p.name: len(json.loads((p / layout.MANIFEST_FILE).read_text())["attempts"])
            for p in (out / "cells").iterdir() if p.is_dir()}


@pytest.mark.extended
def test_three_workers_run_every_cell_once_and_match_one_process(tiny_study_yaml, tmp_path, monkeypatch):
    path = tiny_study_yaml(GRID)
    cfg = load_study_config(path)
    n_cells = len(expand_grid(cfg)) + len(untrained_cells(cfg))
    # One thread per process in both runs, so the two runs compute the same floating-point sums.
    monkeypatch.setattr("cotdistill.study.workers.os.cpu_count", lambda: 3)
    shared = tmp_path / "shared"
    assert run_local_workers(WorkerArgs(str(path), str(shared), {}, True, 60.0), 3) == [0, 0, 0]
    assert n_cells == 13 and all(layout.is_finished(p) for p in (shared / "cells").iterdir())
    assert len(list((shared / "cells").iterdir())) == n_cells
    assert set(_attempts(shared).values()) == {1}
    logs = [(shared / "workers" / f"worker-{i}.log").read_text() for i in range(3)]
    assert sum(1 for log in logs if "started" in log) >= 2  # the cells were shared out, not run by one worker
    monkeypatch.setattr("cotdistill.study.workers.os.cpu_count", lambda: 1)
    single = tmp_path / "single"
    assert run_local_workers(WorkerArgs(str(path), str(single), {}, True, 60.0), 1) == [0]
    pd.testing.assert_frame_equal(_accuracies(shared), _accuracies(single))


@pytest.mark.extended
@pytest.mark.parametrize("holder", ["on this machine", "on another node"])
def test_a_killed_workers_cell_is_resumed_from_its_checkpoint(tiny_study_yaml, tmp_path, holder):
    # Long enough cells that the kill lands inside one: many epochs, a checkpoint every step.
    path = tiny_study_yaml({"variants": [{"name": "cot_after_label"}], "baseline": "cot_after_label",
                            "seeds": [0], "train": {"epochs": 30, "batch_size": 4, "max_length": 96, "save_steps": 1,
                                      "logging_steps": 1, "learning_rate": 1.0e-3}})
    out = tmp_path / "out"
    # Here the next worker sees that the holder's process is gone and must not wait out the default ttl; a
    # holder on another node cannot be seen, so its lease (4 s here) has to expire first.
    ttl = 600.0 if holder == "on this machine" else 4.0
    args = WorkerArgs(str(path), str(out), {"variant": ["cot_after_label"]}, True, ttl)
    victim = subprocess.Popen(worker_command(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 240
    checkpoints: list[Path] = []
    while time.time() < deadline and not checkpoints:
        # a few steps in: the kill lands in the middle of training, with a checkpoint to resume from
        checkpoints = [p for p in out.glob("cells/*/train/checkpoint-*/trainer_state.json")
                       if int(p.parent.name.split("-")[1]) >= 5]
        time.sleep(0.2)
    assert checkpoints, "the first worker never reached a checkpoint"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    (cell_dir,) = {p.parents[2] for p in checkpoints}
    assert not layout.is_finished(cell_dir)
    if holder == "on another node":
        (lease_file,) = (out / "leases").glob("*.json")
        lease_file.write_text(json.dumps({**json.loads(lease_file.read_text()), "host": "node-17"}))
        assert [lease.host for _, lease in study_status(out, ttl=ttl).running] == ["node-17"]
    else:
        status = study_status(out, ttl=ttl)
        assert not status.running and [lease.pid for _, lease in status.stale] == [victim.pid]

    started = time.monotonic()
    assert run_local_workers(args, 1) == [0]
    assert time.monotonic() - started < 300
    assert layout.is_finished(cell_dir)
    manifest = json.loads((cell_dir / layout.MANIFEST_FILE).read_text())
    assert len(manifest["attempts"]) == 2 and "seconds" not in manifest["attempts"][0]
    assert "resuming training" in (cell_dir / layout.CELL_LOG).read_text()
    assert not list((out / "leases").glob("*.json"))


@pytest.mark.extended
def test_the_submitit_launcher_runs_the_study_through_the_local_executor(tiny_study_yaml, tmp_path):
    path = tiny_study_yaml({"seeds": [0, 1]})
    cfg = load_study_config(path)
    out = tmp_path / "out"
    settings = SlurmSettings(jobs=2, gpus_per_cell=0, cpus_per_cell=1, time_limit_min=20)
    n_cells = len(expand_grid(cfg)) + len(untrained_cells(cfg))
    jobs = submit_slurm(WorkerArgs(str(path), str(out), {}, True, 60.0), settings, n_cells, cluster="local")
    assert len(jobs) == 2 and [job.result() for job in jobs] == [str(out), str(out)]
    assert len(list((out / "cells").iterdir())) == n_cells and set(_attempts(out).values()) == {1}
    assert main(["report", str(out)]) == 0


def test_status_counts_done_running_stale_and_left(tiny_study_yaml, tmp_path, capsys):
    cfg = load_study_config(tiny_study_yaml({"seeds": [0, 1]}))
    out = run_study(cfg, tmp_path / "out", live=False, only={"seed": ["0"]})
    left = [c for c in expand_grid(cfg) if c.seed == 1]
    running = try_claim(out, left[0].key, worker="w-live", ttl=60.0)
    stale = try_claim(out, left[1].key, worker="w-dead", ttl=60.0)
    stale._stop.set()
    stale._thread.join()
    os.utime(out / "leases" / f"{left[1].key}.json", (time.time() - 120, time.time() - 120))
    status = study_status(out, ttl=60.0)
    # seed 0 ran; the untrained cell (no seed) and seed 1 did not
    assert (len(status.done), len(status.running), len(status.stale), len(status.left)) == (2, 1, 1, 1)
    assert status.running[0][1].worker == "w-live" and status.eta_seconds() > 0
    assert main(["study", "--status", str(out), "--lease-ttl", "60"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("2 done, 1 running, 1 stale, 1 left (of 5 cells)") and "w-dead" in printed
    running.release()
    assert main(["study", "--status", str(tmp_path / "nothing")]) == 2
