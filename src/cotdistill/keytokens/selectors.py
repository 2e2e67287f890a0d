"""Key-token selectors by name: each scores every rationale token for how much it supports the gold label.

Model-based selectors read a :class:`~cotdistill.keytokens.scoring.Scorer` and return one score per scorer token
(higher = more support); the caller sums them into words. The model-free TF-IDF baseline scores words directly.

==========================  ==========================================================================================
``integrated_gradients``     captum integrated gradients of the objective w.r.t. the rationale's token embeddings,
                             from a zero-embedding baseline (``steps`` Gauss-Legendre points); summed over the
                             hidden dimension, the scores add up to objective(rationale) - objective(zero rationale).
``gradient_x_input``         captum input x gradient, summed over the hidden dimension (one backward pass).
``attention``                attention weight, averaged over layers and heads, between the label and each token
                             (rationale_first: from the positions that predict the label; label_first: from the
                             position that predicts the token to the gold label's tokens).
``occlusion``                leave-one-out: objective with the whole rationale minus objective without the token.
``greedy``                   greedy rationalization (Vafa et al., 2021): grow a token subset, adding each time the
                             token that most raises the objective, until it reaches the full rationale's objective
                             (or ``max_subset`` tokens). Subset members score ``1 + (subset size - step)``; the others
                             ``sigmoid(gain)`` of the last round, so they rank below the subset by marginal gain.
``tfidf``                    model-free: term frequency in the rationale x smoothed inverse document frequency over
                             the rationales scored together (lowercased words without surrounding punctuation).
==========================  ==========================================================================================
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from cotdistill.errors import ConfigError
from cotdistill.keytokens.scoring import Scorer, ScoringInput
from cotdistill.registry import Registry


@dataclass
class Selector:
    """Base of every selector; subclasses are dataclasses whose fields are the selector's parameters."""

    name: ClassVar[str]
    needs_model: ClassVar[bool] = True
    #: Whether scores depend on one rationale only (then they are cached per rationale).
    cacheable: ClassVar[bool] = True

    def settings(self) -> dict[str, Any]:
        return asdict(self)

    def score(self, scorer: Scorer, inputs: Sequence[ScoringInput]) -> list[list[float]]:
        """One score per scorer token of each input."""
        raise NotImplementedError

    def inputs_per_batch(self, scorer: Scorer, rows_per_input: int) -> int:
        """How many rationales to hand to :meth:`score` at once."""
        return max(1, scorer.batch_size // rows_per_input)

    @classmethod
    def param_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass
class TextSelector(Selector):
    """A selector that reads only the rationale texts and scores their words."""

    needs_model: ClassVar[bool] = False

    def score_words(self, word_lists: Sequence[Sequence[str]]) -> list[list[float]]:
        raise NotImplementedError


SELECTORS: Registry[type[Selector]] = Registry("key-token selector")


def make_selector(name: str, params: dict[str, Any] | None = None, *, field_prefix: str = "") -> Selector:
    """Instantiate a registered selector; unknown names or parameters fail naming the config key."""
    cls = SELECTORS.get(name, field=f"{field_prefix}.selector" if field_prefix else "selector")
    params = dict(params or {})
    where = f"{field_prefix}.selector_params" if field_prefix else "selector_params"
    unknown = sorted(set(params) - set(cls.param_names()))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {unknown} for selector '{name}' (accepted: {cls.param_names()})",
                          field=where)
    try:
        return cls(**params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"invalid parameters for selector '{name}': {err}", field=where) from None


def _trim(scores: Any, inputs: Sequence[ScoringInput]) -> list[list[float]]:
    return [scores[b, : inp.n_tokens].tolist() for b, inp in enumerate(inputs)]


