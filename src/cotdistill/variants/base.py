"""What a student is trained on: prompts and tagged target segments, built by named variants.

A variant turns (example, rationale) into one or more :class:`TrainingInstance`: the prompt token ids
(never trained on) and the target as a sequence of :class:`Segment`, each tagged ``label``, ``rationale``
or ``filler`` so the trainer can weight label tokens against the rest and tests can check where the label
sits. Segments hold token ids, not text, because the controls of the study (shuffled subwords, random
tokens, fillers) are defined on tokens and must match the rationale's token count exactly.

Building is pure and seeded: each example gets its own ``random.Random`` derived from (seed, variant,
example id), so a dataset is identical whatever the order or subset of examples it is built from.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.errors import ConfigError, DataError
from cotdistill.prompting import (
    RATIONALE_MARKER,
    PromptFormat,
    encode_continuation,
    label_ids,
    marker_ids,
    prompt_ids,
    rationale_ids,
)
from cotdistill.registry import Registry

SegmentKind = Literal["label", "rationale", "filler"]
SEGMENT_KINDS: tuple[str, ...] = ("label", "rationale", "filler")

@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    token_ids: tuple[int, ...]


@dataclass(frozen=True)
class TrainingInstance:
    """One training sequence: ``prompt_ids`` (masked from the loss) followed by the target segments."""

    example_id: str
    prompt_ids: tuple[int, ...]
    segments: tuple[Segment, ...]

    @property
    def target_ids(self) -> list[int]:
        return [t for s in self.segments for t in s.token_ids]

    @property
    def input_ids(self) -> list[int]:
        return list(self.prompt_ids) + self.target_ids

    def token_kinds(self) -> list[str | None]:
        """Per input token: ``None`` for prompt tokens, else the segment kind."""
        kinds: list[str | None] = [None] * len(self.prompt_ids)
        for s in self.segments:
            kinds.extend([s.kind] * len(s.token_ids))
        return kinds

    def segment_ids(self, kind: str) -> list[int]:
        return [t for s in self.segments if s.kind == kind for t in s.token_ids]


@dataclass
class BuildContext:
    """Everything a variant may use besides the example itself.

    ``rng`` is private to the example; ``rationale_pool`` holds every rationale of the dataset (for
    variants that borrow another example's rationale or draw random rationale tokens). Text becomes ids only
    through :mod:`cotdistill.prompting` (the methods below), as in evaluation and the key-token scorer.
    """

    tokenizer: Any
    rng: random.Random
    prompt_format: PromptFormat
    rationale_pool: Sequence[Rationale] = ()
    extras: dict[str, Any] = field(default_factory=dict)

    def encode(self, text: str) -> tuple[int, ...]:
        """Ids of one target piece (a filler, a placeholder, shuffled words) on its own."""
        return encode_continuation(self.tokenizer, text)

    def prompt_ids(self, example: Example, task_prefix: str = "") -> tuple[int, ...]:
        return prompt_ids(self.tokenizer, self.prompt_format, example, task_prefix)

    def label_ids(self, example: Example) -> tuple[int, ...]:
        """The gold label's tokens as the student emits them after the prompt."""
        return label_ids(self.tokenizer, self.prompt_format, example)

    def rationale_ids(self, rationale: Rationale) -> tuple[int, ...]:
        """The rationale's tokens as trained on; length-matched controls and key-token scores align with these."""
        return rationale_ids(self.tokenizer, rationale.text)

    def marker_ids(self, marker: str) -> tuple[int, ...]:
        return marker_ids(self.tokenizer, marker)

    @property
    def eos(self) -> tuple[int, ...]:
        eos = self.tokenizer.eos_token_id
        return (eos,) if eos is not None else ()


def after_label_instance(example: Example, ctx: BuildContext, body: Sequence[Segment]) -> list[TrainingInstance]:
    """The label, ``RATIONALE_MARKER``, the body segments (the rationale or a control), then EOS tagged like the
    last body segment; empty segments are dropped."""
    segments = (
        Segment("label", ctx.label_ids(example)),
        Segment("rationale", ctx.marker_ids(RATIONALE_MARKER)),
        *body,
        Segment(body[-1].kind if body else "rationale", ctx.eos),
    )
    return [TrainingInstance(example.id, ctx.prompt_ids(example), tuple(s for s in segments if s.token_ids))]


@dataclass
class Variant:
    """Base of every variant. Subclasses are dataclasses whose fields are the variant's parameters.

    ``answer_first`` says whether the label is the first thing the student emits (so label-first evaluation
    is its natural use); ``needs_rationale`` whether a missing rationale is an error.
    """

    name: ClassVar[str]
    answer_first: ClassVar[bool] = True
    needs_rationale: ClassVar[bool] = True
    description: ClassVar[str] = ""

    def build(self, example: Example, rationale: Rationale | None, ctx: BuildContext) -> list[TrainingInstance]:
        raise NotImplementedError

    def task_prefix(self) -> str:
        """Prefix of the evaluation prompt (multitask variants route with it)."""
        return ""

    def eval_prompt(self, example: Example, prompt_format: PromptFormat) -> str:
        return prompt_format.prompt(example, self.task_prefix())

    @classmethod
    def param_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


VARIANTS: Registry[type[Variant]] = Registry("variant")


def register_variant(cls: type[Variant]) -> type[Variant]:
    VARIANTS.register(cls.name)(cls)
    return cls


def make_variant(name: str, params: dict[str, Any] | None = None, *, field_prefix: str = "variant") -> Variant:
    """Instantiate a registered variant; unknown names or parameters fail naming the config key."""
    cls = VARIANTS.get(name, field=f"{field_prefix}.name")
    params = dict(params or {})
    unknown = sorted(set(params) - set(cls.param_names()))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {unknown} for variant '{name}' (accepted: {cls.param_names()})",
                          field=f"{field_prefix}.params")
    try:
        return cls(**params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"invalid parameters for variant '{name}': {err}", field=f"{field_prefix}.params") from None


def example_rng(seed: int, variant_name: str, example_id: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{variant_name}\x00{example_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def build_instances(
    examples: Sequence[Example],
    rationales: dict[str, Rationale],
    variant: Variant,
    tokenizer: Any,
    *,
    seed: int = 0,
    prompt_format: PromptFormat | None = None,
    extras: dict[str, Any] | None = None,
) -> list[TrainingInstance]:
    """Build the training set of ``variant`` for ``examples``; every labeled example needs a rationale
    when the variant uses one (filter examples beforehand to train on a subset)."""
    prompt_format = prompt_format or PromptFormat()
    pool = [rationales[k] for k in sorted(rationales)]
    out: list[TrainingInstance] = []
    for ex in examples:
        if ex.answer is None:
            raise DataError(f"example '{ex.id}' has no gold label; it cannot be trained on", field="answer")
        rationale = rationales.get(ex.id)
        if rationale is None and variant.needs_rationale:
            raise DataError(f"no rationale for example '{ex.id}' (variant '{variant.name}' needs one)",
                            field="id")
        ctx = BuildContext(tokenizer=tokenizer, rng=example_rng(seed, variant.name, ex.id),
                           prompt_format=prompt_format, rationale_pool=pool, extras=dict(extras or {}))
        out.extend(variant.build(ex, rationale, ctx))
    return out
