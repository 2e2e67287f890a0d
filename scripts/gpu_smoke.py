"""The whole pipeline once, on the accelerator at hand, stage by stage: each stage's device, seconds and peak memory.

Students are random-weight models of real shapes (weights cannot travel to a lent GPU machine): ``--shape
smollm2`` is SmolLM2-135M's architecture, ``gemma3`` Gemma-3-270M's, ``tiny`` the test suite's 2-layer model (what
CI runs on the CPU). Token ids come from the in-process tiny tokenizer: they only feed a random model, so only
sequence lengths matter. Data: the built-in synthetic task with its reference rationales. Stages:

1. local teacher (the random student as teacher, label-first prompts, 16 questions),
2. training, 1 process (cot_after_label, ``--steps`` optimizer steps),
3. training, 2 ranks with torchrun -- only where there are 2+ GPUs,
4. evaluation of the trained student, label-first and reasoning-first,
5. key-token scores (gradient x input through the trained student),
6. a tiny study (label_only and cot_after_label, one seed, two workers sharing the directory).

    python scripts/gpu_smoke.py --shape smollm2 --out smoke.json      # on a GPU machine (scripts/gpu_smoke.sh)
    python scripts/gpu_smoke.py --shape tiny --out smoke.json         # anywhere: CI runs this on the CPU

Peak memory is the accelerator's (``torch.cuda.max_memory_allocated``) on CUDA and the process's resident set
(``ru_maxrss``, a high-water mark over the whole run) on the CPU.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

SHAPES: dict[str, dict[str, Any]] = {
    # config.json of HuggingFaceTB/SmolLM2-135M-Instruct (Llama)
    "smollm2": {"model_type": "llama", "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
                "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
                "max_position_embeddings": 8192, "tie_word_embeddings": True, "rope_theta": 100000.0},
    # config.json of google/gemma-3-270m (Gemma 3 text)
    "gemma3": {"model_type": "gemma3_text", "hidden_size": 640, "intermediate_size": 2048, "num_hidden_layers": 18,
               "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 256, "vocab_size": 262144,
               "max_position_embeddings": 32768, "sliding_window": 512},
}


def build_student(shape: str, directory: Path) -> Path:
    """A random-weight student directory (model + tiny tokenizer) of the given shape."""
    from transformers import AutoConfig, AutoModelForCausalLM

    from cotdistill.models.tiny import build_tiny_model, build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer(vocab_size=512)
    if shape == "tiny":
        model = build_tiny_model(len(tokenizer), seed=0)
    else:
        spec = dict(SHAPES[shape])
        config = AutoConfig.for_model(spec.pop("model_type"), **spec)
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def run_stage(name: str, device: torch.device, work: Callable[[], Any], report: list[dict[str, Any]]) -> Any:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = work()
    if device.type == "cuda":
        torch.cuda.synchronize()
    row = {"stage": name, "device": str(device), "seconds": round(time.perf_counter() - start, 2),
           "peak_memory_gib": round(peak_memory_gib(device), 3)}
    report.append(row)
    print(f"{name:<28} {row['device']:<8} {row['seconds']:>8.2f} s {row['peak_memory_gib']:>8.3f} GiB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=["tiny", *SHAPES], default="smollm2")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps of each training stage")
    parser.add_argument("--questions", type=int, default=64, help="synthetic training / evaluation questions")
    parser.add_argument("--out", type=Path, help="write the stage table here as JSON")
    args = parser.parse_args()

    from cotdistill.data.synthetic import generate_synthetic
    from cotdistill.data.tasks import TaskConfig
    from cotdistill.evaluate.api import evaluate_trained_modes
    from cotdistill.evaluate.config import EvalConfig
    from cotdistill.keytokens import Scorer, make_selector, score_rationales
    from cotdistill.models import StudentConfig
    from cotdistill.models.device import resolve_device
    from cotdistill.study.config import parse_study_config
    from cotdistill.study.workers import WorkerArgs, run_local_workers
    from cotdistill.teacher.config import PromptConfig, SamplingConfig, TeachConfig, TeacherConfig
    from cotdistill.teacher.run import teach
    from cotdistill.train.config import TrainConfig
    from cotdistill.train.pipeline import run_training
    from cotdistill.train.run_config import TrainRunConfig
    from cotdistill.variants.config import VariantConfig

    device = resolve_device("auto", field="device")
    gpus = torch.cuda.device_count()
    print(f"torch {torch.__version__}; device {device}"
          + (f" ({torch.cuda.get_device_name(0)}, {gpus} GPU(s))" if gpus else "") + f"; shape {args.shape}")
    report: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="cotdistill-smoke-"))
    student = build_student(args.shape, work / "student")
    task = TaskConfig(name="synthetic", split="train", limit=args.questions, seed=0)
    eval_task = TaskConfig(name="synthetic", split="test", limit=args.questions, seed=0)
    train_cfg = TrainConfig(max_steps=args.steps, batch_size=8, max_length=256, save_steps=10 * args.steps,
                            learning_rate=1e-4)

    run_stage("teacher (local backend)", device, lambda: teach(TeachConfig(
        task=TaskConfig(name="synthetic", split="train", limit=16, seed=0),
        teacher=TeacherConfig(backend="local", model=str(student), batch_size=8),
        prompt=PromptConfig(style="completion"),
        sampling=SamplingConfig(max_new_tokens=32, temperature=0.0), output_dir=str(work / "teacher"))), report)

    def train(output: Path) -> Any:
        return run_training(TrainRunConfig(task=task, variant=VariantConfig(name="cot_after_label"),
                                           student=StudentConfig(model=str(student)), train=train_cfg,
                                           output=str(output)))

    run_stage("train (1 process)", device, lambda: train(work / "trained"), report)
    if gpus >= 2:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m",
                   "cotdistill.cli.main", "train", "--task", "synthetic", "--limit", str(args.questions),
                   "--variant", "cot_after_label", "--student", str(student), "--max-steps", str(args.steps),
                   "--batch-size", "8", "-o", str(work / "trained-2")]
        run_stage("train (2 ranks, torchrun)", device, lambda: subprocess.run(command, check=True), report)

    eval_cfg = EvalConfig(batch_size=16, max_new_tokens=32)
    run_stage("eval (label-first + reasoning-first)", device, lambda: evaluate_trained_modes(
        work / "trained", eval_task, eval_cfg,
        {"label_first": work / "eval" / "label_first", "reasoning_first": work / "eval" / "reasoning_first"}), report)

    examples, rationales = generate_synthetic("train", 16, seed=0)

    def key_tokens() -> Any:
        scorer = Scorer.from_spec(str(work / "trained"), batch_size=8)
        return score_rationales(make_selector("gradient_x_input"), examples, rationales, scorer=scorer)

    run_stage("key tokens (gradient x input)", device, key_tokens, report)

    study_yaml = work / "study.yaml"
    cfg = {"name": "smoke", "tasks": [{"train": task.model_dump(), "eval": {**eval_task.model_dump(), "limit": 16},
                                       "reference_rationales": True}],
           "students": [{"model": str(student)}], "variants": [{"name": "label_only"}, {"name": "cot_after_label"}],
           "seeds": [0], "train": train_cfg.model_dump(), "eval": {"label_first": {"batch_size": 16}}}
    parse_study_config(cfg)
    study_yaml.write_text(json.dumps(cfg))
    codes = run_stage("study (2 workers, 1 directory)", device, lambda: run_local_workers(
        WorkerArgs(str(study_yaml), str(work / "study"), {}, False, 60.0), 2), report)
    if any(codes):
        sys.exit(f"a study worker failed: exit codes {codes}; logs in {work / 'study' / 'workers'}")
    total = sum(r["seconds"] for r in report)
    print(f"total {total:.1f} s")
    if args.out:
        args.out.write_text(json.dumps({"torch": torch.__version__, "device": str(device),
                                        "card": torch.cuda.get_device_name(0) if gpus else None, "gpus": gpus,
                                        "shape": args.shape, "stages": report, "total_seconds": total}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
