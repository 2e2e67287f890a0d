"""Training throughput: plain transformers Trainer vs cotdistill's training path, same model, data and batch size.

    python benchmarks/bench_train.py                         # SmolLM2-135M, 48 OBQA dev questions, batch 8
    python benchmarks/bench_train.py --model tiny --examples 16 --batch-size 4     # smoke run
    python benchmarks/bench_train.py --model DIR --random-init    # the architecture of DIR/config.json, no weights
    python benchmarks/bench_train.py --precision-steps            # one training step: fp32 vs autocast vs bf16

Data: OpenBookQA dev questions with Mistral-7B rationales (../shared/data), built as ``cot_after_label``
instances (prompt, label, "Explanation:", rationale, EOS); the synthetic task with its reference rationales
when ../shared/data is absent. Both paths run one epoch over the same instances with the same batch size,
learning rate and thread count, each after a two-step warm-up run (oneDNN primitive creation, allocator):

(a) baseline -- ``Trainer`` + ``DataCollatorForLanguageModeling(mlm=False)`` padding each random batch to its
    longest sequence, fp32, loss (and logits) on every token;
(b) cotdistill -- :func:`cotdistill.train.train_student`: length-grouped batches, logits only at target
    positions, weighted target-only loss, bf16 autocast when the CPU supports it.

Reported: target tokens/s of each (target = label + rationale + EOS tokens: what the student is trained to emit;
the same count for both, so the ratio is the speed-up), their ratio, each path's final logged loss (the baseline's
is over all tokens, prompt included, so the two are not comparable), the matmul peak of this machine in the
precision the cotdistill path trains in, measured on the spot (square matmuls: bf16 where the CPU has a bf16 fast
path, fp32 otherwise -- bf16 is only emulated on an AVX2 CPU, where its 4096^3 matmuls take minutes), and the
cotdistill path's MFU = 6 x parameters x tokens/s / that peak, counting ALL non-padding tokens processed (prompt and
target). ``ATEN_CPU_CAPABILITY=avx2`` runs it as on a CPU without bf16.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def matmul_peak(dtype: torch.dtype, sizes=(2048, 4096), seconds: float = 2.0) -> float:
    """Best FLOP/s of square matmuls of the given sizes (each timed for about ``seconds``)."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        a @ b
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            a @ b
            reps += 1
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - start))
    return best


def load_data(shared: Path, n: int, tokenizer, seed: int):
    from cotdistill.variants import build_instances, make_variant

    obqa, csv = shared / "openbookqa" / "dev.jsonl", shared / "rationales" / "mistral_7b" / "openbookqa.csv"
    if obqa.is_file() and csv.is_file():
        from cotdistill.data.rationales import RationaleConfig, load_rationales
        from cotdistill.data.tasks import TaskConfig, load_task

        examples = load_task(TaskConfig(name="openbookqa", split="validation", path=str(obqa), limit=n, seed=seed))
        rationales = load_rationales(RationaleConfig(path=str(csv), format="csv"), examples)
        source = f"OpenBookQA dev ({len(examples)} questions) + Mistral-7B rationales"
    else:
        from cotdistill.data.synthetic import generate_synthetic

        examples, rationales = generate_synthetic("train", n, seed)
        source = f"SYNTHETIC task ({len(examples)} questions) + reference rationales (../shared/data absent)"
    examples = [ex for ex in examples if ex.id in rationales]
    return build_instances(examples, rationales, make_variant("cot_after_label"), tokenizer, seed=seed), source


def run_baseline(model, tokenizer, instances, args, output_dir: Path, max_steps: int) -> tuple[float, float | None]:
    """Plain Trainer, fp32, all-token loss, random batches padded to their longest sequence."""
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    features = [{"input_ids": inst.input_ids} for inst in instances]
    training_args = TrainingArguments(
        output_dir=str(output_dir), per_device_train_batch_size=args.batch_size, learning_rate=args.lr,
        max_steps=max_steps, num_train_epochs=1, use_cpu=True, bf16=False, save_strategy="no", report_to="none",
        logging_steps=1, disable_tqdm=True, seed=args.seed, data_seed=args.seed, optim="adamw_torch",
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=features,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return seconds, (losses[-1] if losses else None)


def run_ours(model, tokenizer, instances, args, output_dir: Path, max_steps: int):
    from cotdistill.models import StudentConfig
    from cotdistill.train import TrainConfig, train_student

    cfg = TrainConfig(batch_size=args.batch_size, learning_rate=args.lr, max_steps=max_steps, epochs=1,
                      save_steps=10**6, logging_steps=1, seed=args.seed, bf16="auto", max_length=1024)
    return train_student(instances, StudentConfig(model=args.model), cfg, output_dir, metadata={"benchmark": True},
                         student=(model, tokenizer))


def student_loader(args):
    """``load() -> (model, tokenizer)``: the real student, or its architecture with random weights (same cost)."""
    from cotdistill.models import load_student, load_tokenizer

    if not args.random_init:
        return lambda: load_student(args.model)

    def load():
        from transformers import AutoConfig, AutoModelForCausalLM

        torch.manual_seed(args.seed)
        return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(args.model)), load_tokenizer(args.model)

    return load


