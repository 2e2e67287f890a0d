"""``train.trainer_args``: further TrainingArguments passed through to ``Trainer``, checked against its own fields,
refused where cotdistill sets them, and working (TensorBoard, gradient checkpointing) without code of its own."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest
import yaml
from train_helpers import tiny_instances
from transformers import TrainingArguments

from cotdistill.cli.main import main
from cotdistill.errors import ConfigError
from cotdistill.models.tiny import build_tiny_model
from cotdistill.train.config import TRAINING_ARGUMENT_DEFAULTS, TRAINING_ARGUMENTS_SET_BY_COTDISTILL, TrainConfig
from cotdistill.train.trainer import _set_by_cotdistill, _training_arguments, train_student
from torchrun_helpers import run_torchrun

TRAINING_ARGUMENT_FIELDS = {field.name for field in dataclasses.fields(TrainingArguments) if field.init}

RUN_YAML = """\
task: {{name: synthetic, limit: 4}}
variant: {{name: label_only}}
student: {{model: tiny}}
train: {{max_steps: 1, bf16: false, trainer_args: {trainer_args}}}
output: {output}
"""


def _train_config(**trainer_args) -> TrainConfig:
    return TrainConfig(batch_size=2, max_steps=2, bf16=False, logging_steps=1, group_by_length=False,
                       learning_rate=1e-3, trainer_args=trainer_args)


def _error_of(trainer_args: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"trainer_args": trainer_args}, source="run.yaml", prefix="train.")
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return message


def test_unknown_key_is_a_one_line_error_naming_it_with_the_closest_field():
    message = _error_of({"report_to": "tensorboard", "optimm": "adafactor"})
    assert message.startswith("run.yaml: key 'train.trainer_args.optimm': ")
    assert "not a field of transformers' TrainingArguments (did you mean 'optim'?)" in message


def test_a_key_transformers_5_took_out_says_where_its_job_went():
    assert "TENSORBOARD_LOGGING_DIR" in _error_of({"logging_dir": "runs"})


@pytest.mark.parametrize("key,instead", [
    ("learning_rate", "use train.learning_rate"),
    ("per_device_train_batch_size", "use train.batch_size"),
    ("num_train_epochs", "use train.epochs"),
    ("seed", "use train.seed"),
    ("output_dir", "use the run's `output`"),
    ("remove_unused_columns", "set by cotdistill"),
    ("warmup_ratio", "use train.warmup_ratio"),  # a cotdistill setting, not a TrainingArguments field
])
def test_a_key_cotdistill_sets_names_the_setting_to_use(key, instead):
    message = _error_of({key: 1})
    assert f"key 'train.trainer_args.{key}'" in message and instead in message


def test_unknown_key_through_the_cli_exits_2_with_one_line(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(RUN_YAML.format(trainer_args="{optimm: adafactor}", output=tmp_path / "out"))
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(config) in err and "train.trainer_args.optimm" in err and "did you mean 'optim'" in err
    assert not (tmp_path / "out").exists()


def test_numbers_and_booleans_are_read_by_the_field_type_others_left_to_training_arguments():
    # YAML reads 1e-6 as a string; transformers' own argument parser converts by the field's type too.
    cfg = TrainConfig(trainer_args={"adam_epsilon": "1e-6", "gradient_checkpointing": "true", "fsdp": True,
                                    "report_to": "tensorboard"})
    assert cfg.trainer_args == {"adam_epsilon": 1e-6, "gradient_checkpointing": True, "fsdp": True,
                                "report_to": "tensorboard"}
    message = _error_of({"adam_epsilon": "tiny"})
    assert message.startswith("run.yaml: key 'train.trainer_args.adam_epsilon': Input should be a valid number")
    assert message.endswith("(TrainingArguments.adam_epsilon is float)")


def test_every_field_cotdistill_sets_is_refused_in_trainer_args(tmp_path):
    # One source of truth: what _training_arguments sets is exactly what the config refuses.
    assert _set_by_cotdistill(TrainConfig(), tmp_path, False).keys() == TRAINING_ARGUMENTS_SET_BY_COTDISTILL.keys()
    assert TRAINING_ARGUMENTS_SET_BY_COTDISTILL.keys() <= TRAINING_ARGUMENT_FIELDS
    assert TRAINING_ARGUMENT_DEFAULTS.keys() <= TRAINING_ARGUMENT_FIELDS - TRAINING_ARGUMENTS_SET_BY_COTDISTILL.keys()


def test_trainer_args_override_the_defaults_and_reach_training_arguments(tmp_path):
    default = _training_arguments(_train_config(), tmp_path, False)
    assert default.report_to == []  # "none": no integration reports unless trainer_args asks
    assert default.optim == "adamw_torch_fused"
    given = _training_arguments(_train_config(optim="adamw_torch", report_to="tensorboard", adam_beta2=0.95,
                                              lr_scheduler_kwargs={"num_cycles": 2}), tmp_path, False)
    assert (given.optim, given.report_to, given.adam_beta2) == ("adamw_torch", ["tensorboard"], 0.95)
    assert given.lr_scheduler_kwargs == {"num_cycles": 2}


def test_the_example_of_docs_training_md_is_valid(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    example = re.search(r"## Passing TrainingArguments through.*?```yaml\n(.*?)```", text, re.DOTALL).group(1)
    cfg = TrainConfig.from_dict(yaml.safe_load(example)["train"], source="docs/training.md", prefix="train.")
    args = _training_arguments(cfg, tmp_path, False)
    assert args.report_to == ["tensorboard"] and args.lr_scheduler_kwargs == {"num_cycles": 2}


def test_a_value_training_arguments_refuses_names_its_key_before_anything_is_written(tiny_tokenizer, tmp_path):
    cfg = _train_config(report_to="tensorboard", optim="no_such_optimizer")
    with pytest.raises(ConfigError) as caught:
        train_student(tiny_instances(tiny_tokenizer, 4), "tiny", cfg, tmp_path / "out", metadata={},
                      student=(build_tiny_model(len(tiny_tokenizer), seed=0), tiny_tokenizer))
    message = str(caught.value)
    assert message.startswith("field 'train.trainer_args.optim': TrainingArguments refused it: ")
    assert "no_such_optimizer" in message and len(message.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_fsdp_where_accelerate_would_not_shard_is_refused(tiny_tokenizer, tmp_path):
    with pytest.raises(ConfigError, match=r"train\.trainer_args\.fsdp.*would train unsharded"):
        train_student(tiny_instances(tiny_tokenizer, 4), "tiny", _train_config(fsdp=True), tmp_path / "out",
                      metadata={}, student=(build_tiny_model(len(tiny_tokenizer), seed=0), tiny_tokenizer))
    assert not (tmp_path / "out").exists()


def test_report_to_tensorboard_writes_event_files_offline(tiny_tokenizer, tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "tb"))
    out = tmp_path / "out"
    result = train_student(tiny_instances(tiny_tokenizer, 4), "tiny", _train_config(report_to="tensorboard"), out,
                           metadata={}, student=(build_tiny_model(len(tiny_tokenizer), seed=0), tiny_tokenizer))
    events = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert events, list((tmp_path / "tb").iterdir()) if (tmp_path / "tb").exists() else "no logging dir"
    accumulator = EventAccumulator(str(tmp_path / "tb"))
    accumulator.Reload()
    losses = [event.value for event in accumulator.Scalars("train/loss")]
    assert len(losses) == 2 and losses[-1] == pytest.approx(result.final_loss)
    # The finished directory holds what it holds without trainer_args (no pickled training_args.bin).
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "config.json", "cotdistill.json", "generation_config.json", "model.safetensors",
        "tokenizer.json", "tokenizer_config.json"]
    assert json.loads((out / "cotdistill.json").read_text())["train"]["trainer_args"] == {"report_to": "tensorboard"}


def test_gradient_checkpointing_trains_to_the_same_weights(tiny_tokenizer, tmp_path):
    from safetensors.torch import load_file

    instances = tiny_instances(tiny_tokenizer, 4)
    models = {name: build_tiny_model(len(tiny_tokenizer), seed=0) for name in ("plain", "checkpointed")}
    plain = train_student(instances, "tiny", _train_config(), tmp_path / "plain", metadata={},
                          student=(models["plain"], tiny_tokenizer))
    checkpointed = train_student(instances, "tiny", _train_config(gradient_checkpointing=True),
                                 tmp_path / "checkpointed", metadata={},
                                 student=(models["checkpointed"], tiny_tokenizer))
    assert models["checkpointed"].is_activation_checkpointing and not models["plain"].is_activation_checkpointing
    assert math.isfinite(checkpointed.final_loss)
    assert checkpointed.final_loss == pytest.approx(plain.final_loss, rel=1e-5)
    a = load_file(tmp_path / "plain" / "model.safetensors")
    b = load_file(tmp_path / "checkpointed" / "model.safetensors")
    for name in a:
        assert (a[name] - b[name]).abs().max() < 1e-5, name


@pytest.mark.extended  # two torchrun processes: minutes on 2 cores
def test_fsdp_on_two_cpu_processes_is_refused_not_run_unsharded(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(RUN_YAML.format(trainer_args="{fsdp: true}", output=tmp_path / "out"))
    run = run_torchrun("-m", "cotdistill.cli.main", "train", "--config", str(config))
    assert run.returncode != 0
    assert run.stderr.count("field 'train.trainer_args.fsdp': accelerate applies FSDP only") == 2, run.stderr[-3000:]
    assert "(MULTI_CPU)" in run.stderr
    assert not (tmp_path / "out").exists()


def test_trainer_arg_flags_go_over_the_yaml_key_by_key(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(RUN_YAML.format(trainer_args="{optim: adamw_torch, adam_beta2: 0.9}", output=tmp_path / "out"))
    assert main(["train", "--config", str(config), "--trainer-arg", "adam_beta2=0.95",
                 "--trainer-arg", "adam_epsilon=1e-6", "--trainer-arg", "lr_scheduler_kwargs={}"]) == 0, \
        capsys.readouterr().err
    meta = json.loads((tmp_path / "out" / "cotdistill.json").read_text())
    assert meta["train"]["trainer_args"] == {"optim": "adamw_torch", "adam_beta2": 0.95, "adam_epsilon": 1e-6,
                                             "lr_scheduler_kwargs": {}}


@pytest.mark.parametrize("flag,message", [
    ("optimm=adafactor", "error: --trainer-arg optimm: not a field of transformers' TrainingArguments (did you "
                         "mean 'optim'?)"),
    ("learning_rate=0.1", "error: --trainer-arg learning_rate: set by cotdistill: use train.learning_rate"),
    ("report_to", "error: --trainer-arg: expected KEY=VALUE, got 'report_to'"),
    ("fsdp_config={a: [1", "error: --trainer-arg fsdp_config: the value is not valid YAML"),
])
def test_bad_trainer_arg_flags_are_one_line_errors_naming_the_flag(tmp_path, capsys, flag, message):
    config = tmp_path / "run.yaml"
    config.write_text(RUN_YAML.format(trainer_args="{}", output=tmp_path / "out"))
    assert main(["train", "--config", str(config), "--trainer-arg", flag]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()
