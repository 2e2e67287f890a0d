"""The one normalized record every task is turned into."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """One multiple-choice question.

    ``choices`` maps each choice label (``"A"``, ``"B"``, ...) to its text, in display order; ``answer`` is the
    gold label (a key of ``choices``) or ``None`` for unlabeled test data. ``context`` holds an optional
    passage or fact shown before the question.
    """

    id: str
    question: str
    choices: dict[str, str]
    answer: str | None
    context: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def labels(self) -> list[str]:
        return list(self.choices)

    @property
    def answer_text(self) -> str | None:
        return self.choices[self.answer] if self.answer is not None else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        return cls(id=str(data["id"]), question=data["question"], choices=dict(data["choices"]),
                   answer=data.get("answer"), context=data.get("context"), meta=dict(data.get("meta") or {}))
