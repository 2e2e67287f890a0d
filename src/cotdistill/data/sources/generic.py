"""Any JSON-lines or CSV file (``jsonl`` / ``csv`` tasks) read through ``TaskConfig.fields``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.jsonl import read_jsonl
from cotdistill.data.rows import Rows, choices_from_value, get_field, letter, reject_fact, split_path
from cotdistill.data.task_config import TaskConfig
from cotdistill.errors import ConfigError
from cotdistill.files import read_csv

_DEFAULT_FIELDS: dict[str, str | list[str]] = {"id": "id", "question": "question", "choices": "choices",
                                               "answer": "answer"}


def generic_fields(cfg: TaskConfig) -> dict[str, str | list[str]]:
    fields = {**_DEFAULT_FIELDS, **(cfg.fields or {})}
    for role, name in fields.items():
        if role != "choices" and not isinstance(name, str):
            raise ConfigError("must name one field", field=f"task.fields.{role}")
    return fields


def _generic_answer(value: Any, choices: dict[str, Any], rows: Rows, line: int, field: str) -> str | None:
    """A label, a 0-based index or a choice text, as the label (``None`` when empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    labels = [str(k) for k in choices]
    if text in labels:
        return text
    if isinstance(value, int) or (isinstance(value, str) and text.isdigit()):
        index = int(text)
        if 0 <= index < len(labels):
            return labels[index]
    for label, choice in choices.items():
        if isinstance(choice, str) and choice.strip() == text:
            return str(label)
    raise rows.error(f"gold label '{text}' is not among the choices {labels} (nor an index or a choice text)",
                     line, field)


def add_generic_row(rows: Rows, line: int, rec: dict[str, Any], fields: dict[str, str | list[str]],
                 *, json_choices: bool) -> None:
    spec = fields["choices"]
    if isinstance(spec, list):
        choices = {letter(i): get_field(rec, name, rows, line) for i, name in enumerate(spec)}
        choices_field = ",".join(spec)
    else:
        value = get_field(rec, spec, rows, line)
        if json_choices and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                raise rows.error(f"not JSON ({err.msg})", line, spec) from None
        choices = choices_from_value(value, rows, line, spec)
        choices_field = spec
    answer_field = str(fields["answer"])
    answer = _generic_answer(get_field(rec, answer_field, rows, line, required=rows.labels_required), choices, rows,
                             line, answer_field)
    context_field = fields.get("context")
    context = get_field(rec, str(context_field), rows, line, required=False) if context_field else None
    rows.add(line, id=get_field(rec, str(fields["id"]), rows, line),
             question=get_field(rec, str(fields["question"]), rows, line), choices=choices, answer=answer,
             context=context or None,
             names={"id": str(fields["id"]), "question": str(fields["question"]), "choices": choices_field,
                    "answer": answer_field, "context": str(context_field)})


def _generic_path(cfg: TaskConfig, suffix: str) -> Path:
    if cfg.path is None:
        raise ConfigError(f"the {cfg.name} task reads a local file: set its path", field="task.path")
    split = cfg.canonical_split()
    names = (f"{split}.{suffix}",) + ((f"dev.{suffix}",) if split == "validation" else ())
    return split_path(cfg, {split: names})


def load_jsonl_task(cfg: TaskConfig) -> list[Example]:
    """Any JSON-lines file (or folder of <split>.jsonl) read through `fields`."""
    reject_fact(cfg)
    fields = generic_fields(cfg)
    path = _generic_path(cfg, "jsonl")
    rows = Rows(path, labels_required=cfg.canonical_split() != "test")
    for line, rec in read_jsonl(path):
        add_generic_row(rows, line, rec, fields, json_choices=False)
    return rows.examples


def load_csv_task(cfg: TaskConfig) -> list[Example]:
    """Any CSV file with a header (or folder of <split>.csv) read through `fields`; choices as JSON or columns."""
    reject_fact(cfg)
    fields = generic_fields(cfg)
    path = _generic_path(cfg, "csv")
    rows = Rows(path, labels_required=cfg.canonical_split() != "test")
    _, records = read_csv(path)
    for line, rec in records:
        add_generic_row(rows, line, rec, fields, json_choices=True)
    return rows.examples
