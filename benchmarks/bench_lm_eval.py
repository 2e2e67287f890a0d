"""Cross-check a trained student's label-first accuracy with lm-evaluation-harness, and time both.

    python benchmarks/bench_lm_eval.py --student runs/lmeval-check/student --task openbookqa \
        --task-path ../shared/data/openbookqa --split test --json benchmarks/results/lm_eval_check.json

Runs, one after the other in one process on the same questions, with the same batch size and in fp32:

(a) ``cotdistill eval --mode label_first`` (the student's recorded prompt format; scores every choice text);
(b) ``cotdistill export-lm-eval`` for the same split, then lm-eval's ``simple_evaluate`` with its ``hf`` model on
    the exported task (another code base computing the choices' log-likelihoods).

Reports both accuracies (and acc_norm), how many questions the two mark differently, the largest difference of a
choice's log-likelihood, and the wall seconds of each evaluation (model already loaded for lm-eval; cotdistill eval
loads its own, so its time includes that load).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", required=True, help="trained student directory")
    parser.add_argument("--task", required=True)
    parser.add_argument("--task-path")
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from cotdistill.cli.main import main as cli
    from cotdistill.models import load_trained_student

    task_args = ["--task", args.task, "--split", args.split] + (["--task-path", args.task_path] if args.task_path else [])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        config = out / "eval.yaml"
        config.write_text(f"eval: {{batch_size: {args.batch_size}, dtype: fp32}}\n")
        start = time.perf_counter()
        assert cli(["eval", "--student", args.student, *task_args, "--mode", "label_first", "--config", str(config),
                    "-o", str(out / "eval")]) == 0
        cotdistill_seconds = time.perf_counter() - start
        metrics = json.loads((out / "eval" / "metrics.json").read_text())
        predictions = [json.loads(line) for line in (out / "eval" / "predictions.jsonl").read_text().splitlines()]

        assert cli(["export-lm-eval", "--student", args.student, *task_args, "-o", str(out / "lm-eval"),
                    "--name", "cotdistill_check"]) == 0
        model, tokenizer, _ = load_trained_student(args.student)
        start = time.perf_counter()
        results = lm_eval.simple_evaluate(
            model=HFLM(pretrained=model, tokenizer=tokenizer, batch_size=args.batch_size, device="cpu"),
            tasks=["cotdistill_check"], log_samples=True,
            task_manager=TaskManager(include_path=str(out / "lm-eval"), include_defaults=False))
        lm_eval_seconds = time.perf_counter() - start

    scores = results["results"]["cotdistill_check"]
    samples = {s["doc"]["id"]: s for s in results["samples"]["cotdistill_check"]}
    disagree, largest = 0, 0.0
    for prediction in predictions:
        sample = samples[prediction["id"]]
        disagree += sample["acc"] != float(prediction["correct"])
        theirs = [loglikelihood for loglikelihood, _ in sample["filtered_resps"]]
        largest = max(largest, *(abs(a - b) for a, b in zip(theirs, prediction["scores"].values())))
    summary = {
        "student": args.student, "task": args.task, "split": args.split, "questions": len(predictions),
        "batch_size": args.batch_size,
        "cotdistill": {"accuracy": metrics["accuracy"], "acc_norm": metrics.get("acc_norm"),
                       "seconds": cotdistill_seconds},
        "lm_eval": {"version": lm_eval.__version__ if hasattr(lm_eval, "__version__") else None,
                    "accuracy": scores["acc,none"], "acc_norm": scores["acc_norm,none"], "seconds": lm_eval_seconds},
        "questions_marked_differently": disagree, "largest_loglikelihood_difference": largest,
    }
    print(f"{len(predictions)} questions: cotdistill eval accuracy {metrics['accuracy']:.4f} "
          f"(acc_norm {metrics.get('acc_norm')}) in {cotdistill_seconds:.1f} s; lm-eval acc {scores['acc,none']:.4f} "
          f"(acc_norm {scores['acc_norm,none']:.4f}) in {lm_eval_seconds:.1f} s; {disagree} questions marked "
          f"differently; largest choice log-likelihood difference {largest:.2e}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
