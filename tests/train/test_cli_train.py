"""``cotdistill train`` end to end on a tiny student, and its one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from train_helpers import tiny_examples, tiny_rationales

from cotdistill.cli.main import main
from cotdistill.data.rationale import write_rationales


@pytest.fixture()
def task_files(tmp_path):
    task = tmp_path / "train.jsonl"
    task.write_text("".join(json.dumps({"id": ex.id, "question": ex.question, "choices": ex.choices,
                                        "answer": ex.answer}) + "\n" for ex in tiny_examples(4)))
    rationales = write_rationales(tmp_path / "rationales.jsonl", tiny_rationales(4).values())
    return task, rationales


def test_train_from_yaml_with_flag_overrides(task_files, tmp_path, capsys):
    task, rationales = task_files
    config = tmp_path / "run.yaml"
    config.write_text(f"""
task: {{name: jsonl, path: {task}, split: train}}
rationales: {{path: {rationales}, format: jsonl}}
variant: {{name: cot_before_label, label_style: letter}}
student: {{model: tiny}}
train: {{max_steps: 50, batch_size: 2, learning_rate: 0.001, bf16: false}}
output: {tmp_path / 'from-yaml'}
""")
    out = tmp_path / "student"
    code = main(["train", "--config", str(config), "--max-steps", "2", "--output", str(out), "--seed", "3"])
    assert code == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["steps"] == 2 and result["target_tokens"] > 0
    meta = json.loads((out / "cotdistill.json").read_text())
    assert meta["finished"] and meta["seed"] == 3 and meta["train"]["learning_rate"] == 0.001
    assert meta["variant"] == {"name": "cot_before_label", "params": {}}
    assert meta["prompt_format"] == {"label_style": "letter", "show_choices": True}
    assert meta["task"]["name"] == "jsonl" and meta["rationales"]["path"] == str(rationales)
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert not (tmp_path / "from-yaml").exists()

    # A second run into the finished directory is refused with one line, exit code 2.
    assert main(["train", "--config", str(config), "--output", str(out)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--lr", "-1"], "--lr: "),
    (["--batch-size", "0"], "--batch-size: "),
    (["--bf16", "maybe"], "--bf16: expected auto"),
    (["--variant", "no_such_variant"], "unknown variant 'no_such_variant'"),
    (["--output", None], "--output (or 'output' in the config) is required"),
])
def test_bad_flags_are_one_line_errors(task_files, tmp_path, capsys, args, message):
    task, rationales = task_files
    base = {"--task": "jsonl", "--task-path": str(task), "--rationales": str(rationales), "--student": "tiny",
            "--output": str(tmp_path / "out")}
    base[args[0]] = args[1]
    argv = ["train"] + [x for k, v in base.items() if v is not None for x in (k, v)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_bad_yaml_key_names_the_key_and_file(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("task: {name: jsonl}\noutput: x\ntrain: {learning_rat: 0.1}\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert "train.learning_rat" in err and "unknown key" in err and str(config) in err


def test_a_bad_key_token_selector_fails_before_any_data_is_read(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(f"task: {{name: jsonl, path: {tmp_path / 'absent.jsonl'}}}\nstudent: {{model: tiny}}\n"
                      "variant: {name: key_tokens_after_label, params: {selector: occlusion}}\n"
                      f"output: {tmp_path / 'out'}\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert "variant.params.scorer" in err and "needs a scorer" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()
