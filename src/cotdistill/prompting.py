"""How an example becomes text and text becomes token ids: one place for training, evaluation and key tokens.

A student is trained on ``prompt ids + target ids`` (:mod:`cotdistill.variants`), asked the same prompt at test
time (:mod:`cotdistill.evaluate`), and read by the key-token scorer in the training layouts
(:mod:`cotdistill.keytokens`). The three agree token for token only if they build the same strings and
tokenise them the same way, so all of them call the functions here:

* the prompt -- :meth:`PromptFormat.prompt` -- is encoded with the tokenizer's special tokens (a BOS where the
  tokenizer adds one): :func:`encode_prompt`, :func:`prompt_ids`;
* everything after it -- the label text, the markers, the rationale -- is encoded piece by piece, each on its own
  and without special tokens: :func:`encode_continuation` (and :func:`encode_continuation_with_offsets`, the same
  ids with character offsets, for the key-token word alignment), :func:`label_ids`, :func:`marker_ids`,
  :func:`rationale_ids`. Pieces are not re-tokenised together, so a piece has the same ids wherever it stands
  (the length-matched controls of the study rely on it).

This module sits below the stages: it imports only :mod:`cotdistill.data` and :mod:`cotdistill.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cotdistill.data.example import Example
from cotdistill.errors import ConfigError

#: Text that introduces the label after a rationale (reasoning-first) -- answer extraction looks for it.
ANSWER_MARKER = "So the answer is"
#: Text that introduces a rationale appended after the label.
RATIONALE_MARKER = "Explanation:"


@dataclass(frozen=True)
class PromptFormat:
    """How a question is shown to the student and how its label is written.

    ``label_style`` chooses what the student is trained to emit first: the choice ``letter`` (" B") or the
    choice ``text`` (" deep sea animals"). Small students bind poorly to letters (they stay at chance), so
    ``text`` is the default; label-first evaluation then scores each choice text by log-probability.
    """

    label_style: Literal["letter", "text"] = "text"
    show_choices: bool = True

    def prompt(self, example: Example, task_prefix: str = "") -> str:
        parts = [task_prefix] if task_prefix else []
        if example.context:
            parts.append(f"Context: {example.context}\n")
        parts.append(f"Question: {example.question}\n")
        if self.show_choices:
            parts.append("Choices:\n" + "".join(f"{k}: {v}\n" for k, v in example.choices.items()))
        parts.append("Answer:")
        return "".join(parts)

    def label_text(self, example: Example, label: str) -> str:
        """The text of the label as it follows the prompt (with its leading space)."""
        return f" {label}" if self.label_style == "letter" else f" {example.choices[label]}"


def encode_prompt(tokenizer: Any, text: str) -> tuple[int, ...]:
    """Ids of a prompt: ``text`` with the tokenizer's special tokens."""
    return tuple(tokenizer(text, add_special_tokens=True)["input_ids"])


def encode_continuation(tokenizer: Any, text: str) -> tuple[int, ...]:
    """Ids of one piece of what follows the prompt (label text, marker, rationale, filler): ``text`` alone, no
    special tokens."""
    return tuple(tokenizer(text, add_special_tokens=False)["input_ids"])


def encode_continuation_with_offsets(tokenizer: Any,
                                     text: str) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """:func:`encode_continuation`'s ids of ``text`` and each token's character span in it (a fast tokenizer
    reports them)."""
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError("key-token scores need a fast tokenizer (one that reports character offsets); "
                          f"{type(tokenizer).__name__} is not", field="scorer")
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return tuple(enc["input_ids"]), tuple((start, end) for start, end in enc["offset_mapping"])


def prompt_ids(tokenizer: Any, prompt_format: PromptFormat, example: Example,
               task_prefix: str = "") -> tuple[int, ...]:
    """The ids of ``example``'s prompt (behind ``task_prefix``, for the variants that route with one)."""
    return encode_prompt(tokenizer, prompt_format.prompt(example, task_prefix))


def label_ids(tokenizer: Any, prompt_format: PromptFormat, example: Example,
              label: str | None = None) -> tuple[int, ...]:
    """The ids of ``label`` (the gold label when ``None``) as the student emits it after the prompt."""
    label = example.answer if label is None else label
    if label is None:
        raise ValueError(f"example '{example.id}' has no gold label to encode")
    return encode_continuation(tokenizer, prompt_format.label_text(example, label))


def marker_ids(tokenizer: Any, marker: str) -> tuple[int, ...]:
    """The ids of ``marker`` (:data:`ANSWER_MARKER`, :data:`RATIONALE_MARKER`) on a line of its own after the
    text before it."""
    return encode_continuation(tokenizer, "\n" + marker)


def rationale_string(text: str) -> str:
    """The string a rationale is encoded as: stripped, behind one space (it follows the prompt or the label)."""
    return " " + text.strip()


def rationale_ids(tokenizer: Any, text: str) -> tuple[int, ...]:
    """The ids of a rationale as trained on; length-matched controls and key-token scores align with these."""
    return encode_continuation(tokenizer, rationale_string(text))
