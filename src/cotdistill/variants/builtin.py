"""The study's training variants (Wadhwa et al. 2024, Table 1 and Sections 4-5, plus distilling step-by-step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cotdistill.prompting import ANSWER_MARKER, rationale_ids
from cotdistill.variants.base import Segment, TrainingInstance, Variant, after_label_instance, register_variant


@register_variant
@dataclass
class LabelOnly(Variant):
    name = "label_only"
    needs_rationale = False
    description = "Standard fine-tuning: the target is the label alone."

    def build(self, example, rationale, ctx):
        segments = (Segment("label", ctx.label_ids(example) + ctx.eos),)
        return [TrainingInstance(example.id, ctx.prompt_ids(example), segments)]


@register_variant
@dataclass
class CotBeforeLabel(Variant):
    name = "cot_before_label"
    answer_first = False
    description = "Reasoning-first: rationale, then 'So the answer is <label>'. Needs generation at test time."

    def build(self, example, rationale, ctx):
        segments = (
            Segment("rationale", ctx.rationale_ids(rationale) + ctx.marker_ids(ANSWER_MARKER)),
            Segment("label", ctx.label_ids(example) + ctx.eos),
        )
        return [TrainingInstance(example.id, ctx.prompt_ids(example), segments)]


@register_variant
@dataclass
class CotAfterLabel(Variant):
    name = "cot_after_label"
    description = "Label first, then the rationale: the student answers in one forward pass."

    def build(self, example, rationale, ctx):
        return after_label_instance(example, ctx, [Segment("rationale", ctx.rationale_ids(rationale))])


@register_variant
@dataclass
class ShuffledCotAfterLabel(Variant):
    name = "shuffled_cot_after_label"
    level: Literal["word", "subword"] = "word"
    description = "Label, then the rationale's words (or subword tokens) in a random order."

    def __post_init__(self):
        if self.level not in ("word", "subword"):
            raise ValueError(f"level must be 'word' or 'subword', got {self.level!r}")

    def build(self, example, rationale, ctx):
        if self.level == "subword":
            ids = list(ctx.rationale_ids(rationale))
            ctx.rng.shuffle(ids)
            body = tuple(ids)
        else:
            words = rationale.text.split()
            ctx.rng.shuffle(words)
            # Encoded as a rationale is, so only the order of the words differs from cot_after_label's target.
            body = rationale_ids(ctx.tokenizer, " ".join(words))
        return after_label_instance(example, ctx, [Segment("rationale", body)])


@register_variant
@dataclass
class RandomTokensAfterLabel(Variant):
    name = "random_tokens_after_label"
    source: Literal["vocab", "rationales"] = "vocab"
    description = ("Label, then as many random tokens as the rationale has, drawn uniformly from the vocabulary "
                   "or from the tokens of all rationales.")

    def __post_init__(self):
        if self.source not in ("vocab", "rationales"):
            raise ValueError(f"source must be 'vocab' or 'rationales', got {self.source!r}")

    def build(self, example, rationale, ctx):
        n = len(ctx.rationale_ids(rationale))
        if self.source == "vocab":
            special = set(ctx.tokenizer.all_special_ids)
            vocab = [i for i in range(len(ctx.tokenizer)) if i not in special]
        else:
            vocab = ctx.extras.get("_pool_token_ids")
            if vocab is None:
                vocab = [t for r in ctx.rationale_pool for t in ctx.rationale_ids(r)]
                ctx.extras["_pool_token_ids"] = vocab
        body = tuple(ctx.rng.choice(vocab) for _ in range(n))
        return after_label_instance(example, ctx, [Segment("rationale", body)])


@register_variant
@dataclass
class FillerAfterLabel(Variant):
    name = "filler_after_label"
    filler: str = "."
    description = "Label, then one placeholder token repeated as many times as the rationale has tokens."

    def build(self, example, rationale, ctx):
        filler_ids = ctx.encode(self.filler)
        if len(filler_ids) != 1:
            raise ValueError(f"filler {self.filler!r} is {len(filler_ids)} tokens for this tokenizer; need 1")
        n = len(ctx.rationale_ids(rationale))
        return after_label_instance(example, ctx, [Segment("filler", filler_ids * n)])


@register_variant
@dataclass
class OtherExampleCotAfterLabel(Variant):
    name = "other_example_cot_after_label"
    description = "Label, then the rationale of another (random) example of the training set."

    def build(self, example, rationale, ctx):
        others = [r for r in ctx.rationale_pool if r.id != example.id]
        if not others:
            raise ValueError("other_example_cot_after_label needs rationales of at least two examples")
        borrowed = ctx.rationale_ids(ctx.rng.choice(others))
        return after_label_instance(example, ctx, [Segment("rationale", borrowed)])


@register_variant
@dataclass
class TruncatedCotAfterLabel(Variant):
    name = "truncated_cot_after_label"
    fraction: float = 0.5
    description = "Label, then the first `fraction` of the rationale's tokens."

    def __post_init__(self):
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be in [0, 1], got {self.fraction}")

    def build(self, example, rationale, ctx):
        ids = ctx.rationale_ids(rationale)
        return after_label_instance(example, ctx, [Segment("rationale", ids[: round(len(ids) * self.fraction)])])


@register_variant
@dataclass
class Multitask(Variant):
    name = "multitask"
    label_prefix: str = "[label] "
    rationale_prefix: str = "[rationale] "
    description = ("Distilling step-by-step: two instances per example, the label and the rationale as separate "
                   "targets behind task prefixes; evaluated with the label prefix.")

    def task_prefix(self) -> str:
        return self.label_prefix

    def build(self, example, rationale, ctx):
        label = TrainingInstance(example.id, ctx.prompt_ids(example, self.label_prefix),
                                 (Segment("label", ctx.label_ids(example) + ctx.eos),))
        expl = TrainingInstance(example.id, ctx.prompt_ids(example, self.rationale_prefix),
                                (Segment("rationale", ctx.rationale_ids(rationale) + ctx.eos),))
        return [label, expl]
