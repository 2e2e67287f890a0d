"""GPU check for a ~1B-parameter student (random weights of real shapes: weights cannot travel to the GPU box).

Measures, on whatever CUDA card runs it:
  * the card's bf16 dense matmul peak on the spot (8192^3 products),
  * training throughput of cotdistill's training path (``train_student``: weighted target-only loss, length
    grouping, bf16) on a TinyLlama-1.1B-shaped Llama, target and total tokens/s, and MFU = 6 x params x
    total tokens/s / measured peak,
  * label-first evaluation throughput (``evaluate_student``, choice-text scoring with the shared prompt encoded
    once) on the same model, answers per second.

Data: the built-in synthetic task (seeded) with its reference rationales, variant cot_after_label, tokenized with
the in-process tiny tokenizer (token ids only feed the random model, so the tokenizer's vocabulary does not
matter for speed; sequence lengths are what count).

    python benchmarks/gpu_bench.py --out results.json

``--student-config`` builds another architecture instead (a ``config.json``, a saved student's directory or a hub
id), for example a packaged student's, to time its training steps at the study's batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import torch
from transformers import TrainerCallback


def matmul_peak(dtype: torch.dtype, n: int = 8192, reps: int = 10) -> float:
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - start)


class StepClock(TrainerCallback):
    """Wall-clock time at the end of every optimizer step (synchronised), to separate the Trainer's steady step
    rate from its one-off setup (optimizer creation, accelerate's prepare, the dataloader's first batch)."""

    def __init__(self, sync) -> None:
        self.sync, self.step_ends = sync, []

    def on_step_end(self, args, state, control, **kwargs):
        self.sync()
        self.step_ends.append(time.perf_counter())


def plain_loop_tokens_per_s(model, instances, train_cfg, pad_id, device, sync, steps: int = 20,
                            on_step=lambda: None) -> float:
    """Reference: the same batches through a bare autocast + fused AdamW loop (no Trainer), total tokens/s."""
    from cotdistill.train.batching import InstanceDataset, WeightedTargetCollator

    dataset = InstanceDataset(instances, train_cfg)
    collate = WeightedTargetCollator(pad_id, train_cfg.pad_to_multiple_of)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=device == "cuda")
    bs = train_cfg.batch_size
    batches = [collate([dataset[i % len(dataset)] for i in range(k * bs, (k + 1) * bs)]) for k in range(steps + 2)]
    tokens, start = 0, 0.0
    for k, batch in enumerate(batches):
        if k == 2:
            sync()
            start, tokens = time.perf_counter(), 0
        batch = {key: v.to(device) for key, v in batch.items()}
        with torch.autocast(device, dtype=torch.bfloat16):
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                        logits_to_keep=batch["target_mask"], use_cache=False)
        ce = torch.nn.functional.cross_entropy(out.logits.float(), batch["target_ids"], reduction="none")
        ((ce * batch["target_weights"]).sum() / batch["target_weights"].sum()).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += int(batch["attention_mask"].sum())
        on_step()
    sync()
    return tokens / (time.perf_counter() - start)


class ProfileSteps(TrainerCallback):
    """Advances a torch.profiler schedule once per optimizer step."""

    def __init__(self, profiler) -> None:
        self.profiler = profiler

    def on_step_end(self, args, state, control, **kwargs):
        self.profiler.step()


def profiled(device: str):
    """A profiler recording 3 steps after 3 skipped and 1 warm-up step."""
    from torch.profiler import ProfilerActivity, profile, schedule

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    return profile(activities=activities, schedule=schedule(wait=3, warmup=1, active=3), record_shapes=False)


def write_profile(profiler, path: str, device: str) -> None:
    sort = "self_cuda_time_total" if device == "cuda" else "self_cpu_time_total"
    with open(path, "w") as fh:
        fh.write(profiler.key_averages().table(sort_by=sort, row_limit=25, max_name_column_width=70))


class PrecisionProbe:
    """Records, per phase, whether autocast was on and the dtype of the first attention projection's output:
    tells a run whose matmuls ran in bf16 from one that silently ran them in fp32."""

    def __init__(self, module, device: str) -> None:
        self.device, self.phase, self.seen = device, "", {}
        module.register_forward_hook(self.hook)

    def hook(self, module, inputs, output):
        self.seen.setdefault(self.phase, {"autocast": torch.is_autocast_enabled(self.device),
                                          "output_dtype": str(output.dtype),
                                          "weight_dtype": str(module.weight.dtype)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-examples", type=int, default=2048)
    parser.add_argument("--eval-examples", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-steps", type=int, default=40)
    parser.add_argument("--out", default=None)
    parser.add_argument("--student-config", default=None, metavar="CONFIG",
                        help="Architecture to build with random weights instead of TinyLlama-1.1B: a config.json, "
                             "a directory holding one, or a hub id.")
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="Also write torch.profiler operator tables (3 steps each) of train_student and the "
                             "bare loop into DIR.")
    parser.add_argument("--smoke", action="store_true",
                        help="Tiny shapes on the CPU: check the script runs before spending GPU time.")
    args = parser.parse_args()

    from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    from cotdistill.data.synthetic import generate_synthetic
    from cotdistill.evaluate import EvalConfig, evaluate_student
    from cotdistill.models.tiny import build_tiny_tokenizer
    from cotdistill.train import TrainConfig, train_student
    from cotdistill.prompting import PromptFormat
    from cotdistill.variants import build_instances, make_variant

    device = "cpu" if args.smoke else "cuda"
    assert args.smoke or torch.cuda.is_available(), "needs a CUDA device (or --smoke)"
    card = "cpu (smoke)" if args.smoke else torch.cuda.get_device_name(0)
    peak_bf16 = 1e12 if args.smoke else matmul_peak(torch.bfloat16)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    train_examples, train_rationales = generate_synthetic("train", size=args.train_examples, seed=0)
    eval_examples, _ = generate_synthetic("test", size=args.eval_examples, seed=1)
    tokenizer = build_tiny_tokenizer([e.question for e in train_examples[:200]], vocab_size=2048)
    variant, fmt = make_variant("cot_after_label"), PromptFormat()
    instances = build_instances(train_examples, train_rationales, variant, tokenizer, seed=0,
                                prompt_format=fmt)

    torch.manual_seed(0)
    if args.student_config:
        config = AutoConfig.from_pretrained(args.student_config)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).to(device)
    else:
        # TinyLlama-1.1B shapes (or tiny ones for --smoke).
        shape = (dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2) if args.smoke else
                 dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                      num_key_value_heads=4))
        config = LlamaConfig(vocab_size=32000, max_position_embeddings=2048, tie_word_embeddings=False,
                             eos_token_id=0, pad_token_id=0, bos_token_id=None, **shape)
        model = LlamaForCausalLM(config).to(device)
    params = sum(p.numel() for p in model.parameters())
    probe = PrecisionProbe(model.model.layers[0].self_attn.q_proj, device)

    train_cfg = TrainConfig(learning_rate=1e-5, max_steps=args.max_steps, batch_size=args.batch_size,
                            bf16=True, logging_steps=10, save_steps=10_000, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up run (CUDA context, kernels), then the timed run on a fresh output directory.
        warm_cfg = train_cfg.model_copy(update={"max_steps": 3})
        train_student(instances, "tiny", warm_cfg, f"{tmp}/warm", metadata={"bench": "gpu"},
                      student=(model, tokenizer))
        sync()
        clock = StepClock(sync)
        probe.phase = "train_student"
        result = train_student(instances, "tiny", train_cfg, f"{tmp}/run", metadata={"bench": "gpu"},
                               student=(model, tokenizer), callbacks=[clock])
        if args.profile:
            os.makedirs(args.profile, exist_ok=True)
            with profiled(device) as prof:
                train_student(instances, "tiny", train_cfg.model_copy(update={"max_steps": 7}), f"{tmp}/prof",
                              metadata={"bench": "gpu"}, student=(model, tokenizer), callbacks=[ProfileSteps(prof)])
            write_profile(prof, os.path.join(args.profile, "profile_train_student.txt"), device)
    total_tps = result.total_tokens / result.train_seconds
    # Steps 2..N, timed end to end; tokens scaled by the step share (length grouping makes steps unequal, so this
    # is the mean over those steps, not an exact count).
    steady_seconds = clock.step_ends[-1] - clock.step_ends[0]
    steady_tps = result.total_tokens * (len(clock.step_ends) - 1) / len(clock.step_ends) / steady_seconds
    target_tps = result.target_tokens / result.train_seconds
    mfu = 6 * params * total_tps / peak_bf16

    probe.phase = "bare_loop"
    plain_tps = plain_loop_tokens_per_s(model, instances, train_cfg, tokenizer.pad_token_id, device, sync)
    if args.profile:
        with profiled(device) as prof:
            plain_loop_tokens_per_s(model, instances, train_cfg, tokenizer.pad_token_id, device, sync, steps=5,
                                    on_step=prof.step)
        write_profile(prof, os.path.join(args.profile, "profile_bare_loop.txt"), device)

    model = model.to(torch.bfloat16)
    eval_cfg = EvalConfig(mode="label_first", batch_size=args.eval_batch_size, device=device)
    evaluate_student(model, tokenizer, eval_examples[:64], variant=variant, prompt_format=fmt, config=eval_cfg)
    sync()
    ev = evaluate_student(model, tokenizer, eval_examples, variant=variant, prompt_format=fmt, config=eval_cfg)

    out = {
        "card": card,
        "architecture": config.architectures[0] if getattr(config, "architectures", None) else type(model).__name__,
        "torch": torch.__version__,
        "params": params,
        "matmul_bf16_peak_tflops": peak_bf16 / 1e12,
        "train": {"steps": result.steps, "batch_size": args.batch_size, "seconds": result.train_seconds,
                  "total_tokens_per_s": total_tps, "target_tokens_per_s": target_tps,
                  "mfu_vs_measured_bf16_peak": mfu,
                  "steady_seconds_per_step": steady_seconds / (len(clock.step_ends) - 1),
                  "steady_total_tokens_per_s": steady_tps,
                  "steady_mfu": 6 * params * steady_tps / peak_bf16,
                  "plain_torch_loop_total_tokens_per_s": plain_tps,
                  "plain_torch_loop_mfu": 6 * params * plain_tps / peak_bf16,
                  "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None},
        "precision_probe": probe.seen,
        "label_first_eval": {"questions": len(eval_examples), "batch_size": args.eval_batch_size,
                             "seconds": ev.metrics["seconds"],
                             "answers_per_s": len(eval_examples) / ev.metrics["seconds"]},
    }
    print(json.dumps(out, indent=2))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
