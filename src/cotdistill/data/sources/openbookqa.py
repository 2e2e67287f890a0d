"""OpenBookQA (4 choices): hub allenai/openbookqa or the release's Data/Main/*.jsonl files."""

from __future__ import annotations

from cotdistill.data.example import Example
from cotdistill.data.jsonl import read_jsonl
from cotdistill.data.rows import (
    Rows,
    choices_from_parallel,
    choices_from_value,
    get_field,
    hub_split,
    load_hub,
    reject_generic_options,
    split_path,
)
from cotdistill.data.task_config import TaskConfig

_OBQA_FILES = {"train": ("train.jsonl", "train_complete.jsonl"), "validation": ("dev.jsonl", "dev_complete.jsonl"),
               "test": ("test.jsonl", "test_complete.jsonl")}


def load_openbookqa(cfg: TaskConfig) -> list[Example]:
    """OpenBookQA (4 choices): hub allenai/openbookqa or the release's Data/Main/*.jsonl files."""
    reject_generic_options(cfg)
    if cfg.path is None:
        split = hub_split(cfg)
        config = "additional" if cfg.fact_as_context else "main"
        source, records = load_hub(cfg, "allenai/openbookqa", config, split)
        # OpenBookQA labels every split, test included.
        rows = Rows(source, labels_required=True)
        for line, rec in records:
            rows.add(line, id=get_field(rec, "id", rows, line), question=get_field(rec, "question_stem", rows, line),
                     choices=choices_from_parallel(get_field(rec, "choices", rows, line), rows, line, "choices"),
                     answer=get_field(rec, "answerKey", rows, line),
                     context=get_field(rec, "fact1", rows, line) if cfg.fact_as_context else None,
                     names={"question": "question_stem", "answer": "answerKey", "context": "fact1"})
        return rows.examples
    path = split_path(cfg, _OBQA_FILES)
    # OpenBookQA labels every split, test included.
    rows = Rows(path, labels_required=True)
    for line, rec in read_jsonl(path):
        rows.add(line, id=get_field(rec, "id", rows, line), question=get_field(rec, "question.stem", rows, line),
                 choices=choices_from_value(get_field(rec, "question.choices", rows, line), rows, line,
                                             "question.choices"),
                 answer=get_field(rec, "answerKey", rows, line),
                 context=get_field(rec, "fact1", rows, line) if cfg.fact_as_context else None,
                 names={"question": "question.stem", "choices": "question.choices", "answer": "answerKey",
                        "context": "fact1"})
    return rows.examples