def precision_steps(load, batch: int = 8, length: int = 128, target_from: int = 60, reps: int = 3) -> dict:
    """Seconds per training step (forward, backward, AdamW) of random tokens in three precisions: fp32 weights;
    fp32 weights under bf16 autocast; bf16 weights (the bf16 two only where the CPU has a bf16 fast path). Logits
    only at positions >= ``target_from``."""
    from cotdistill.hardware import cpu_bf16_fast

    out = {}
    modes = ("fp32", "autocast_bf16", "bf16_weights") if cpu_bf16_fast() else ("fp32",)
    if len(modes) == 1:
        print("no bf16 fast path on this CPU (or ATEN_CPU_CAPABILITY below avx512): timing fp32 only", flush=True)
    for mode in modes:
        model, _ = load()
        if mode == "bf16_weights":
            model = model.to(torch.bfloat16)
        model.train()
        vocab = model.config.vocab_size
        ids = torch.randint(0, vocab, (batch, length))
        mask = torch.zeros(batch, length, dtype=torch.bool)
        mask[:, target_from:-1] = True
        targets = ids[:, 1:][mask[:, :-1]]
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

        def step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "autocast_bf16"):
                logits = model(input_ids=ids, logits_to_keep=mask, use_cache=False).logits
                loss = torch.nn.functional.cross_entropy(logits.float(), targets)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        step()
        start = time.perf_counter()
        for _ in range(reps):
            step()
        out[mode] = (time.perf_counter() - start) / reps
        print(f"{mode}: {out[mode]:.2f} s/step ({batch} x {length} tokens)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="load_student alias, directory or hub id")
    parser.add_argument("--shared", default=str(DEFAULT_SHARED), help="the shared data folder")
    parser.add_argument("--examples", type=int, default=48, help="questions (one epoch over them per path)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (this machine has 2 cores)")
    parser.add_argument("--random-init", action="store_true",
                        help="build --model (a directory with config.json and tokenizer) with random weights")
    parser.add_argument("--precision-steps", action="store_true",
                        help="only time one training step in fp32, bf16 autocast and bf16 weights")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    from cotdistill.hardware import cpu_capability
    from cotdistill.train.trainer import bf16_supported

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    if args.precision_steps:
        steps = precision_steps(student_loader(args))
        print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
        if args.json:
            Path(args.json).write_text(json.dumps({"seconds_per_step": steps, "loadavg_before": load_before}))
        return
    precision = "bf16" if bf16_supported() else "fp32"
    peak = matmul_peak(torch.bfloat16 if precision == "bf16" else torch.float32)
    print(f"ATen {cpu_capability()}: training in {precision}; {precision} matmul peak {peak / 1e9:.0f} GFLOP/s",
          flush=True)
    load_student = student_loader(args)
    _, tokenizer = load_student()
    instances, source = load_data(Path(args.shared), args.examples, tokenizer, args.seed)
    target_tokens = sum(len(i.target_ids) for i in instances)
    all_tokens = sum(len(i.input_ids) for i in instances)
    steps = -(-len(instances) // args.batch_size)
    print(f"data: {source}; {len(instances)} sequences, {all_tokens} tokens, {target_tokens} target tokens; "
          f"batch {args.batch_size}, {steps} steps", flush=True)

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("baseline", "cotdistill"):
            runner = run_baseline if name == "baseline" else run_ours
            warm_model, _ = load_student()
            runner(warm_model, tokenizer, instances[: 2 * args.batch_size], args, Path(tmp) / f"{name}-warm", 2)
            model, _ = load_student()
            params = sum(p.numel() for p in model.parameters())
            outcome = runner(model, tokenizer, instances, args, Path(tmp) / name, steps)
            if name == "baseline":
                seconds, loss = outcome
            else:
                seconds, loss = outcome.train_seconds, outcome.final_loss
                assert outcome.target_tokens == target_tokens, (outcome.target_tokens, target_tokens)
            results[name] = {"seconds": seconds, "target_tokens_per_s": target_tokens / seconds,
                             "all_tokens_per_s": all_tokens / seconds, "final_loss": loss}
            print(f"{name}: {seconds:.1f} s, {target_tokens / seconds:.1f} target tok/s, "
                  f"{all_tokens / seconds:.1f} tok/s (all non-pad), final loss {loss}", flush=True)
    ours = results["cotdistill"]
    mfu = 6 * params * ours["all_tokens_per_s"] / peak
    summary = {
        "model": args.model, "random_init": args.random_init, "parameters": params, "data": source,
        "sequences": len(instances),
        "batch_size": args.batch_size, "threads": args.threads, "cpu_capability": cpu_capability(),
        "bf16_used": precision == "bf16", "peak_flops": {precision: peak}, "results": results,
        "speedup_target_tokens": ours["target_tokens_per_s"] / results["baseline"]["target_tokens_per_s"],
        f"mfu_all_tokens_vs_{precision}_peak": mfu, "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
    }
    print(f"speed-up (target tokens/s): {summary['speedup_target_tokens']:.2f}x")
    print(f"cotdistill MFU (6 x {params / 1e6:.1f}M params x all non-pad tokens/s / {precision} peak): {mfu:.1%}")
    print(f"load average before {load_before[0]:.1f}, after {summary['loadavg_after'][0]:.1f} "
          f"(other processes share the CPU when these are above 0)")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
