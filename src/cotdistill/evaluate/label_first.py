"""Label-first evaluation: no generation, the choices are ranked by the student's log-probabilities.

This is how an answer-first student is used in production: one pass over the prompt, read the answer off
the distribution at the answer position.

* ``letter`` scoring compares the log-probs of the choice letters (" A", " B", ...) at the answer position,
  one forward pass per question; when a letter is not a single token for the tokenizer it falls back to
  scoring the letters as sequences.
* ``text`` scoring sums the log-probs of each choice text after the prompt (``acc``) and also divides the
  sum by the continuation's length (``acc_norm``, by characters like lm-evaluation-harness, which does not
  count the leading delimiter space). The prompt is run once per question and its KV cache is reused for all
  of its choices: the prompts of a batch are forwarded left-padded with the cache on, which scores every
  choice's first token; the cache is then copied once per choice of two or more tokens, and the rest of those
  choices, for every question of the batch, is forwarded together in one pass.

Prompts and continuations are encoded by :mod:`cotdistill.prompting` as the variants encode them for training
(the label text on its own, without special tokens), so the tokens scored are the tokens trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cotdistill.data.example import Example
from cotdistill.errors import DataError
from cotdistill.evaluate.config import EvalConfig
from cotdistill.evaluate.sharding import OTHER_SHARD, WHOLE, Shard
from cotdistill.evaluate.runtime import (
    cache_keyword,
    left_pad,
    model_device,
    pad_token_id,
    right_pad,
)
from cotdistill.prompting import PromptFormat, encode_continuation, encode_prompt


def _forward_prompts(model: Any, prompts: Sequence[Sequence[int]], pad_id: int, *, keep_cache: bool):
    """Run left-padded prompts; return the log-probs at each prompt's last position, the mask and the cache."""
    ids, mask = left_pad(prompts, pad_id, model_device(model))
    # Positions count real tokens only, so a padded prompt is seen exactly as the same prompt unpadded.
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=position_ids, use_cache=keep_cache,
                logits_to_keep=1)
    last_logprobs = out.logits[:, -1, :].float().log_softmax(-1)
    return last_logprobs, mask, (out[cache_keyword(model)] if keep_cache else None)


def answer_token_logprobs(model: Any, prompt_ids: Sequence[Sequence[int]], candidate_ids: Sequence[Sequence[int]],
                          *, batch_size: int, pad_id: int, shard: Shard = WHOLE) -> list[list[float] | None]:
    """Per prompt, the log-prob of each candidate token at the position right after the prompt (for the prompts
    of ``shard``; ``None`` for the others)."""
    results: list[list[float] | None] = [OTHER_SHARD] * len(prompt_ids)
    for batch in shard.batches([len(p) for p in prompt_ids], batch_size):
        last, _, _ = _forward_prompts(model, [prompt_ids[i] for i in batch], pad_id, keep_cache=False)
        for row, i in enumerate(batch):
            results[i] = last[row, list(candidate_ids[i])].tolist()
    return results


def continuation_logprobs(model: Any, prompt_ids: Sequence[Sequence[int]],
                          continuations: Sequence[Sequence[Sequence[int]]], *, batch_size: int,
                          pad_id: int, shard: Shard = WHOLE) -> list[list[float] | None]:
    """Per prompt, the summed log-prob of each of its continuations, the prompt's KV cache reused for all (for
    the prompts of ``shard``; ``None`` for the others)."""
    device = model_device(model)
    results: list[list[float] | None] = [OTHER_SHARD] * len(prompt_ids)
    for batch in shard.batches([len(p) for p in prompt_ids], batch_size):
        last, prompt_mask, cache = _forward_prompts(model, [prompt_ids[i] for i in batch], pad_id, keep_cache=True)
        owner = torch.tensor([row for row, i in enumerate(batch) for _ in continuations[i]], device=device)
        conts = [c for i in batch for c in continuations[i]]
        cont_ids, cont_mask = right_pad(conts, pad_id, device)
        # The first token of every continuation is scored by the prompt pass alone.
        token_logprobs = torch.zeros(cont_ids.shape, device=device)
        token_logprobs[:, 0] = last[owner].gather(1, cont_ids[:, :1]).squeeze(1)
        # Only continuations of two tokens or more need a pass of their own; the last token is not fed since
        # it predicts nothing scored.
        longer = torch.tensor([k for k, c in enumerate(conts) if len(c) > 1], dtype=torch.long, device=device)
        if len(longer):
            cache.batch_select_indices(owner[longer])
            ids, mask = cont_ids[longer, :-1], cont_mask[longer, :-1]
            positions = prompt_mask.sum(-1)[owner[longer], None] + torch.arange(ids.shape[1], device=device)
            attention = torch.cat([prompt_mask[owner[longer]], mask], dim=1)
            out = model(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=True,
                        **{cache_keyword(model): cache})
            logits = out.logits.float()
            token_logprobs[longer, 1:] = (logits.gather(-1, cont_ids[longer, 1:, None]).squeeze(-1)
                                          - logits.logsumexp(-1))
        sums = torch.where(cont_mask.bool(), token_logprobs, 0.0).sum(-1).tolist()
        start = 0
        for i in batch:
            results[i] = sums[start:start + len(continuations[i])]
            start += len(continuations[i])
    return results


