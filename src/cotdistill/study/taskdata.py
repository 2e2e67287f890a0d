"""A study task's data: training examples after the label policy with their rationales (read from the rationale
source, or written once by the task's teacher), its evaluation examples, and the audit of the rationales."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale, read_rationales
from cotdistill.errors import CotDistillError, DataError
from cotdistill.study import layout
from cotdistill.study.config import StudyTaskConfig


@dataclass
class TaskData:
    """A task's training examples (after the label policy) with their rationales, and its evaluation examples."""

    train: list[Example]
    rationales: dict[str, Rationale]
    eval: list[Example]
    audit: dict[str, Any] | None


def _rekeyed(err: CotDistillError, key: str) -> DataError:
    return DataError(f"{key}: {err}")


def load_task_data(task: StudyTaskConfig, index: int, out_dir: Path, *, write: bool) -> TaskData:
    """Load a task's examples and rationales (running its teacher once if it has one); errors name the YAML key."""
    from cotdistill.data.rationales import apply_label_policy, audit_rationales, load_rationales
    from cotdistill.data.tasks import load_task

    key = f"tasks[{index}]"
    try:
        train = load_task(task.train)
    except CotDistillError as err:
        raise _rekeyed(err, f"{key}.train") from None
    try:
        eval_examples = load_task(task.eval)
    except CotDistillError as err:
        raise _rekeyed(err, f"{key}.eval") from None
    overlap = {ex.id for ex in train} & {ex.id for ex in eval_examples}
    if overlap and task.train == task.eval:
        raise DataError(f"{key}: train and eval are the same examples; evaluate on another split")

    source = task.rationale_source()
    if source is None:
        return TaskData(train, {}, eval_examples, None)
    audit: dict[str, Any]
    if source == "reference_rationales":
        from cotdistill.data.synthetic import reference_rationales

        try:
            rationales = reference_rationales(train)
        except CotDistillError as err:
            raise _rekeyed(err, f"{key}.reference_rationales") from None
        return TaskData(train, rationales, eval_examples, None)
    if source == "rationales":
        assert task.rationales is not None
        try:
            rationales = load_rationales(task.rationales, train)
        except CotDistillError as err:
            raise _rekeyed(err, f"{key}.rationales") from None
        stats = audit_rationales(train, rationales)
        policy, drop_unparsed = task.rationales.label_policy, task.rationales.drop_unparsed
        audit = {"source": task.rationales.source or task.rationales.path, "examples": stats["examples"],
                 "rationales": stats["with_rationale"], "with_label": stats["stated"],
                 "agreement": stats["accuracy"], "label_policy": policy}
    else:
        rationales, audit, policy, drop_unparsed = _teacher_rationales(task, train, index, out_dir, write=write)
    train, rationales = apply_label_policy(train, rationales, policy, drop_unparsed=drop_unparsed)
    # Every variant trains on the same questions: those with a rationale (label_only included), so that
    # differences between variants are not differences in training data.
    train = [ex for ex in train if ex.id in rationales]
    rationales = {ex.id: rationales[ex.id] for ex in train}
    if not train:
        raise DataError(f"{key}: no training example has a rationale (check ids of the rationale source)")
    audit["kept"] = len(train)
    return TaskData(train, rationales, eval_examples, audit)


def _teacher_rationales(task: StudyTaskConfig, train: list[Example], index: int, out_dir: Path, *, write: bool):
    from cotdistill.teacher.config import TeachConfig
    from cotdistill.teacher.run import teach

    assert task.teacher is not None
    teacher_dir = layout.teacher_dir(out_dir, task.name)
    store, audit_path = teacher_dir / "rationales.jsonl", teacher_dir / "audit.json"
    if not write:
        # Other ranks of a distributed run wait for rank 0 to write the teacher's rationales.
        while not audit_path.is_file():
            time.sleep(5)
    elif not store.is_file():
        t = task.teacher
        cfg = TeachConfig(task=task.train, teacher=t.teacher, prompt=t.prompt, sampling=t.sampling,
                          label_policy=t.label_policy, drop_unparsed=t.drop_unparsed, output_dir=str(teacher_dir),
                          cache=t.cache)
        try:
            teach(cfg, examples=train)
        except CotDistillError as err:
            raise _rekeyed(err, f"tasks[{index}].teacher") from None
    teacher_audit = json.loads(audit_path.read_text())
    status = teacher_audit.get("status_counts", {})
    audit = {"source": f"teacher {task.teacher.teacher.backend}:{task.teacher.teacher.model}",
             "examples": teacher_audit.get("questions"), "rationales": teacher_audit.get("answers"),
             "with_label": status.get("correct", 0) + status.get("wrong", 0),
             "agreement": teacher_audit.get("teacher_accuracy_all"), "label_policy": task.teacher.label_policy,
             "teacher_audit": str(audit_path)}
    return read_rationales(store), audit, task.teacher.label_policy, task.teacher.drop_unparsed
