"""``cotdistill train``: fine-tune a student from a YAML run config and/or flags (flags override the YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml

from cotdistill.cli.app import app
from cotdistill.cli.options import ConfigFlags, check_device, config_file_option, device_option, field_type
from cotdistill.configbase import read_yaml
from cotdistill.data.rationales import RationaleConfig
from cotdistill.errors import ConfigError
from cotdistill.train.run_config import TrainRunConfig
from cotdistill.variants.config import VariantConfig

RationaleFormat = field_type(RationaleConfig, "format")
LabelPolicy = field_type(RationaleConfig, "label_policy")
LabelStyle = field_type(VariantConfig, "label_style")

#: The flags of ``cotdistill train``, each declared in its signature with the TrainRunConfig key it sets.
TRAIN_FLAGS = ConfigFlags("train", TrainRunConfig)
#: --bf16 as typed (any case) -> train.bf16.
BF16_VALUES: dict[str, str | bool] = {"auto": "auto", "true": True, "false": False}


def _bf16_value(text: str) -> str | bool:
    try:
        return BF16_VALUES[text.lower()]
    except KeyError:
        raise ConfigError(f"--bf16: expected auto, true or false, got '{text}'") from None


def _lora_section(on: bool) -> dict[str, Any] | None:
    """--lora: a LoRA section (the YAML's own settings kept); --no-lora: none."""
    return {} if on else None


def _trainer_args_value(items: list[str]) -> dict[str, Any]:
    """``--trainer-arg KEY=VALUE`` (repeatable) -> ``{KEY: VALUE read as YAML}``."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--trainer-arg: expected KEY=VALUE, got '{item}'")
        try:
            parsed[key] = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"--trainer-arg {key}: the value is not valid YAML "
                              f"({getattr(err, 'problem', None) or err})") from None
    return parsed


def build_run_config(config_path: Path | None, overrides: dict[str, Any],
                     flag_of_key: dict[str, str] | None = None) -> TrainRunConfig:
    """The validated run config: the YAML (if any) with ``overrides`` (dotted key -> value) applied; an error
    names the flag that set the key (``flag_of_key``, default train's), else the key and the file."""
    # A missing task section is asked for by its flag too.
    flags = {**(flag_of_key or TRAIN_FLAGS.flag_of_key), "task": "--task"}
    return TRAIN_FLAGS.validate(read_yaml(config_path) if config_path is not None else {}, overrides,
                                source=str(config_path) if config_path is not None else "<flags>", flag_of_key=flags)


@app.command("train")
def train(
    ctx: typer.Context,
    config: Path | None = config_file_option("YAML run config (sections task, rationales, variant, student, "
                                             "train; keys output, overwrite)."),
    task: str | None = TRAIN_FLAGS.option("--task", "task.name"),
    task_path: str | None = TRAIN_FLAGS.option("--task-path", "task.path"),
    split: str | None = TRAIN_FLAGS.option("--split", "task.split"),
    limit: int | None = TRAIN_FLAGS.option("--limit", "task.limit", min=1, metavar="N",
                                           note="Its seed is task.seed of the config (default 0)."),
    rationales: str | None = TRAIN_FLAGS.option("--rationales", "rationales.path"),
    rationales_format: RationaleFormat | None = TRAIN_FLAGS.option("--rationales-format", "rationales.format"),
    label_policy: LabelPolicy | None = TRAIN_FLAGS.option("--label-policy", "rationales.label_policy"),
    variant: str | None = TRAIN_FLAGS.option("--variant", "variant.name"),
    label_style: LabelStyle | None = TRAIN_FLAGS.option("--label-style", "variant.label_style"),
    student: str | None = TRAIN_FLAGS.option("--student", "student.model"),
    lora: bool | None = TRAIN_FLAGS.option("--lora/--no-lora", "student.lora", convert=_lora_section),
    lora_r: int | None = TRAIN_FLAGS.option("--lora-r", "student.lora.r", note="Implies --lora."),
    output: str | None = TRAIN_FLAGS.option("--output", "output", short="-o"),
    overwrite: bool | None = TRAIN_FLAGS.option("--overwrite", "overwrite"),
    epochs: float | None = TRAIN_FLAGS.option("--epochs", "train.epochs"),
    max_steps: int | None = TRAIN_FLAGS.option("--max-steps", "train.max_steps"),
    lr: float | None = TRAIN_FLAGS.option("--lr", "train.learning_rate"),
    batch_size: int | None = TRAIN_FLAGS.option("--batch-size", "train.batch_size"),
    grad_accum: int | None = TRAIN_FLAGS.option("--grad-accum", "train.grad_accum"),
    max_length: int | None = TRAIN_FLAGS.option("--max-length", "train.max_length"),
    label_weight: float | None = TRAIN_FLAGS.option("--label-weight", "train.label_weight"),
    rationale_weight: float | None = TRAIN_FLAGS.option("--rationale-weight", "train.rationale_weight"),
    seed: int | None = TRAIN_FLAGS.option("--seed", "train.seed"),
    bf16: str | None = TRAIN_FLAGS.option("--bf16", "train.bf16", metavar="[auto|true|false]", convert=_bf16_value),
    trainer_arg: list[str] | None = typer.Option(None, "--trainer-arg", metavar="KEY=VALUE", help=(
        "A transformers TrainingArguments field passed through (VALUE read as YAML, e.g. report_to=tensorboard, "
        "gradient_checkpointing=true); repeatable, over train.trainer_args.")),
    device: str | None = device_option("training (and a key-token scorer)"),
) -> None:
    """Fine-tune a student on a task's examples with teacher rationales, as the chosen variant builds them."""
    overrides, flag_of_key = TRAIN_FLAGS.overrides(ctx), dict(TRAIN_FLAGS.flag_of_key)
    # Each KEY=VALUE goes over the YAML's trainer_args key by key, and an error in it names its flag.
    for key, value in _trainer_args_value(trainer_arg or []).items():
        overrides[f"train.trainer_args.{key}"] = value
        flag_of_key[f"train.trainer_args.{key}"] = f"--trainer-arg {key}"
    run_cfg = build_run_config(config, overrides, flag_of_key)
    # Imported once the config is valid: a bad flag is answered without loading the trainer.
    from cotdistill.train.pipeline import run_training

    result = run_training(run_cfg, device=check_device(device) or "auto")
    typer.echo(json.dumps(result.to_dict()))
