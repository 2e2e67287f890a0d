"""QuaRel (2 choices) and its Natural-Instructions reconstruction (quarel_ni)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.jsonl import read_jsonl
from cotdistill.data.rows import (
    Rows,
    get_field,
    hub_split,
    letter,
    load_hub,
    reject_fact,
    reject_generic_options,
    split_inline_options,
    split_path,
)
from cotdistill.data.task_config import TaskConfig
from cotdistill.errors import ConfigError

_QUAREL_FILES = {"train": ("quarel-v1-train.jsonl",), "validation": ("quarel-v1-dev.jsonl",),
                 "test": ("quarel-v1-test.jsonl",)}
def _add_quarel_original(rows: Rows, line: int, rec: dict[str, Any]) -> None:
    question = get_field(rec, "question", rows, line)
    parsed = split_inline_options(question) if isinstance(question, str) else None
    if parsed is None:
        raise rows.error("question has no inline '(A) ... (B) ...' options", line, "question")
    stem, choices = parsed
    index = rec.get("answer_index")
    if index is None and rows.labels_required:
        raise rows.error("missing gold label (only the test split may be unlabeled)", line, "answer_index")
    if index is not None and (type(index) is not int or index not in (0, 1)):
        raise rows.error(f"must be 0 or 1, got {index!r}", line, "answer_index")
    meta = {k: rec[k] for k in ("world_literals", "logical_form_pretty") if k in rec}
    rows.add(line, id=get_field(rec, "id", rows, line), question=stem, choices=choices,
             answer=letter(index) if index is not None else None, meta=meta, names={"answer": "answer_index"})


def load_quarel(cfg: TaskConfig) -> list[Example]:
    """QuaRel (2 choices): hub community-datasets/quarel or quarel-v1-{train,dev,test}.jsonl (NI reconstruction auto-detected)."""
    reject_generic_options(cfg)
    reject_fact(cfg)
    if cfg.path is None:
        split = hub_split(cfg)
        source, records = load_hub(cfg, "community-datasets/quarel", None, split)
        rows = Rows(source, labels_required=split != "test")
        for line, rec in records:
            _add_quarel_original(rows, line, rec)
        return rows.examples
    path = Path(cfg.path)
    if _is_quarel_ni(path):
        return load_quarel_ni(cfg)
    path = split_path(cfg, _QUAREL_FILES)
    rows = Rows(path, labels_required=cfg.canonical_split() != "test")
    for line, rec in read_jsonl(path):
        _add_quarel_original(rows, line, rec)
    return rows.examples


_QUAREL_NI_FILE = "quarel_natural_instructions.jsonl"
_QUAREL_NI_SPLITS = ("all", "dev", "non_dev")


def _is_quarel_ni(path: Path) -> bool:
    """Whether ``path`` is the Natural-Instructions reconstruction (records with ``choices``, no ``answer_index``)."""
    if path.is_dir():
        originals = [path / name for (name,) in _QUAREL_FILES.values()]
        return (path / _QUAREL_NI_FILE).is_file() and not any(p.is_file() for p in originals)
    if path.is_file():
        for _, rec in read_jsonl(path):
            return "choices" in rec and "answer_index" not in rec
    return False


def load_quarel_ni(cfg: TaskConfig) -> list[Example]:
    """QuaRel questions with gold labels recovered from Super-NaturalInstructions (splits all, dev, non_dev)."""
    reject_generic_options(cfg)
    reject_fact(cfg)
    if cfg.path is None:
        raise ConfigError("quarel_ni is only available as a local file (quarel_natural_instructions.jsonl)",
                          field="task.path")
    split = cfg.canonical_split()
    split = "dev" if split == "validation" else split
    if split not in _QUAREL_NI_SPLITS:
        raise ConfigError(f"unknown split '{cfg.split}' for quarel_ni (choose from {list(_QUAREL_NI_SPLITS)}; "
                          "the source does not tell QuaRel train from test)", field="task.split")
    path = Path(cfg.path)
    if path.is_dir():
        path = path / _QUAREL_NI_FILE
    rows = Rows(path, labels_required=True)
    for line, rec in read_jsonl(path):
        quarel_id = rec.get("id")
        if (split == "dev" and quarel_id is None) or (split == "non_dev" and quarel_id is not None):
            continue
        if quarel_id is None:
            ni_index = rec.get("ni_index")
            if ni_index is None:
                raise rows.error("needs an 'id' or an 'ni_index'", line, "id")
            quarel_id = f"quarel_ni_{ni_index}"
        choices = get_field(rec, "choices", rows, line)
        if not isinstance(choices, dict):
            raise rows.error("must be a {label: text} mapping", line, "choices")
        meta = {k: rec[k] for k in ("source_task", "label_source", "ni_index") if k in rec}
        rows.add(line, id=quarel_id, question=get_field(rec, "question", rows, line), choices=choices,
                 answer=get_field(rec, "answer", rows, line), meta=meta)
    return rows.examples