@SELECTORS.register("integrated_gradients")
@dataclass
class IntegratedGradientsSelector(Selector):
    name = "integrated_gradients"
    steps: int = 16

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")

    def score(self, scorer, inputs):
        import torch
        from captum.attr import IntegratedGradients

        embeds = scorer.rationale_embeddings(inputs)
        ig = IntegratedGradients(lambda x: scorer.objective_of_embeddings(inputs, x))
        # captum's internal batch counts rationales (each expands to len(rows) sequences).
        per_pass = max(len(inputs), scorer.batch_size // len(inputs[0].rows))
        attributions = ig.attribute(embeds, baselines=torch.zeros_like(embeds), n_steps=self.steps,
                                    internal_batch_size=per_pass)
        return _trim(attributions.sum(-1), inputs)


@SELECTORS.register("gradient_x_input")
@dataclass
class GradientXInputSelector(Selector):
    name = "gradient_x_input"

    def score(self, scorer, inputs):
        from captum.attr import InputXGradient

        embeds = scorer.rationale_embeddings(inputs)
        attributions = InputXGradient(lambda x: scorer.objective_of_embeddings(inputs, x)).attribute(embeds)
        return _trim(attributions.sum(-1), inputs)


@SELECTORS.register("attention")
@dataclass
class AttentionSelector(Selector):
    name = "attention"

    def score(self, scorer, inputs):
        weights, packed = scorer.attentions(inputs)
        out = []
        for v, inp in enumerate(inputs):
            mine = packed.splice_variant == v
            if inp.gold_row is None:
                row = packed.variant_rows[v][0]
                positions = packed.splice_pos[mine & (packed.splice_row == row)]
                # Queries: the positions whose next token is a label token.
                queries = packed.target[row, 1:].nonzero().squeeze(1)
                out.append(weights[row][queries][:, positions].mean(0).tolist())
            else:
                row = packed.gold_rows[v]
                positions = packed.splice_pos[mine & (packed.splice_row == row)]
                keys = packed.target[row].clone()
                keys[positions] = False  # the gold label's tokens, not the rationale's
                out.append(weights[row][positions - 1][:, keys].sum(1).tolist())
        return out


@SELECTORS.register("occlusion")
@dataclass
class OcclusionSelector(Selector):
    name = "occlusion"

    def inputs_per_batch(self, scorer, rows_per_input):
        return 1  # each rationale already makes n + 1 variants

    def score(self, scorer, inputs):
        out = []
        for inp in inputs:
            n = inp.n_tokens
            variants = [(inp, None)] + [(inp, [j for j in range(n) if j != i]) for i in range(n)]
            full, *without = scorer.objective(variants)
            out.append([full - w for w in without])
        return out


@SELECTORS.register("greedy")
@dataclass
class GreedySelector(Selector):
    name = "greedy"
    max_subset: int = 10
    tolerance: float = 0.0

    def __post_init__(self):
        if self.max_subset < 1:
            raise ValueError(f"max_subset must be >= 1, got {self.max_subset}")

    def inputs_per_batch(self, scorer, rows_per_input):
        return 1

    def score(self, scorer, inputs):
        return [self._score_one(scorer, inp) for inp in inputs]

    def _score_one(self, scorer: Scorer, inp: ScoringInput) -> list[float]:
        n = inp.n_tokens
        full, current = scorer.objective([(inp, None), (inp, [])])
        chosen: list[int] = []
        last_gains = [0.0] * n
        while len(chosen) < min(n, self.max_subset):
            candidates = [i for i in range(n) if i not in chosen]
            values = scorer.objective([(inp, sorted([*chosen, i])) for i in candidates])
            for i, value in zip(candidates, values, strict=True):
                last_gains[i] = value - current
            best = max(range(len(candidates)), key=lambda c: (values[c], -candidates[c]))
            chosen.append(candidates[best])
            current = values[best]
            if current >= full - self.tolerance:
                break
        scores = [1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, g)))) for g in last_gains]
        for step, i in enumerate(chosen):
            scores[i] = 1.0 + (len(chosen) - step)
        return scores


_STRIP = re.compile(r"^\W+|\W+$")


def normalize_word(word: str) -> str:
    return _STRIP.sub("", word.lower())


@SELECTORS.register("tfidf")
@dataclass
class TfIdfSelector(TextSelector):
    name = "tfidf"
    cacheable = False  # the inverse document frequency depends on every rationale scored together

    def score_words(self, word_lists):
        normalized = [[normalize_word(w) for w in words] for words in word_lists]
        documents = len(normalized)
        frequency = Counter(term for words in normalized for term in set(words) if term)
        out = []
        for words in normalized:
            counts = Counter(words)
            # Smoothed idf as in scikit-learn: ln((1 + N) / (1 + df)) + 1.
            out.append([counts[t] / len(words) * (math.log((1 + documents) / (1 + frequency[t])) + 1) if t else 0.0
                        for t in words])
        return out
