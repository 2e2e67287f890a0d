"""Teacher generation throughput: cotdistill's local backend vs the one-question-at-a-time fp32 loop.

    python benchmarks/bench_teacher.py                          # SmolLM2-135M-Instruct, 32 OBQA questions
    python benchmarks/bench_teacher.py --questions 16 --new-tokens 16 --batch-sizes 8 32

The baseline is the common research-script pattern: the model in fp32, ``model.generate`` called once per
question. Ours is :class:`cotdistill.teacher.LocalBackend`: bf16 weights, prompts sorted by length, padded batches,
the few-shot prefix common to all prompts computed once (shared-prefix KV cache); a last row shows plain
left-padded bf16 batching without the shared prefix, to separate the two effects. Both get the same chat prompts
(the packaged OpenBookQA few-shot template, label-first mode) and both generate exactly ``--new-tokens`` tokens
per question (EOS ignored), greedily, in one process, so the ratio of wall times is the speedup. Prints a table
and writes the numbers as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from pathlib import Path

import torch

from cotdistill.data.tasks import TaskConfig, load_task
from cotdistill.models import load_student
from cotdistill.teacher import LocalBackend, PromptBuilder, SamplingParams, load_template
from cotdistill.teacher.backends.base import GenerationRequest

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openbookqa"


def baseline_loop(model, tokenizer, texts: list[str], new_tokens: int) -> list[list[int]]:
    """One question at a time, fp32, plain ``generate``: what a typical generation script does."""
    outputs = []
    for text in texts:
        enc = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        outputs.append(out[0, enc["input_ids"].shape[1]:].tolist())
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default="smollm2-135m", help="load_student alias, hub id or directory")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="OpenBookQA folder or jsonl file")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--questions", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32])
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    examples = load_task(TaskConfig(name="openbookqa", split=args.split, path=args.data))[: args.questions]
    builder = PromptBuilder(load_template("openbookqa"), "label_first", "chat")
    prompts = [builder.build(ex) for ex in examples]
    params = SamplingParams(temperature=0.0, max_new_tokens=args.new_tokens)
    requests = [GenerationRequest(key=f"{i:06d}", example=ex, prompt=p, params=params, sample_index=0, seed=0)
                for i, (ex, p) in enumerate(zip(examples, prompts))]

    model_fp32, tokenizer = load_student(args.teacher)
    model_fp32.eval()
    model_bf16 = copy.deepcopy(model_fp32).to(torch.bfloat16).eval()
    texts = [tokenizer.apply_chat_template(p.chat_messages(), add_generation_prompt=True, tokenize=False)
             for p in prompts]
    prompt_tokens = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    load = os.getloadavg()[0]
    print(f"teacher {args.teacher}, {len(texts)} questions, prompt tokens mean {sum(prompt_tokens) / len(texts):.0f}"
          f" (max {max(prompt_tokens)}), {args.new_tokens} new tokens each, torch threads "
          f"{torch.get_num_threads()}, load average at start {load:.1f}")

    # Warm both paths once (first-call allocations, kernel selection) outside the timings.
    baseline_loop(model_fp32, tokenizer, texts[:1], 2)
    LocalBackend(args.teacher, batch_size=2, ignore_eos=True, model_and_tokenizer=(model_bf16, tokenizer)).generate(
        [GenerationRequest(r.key, r.example, r.prompt, SamplingParams(max_new_tokens=2), 0, 0) for r in requests[:2]],
        lambda outcome: None)

    start = time.perf_counter()
    baseline_outputs = baseline_loop(model_fp32, tokenizer, texts, args.new_tokens)
    baseline_s = time.perf_counter() - start
    assert all(len(o) == args.new_tokens for o in baseline_outputs)
    results = {"teacher": args.teacher, "questions": len(texts), "new_tokens": args.new_tokens,
               "mean_prompt_tokens": sum(prompt_tokens) / len(texts), "torch_threads": torch.get_num_threads(),
               "load_average_at_start": load, "baseline_fp32_one_at_a_time_s": round(baseline_s, 2), "ours": []}
    print(f"{'path':<44}{'seconds':>10}{'tokens/s':>10}{'speedup':>9}")
    print(f"{'baseline: fp32, one at a time':<44}{baseline_s:>10.2f}{len(texts) * args.new_tokens / baseline_s:>10.1f}"
          f"{1.0:>9.2f}")
    # Our path at each batch size, then plain left-padded batching (no shared-prefix cache) at the largest.
    runs = [(b, True) for b in args.batch_sizes] + [(max(args.batch_sizes), False)]
    for batch_size, share_prefix in runs:
        backend = LocalBackend(args.teacher, dtype="bf16", batch_size=batch_size, ignore_eos=True,
                               share_prefix=share_prefix, model_and_tokenizer=(model_bf16, tokenizer))
        tokens: list[int] = []
        start = time.perf_counter()
        backend.generate(requests, lambda outcome: tokens.append(outcome.completion_tokens))
        ours_s = time.perf_counter() - start
        assert tokens == [args.new_tokens] * len(texts)
        speedup = baseline_s / ours_s
        results["ours"].append({"batch_size": batch_size, "dtype": "bf16", "share_prefix": share_prefix,
                                "seconds": round(ours_s, 2), "speedup": round(speedup, 2)})
        label = f"bf16, batch {batch_size}, " + ("shared prefix (ours)" if share_prefix else "left-padded only")
        print(f"{label:<44}{ours_s:>10.2f}{len(texts) * args.new_tokens / ours_s:>10.1f}{speedup:>9.2f}")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
