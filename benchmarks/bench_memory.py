"""Peak memory of training each packaged student with cotdistill's training path, one fresh process per student.

    python benchmarks/bench_memory.py                                   # smollm2-135m and gemma3-270m
    python benchmarks/bench_memory.py --models tiny --steps 2           # smoke run

Each student is trained in its own child process (so one student's allocations never count towards another's):
``cotdistill.train.train_student`` on OpenBookQA dev questions with their Mistral-7B rationales built as
``cot_after_label`` (the longest targets of the study's answer-first variants; the synthetic task when
../shared/data is absent), with the study's settings: batch 8, max length 256, bf16 autocast, fp32 master weights,
fused AdamW. The child reports its resident set size after loading the student (weights only) and its peak
resident set size over the whole run (``ru_maxrss``: weights, gradients, AdamW state, activations), and
``torch.cuda.max_memory_allocated`` when it trains on a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import DEFAULT_SHARED, load_data  # noqa: E402


def current_rss_gib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**30


def train_one(args) -> dict:
    """Runs in the child process: load, train ``args.steps`` steps, report memory."""
    import torch

    from cotdistill.models import StudentConfig, load_student
    from cotdistill.train import TrainConfig, train_student

    torch.set_num_threads(args.threads)
    model, tokenizer = load_student(StudentConfig(model=args.model))
    weights_rss = current_rss_gib()
    params = sum(p.numel() for p in model.parameters())
    instances, source = load_data(Path(args.shared), args.steps * args.batch_size, tokenizer, args.seed)
    cfg = TrainConfig(batch_size=args.batch_size, max_length=256, max_steps=args.steps, learning_rate=1e-4,
                      save_steps=10**6, logging_steps=1, seed=args.seed, bf16="auto")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = train_student(instances, StudentConfig(model=args.model), cfg, Path(tmp) / "student",
                               metadata={"benchmark": True}, student=(model, tokenizer))
        seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"model": args.model, "parameters": params, "data": source, "steps": result.steps,
            "batch_size": args.batch_size, "max_length": 256, "tokens": result.total_tokens,
            "train_seconds": seconds, "rss_after_load_gib": weights_rss, "peak_rss_gib": peak_kib / 2**20,
            "cuda_peak_gib": (torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "gemma3-270m"], help="load_student aliases")
    parser.add_argument("--shared", default=str(DEFAULT_SHARED), help="the shared data folder")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per student")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (this machine has 2 cores)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.model = args.child
        print(json.dumps(train_one(args)))
        return
    rows = []
    for model in args.models:
        cmd = [sys.executable, __file__, "--child", model, "--shared", args.shared, "--steps", str(args.steps),
               "--batch-size", str(args.batch_size), "--seed", str(args.seed), "--threads", str(args.threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'student':<14} {'params':>8} {'after load GiB':>15} {'peak GiB':>9} {'steps':>6} {'s/step':>7}")
    for r in rows:
        print(f"{r['model']:<14} {r['parameters'] / 1e6:>7.1f}M {r['rss_after_load_gib']:>15.2f} "
              f"{r['peak_rss_gib']:>9.2f} {r['steps']:>6} {r['train_seconds'] / r['steps']:>7.2f}")
    print(f"data: {rows[0]['data']}; batch {args.batch_size}, max length 256, bf16 autocast, fused AdamW")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
