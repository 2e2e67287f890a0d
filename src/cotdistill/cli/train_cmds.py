"""``cotdistill train``: fine-tune a student from a YAML run config and/or flags (flags override the YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError

from cotdistill.cli.app import app
from cotdistill.cli.options import (
    config_option,
    field_type,
    limit_option,
    output_option,
    rationales_format_option,
    rationales_option,
    task_path_option,
)
from cotdistill.configbase import config_error_from_validation, read_yaml
from cotdistill.data.rationales import RationaleConfig
from cotdistill.errors import ConfigError
from cotdistill.variants.config import VariantConfig

RationaleFormat = field_type(RationaleConfig, "format")
LabelPolicy = field_type(RationaleConfig, "label_policy")
LabelStyle = field_type(VariantConfig, "label_style")

#: CLI flag -> dotted key of TrainRunConfig it sets.
FLAG_KEYS: dict[str, str] = {
    "--task": "task.name", "--task-path": "task.path", "--split": "task.split", "--limit": "task.limit",
    "--rationales": "rationales.path", "--rationales-format": "rationales.format",
    "--label-policy": "rationales.label_policy",
    "--variant": "variant.name", "--label-style": "variant.label_style",
    "--student": "student.model", "--lora-r": "student.lora.r",
    "--output": "output", "--epochs": "train.epochs", "--max-steps": "train.max_steps",
    "--lr": "train.learning_rate", "--batch-size": "train.batch_size", "--grad-accum": "train.grad_accum",
    "--max-length": "train.max_length", "--label-weight": "train.label_weight",
    "--rationale-weight": "train.rationale_weight", "--seed": "train.seed", "--bf16": "train.bf16",
}


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[leaf] = value


#: --bf16 as typed (any case) -> train.bf16.
BF16_VALUES: dict[str, str | bool] = {"auto": "auto", "true": True, "false": False}


def _bf16_value(text: str) -> str | bool:
    try:
        return BF16_VALUES[text.lower()]
    except KeyError:
        raise ConfigError(f"--bf16: expected auto, true or false, got '{text}'") from None


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


def build_run_config(config_path: Path | None, flags: dict[str, Any]):
    """The validated run config: the YAML (if any) with the given flags applied; errors name the flag or key."""
    from cotdistill.train.pipeline import TrainRunConfig

    data: dict[str, Any] = read_yaml(config_path) if config_path is not None else {}
    source = str(config_path) if config_path is not None else "<flags>"
    for flag, value in flags.items():
        if value is None:
            continue
        if flag == "--lora":
            if value and not isinstance(data.get("student", {}).get("lora"), dict):
                _set(data, "student.lora", {})
            elif not value:
                _set(data, "student.lora", None)
            continue
        if flag == "--trainer-arg":
            # Each KEY=VALUE goes over the YAML's trainer_args key by key.
            existing = data.get("train", {}).get("trainer_args") if isinstance(data.get("train"), dict) else None
            _set(data, "train.trainer_args", {**(existing if isinstance(existing, dict) else {}), **value})
            continue
        _set(data, FLAG_KEYS[flag], value)
    try:
        return TrainRunConfig.model_validate(data)
    except ValidationError as err:
        given = {FLAG_KEYS[flag] for flag, value in flags.items() if value is not None and flag in FLAG_KEYS}
        # A missing task section is asked for by its flag too.
        flags_of_keys = {**{key: flag for flag, key in FLAG_KEYS.items()}, "task": "--task"}
        for key in flags.get("--trainer-arg") or {}:
            given.add(f"train.trainer_args.{key}")
            flags_of_keys[f"train.trainer_args.{key}"] = f"--trainer-arg {key}"
        raise config_error_from_validation(err, source=source, flags=flags_of_keys, given=given) from None


@app.command("train")
def train(
    config: Path | None = config_option("YAML run config (sections task, rationales, variant, student, train; "
                                        "keys output, overwrite)."),
    task: str | None = typer.Option(None, "--task", help="Task name (see `cotdistill tasks list`)."),
    task_path: str | None = task_path_option(),
    split: str | None = typer.Option(None, "--split", help="Task split to train on (default train)."),
    limit: int | None = limit_option("Its seed is task.seed of the config (default 0)."),
    rationales: str | None = rationales_option("Rationale file or folder."),
    rationales_format: RationaleFormat | None = rationales_format_option("Format of --rationales."),
    label_policy: LabelPolicy | None = typer.Option(None, "--label-policy", help="Examples whose teacher label is "
                                                                                 "wrong: keep, drop or relabel."),
    variant: str | None = typer.Option(None, "--variant", help="Training variant (see `cotdistill variants list`)."),
    label_style: LabelStyle | None = typer.Option(None, "--label-style", help="The label as its letter or text."),
    student: str | None = typer.Option(None, "--student", help="smollm2-135m, gemma3-270m, tiny, a directory or "
                                                               "a hub id."),
    lora: bool | None = typer.Option(None, "--lora/--no-lora", help="Train LoRA adapters (merged on save)."),
    lora_r: int | None = typer.Option(None, "--lora-r", help="LoRA rank (implies --lora)."),
    output: str | None = output_option("Directory of the trained student.", default=None),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a finished run in --output."),
    epochs: float | None = typer.Option(None, "--epochs", help="Training epochs."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after this many optimizer steps."),
    lr: float | None = typer.Option(None, "--lr", help="Peak learning rate."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Sequences per step and process."),
    grad_accum: int | None = typer.Option(None, "--grad-accum", help="Gradient accumulation steps."),
    max_length: int | None = typer.Option(None, "--max-length", help="Longest sequence in tokens."),
    label_weight: float | None = typer.Option(None, "--label-weight", help="Loss weight of label tokens."),
    rationale_weight: float | None = typer.Option(None, "--rationale-weight",
                                                  help="Loss weight of rationale and filler tokens."),
    seed: int | None = typer.Option(None, "--seed", help="Training seed."),
    bf16: str | None = typer.Option(None, "--bf16", metavar="[auto|true|false]",
                                    help="bf16 autocast: auto (where the hardware has it), true or false."),
    trainer_arg: list[str] | None = typer.Option(None, "--trainer-arg", metavar="KEY=VALUE", help=(
        "A further transformers TrainingArguments field, VALUE read as YAML (report_to=tensorboard, "
        "gradient_checkpointing=true); repeatable, over train.trainer_args.")),
) -> None:
    """Fine-tune a student on a task's examples with teacher rationales, as the chosen variant builds them."""
    from cotdistill.train.pipeline import run_training

    flags: dict[str, Any] = {
        "--task": task, "--task-path": task_path, "--split": split, "--limit": limit,
        "--rationales": rationales, "--rationales-format": rationales_format, "--label-policy": label_policy,
        "--variant": variant, "--label-style": label_style, "--student": student,
        "--lora": True if lora_r is not None and lora is None else lora, "--lora-r": lora_r,
        "--output": output, "--epochs": epochs, "--max-steps": max_steps, "--lr": lr, "--batch-size": batch_size,
        "--grad-accum": grad_accum, "--max-length": max_length, "--label-weight": label_weight,
        "--rationale-weight": rationale_weight, "--seed": seed,
        "--bf16": _bf16_value(bf16) if bf16 is not None else None,
        "--trainer-arg": _trainer_args_value(trainer_arg) if trainer_arg else None,
    }
    run_cfg = build_run_config(config, flags)
    if overwrite:
        run_cfg.overwrite = True
    result = run_training(run_cfg)
    typer.echo(json.dumps(result.to_dict()))
