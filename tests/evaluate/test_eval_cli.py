"""``cotdistill eval``: a trained student evaluated from the command line; user errors are one line, exit 2."""

from __future__ import annotations

import json

import pytest
from eval_helpers import make_examples

from cotdistill.cli.main import main


@pytest.fixture()
def task_file(tmp_path):
    path = tmp_path / "task.jsonl"
    path.write_text("".join(json.dumps({"id": ex.id, "question": ex.question, "choices": ex.choices,
                                        "answer": ex.answer}) + "\n" for ex in make_examples(5)))
    return path


@pytest.fixture()
def student_dir(tmp_path, tiny_tokenizer, tiny_model):
    """A student directory as ``cotdistill train`` writes it: HF model + tokenizer + cotdistill.json."""
    path = tmp_path / "student"
    tiny_model.save_pretrained(path)
    tiny_tokenizer.save_pretrained(path)
    (path / "cotdistill.json").write_text(json.dumps({
        "finished": True,
        "variant": {"name": "cot_after_label", "params": {}},
        "prompt_format": {"label_style": "text", "show_choices": True},
    }))
    return path


def _run(capsys, *args):
    code = main(["eval", *map(str, args)])
    return code, capsys.readouterr()


def test_eval_both_modes_writes_results_per_mode(capsys, tmp_path, student_dir, task_file):
    out = tmp_path / "results"
    config = tmp_path / "eval.yaml"
    config.write_text("eval:\n  max_new_tokens: 8\n  batch_size: 2\n")
    code, io = _run(capsys, "--student", student_dir, "--task", "jsonl", "--task-path", task_file, "--split",
                    "test", "--mode", "both", "--output", out, "--limit", 3, "--config", config)
    assert code == 0, io.err
    for mode in ("label_first", "reasoning_first"):
        metrics = json.loads((out / mode / "metrics.json").read_text())
        assert metrics["n"] == 3 and metrics["run"]["mode"] == mode
        assert metrics["run"]["variant"] == "cot_after_label" and metrics["run"]["config"]["batch_size"] == 2
        assert len((out / mode / "predictions.jsonl").read_text().splitlines()) == 3
        assert f"{mode}: accuracy" in io.out
    assert json.loads((out / "reasoning_first" / "metrics.json").read_text())["mean_tokens_generated"] <= 8
    code, io = _run(capsys, "--student", student_dir, "--task", "jsonl", "--task-path", task_file,
                    "--mode", "both", "--output", out)
    assert code == 2 and "refusing to overwrite" in io.err


def _assert_one_line_error(code, io, *needles):
    assert code == 2
    assert io.err.count("\n") == 1 and "Traceback" not in io.err
    for needle in needles:
        assert needle in io.err


def test_unknown_mode(capsys, tmp_path, task_file):
    code, io = _run(capsys, "--student", tmp_path, "--task", "jsonl", "--task-path", task_file, "--mode", "fast",
                    "--output", tmp_path / "o")
    _assert_one_line_error(code, io, "--mode", "fast")


def test_missing_student_directory(capsys, tmp_path, task_file):
    code, io = _run(capsys, "--student", tmp_path / "nope", "--task", "jsonl", "--task-path", task_file,
                    "--output", tmp_path / "o")
    _assert_one_line_error(code, io, "nope", "student directory not found")


def test_bad_eval_config_key(capsys, tmp_path, task_file):
    config = tmp_path / "eval.yaml"
    config.write_text("max_new_token: 10\n")
    code, io = _run(capsys, "--student", tmp_path, "--task", "jsonl", "--task-path", task_file, "--config", config,
                    "--output", tmp_path / "o")
    _assert_one_line_error(code, io, "eval.yaml", "max_new_token", "unknown key")


def test_unknown_task(capsys, tmp_path):
    code, io = _run(capsys, "--student", tmp_path, "--task", "nosuchtask", "--output", tmp_path / "o")
    _assert_one_line_error(code, io, "nosuchtask")


def test_missing_required_flag(capsys, tmp_path):
    code, io = _run(capsys, "--task", "jsonl", "--output", tmp_path / "o")
    _assert_one_line_error(code, io, "--student")
