"""A tiny student trained once by ``cotdistill train`` (session-wide), and the question file it was trained on."""

from __future__ import annotations

import pytest
from predict_helpers import QUESTIONS, question_records, write_jsonl

from cotdistill.cli.main import main
from cotdistill.data.rationale import Rationale, write_rationales


@pytest.fixture(scope="session")
def task_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("task") / "questions.jsonl"
    write_jsonl(path, question_records())
    return path


@pytest.fixture(scope="session")
def rationales_file(tmp_path_factory):
    rationales = [Rationale(id=f"q{i}", text=r, source="test") for i, (_, _, _, r) in enumerate(QUESTIONS)]
    return write_rationales(tmp_path_factory.mktemp("rationales") / "rationales.jsonl", rationales)


@pytest.fixture(scope="session")
def trained_student(tmp_path_factory, task_file, rationales_file):
    """A tiny student trained for a few steps with ``cotdistill train`` (cot_after_label, text labels)."""
    out = tmp_path_factory.mktemp("students") / "tiny-student"
    code = main(["train", "--task", "jsonl", "--task-path", str(task_file), "--split", "train",
                 "--rationales", str(rationales_file), "--variant", "cot_after_label", "--student", "tiny",
                 "--max-steps", "3", "--batch-size", "2", "--bf16", "false", "--output", str(out)])
    assert code == 0
    return out
