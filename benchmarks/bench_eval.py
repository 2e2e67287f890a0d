"""Evaluation cost: label-first vs reasoning-first on the same student and questions, and label-first scoring
with the prompt's KV cache reused vs naive per-choice scoring.

    python benchmarks/bench_eval.py                       # SmolLM2-135M, 100 OpenBookQA test questions
    python benchmarks/bench_eval.py --questions 20 --max-new-tokens 32 --student tiny
    python benchmarks/bench_eval.py --student DIR --random-init --device cuda   # timing without the weights

Label-first uses ``cot_after_label`` (the student answers with the choice text, scored by log-probability);
reasoning-first uses ``cot_before_label`` (greedy generation of up to ``--max-new-tokens`` tokens, then label
extraction). Both see the same prompts. The student is untrained here, so accuracies mean nothing; the costs
are what is measured. Both modes are first run on two questions, so one-off start-up costs are not counted.
``--random-init`` builds the student's architecture with random weights from its ``config.json`` (costs are
the same; a random student never stops early, so every reasoning-first answer is ``--max-new-tokens`` long).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from cotdistill.data.tasks import TaskConfig, load_task
from cotdistill.evaluate import EvalConfig, evaluate_student
from cotdistill.evaluate.label_first import continuation_logprobs, continuation_logprobs_naive
from cotdistill.evaluate.runtime import inference_context, pad_token_id
from cotdistill.models import load_student
from cotdistill.prompting import PromptFormat, encode_continuation, encode_prompt
from cotdistill.variants import make_variant

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openbookqa" / "test.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="smollm2-135m", help="load_student alias, hub id or directory")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="OpenBookQA jsonl file")
    parser.add_argument("--split", default="test")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--naive-questions", type=int, default=25,
                        help="questions for the batched-vs-naive scoring comparison")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp32"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--random-init", action="store_true",
                        help="random weights in the student's architecture (--student is a directory with "
                             "config.json and a tokenizer)")
    args = parser.parse_args()

    if args.random_init:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(args.student))
        tokenizer = AutoTokenizer.from_pretrained(args.student)
    else:
        model, tokenizer = load_student(args.student)
    examples = load_task(TaskConfig(name="openbookqa", split=args.split, path=args.data))[: args.questions]
    fmt = PromptFormat()
    on_gpu = args.device.startswith("cuda")
    device = torch.cuda.get_device_name() if on_gpu else f"cpu, {torch.get_num_threads()} threads"
    print(f"student {args.student}{' (random init)' if args.random_init else ''}, {len(examples)} questions, "
          f"{device}, batch size {args.batch_size}")

    def run(mode: str, variant: str, questions: list, max_new_tokens: int):
        return evaluate_student(model, tokenizer, questions, variant=make_variant(variant), prompt_format=fmt,
                                config=EvalConfig(mode=mode, batch_size=args.batch_size, dtype=args.dtype,
                                                  max_new_tokens=max_new_tokens, device=args.device))

    run("label_first", "cot_after_label", examples[:2], args.max_new_tokens)
    run("reasoning_first", "cot_before_label", examples[:2], 4)
    label_first = run("label_first", "cot_after_label", examples, args.max_new_tokens)
    reasoning_first = run("reasoning_first", "cot_before_label", examples, args.max_new_tokens)
    lf, rf = label_first.metrics, reasoning_first.metrics
    print(f"precision {label_first.run['precision']}")
    print(f"label-first      {lf['seconds_per_answer']:.4f} s/answer  (accuracy {lf['accuracy']:.3f}, "
          f"acc_norm {lf['acc_norm']:.3f})")
    print(f"reasoning-first  {rf['seconds_per_answer']:.4f} s/answer  (accuracy {rf['accuracy']:.3f}, format "
          f"compliance {rf['format_compliance']:.3f}, {rf['mean_tokens_generated']:.1f} tokens/answer, "
          f"max {args.max_new_tokens})")
    print(f"reasoning-first / label-first: {rf['seconds_per_answer'] / lf['seconds_per_answer']:.1f}x")

    # Scoring alone (tokenisation excluded), same prompts and choice texts, same precision.
    subset = examples[: args.naive_questions]
    variant = make_variant("cot_after_label")
    prompt_ids = [encode_prompt(tokenizer, variant.eval_prompt(ex, fmt)) for ex in subset]
    conts = [[encode_continuation(tokenizer, fmt.label_text(ex, lab)) for lab in ex.labels] for ex in subset]
    context, _ = inference_context(model, args.dtype)
    model.eval()
    with context:
        synchronize = torch.cuda.synchronize if on_gpu else (lambda: None)
        start = time.perf_counter()
        cached = continuation_logprobs(model, prompt_ids, conts, batch_size=args.batch_size,
                                       pad_id=pad_token_id(tokenizer))
        synchronize()
        cached_s = time.perf_counter() - start
        start = time.perf_counter()
        naive = continuation_logprobs_naive(model, prompt_ids, conts)
        synchronize()
        naive_s = time.perf_counter() - start
    diff = max(abs(a - b) for xs, ys in zip(cached, naive) for a, b in zip(xs, ys))
    agree = sum(max(range(len(xs)), key=xs.__getitem__) == max(range(len(ys)), key=ys.__getitem__)
                for xs, ys in zip(cached, naive))
    n = len(subset)
    print(f"on {n} questions:")
    print(f"text scoring, batched + prompt KV reuse  {cached_s / n:.4f} s/answer")
    print(f"text scoring, naive one pass per choice  {naive_s / n:.4f} s/answer  ({naive_s / cached_s:.1f}x slower)")
    print(f"max |log-prob difference| {diff:.4f}, same argmax on {agree}/{n} questions")


if __name__ == "__main__":
    main()
