"""Key-token variants (Wadhwa et al. 2024, Section 6): a few rationale tokens after the label, and their controls.

* ``key_tokens_after_label``: the label, then the rationale's top-k tokens (by a selector's scores) in their
  original order;
* ``masked_key_cot_after_label``: the label, then the rationale with its top-k tokens removed, or each replaced by
  a one-token placeholder;
* ``random_k_tokens_after_label``: the label, then k rationale tokens drawn at random (kept in order) -- the
  control of ``key_tokens_after_label``, with the same k and no selector.

``k`` is a count when an integer (``k: 5``) and a fraction of the rationale's tokens when a float (``k: 0.2``;
``k: 1.0`` is the whole rationale). Units are the student's rationale tokens, the ids that
``cot_after_label`` trains on, so the key, masked and random bodies of one example partition or match them
exactly.

The scores come from ``BuildContext.extras[KEY_TOKEN_SCORES]``: example id -> one score per student rationale
token. :func:`cotdistill.keytokens.prepare_key_token_extras` computes them (selector + scorer named in the
variant's parameters; cached) and is called by training and the study runner before :func:`build_instances`.
This module only reads them: selectors belong to the later keytokens stage, so the selector a variant names (and
whether it needs a scorer) is checked there, by :func:`cotdistill.keytokens.variant_selector`, which the study's
config check and training call before any work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cotdistill.data.example import Example
from cotdistill.errors import DataError
from cotdistill.variants.base import BuildContext, Segment, Variant, after_label_instance, register_variant

#: ``BuildContext.extras`` key of the per-token selector scores (example id -> list of floats).
KEY_TOKEN_SCORES = "key_token_scores"

ORDERS = ("rationale_first", "label_first")


def resolve_k(k: int | float, n: int) -> int:
    """How many of ``n`` rationale tokens ``k`` selects: a count (capped at ``n``) or a rounded fraction."""
    if isinstance(k, bool):
        raise ValueError("k must be a number, not a boolean")
    if isinstance(k, int):
        return min(k, n)
    return min(n, math.floor(k * n + 0.5))


def validate_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | float):
        raise ValueError(f"k must be an integer count or a fraction in [0, 1], got {k!r}")
    if isinstance(k, int) and k < 0:
        raise ValueError(f"k as a count must be >= 0, got {k}")
    if isinstance(k, float) and not 0.0 <= k <= 1.0:
        raise ValueError(f"k as a fraction must be in [0, 1], got {k}")


def top_k_positions(scores: Sequence[float], k: int | float) -> list[int]:
    """Positions of the ``k`` highest scores, in original order; ties go to the earlier position, so the
    subword tokens of one word (which share the word's score) are taken together."""
    n = resolve_k(k, len(scores))
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return sorted(ranked[:n])


@dataclass
class ScoredKeyTokenVariant(Variant):
    """Common parameters of the variants that rank rationale tokens with a selector.

    ``selector`` names a registered selector (``cotdistill keytokens --help`` lists them), ``scorer`` the model
    it reads (a student alias, hub id, model or trained-student directory; unused by model-free selectors),
    ``order`` whether the scorer sees the rationale before the label or after it, ``selector_params`` the
    selector's own settings (e.g. ``{steps: 16}`` for integrated gradients).
    """

    k: int | float = 0.2
    selector: str = "gradient_x_input"
    scorer: str | None = None
    order: str = "rationale_first"
    selector_params: dict[str, Any] = field(default_factory=dict)

    uses_scores: ClassVar[bool] = True

    def __post_init__(self):
        validate_k(self.k)
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {self.order!r}")

    def scores(self, example: Example, n_tokens: int, ctx: BuildContext) -> list[float]:
        table = ctx.extras.get(KEY_TOKEN_SCORES)
        if table is None:
            raise DataError(f"variant '{self.name}' needs key-token scores; compute them with "
                            "cotdistill.keytokens.prepare_key_token_extras and pass them as extras", field="extras")
        scores = table.get(example.id)
        if scores is None:
            raise DataError(f"no key-token scores for example '{example.id}'", field="id")
        if len(scores) != n_tokens:
            raise DataError(f"key-token scores of example '{example.id}' have {len(scores)} entries for "
                            f"{n_tokens} rationale tokens (computed with another student tokenizer?)", field="id")
        return list(scores)


@register_variant
@dataclass
class KeyTokensAfterLabel(ScoredKeyTokenVariant):
    name = "key_tokens_after_label"
    description = "Label, then the rationale's top-k tokens under a selector (e.g. integrated gradients), in order."

    def build(self, example, rationale, ctx):
        ids = ctx.rationale_ids(rationale)
        keep = top_k_positions(self.scores(example, len(ids), ctx), self.k)
        return after_label_instance(example, ctx, [Segment("rationale", tuple(ids[i] for i in keep))])


@register_variant
@dataclass
class MaskedKeyCotAfterLabel(ScoredKeyTokenVariant):
    name = "masked_key_cot_after_label"
    placeholder: str | None = None
    description = ("Label, then the rationale without its top-k tokens (removed, or each replaced by the one-token "
                   "`placeholder`).")

    def build(self, example, rationale, ctx):
        ids = ctx.rationale_ids(rationale)
        keys = set(top_k_positions(self.scores(example, len(ids), ctx), self.k))
        if self.placeholder is None:
            kept = tuple(t for i, t in enumerate(ids) if i not in keys)
            return after_label_instance(example, ctx, [Segment("rationale", kept)])
        placeholder = ctx.encode(self.placeholder)
        if len(placeholder) != 1:
            raise ValueError(f"placeholder {self.placeholder!r} is {len(placeholder)} tokens for this tokenizer; "
                             "need 1")
        # Placeholders are filler segments, so the trainer can weight them like the other fillers.
        body: list[Segment] = []
        for i, token in enumerate(ids):
            kind = "filler" if i in keys else "rationale"
            token = placeholder[0] if i in keys else token
            if body and body[-1].kind == kind:
                body[-1] = Segment(kind, body[-1].token_ids + (token,))
            else:
                body.append(Segment(kind, (token,)))
        return after_label_instance(example, ctx, body)


@register_variant
@dataclass
class RandomKTokensAfterLabel(Variant):
    name = "random_k_tokens_after_label"
    k: int | float = 0.2
    uses_scores: ClassVar[bool] = False
    description = "Label, then k rationale tokens drawn at random, in order: the control of key_tokens_after_label."

    def __post_init__(self):
        validate_k(self.k)

    def build(self, example, rationale, ctx):
        ids = ctx.rationale_ids(rationale)
        keep = sorted(ctx.rng.sample(range(len(ids)), resolve_k(self.k, len(ids))))
        return after_label_instance(example, ctx, [Segment("rationale", tuple(ids[i] for i in keep))])
