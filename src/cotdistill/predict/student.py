"""A trained student as a product: load it once, answer new multiple-choice questions with it.

The question is asked with the prompt format and variant prompt recorded in the student's ``cotdistill.json``
(never guessed again) and scored by the evaluation code itself (:func:`evaluate_label_first`,
:func:`evaluate_reasoning_first`), so a prediction is exactly the prediction ``cotdistill eval`` makes.

Label-first answers carry the probability of every choice: the softmax of the summed log-probabilities
``cotdistill eval`` ranks the choices by (its ``scores``), i.e. the model's likelihood of each choice's label
text renormalised over the choices, so they sum to 1 and the predicted choice is the most probable one.
Reasoning-first answers carry the generated text (``rationale``) and how the label was read from it; they have
no probabilities (the label is extracted from text, not scored).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.errors import ConfigError, DataError
from cotdistill.evaluate.api import trained_variant_config
from cotdistill.evaluate.config import EVAL_MODES, EvalConfig
from cotdistill.evaluate.label_first import evaluate_label_first
from cotdistill.evaluate.reasoning_first import evaluate_reasoning_first
from cotdistill.evaluate.runtime import inference_context
from cotdistill.models import load_trained_student
from cotdistill.models.device import resolve_device
from cotdistill.predict.questions import as_examples
from cotdistill.prompting import PromptFormat
from cotdistill.variants.base import Variant

#: Questions read, answered and written per step when streaming: several forward batches, so the evaluation
#: code's length sorting still groups similar prompts, while memory stays bounded whatever the input's size.
BATCHES_PER_CHUNK = 8


def choice_probabilities(scores: Mapping[str, float]) -> dict[str, float]:
    """Softmax over the choices' summed log-probabilities (log-sum-exp shifted, so no underflow)."""
    top = max(scores.values())
    weights = {label: math.exp(score - top) for label, score in scores.items()}
    total = sum(weights.values())
    return {label: weight / total for label, weight in weights.items()}


@dataclass
class Student:
    """A trained student directory loaded for prediction: the model, its tokenizer, its metadata, and the
    variant and prompt format it was trained with."""

    model: Any
    tokenizer: Any
    metadata: dict[str, Any]
    directory: Path
    variant: Variant
    prompt_format: PromptFormat

    @classmethod
    def load(cls, directory: str | Path, *, device: str = "auto") -> Student:
        """Load a directory written by ``cotdistill train`` (model, tokenizer, ``cotdistill.json``) onto ``device``
        (a device setting: 'auto', 'cpu', 'cuda', ...); every answer is computed there."""
        target = resolve_device(device, field="device")
        directory = Path(directory)
        if not directory.is_dir():
            raise DataError("trained student directory not found", path=directory)
        model, tokenizer, metadata = load_trained_student(directory, device=target)
        variant_cfg = trained_variant_config(metadata, directory)
        return cls(model=model, tokenizer=tokenizer, metadata=metadata, directory=directory,
                   variant=variant_cfg.build_variant(), prompt_format=variant_cfg.prompt_format())

    def prompt(self, question: Example) -> str:
        """The prompt the student is asked ``question`` with (what it was trained on, task prefix included)."""
        return self.variant.eval_prompt(question, self.prompt_format)

    def predict(self, questions: Iterable[Example | Mapping[str, Any]], *, mode: str = "label_first",
                config: EvalConfig | None = None,
                fields: Mapping[str, str | list[str]] | None = None) -> list[dict[str, Any]]:
        """One answer per question, in order (see :meth:`predict_iter`)."""
        return list(self.predict_iter(questions, mode=mode, config=config, fields=fields))

    def predict_iter(self, questions: Iterable[Example | Mapping[str, Any]], *, mode: str = "label_first",
                     config: EvalConfig | None = None,
                     fields: Mapping[str, str | list[str]] | None = None) -> Iterator[dict[str, Any]]:
        """Answer ``questions`` lazily, a chunk of ``BATCHES_PER_CHUNK * batch_size`` at a time.

        ``questions`` are mappings read like lines of the generic jsonl task (``question``, ``choices``,
        optional ``id`` and ``context``; ``fields`` renames them) or :class:`Example` objects. ``config`` sets the
        batch size, scoring, precision and (reasoning-first) ``max_new_tokens`` as for ``cotdistill eval``; the
        device is the one the student was loaded onto.
        """
        if mode not in EVAL_MODES:
            raise ConfigError(f"unknown mode '{mode}' (choose {', '.join(EVAL_MODES)})", field="mode")
        config = (config or EvalConfig()).model_copy(update={"mode": mode, "limit": None})
        examples = as_examples(questions, fields)
        while chunk := list(itertools.islice(examples, BATCHES_PER_CHUNK * config.batch_size)):
            yield from self._answer(chunk, config)

    def _answer(self, examples: list[Example], config: EvalConfig) -> list[dict[str, Any]]:
        prompts = [self.prompt(ex) for ex in examples]
        context, _ = inference_context(self.model, config.dtype)
        with context:
            if config.mode == "label_first":
                predictions, _ = evaluate_label_first(self.model, self.tokenizer, examples, prompts,
                                                      prompt_format=self.prompt_format, config=config)
            else:
                predictions, _ = evaluate_reasoning_first(self.model, self.tokenizer, examples, prompts,
                                                          config=config)
        return [_answer_record(ex, pred, config.mode) for ex, pred in zip(examples, predictions)]


def _answer_record(example: Example, prediction: dict[str, Any], mode: str) -> dict[str, Any]:
    label = prediction["pred"]
    record: dict[str, Any] = {"id": example.id, "label": label,
                              "text": example.choices[label] if label is not None else None}
    if mode == "label_first":
        record["probabilities"] = choice_probabilities(prediction["scores"])
    else:
        record["rationale"] = prediction["output"]
        record["extraction"] = prediction["how"]
        record["tokens_generated"] = prediction["tokens_generated"]
    return record
