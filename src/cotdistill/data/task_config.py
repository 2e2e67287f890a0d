"""Which task to load and how: :class:`TaskConfig`, and the signature of a task loader (the registry of tasks by
name is :data:`cotdistill.data.tasks.TASKS`)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field, field_validator

from cotdistill.configbase import StageConfig
from cotdistill.data.example import Example

SPLITS = ("train", "validation", "test")
_SPLIT_ALIASES = {"dev": "validation", "val": "validation", "valid": "validation"}
#: Keys of ``TaskConfig.fields`` (the generic ``jsonl`` / ``csv`` tasks).
FIELD_ROLES = ("id", "question", "choices", "answer", "context")


class TaskConfig(StageConfig):
    """Which task, which split, from where, and how much of it."""

    name: str = Field(..., description="Registered task name (see `cotdistill tasks list`).")
    split: str = Field("train", description="Split: train, validation (alias dev) or test; quarel_ni: all, dev, "
                                            "non_dev.")
    path: str | None = Field(None, description="Local file or folder of the task; empty: load from the Hugging "
                                               "Face hub through `datasets`.")
    fields: dict[str, str | list[str]] | None = Field(
        None, description="jsonl/csv tasks: where each part is, {id, question, choices, answer, context} -> field "
                          "name (dotted for nested JSON). `choices` names one field (a {label: text} mapping, a list "
                          "of texts labelled A, B, ..., a list of {label, text}, or JSON text of these in a CSV) or a "
                          "list of fields, one per choice. `answer` holds a label, a 0-based index or a choice text.")
    fact_as_context: bool = Field(False, description="openbookqa: show the supporting science fact (fact1) as "
                                                     "context (needs the Additional files / hub config).")
    hub_name: str | None = Field(None, description="Hugging Face dataset id to load instead of the task's default.")
    limit: int | None = Field(None, ge=1, description="Keep at most this many examples (a seeded random subset, in "
                                                      "file order).")
    seed: int = Field(0, description="Seed of the subset drawn when `limit` is set.")

    @field_validator("fields")
    @classmethod
    def _known_roles(cls, value: dict[str, str | list[str]] | None) -> dict[str, str | list[str]] | None:
        if value is not None:
            unknown = sorted(set(value) - set(FIELD_ROLES))
            if unknown:
                raise ValueError(f"unknown role(s) {unknown}; known: {list(FIELD_ROLES)}")
        return value

    def canonical_split(self) -> str:
        return _SPLIT_ALIASES.get(self.split, self.split)


#: A task source: the examples of ``cfg``'s split (its docstring's first line describes the task).
TaskLoader = Callable[[TaskConfig], list[Example]]
