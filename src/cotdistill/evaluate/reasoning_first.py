"""Reasoning-first evaluation: greedy-generate an answer, then extract its label.

A reasoning-first student is trained to write ``<rationale>\\nSo the answer is <label-text>`` then EOS. Prompts
are generated in length-sorted, left-padded batches (so every row's next token comes right after its own
prompt) until EOS or ``max_new_tokens``; the label is read from the generated text alone (never the prompt,
whose choice list would match any label) with :func:`cotdistill.data.answers.extract_label`: the strict
pattern first, then the flexible fallback. An output with no extractable label is a format failure and
counts as wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import GenerationConfig

from cotdistill.data.answers import extract_label
from cotdistill.data.example import Example
from cotdistill.evaluate.config import EvalConfig
from cotdistill.evaluate.runtime import left_pad, model_device, pad_token_id
from cotdistill.evaluate.sharding import OTHER_SHARD, WHOLE, Shard
from cotdistill.prompting import encode_prompt


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """EOS ids to stop at: the tokenizer's (what training appends) and any the model's generation config adds."""
    ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for token_id in configured if isinstance(configured, list) else [configured]:
        if token_id is not None and token_id not in ids:
            ids.append(token_id)
    return ids


def generate_greedy(model: Any, tokenizer: Any, prompts: Sequence[str], *, max_new_tokens: int,
                    batch_size: int, shard: Shard = WHOLE) -> list[tuple[str, int] | None]:
    """Per prompt (input order): the generated text (special tokens dropped) and the number of tokens
    generated, EOS included (for the prompts of ``shard``; ``None`` for the others)."""
    device = model_device(model)
    pad_id = pad_token_id(tokenizer)
    stops = stop_token_ids(model, tokenizer)
    # A fresh config: greedy decoding only, whatever sampling or penalties the model's own config sets.
    generation_config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False,
                                         eos_token_id=stops or None, pad_token_id=pad_id)
    prompt_ids = [encode_prompt(tokenizer, p) for p in prompts]
    outputs: list[tuple[str, int] | None] = [OTHER_SHARD] * len(prompts)
    for batch in shard.batches([len(p) for p in prompt_ids], batch_size):
        ids, mask = left_pad([prompt_ids[i] for i in batch], pad_id, device)
        generated = model.generate(input_ids=ids, attention_mask=mask, generation_config=generation_config)
        for row, i in enumerate(batch):
            new_tokens = generated[row, ids.shape[1]:].tolist()
            stop_at = next((k for k, t in enumerate(new_tokens) if t in stops), None)
            kept = new_tokens if stop_at is None else new_tokens[:stop_at]
            count = len(new_tokens) if stop_at is None else stop_at + 1
            outputs[i] = (tokenizer.decode(kept, skip_special_tokens=True), count)
    return outputs


def evaluate_reasoning_first(model: Any, tokenizer: Any, examples: Sequence[Example], prompts: Sequence[str], *,
                             config: EvalConfig, shard: Shard = WHOLE) -> tuple[list[dict | None], dict]:
    """Generate and extract every example's answer (those of ``shard``); return per-example predictions (input
    order; ``None`` for another shard's examples) and settings."""
    outputs = generate_greedy(model, tokenizer, prompts, max_new_tokens=config.max_new_tokens,
                              batch_size=config.batch_size, shard=shard)
    predictions: list[dict | None] = []
    for ex, output in zip(examples, outputs):
        if output is OTHER_SHARD:
            predictions.append(OTHER_SHARD)
            continue
        text, count = output
        pred, how = extract_label(text, ex)
        predictions.append({
            "id": ex.id,
            "gold": ex.answer,
            "pred": pred,
            "correct": None if ex.answer is None else pred == ex.answer,
            "how": how,
            "tokens_generated": count,
            "output": text,
        })
    return predictions, {"max_new_tokens": config.max_new_tokens}
