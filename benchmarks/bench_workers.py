"""Workers on one study directory vs one process: the same small grid run by one worker with all the cores and by
``--workers N`` with the cores split between them, wall time of each and their ratio, in one run.

    python benchmarks/bench_workers.py --out benchmarks/results/workers.json

Grid: the synthetic task (``--questions`` training and evaluation questions, seeded), ``--student`` (default the
packaged SmolLM2-135M), label_only and cot_after_label, ``--seeds`` seeds, one epoch: 2 x seeds cells plus the
untrained cell. Each run starts from an empty directory (the GGUF conversion is cached beforehand, outside the
timing) and ends when every cell is finished; no report. The single run gets every core (``OMP_NUM_THREADS`` =
cores), each of the N workers cores / N. Both runs' accuracies are compared: thread counts change floating-point
summation order, so they may differ in the last digits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def study_yaml(directory: Path, student: str, questions: int, seeds: int) -> Path:
    path = directory / "study.yaml"
    path.write_text(json.dumps({
        "name": "workers benchmark",
        "tasks": [{"train": {"name": "synthetic", "split": "train", "limit": questions, "seed": 0},
                   "eval": {"name": "synthetic", "split": "test", "limit": questions, "seed": 0},
                   "reference_rationales": True}],
        "students": [{"model": student}],
        "variants": [{"name": "label_only"}, {"name": "cot_after_label"}],
        "seeds": list(range(seeds)),
        "train": {"epochs": 1, "batch_size": 8, "max_length": 256, "learning_rate": 1.0e-4, "save_steps": 1000},
        "eval": {"label_first": {"batch_size": 16}},
    }))
    return path


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def accuracies(out: Path) -> list[float]:
    results = pd.read_csv(out / "results.csv", dtype={"cell": str}).sort_values(["cell", "mode"])
    return [round(a, 6) for a in results["accuracy"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student", default="smollm2-135m")
    parser.add_argument("--questions", type=int, default=96)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from cotdistill.hardware import cpu_capability
    from cotdistill.models import load_tokenizer
    from cotdistill.study.provenance import cpu_info

    load_tokenizer(args.student)  # fills the GGUF conversion cache outside the timing
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="cotdistill-bench-workers-"))
    config = study_yaml(work, args.student, args.questions, args.seeds)
    study = [sys.executable, "-m", "cotdistill.cli.main", "study", str(config), "--no-report"]
    load_before = os.getloadavg()
    single = timed(study + ["-o", str(work / "single")], {"OMP_NUM_THREADS": str(cores)})
    shared = timed(study + ["-o", str(work / "workers"), "--workers", str(args.workers)], {})
    load_after = os.getloadavg()
    result = {
        "cpu": cpu_info()["cpu"], "cores": cores, "cpu_capability": cpu_capability(), "python": platform.python_version(),
        "student": args.student, "questions": args.questions, "seeds": args.seeds,
        "cells": len(accuracies(work / "single")),
        "single_worker_threads": cores, "single_seconds": round(single, 1),
        "workers": args.workers, "threads_per_worker": max(1, cores // args.workers),
        "workers_seconds": round(shared, 1), "speedup": round(single / shared, 3),
        "same_accuracies": accuracies(work / "single") == accuracies(work / "workers"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
