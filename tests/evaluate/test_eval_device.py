"""Evaluation on the configured device: the CPU gives the same predictions as before the setting existed, a device
that is not there is a one-line error (exit 2 from the CLI), and on a (faked) GPU the student is moved once and
every batch is built on its device."""

from __future__ import annotations

import json

import pytest
import torch
from eval_helpers import make_examples

from cotdistill.cli.main import main
from cotdistill.data.tasks import TaskConfig
from cotdistill.evaluate import evaluate_student
from cotdistill.evaluate import label_first, reasoning_first, runtime
from cotdistill.evaluate.api import evaluate_trained_modes
from cotdistill.evaluate.config import EvalConfig
from cotdistill.models import device as device_module
from cotdistill.models.tiny import build_tiny_model
from cotdistill.prompting import PromptFormat
from cotdistill.variants import make_variant


@pytest.fixture()
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def _task_file(tmp_path, n=5):
    path = tmp_path / "task.jsonl"
    path.write_text("".join(json.dumps({"id": ex.id, "question": ex.question, "choices": ex.choices,
                                        "answer": ex.answer}) + "\n" for ex in make_examples(n)))
    return path


def _student_dir(tmp_path, model, tokenizer, label_style="text"):
    path = tmp_path / "student"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "cotdistill.json").write_text(json.dumps({
        "finished": True, "variant": {"name": "cot_after_label", "params": {}},
        "prompt_format": {"label_style": label_style, "show_choices": True}}))
    return path


@pytest.mark.parametrize("mode", ["label_first", "reasoning_first"])
def test_predictions_on_the_cpu_are_those_of_the_default(cpu_only, tiny_model, tiny_tokenizer, examples, mode):
    variant, prompt_format = make_variant("cot_after_label"), PromptFormat()
    settings = {"mode": mode, "max_new_tokens": 6, "batch_size": 3}
    default = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=prompt_format,
                               config=EvalConfig(**settings))
    on_cpu = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=prompt_format,
                              config=EvalConfig(**settings, device="cpu"))
    assert on_cpu.predictions == default.predictions
    assert on_cpu.run["device"] == default.run["device"] == "cpu"


def test_eval_cli_with_a_missing_device_in_its_config_is_one_line_exit_2(cpu_only, capsys, tmp_path, tiny_model,
                                                                        tiny_tokenizer):
    student = _student_dir(tmp_path, tiny_model, tiny_tokenizer)
    config = tmp_path / "eval.yaml"
    config.write_text("eval:\n  device: cuda\n")
    out = tmp_path / "results"
    capsys.readouterr()  # what saving the student printed
    code = main(["eval", "--student", str(student), "--task", "jsonl", "--task-path", str(_task_file(tmp_path)),
                 "--mode", "both", "--output", str(out), "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "field 'eval.device': 'cuda' requested but torch.cuda.is_available() is False" in err
    assert not out.exists()


def test_on_a_faked_gpu_the_student_moves_once_and_batches_are_built_on_its_device(monkeypatch, tmp_path,
                                                                                  letter_tokenizer):
    gpu = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    moves, batch_devices, located = [], [], {}
    real_to, real_device = torch.nn.Module.to, device_module.model_device

    def recording_to(module, *args, **kwargs):
        target = args[0] if args else kwargs.get("device")
        if isinstance(target, torch.device) and target.type == "cuda":
            moves.append(target)
            located[id(module)] = target  # stays on the CPU: there is no GPU to compute on
            return module
        return real_to(module, *args, **kwargs)

    def fake_model_device(model):
        return located.get(id(model), real_device(model))

    def recording_pad(pad):
        def padded(seqs, pad_id, device):
            batch_devices.append(device)
            return pad(seqs, pad_id, torch.device("cpu"))
        return padded

    monkeypatch.setattr(torch.nn.Module, "to", recording_to)
    for module in (device_module, runtime, label_first, reasoning_first):
        monkeypatch.setattr(module, "model_device", fake_model_device)
    for module in (label_first, reasoning_first):
        monkeypatch.setattr(module, "left_pad", recording_pad(runtime.left_pad))
    monkeypatch.setattr(runtime, "bf16_autocast", lambda device: False)  # no CUDA to ask about bf16

    # Letters as single tokens: label-first scores them from the prompt pass alone.
    student = _student_dir(tmp_path, build_tiny_model(len(letter_tokenizer)), letter_tokenizer, label_style="letter")
    task = TaskConfig(name="jsonl", path=str(_task_file(tmp_path)), split="test")
    results = evaluate_trained_modes(student, task, EvalConfig(device="cuda", max_new_tokens=4, batch_size=2),
                                     {"label_first": tmp_path / "lf", "reasoning_first": tmp_path / "rf"})
    assert moves == [gpu]  # loaded once, moved once, for both modes
    assert len(batch_devices) == 6 and set(batch_devices) == {gpu}  # 3 batches of <= 2 questions per mode
    assert {r.run["device"] for r in results.values()} == {"cuda"}
    assert results["label_first"].run["scoring"] == "letter_token"
