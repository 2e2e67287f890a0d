"""Results files, refusing to overwrite, limits, metrics registry, evaluating a trained student directory."""

from __future__ import annotations

import json

import pytest

from cotdistill.errors import ConfigError, DataError
from cotdistill.evaluate import METRICS, EvalConfig, EvalResult, evaluate_student, write_eval_result
from cotdistill.evaluate.api import evaluate_trained_modes, trained_variant_config
from cotdistill.evaluate.config import load_eval_config
from cotdistill.prompting import PromptFormat
from cotdistill.variants import make_variant


def _evaluate(model, tokenizer, examples, **cfg):
    return evaluate_student(model, tokenizer, examples, variant=make_variant("label_only"),
                            prompt_format=PromptFormat(), config=EvalConfig(dtype="fp32", **cfg))


def test_predictions_and_metrics_files(tmp_path, tiny_tokenizer, tiny_model, examples):
    result = _evaluate(tiny_model, tiny_tokenizer, examples, limit=5)
    assert [p["id"] for p in result.predictions] == [ex.id for ex in examples[:5]]
    predictions_path, metrics_path = write_eval_result(result, tmp_path / "out")
    rows = [json.loads(line) for line in predictions_path.read_text().splitlines()]
    assert rows == result.predictions
    assert set(rows[0]) >= {"id", "gold", "pred", "correct", "scores", "scores_norm"}
    metrics = json.loads(metrics_path.read_text())
    assert metrics["n"] == 5 and metrics["accuracy"] == result.metrics["accuracy"]
    assert metrics["seconds_per_answer"] == pytest.approx(metrics["seconds"] / 5)
    assert metrics["run"]["mode"] == "label_first" and metrics["run"]["config"]["limit"] == 5


def test_results_are_never_overwritten_silently(tmp_path, tiny_tokenizer, tiny_model, examples):
    result = _evaluate(tiny_model, tiny_tokenizer, examples[:2])
    write_eval_result(result, tmp_path)
    before = (tmp_path / "metrics.json").read_text()
    other = EvalResult(metrics={"accuracy": 0.0}, predictions=[])
    with pytest.raises(DataError, match="refusing to overwrite"):
        write_eval_result(other, tmp_path)
    assert (tmp_path / "metrics.json").read_text() == before
    write_eval_result(other, tmp_path, overwrite=True)
    assert json.loads((tmp_path / "metrics.json").read_text())["accuracy"] == 0.0


def test_metrics_registry_names_and_modes():
    assert {"accuracy", "acc_norm", "format_compliance", "strict_compliance", "mean_tokens_generated"} <= set(METRICS)
    assert METRICS.get("acc_norm").modes == ("label_first",)
    with pytest.raises(ConfigError, match="unknown metric"):
        METRICS.get("bleu")


def test_eval_config_from_yaml_file_or_section(tmp_path):
    plain = tmp_path / "eval.yaml"
    plain.write_text("mode: reasoning_first\nmax_new_tokens: 32\n")
    assert load_eval_config(plain).max_new_tokens == 32
    nested = tmp_path / "study.yaml"
    nested.write_text("eval:\n  batch_size: 4\n  normalisation: bytes\n")
    assert load_eval_config(nested).normalisation == "bytes"
    bad = tmp_path / "bad.yaml"
    bad.write_text("eval:\n  batchsize: 4\n")
    with pytest.raises(ConfigError, match=r"eval\.batchsize.*unknown key"):
        load_eval_config(bad)


def test_fp32_evaluation_of_a_bf16_model_is_refused(tiny_tokenizer, tiny_model, examples):
    import torch

    with pytest.raises(ConfigError, match="eval.dtype"):
        _evaluate(tiny_model.to(torch.bfloat16), tiny_tokenizer, examples)


def test_trained_variant_config_reads_metadata(tmp_path):
    meta = {"variant": {"name": "multitask", "params": {"label_prefix": "[L] "}},
            "prompt_format": {"label_style": "letter", "show_choices": False}}
    cfg = trained_variant_config(meta, tmp_path)
    assert cfg.build_variant().task_prefix() == "[L] "
    assert cfg.prompt_format() == PromptFormat(label_style="letter", show_choices=False)
    with pytest.raises(DataError, match="cotdistill.json: field 'prompt_format'"):
        trained_variant_config({"variant": meta["variant"]}, tmp_path)
    with pytest.raises(ConfigError, match="cotdistill.json"):
        trained_variant_config({**meta, "prompt_format": {"label_style": "number"}}, tmp_path)


def test_evaluate_trained_checks_outputs_before_any_work(tmp_path):
    from cotdistill.data.tasks import TaskConfig

    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "metrics.json").write_text("{}")
    task = TaskConfig(name="openbookqa", split="test", path=str(tmp_path / "missing.jsonl"))
    with pytest.raises(DataError, match="refusing to overwrite"):
        evaluate_trained_modes(tmp_path / "no-student", task, EvalConfig(), {"label_first": tmp_path / "new",
                                                                             "reasoning_first": tmp_path / "done"})
    assert not (tmp_path / "new").exists()
    with pytest.raises(DataError, match="student directory not found"):
        evaluate_trained_modes(tmp_path / "no-student", task, EvalConfig(), {"label_first": tmp_path / "new"})
