"""A trained student's card after ``cotdistill eval --update-card``, and ``cotdistill push``: everything up to the
upload, with huggingface_hub's create_repo / upload_folder replaced by recorders (the upload itself needs the
network and an account, so it is not tested)."""

from __future__ import annotations

import json
import shutil

import huggingface_hub
import pytest
from huggingface_hub import ModelCard

from cotdistill.cli.main import main


@pytest.fixture()
def student_copy(trained_student, tmp_path):
    """The session's trained student, copied: these tests change its card."""
    return shutil.copytree(trained_student, tmp_path / "tiny-student")


@pytest.fixture()
def hub_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(huggingface_hub, "create_repo", lambda repo_id, **kw: calls.append(("create", repo_id, kw)))

    def upload_folder(**kw):
        calls.append(("upload", kw["repo_id"], kw))
        return "https://huggingface.co/me/student/commit/abc"

    monkeypatch.setattr(huggingface_hub, "upload_folder", upload_folder)
    return calls


def test_trained_card_then_eval_update_card(student_copy, task_file, tmp_path, capsys):
    card = ModelCard.load(student_copy / "README.md")
    assert card.data.base_model is None and card.data.eval_results is None  # the tiny student has no hub source
    assert "training variant: `cot_after_label`" in card.text and "Not evaluated yet" in card.text
    out = tmp_path / "eval"
    assert main(["eval", "--student", str(student_copy), "--task", "jsonl", "--task-path", str(task_file),
                 "--split", "test", "--output", str(out), "--update-card"]) == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    card = ModelCard.load(student_copy / "README.md")
    [result] = card.data.eval_results
    assert result.metric_value == metrics["accuracy"] and result.metric_name == "label_first accuracy"
    assert f"| jsonl | test | label_first | {100 * metrics['accuracy']:.2f}% |" in card.text
    assert f"{metrics['seconds_per_answer']:.4f}" in card.text and str(out) in card.text


def test_push_creates_the_repo_and_uploads_the_directory(student_copy, hub_calls, capsys):
    (student_copy / "checkpoint-2").mkdir()
    assert main(["push", "--student", str(student_copy), "--repo", "me/student", "--private"]) == 0
    assert capsys.readouterr().out.strip() == "https://huggingface.co/me/student/commit/abc"
    (create, repo, create_kw), (upload, upload_repo, upload_kw) = hub_calls
    assert (create, repo, upload, upload_repo) == ("create", "me/student", "upload", "me/student")
    assert create_kw["private"] is True and create_kw["exist_ok"] is True
    assert upload_kw["folder_path"] == str(student_copy)
    assert "checkpoint-*" in upload_kw["ignore_patterns"]


@pytest.mark.parametrize("args,needle", [
    (["--repo", "not a repo id"], "--repo"),
])
def test_push_refuses_a_bad_repo_id(student_copy, hub_calls, capsys, args, needle):
    code = main(["push", "--student", str(student_copy), *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and needle in err and not hub_calls


def test_push_refuses_an_unfinished_student_or_a_broken_card(student_copy, hub_calls, capsys, tmp_path):
    (student_copy / "README.md").write_text("---\nbase_model: [unclosed\n---\n# x\n")
    code = main(["push", "--student", str(student_copy), "--repo", "me/student"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "README.md" in err
    code = main(["push", "--student", str(tmp_path), "--repo", "me/student"])
    err = capsys.readouterr().err
    assert code == 2 and "not a finished cotdistill student" in err and not hub_calls
