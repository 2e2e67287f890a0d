"""``cotdistill predict`` and ``Student.load(dir).predict``: answers agree with ``cotdistill eval``, the prompt
format comes from the student's metadata, bad lines are one-line errors, big inputs stream."""

from __future__ import annotations

import io
import itertools
import json
import math

import pytest
from predict_helpers import QUESTIONS, question_records, write_jsonl

from cotdistill.cli.main import main
from cotdistill.data.example import Example
from cotdistill.errors import DataError
from cotdistill.evaluate import EvalConfig
from cotdistill.predict import Student, choice_probabilities
from cotdistill.predict import student as student_module


def _read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _one_line_error(code, err, *needles):
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err


def test_predict_gives_the_predictions_of_eval(trained_student, task_file, tmp_path, capsys, monkeypatch):
    # Chunks of 2 questions: the 6 questions are answered over 3 read-answer-write steps.
    monkeypatch.setattr(student_module, "BATCHES_PER_CHUNK", 1)
    answers_path = tmp_path / "answers.jsonl"
    assert main(["predict", "--student", str(trained_student), "--input", str(task_file), "-o",
                 str(answers_path), "--batch-size", "2"]) == 0, capsys.readouterr().err
    assert main(["eval", "--student", str(trained_student), "--task", "jsonl", "--task-path", str(task_file),
                 "--split", "test", "--output", str(tmp_path / "eval")]) == 0, capsys.readouterr().err
    answers = _read_jsonl(answers_path)
    predictions = _read_jsonl(tmp_path / "eval" / "predictions.jsonl")
    assert [a["id"] for a in answers] == [p["id"] for p in predictions] == [f"q{i}" for i in range(len(QUESTIONS))]
    for answer, prediction, (_, choices, _, _) in zip(answers, predictions, QUESTIONS):
        assert answer["label"] == prediction["pred"] and answer["text"] == choices[answer["label"]]
        assert set(answer["probabilities"]) == set(choices)
        assert sum(answer["probabilities"].values()) == pytest.approx(1.0)
        assert max(answer["probabilities"], key=answer["probabilities"].get) == answer["label"]
        expected = choice_probabilities(prediction["scores"])
        assert answer["probabilities"] == pytest.approx(expected, abs=1e-5)


def test_choice_probabilities_are_the_softmax_of_the_scores():
    probabilities = choice_probabilities({"A": math.log(0.2), "B": math.log(0.6), "C": -2000.0})
    assert probabilities == pytest.approx({"A": 0.25, "B": 0.75, "C": 0.0})


def test_api_reads_question_mappings_like_the_jsonl_task(trained_student):
    student = Student.load(trained_student)
    answers = student.predict([
        {"question": "Which is heavier?", "choices": ["a rock", "a leaf"]},  # no id: named by its position
        {"id": "mine", "question": "Where does rain come from?",
         "choices": [{"label": "X", "text": "clouds"}, {"label": "Y", "text": "soil"}], "context": "It rains."},
        Example(id="ex", question="Which object has more friction?", choices={"A": "ice", "B": "carpet"},
                answer=None),
    ])
    assert [a["id"] for a in answers] == ["1", "mine", "ex"]
    assert set(answers[1]["probabilities"]) == {"X", "Y"} and answers[1]["label"] in ("X", "Y")
    # A renamed field, through the same mapping as the jsonl task's `fields`.
    [renamed] = student.predict([{"q": "Which is heavier?", "choices": ["a rock", "a leaf"]}],
                                fields={"question": "q"})
    assert renamed["probabilities"] == pytest.approx(answers[0]["probabilities"], abs=1e-6)


def test_prompt_format_is_read_from_the_metadata(trained_student, tmp_path):
    import shutil

    student = Student.load(trained_student)
    question = Example(id="x", question="Which is heavier?", choices={"A": "a rock", "B": "a leaf"}, answer=None)
    assert "Choices:\nA: a rock\nB: a leaf\n" in student.prompt(question)
    letters = tmp_path / "letters"
    shutil.copytree(trained_student, letters)
    metadata = json.loads((letters / "cotdistill.json").read_text())
    metadata["prompt_format"] = {"label_style": "letter", "show_choices": False}
    (letters / "cotdistill.json").write_text(json.dumps(metadata))
    relabelled = Student.load(letters)
    assert "Choices:" not in relabelled.prompt(question) and relabelled.prompt_format.label_style == "letter"


