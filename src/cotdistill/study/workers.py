"""Start several workers on one study: local processes (``--workers N``) or Slurm jobs through submitit
(``--launcher slurm``). Each worker is an ordinary ``cotdistill study`` run on the shared output directory; the
leases (:mod:`cotdistill.study.leases`) make each cell run once, so workers need no other coordination and any
number may join or die. The report is written once, after the workers are done.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from cotdistill.configbase import StageConfig

WORKERS_DIR = "workers"


class SlurmSettings(StageConfig):
    """How ``--launcher slurm`` asks Slurm for workers (the ``slurm:`` section of a study YAML; flags override)."""

    partition: str | None = Field(None, description="Slurm partition (null: the cluster's default).")
    jobs: int | None = Field(None, ge=1, description="Worker jobs to submit (an array); null: one per cell, "
                                                     "capped by max_parallel.")
    max_parallel: int = Field(8, ge=1, description="Most worker jobs running at once (the array's % limit).")
    gpus_per_cell: int = Field(1, ge=0, description="GPUs per worker job (a worker runs one cell at a time).")
    cpus_per_cell: int = Field(8, ge=1, description="CPU cores per worker job.")
    time_limit_min: int = Field(24 * 60, ge=1, description="Time limit per worker job, in minutes; a job that "
                                                          "hits it leaves its cell to another (resumed).")
    mem_gb: int | None = Field(None, ge=1, description="Memory per job in GB (null: the partition's default).")


@dataclass(frozen=True)
class WorkerArgs:
    """What one worker needs: a picklable description of the run (submitit sends it to the job)."""

    config: str
    out: str
    only: dict[str, list[str]]
    keep_weights: bool
    lease_ttl: float
    device: str | None = None


def run_worker(args: WorkerArgs) -> str:
    """One worker: the study's grid from the shared directory, without the report (written once at the end)."""
    from cotdistill.study.config import load_study_config
    from cotdistill.study.runner import run_study

    cfg = load_study_config(args.config, overrides={"device": args.device} if args.device else None)
    run_study(cfg, args.out, config_text=Path(args.config).read_text(), config_file=args.config, live=False,
              only=args.only, keep_weights=args.keep_weights, lease_ttl=args.lease_ttl)
    return args.out


def worker_environments(n: int, *, gpus: int | None = None, cpus: int | None = None) -> list[dict[str, str]]:
    """Per-worker environment: one GPU each where there are GPUs (``CUDA_VISIBLE_DEVICES``, round robin when
    there are fewer GPUs than workers); on CPU the cores split evenly (``OMP_NUM_THREADS``)."""
    if gpus is None:
        import torch

        gpus = torch.cuda.device_count()
    if gpus > 0:
        return [{"CUDA_VISIBLE_DEVICES": str(i % gpus)} for i in range(n)]
    threads = str(max(1, (cpus or os.cpu_count() or 1) // n))
    return [{"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
            for _ in range(n)]


def worker_command(args: WorkerArgs) -> list[str]:
    command = [sys.executable, "-m", "cotdistill.cli.main", "study", args.config, "-o", args.out, "--no-report",
               "--lease-ttl", str(args.lease_ttl), "--keep-weights" if args.keep_weights else "--drop-weights"]
    if args.device:
        command += ["--device", args.device]
    for key, values in args.only.items():
        for value in values:
            command += ["--only", f"{key}={value}"]
    return command


def run_local_workers(args: WorkerArgs, n: int) -> list[int]:
    """Start ``n`` worker processes on this machine and wait for them; their output goes to
    ``OUT/workers/worker-<i>.log``. Returns their exit codes."""
    logs = Path(args.out) / WORKERS_DIR
    logs.mkdir(parents=True, exist_ok=True)
    processes = []
    for i, env in enumerate(worker_environments(n)):
        log = (logs / f"worker-{i}.log").open("a")
        processes.append((subprocess.Popen(worker_command(args), env={**os.environ, **env}, stdout=log,
                                           stderr=subprocess.STDOUT), log))
    codes = []
    for process, log in processes:
        codes.append(process.wait())
        log.close()
    return codes


def submit_slurm(args: WorkerArgs, settings: SlurmSettings, n_cells: int, *, cluster: str = "slurm") -> list[Any]:
    """Submit a job array of workers through submitit (``cluster='local'`` runs the same jobs as local processes:
    the tests' path). Returns the submitit jobs; their logs are in ``OUT/slurm/``."""
    import submitit

    jobs = settings.jobs or min(n_cells, settings.max_parallel)
    executor = submitit.AutoExecutor(folder=Path(args.out) / "slurm", cluster=cluster)
    parameters: dict[str, Any] = {
        "name": "cotdistill-study", "timeout_min": settings.time_limit_min, "gpus_per_node": settings.gpus_per_cell,
        "cpus_per_task": settings.cpus_per_cell, "slurm_array_parallelism": settings.max_parallel}
    if settings.partition:
        parameters["slurm_partition"] = settings.partition
    if settings.mem_gb:
        parameters["mem_gb"] = settings.mem_gb
    executor.update_parameters(**parameters)
    return executor.map_array(run_worker, [args] * jobs)
