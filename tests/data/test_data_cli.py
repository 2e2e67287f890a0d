"""``cotdistill tasks``, ``cotdistill rationales`` and ``cotdistill variants show`` through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cotdistill.cli.main import main
from cotdistill.data.rationale import read_rationales

FIXTURES = Path(__file__).parent / "fixtures"
CSQA = str(FIXTURES / "csqa")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error"), err
    for needle in needles:
        assert needle in lines[0]


def test_tasks_list(capsys):
    code, out, _ = run(capsys, "tasks", "list")
    assert code == 0
    for name in ("commonsense_qa", "openbookqa", "quarel", "quarel_ni", "jsonl", "csv"):
        assert name in out


def test_tasks_show(capsys):
    code, out, _ = run(capsys, "tasks", "show", "--task", "commonsense_qa", "--task-path", CSQA, "--split", "dev",
                       "-n", "2")
    assert code == 0
    assert "3 examples" in out and "[dv1]" in out and "[dv2]" in out and "[dv3]" not in out
    assert "*A: bank" in out


def test_tasks_show_generic_fields(capsys):
    code, out, _ = run(capsys, "tasks", "show", "--task", "csv", "--task-path",
                       str(FIXTURES / "generic" / "validation.csv"),
                       "--field", "choices=a,b,c", "--field", "answer=label", "-n", "1")
    assert code == 0 and "*B: a cork" in out


@pytest.mark.parametrize("argv, needles", [
    (("tasks", "show", "--task", "nope"), ("unknown task 'nope'",)),
    (("tasks", "show", "--task", "commonsense_qa", "--task-path", "/absent/dir"), ("/absent/dir", "not found")),
    (("tasks", "show", "--task", "csv", "--task-path", CSQA, "--field", "oops"), ("--field", "ROLE=FIELD")),
    (("tasks", "show", "--task", "commonsense_qa", "--task-path", CSQA, "--limit", "0"), ("limit",)),
    (("tasks", "show"), ("--task",)),
])
def test_tasks_show_bad_input(capsys, argv, needles):
    code, _, err = run(capsys, *argv)
    one_line_error(code, err, *needles)


def test_rationales_import_writes_a_store_and_refuses_to_overwrite(capsys, tmp_path):
    out_path = tmp_path / "store.jsonl"
    argv = ("rationales", "import", "--rationales-format", "csv", "--rationales", str(FIXTURES / "rationales.csv"),
            "--task", "commonsense_qa", "--task-path", CSQA, "--split", "dev", "--output", str(out_path))
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "wrote 4 rationales" in out and "accuracy_when_stated" in out
    store = read_rationales(out_path)
    assert store["dv1"].teacher_label == "A" and store["dv2"].teacher_label == "D"
    before = out_path.read_bytes()
    code, _, err = run(capsys, *argv)
    one_line_error(code, err, "refusing to overwrite")
    assert out_path.read_bytes() == before


def test_rationales_import_palm_without_task(capsys, tmp_path):
    out_path = tmp_path / "palm.jsonl"
    code, out, _ = run(capsys, "rationales", "import", "--rationales-format", "palm_cqa", "--rationales",
                       str(FIXTURES / "palm_cqa"),
                       "--rationales-split", "train", "--strip-answer-statement", "--output", str(out_path))
    assert code == 0 and "3 of 4 state a label" in out
    assert "So the answer is" not in read_rationales(out_path)["tr1"].text


def test_rationales_audit(capsys, tmp_path):
    store = tmp_path / "s.jsonl"
    store.write_text(json.dumps({"id": "dv1", "text": "t", "teacher_label": "B"}) + "\n")
    code, out, _ = run(capsys, "rationales", "audit", "--rationales", str(store), "--task", "commonsense_qa",
                       "--task-path", CSQA, "--split", "dev")
    assert code == 0
    assert "missing" in out and "disagree" in out
    row = next(line for line in out.splitlines() if "│ disagree" in line)
    assert "1" in row


@pytest.mark.parametrize("argv, needles", [
    (("rationales", "import", "--rationales-format", "xml", "--rationales", "x", "--output", "o.jsonl"), ("format",)),
    (("rationales", "import", "--rationales-format", "palm_cqa", "--rationales", str(FIXTURES / "palm_cqa"),
      "--output", "o.jsonl"),
     ("rationales.split",)),
    (("rationales", "audit", "--rationales", "/absent.jsonl", "--task", "commonsense_qa", "--task-path", CSQA,
      "--split", "dev"), ("/absent.jsonl", "not found")),
])
def test_rationales_bad_input(capsys, argv, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    one_line_error(code, err, *needles)
    assert not (tmp_path / "o.jsonl").exists()


def test_variants_show_colours_segments(capsys):
    code, out, _ = run(capsys, "variants", "show", "--variant", "cot_before_label", "--task", "commonsense_qa",
                       "--task-path", CSQA, "--split", "dev", "--rationales", str(FIXTURES / "rationales.csv"),
                       "--rationales-format", "csv", "--label-policy", "drop", "-n", "3")
    assert code == 0
    # Under "drop": dv1 (teacher A = gold) stays, dv2 (teacher D, gold A) goes, dv3 (no stated label) stays.
    assert "--- dv1 ---" in out and "--- dv2 ---" not in out and "--- dv3 ---" in out
    assert "So the answer is bank" in out and "Question: A revolving door" in out


def test_variants_show_params_and_errors(capsys):
    code, out, _ = run(capsys, "variants", "show", "--variant", "truncated_cot_after_label", "--param",
                       "fraction=0.0", "--task", "commonsense_qa", "--task-path", CSQA, "--split", "dev",
                       "--rationales", str(FIXTURES / "rationales.csv"), "--rationales-format", "csv", "-n", "1")
    assert code == 0 and "Explanation:" in out and "revolving door controls" not in out
    code, _, err = run(capsys, "variants", "show", "--variant", "cot_after_label", "--task", "commonsense_qa",
                       "--task-path", CSQA, "--split", "dev")
    one_line_error(code, err, "--rationales")
    code, _, err = run(capsys, "variants", "show", "--variant", "label_only", "--param", "x=1", "--task",
                       "commonsense_qa", "--task-path", CSQA, "--split", "dev")
    one_line_error(code, err, "unknown parameter")