def test_reasoning_first_adds_the_generated_rationale(trained_student):
    [answer] = Student.load(trained_student).predict(question_records(1), mode="reasoning_first",
                                                     config=EvalConfig(max_new_tokens=4))
    assert set(answer) == {"id", "label", "text", "rationale", "extraction", "tokens_generated"}
    assert isinstance(answer["rationale"], str) and answer["tokens_generated"] <= 4


def test_stdin_to_stdout(trained_student, capsys, monkeypatch):
    lines = "".join(json.dumps(r) + "\n" for r in question_records(3))
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["predict", "--student", str(trained_student), "--input", "-"]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["id"] for a in answers] == ["q0", "q1", "q2"]


@pytest.mark.parametrize("line,needles", [
    ('{"id": "b", "question": "Why?", "choices": ["only one"]}', ["questions.jsonl:2: field 'choices'",
                                                                  "at least 2 choices"]),
    ('{"id": "b", "choices": ["x", "y"]}', ["questions.jsonl:2: field 'question'", "missing"]),
    ('{"id": "q0", "question": "Why?", "choices": ["x", "y"]}', ["questions.jsonl:2: field 'id'", "duplicate"]),
    ('not json', ["questions.jsonl:2", "unparseable JSON"]),
])
def test_bad_line_is_a_one_line_error_and_writes_nothing(trained_student, tmp_path, capsys, line, needles):
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps(question_records(1)[0]) + "\n" + line + "\n")
    out = tmp_path / "answers.jsonl"
    code = main(["predict", "--student", str(trained_student), "--input", str(path), "-o", str(out)])
    _one_line_error(code, capsys.readouterr().err, *needles)
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_answers_are_never_overwritten_silently(trained_student, task_file, tmp_path, capsys):
    out = tmp_path / "answers.jsonl"
    out.write_text("earlier answers\n")
    code = main(["predict", "--student", str(trained_student), "--input", str(task_file), "-o", str(out)])
    _one_line_error(code, capsys.readouterr().err, "refusing to overwrite")
    assert out.read_text() == "earlier answers\n"
    assert main(["predict", "--student", str(trained_student), "--input", str(task_file), "-o", str(out),
                 "--overwrite"]) == 0
    assert len(_read_jsonl(out)) == len(QUESTIONS)


def test_unknown_field_role_is_a_one_line_error(trained_student, task_file, capsys):
    code = main(["predict", "--student", str(trained_student), "--input", str(task_file), "--field", "stem=q"])
    _one_line_error(code, capsys.readouterr().err, "fields", "stem")


def test_unknown_mode_and_missing_student(trained_student, task_file, tmp_path, capsys):
    code = main(["predict", "--student", str(trained_student), "--input", str(task_file), "--mode", "fast"])
    _one_line_error(code, capsys.readouterr().err, "--mode", "fast")
    code = main(["predict", "--student", str(tmp_path / "nope"), "--input", str(task_file)])
    _one_line_error(code, capsys.readouterr().err, "nope", "student directory not found")


def test_ten_thousand_questions_stream(trained_student, monkeypatch):
    """Questions are read a chunk at a time as answers are taken: never more than one chunk ahead."""
    monkeypatch.setattr(student_module, "BATCHES_PER_CHUNK", 2)
    batch_size = 4
    chunk = student_module.BATCHES_PER_CHUNK * batch_size
    read = 0

    def questions():
        nonlocal read
        for i in range(10_000):
            read += 1
            q, c, _, _ = QUESTIONS[i % len(QUESTIONS)]
            yield {"id": f"n{i}", "question": q, "choices": c}

    answers = Student.load(trained_student).predict_iter(questions(), config=EvalConfig(batch_size=batch_size))
    for taken, answer in enumerate(itertools.islice(answers, 3 * chunk), 1):
        assert answer["id"] == f"n{taken - 1}"
        assert read <= math.ceil(taken / chunk) * chunk
    assert read == 3 * chunk


def test_a_question_that_is_neither_mapping_nor_example_is_refused(trained_student):
    with pytest.raises(DataError, match="question 1 is a str"):
        Student.load(trained_student).predict(["Which is heavier?"])


def test_written_answers_match_the_api(trained_student, tmp_path, capsys):
    path = tmp_path / "questions.jsonl"
    write_jsonl(path, question_records(2))
    assert main(["predict", "--student", str(trained_student), "--input", str(path), "-o", "-"]) == 0
    written = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    api = Student.load(trained_student).predict(question_records(2))
    assert [w["label"] for w in written] == [a["label"] for a in api]
