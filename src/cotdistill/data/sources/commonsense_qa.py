"""CommonsenseQA (5 choices): hub tau/commonsense_qa or the release's *_rand_split.jsonl files."""

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
    reject_fact,
    reject_generic_options,
    split_path,
)
from cotdistill.data.task_config import TaskConfig

_CSQA_FILES = {"train": ("train_rand_split.jsonl",), "validation": ("dev_rand_split.jsonl",),
               "test": ("test_rand_split_no_answers.jsonl", "test_rand_split.jsonl")}


def load_commonsense_qa(cfg: TaskConfig) -> list[Example]:
    """CommonsenseQA (5 choices): hub tau/commonsense_qa or the release's *_rand_split.jsonl files."""
    reject_generic_options(cfg)
    reject_fact(cfg)
    if cfg.path is None:
        split = hub_split(cfg)
        source, records = load_hub(cfg, "tau/commonsense_qa", None, split)
        rows = Rows(source, labels_required=split != "test")
        for line, rec in records:
            rows.add(line, id=get_field(rec, "id", rows, line), question=get_field(rec, "question", rows, line),
                     choices=choices_from_parallel(get_field(rec, "choices", rows, line), rows, line, "choices"),
                     answer=rec.get("answerKey"), names={"answer": "answerKey"},
                     meta={"question_concept": rec.get("question_concept")})
        return rows.examples
    path = split_path(cfg, _CSQA_FILES)
    rows = Rows(path, labels_required=cfg.canonical_split() != "test" and "no_answers" not in path.name)
    for line, rec in read_jsonl(path):
        rows.add(line, id=get_field(rec, "id", rows, line), question=get_field(rec, "question.stem", rows, line),
                 choices=choices_from_value(get_field(rec, "question.choices", rows, line), rows, line,
                                             "question.choices"),
                 answer=rec.get("answerKey"),
                 names={"question": "question.stem", "choices": "question.choices", "answer": "answerKey"},
                 meta={"question_concept": get_field(rec, "question.question_concept", rows, line, required=False)})
    return rows.examples
