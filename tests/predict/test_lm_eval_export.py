"""``cotdistill export-lm-eval``: lm-evaluation-harness, run on the exported task, gets the accuracy (and
acc_norm) ``cotdistill eval`` gets on the same questions, question by question."""

from __future__ import annotations

import json

import pytest
import yaml

from cotdistill.cli.main import main


def _export(student, task_file, out, *extra):
    return main(["export-lm-eval", "--student", str(student), "--task", "jsonl", "--task-path", str(task_file),
                 "--split", "test", "-o", str(out), *extra])


def test_lm_eval_agrees_with_cotdistill_eval(trained_student, task_file, tmp_path, capsys):
    lm_eval = pytest.importorskip("lm_eval")
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from cotdistill.models import load_trained_student

    assert _export(trained_student, task_file, tmp_path / "lm-eval") == 0, capsys.readouterr().err
    assert "--tasks cotdistill_jsonl_test" in capsys.readouterr().out
    config = yaml.safe_load((tmp_path / "lm-eval" / "cotdistill_jsonl_test.yaml").read_text())
    assert config["output_type"] == "multiple_choice" and config["target_delimiter"] == " "
    # lm-eval runs the model as it is (fp32); cotdistill eval's 'auto' precision would be bf16 autocast on a CPU
    # with a bf16 fast path (AMX, AVX512-BF16), so both are held to fp32 for the same numbers on every CPU.
    eval_config = tmp_path / "eval.yaml"
    eval_config.write_text("dtype: fp32\n")
    assert main(["eval", "--student", str(trained_student), "--task", "jsonl", "--task-path", str(task_file),
                 "--split", "test", "--config", str(eval_config), "--output", str(tmp_path / "eval")]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["run"]["precision"] == "fp32"
    predictions = [json.loads(line) for line in (tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()]

    model, tokenizer, _ = load_trained_student(trained_student)
    results = lm_eval.simple_evaluate(
        model=HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4, device="cpu"),
        tasks=["cotdistill_jsonl_test"], log_samples=True,
        task_manager=TaskManager(include_path=str(tmp_path / "lm-eval"), include_defaults=False))
    scores = results["results"]["cotdistill_jsonl_test"]
    assert scores["acc,none"] == pytest.approx(metrics["accuracy"])
    assert scores["acc_norm,none"] == pytest.approx(metrics["acc_norm"])
    samples = {s["doc"]["id"]: s for s in results["samples"]["cotdistill_jsonl_test"]}
    for prediction in predictions:
        sample = samples[prediction["id"]]
        assert sample["acc"] == float(prediction["correct"]) and sample["acc_norm"] == float(prediction["correct_norm"])
        # The same log-likelihood of every choice, from another code base.
        lm_eval_scores = [loglikelihood for loglikelihood, _ in sample["filtered_resps"]]
        assert lm_eval_scores == pytest.approx(list(prediction["scores"].values()), abs=1e-4)


def test_export_lm_eval_records_use_the_students_prompt_format(trained_student, task_file, tmp_path, capsys):
    assert _export(trained_student, task_file, tmp_path / "out", "--name", "mine") == 0
    records = [json.loads(line) for line in (tmp_path / "out" / "mine.jsonl").read_text().splitlines()]
    first = records[0]
    assert first["prompt"] == "Question: Which object has more friction?\nChoices:\nA: ice\nB: carpet\nAnswer:"
    assert first["choices"] == ["ice", "carpet"] and first["gold"] == 1
    capsys.readouterr()
    code = _export(trained_student, task_file, tmp_path / "out", "--name", "mine")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "refusing to overwrite" in err
    code = _export(trained_student, task_file, tmp_path / "out", "--name", "Not-A-Name")
    err = capsys.readouterr().err
    assert code == 2 and "--name" in err