def continuation_logprobs_naive(model: Any, prompt_ids: Sequence[Sequence[int]],
                                continuations: Sequence[Sequence[Sequence[int]]]) -> list[list[float]]:
    """Reference scorer: one unpadded forward pass per (prompt, continuation) pair, no cache."""
    device = model_device(model)
    results = []
    for prompt, conts in zip(prompt_ids, continuations):
        sums = []
        for cont in conts:
            ids = torch.tensor([list(prompt) + list(cont)], device=device)
            logits = model(input_ids=ids).logits[0, len(prompt) - 1:-1].float()
            target = torch.tensor(list(cont), device=device)
            sums.append(logits.log_softmax(-1).gather(-1, target[:, None]).sum().item())
        results.append(sums)
    return results


def length_normaliser(label_text: str, num_tokens: int, normalisation: str) -> int:
    """What acc_norm divides a choice's log-prob by; like lm-evaluation-harness, the leading delimiter space
    of the label text is not counted."""
    text = label_text.removeprefix(" ")
    if normalisation == "chars":
        length = len(text)
    elif normalisation == "bytes":
        length = len(text.encode("utf-8"))
    else:
        length = num_tokens
    return max(length, 1)


def _argmax(labels: list[str], scores: list[float]) -> str:
    return labels[max(range(len(scores)), key=lambda k: scores[k])]


def evaluate_label_first(model: Any, tokenizer: Any, examples: Sequence[Example], prompts: Sequence[str], *,
                         prompt_format: PromptFormat, config: EvalConfig,
                         shard: Shard = WHOLE) -> tuple[list[dict | None], dict]:
    """Score every example's choices (those of ``shard``); return per-example predictions (input order; ``None``
    for another shard's examples) and how it was scored."""
    scoring = prompt_format.label_style if config.scoring == "auto" else config.scoring
    label_format = PromptFormat(label_style=scoring, show_choices=prompt_format.show_choices)
    pad_id = pad_token_id(tokenizer)
    prompt_ids = [encode_prompt(tokenizer, p) for p in prompts]
    label_texts = [[label_format.label_text(ex, label) for label in ex.labels] for ex in examples]
    continuations = [[encode_continuation(tokenizer, t) for t in texts] for texts in label_texts]
    for ex, conts in zip(examples, continuations):
        if not ex.choices:
            raise DataError(f"example '{ex.id}' has no choices", field="choices")
        if any(not c for c in conts):
            raise DataError(f"example '{ex.id}' has a choice whose label text is empty", field="choices")

    single_tokens = all(len(c) == 1 for conts in continuations for c in conts)
    if scoring == "letter" and single_tokens:
        method = "letter_token"
        scores = answer_token_logprobs(model, prompt_ids, [[c[0] for c in conts] for conts in continuations],
                                       batch_size=config.batch_size, pad_id=pad_id, shard=shard)
    else:
        method = "letter_sequence" if scoring == "letter" else "text"
        scores = continuation_logprobs(model, prompt_ids, continuations, batch_size=config.batch_size,
                                       pad_id=pad_id, shard=shard)

    predictions: list[dict | None] = []
    for ex, texts, conts, sums in zip(examples, label_texts, continuations, scores):
        if sums is OTHER_SHARD:
            predictions.append(OTHER_SHARD)
            continue
        normalised = [s / length_normaliser(t, len(c), config.normalisation) for s, t, c in zip(sums, texts, conts)]
        pred, pred_norm = _argmax(ex.labels, sums), _argmax(ex.labels, normalised)
        predictions.append({
            "id": ex.id,
            "gold": ex.answer,
            "pred": pred,
            "correct": None if ex.answer is None else pred == ex.answer,
            "pred_norm": pred_norm,
            "correct_norm": None if ex.answer is None else pred_norm == ex.answer,
            "scores": dict(zip(ex.labels, sums)),
            "scores_norm": dict(zip(ex.labels, normalised)),
            "tokens_generated": 0,
        })
    return predictions, {"scoring": method, "normalisation": config.normalisation}
