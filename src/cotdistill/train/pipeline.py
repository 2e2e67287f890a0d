"""One training run from one config: load the task and rationales, build the variant's instances, train, save.

:func:`train_on_examples` is the one code path that turns loaded examples into a trained student: ``cotdistill
train`` (:func:`run_training`) and every study cell (``cotdistill.study.runner``) call it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.data.rationales import apply_label_policy, load_rationales
from cotdistill.data.tasks import load_task
from cotdistill.distributed import process_group
from cotdistill.errors import ConfigError
from cotdistill.keytokens import prepare_key_token_extras, variant_selector
from cotdistill.models import StudentConfig, load_student, read_metadata
from cotdistill.train.config import TrainConfig
from cotdistill.train.run_config import TrainRunConfig
from cotdistill.train.trainer import TrainResult, train_student, training_arguments
from cotdistill.variants import build_instances
from cotdistill.variants.base import Variant
from cotdistill.variants.config import VariantConfig


def _rationales_for(cfg: TrainRunConfig, examples: list[Example]) -> tuple[list[Example], dict[str, Rationale]]:
    if cfg.rationales is None:
        if cfg.task.name == "synthetic":
            from cotdistill.data.synthetic import reference_rationales

            return examples, reference_rationales(examples)
        return examples, {}
    rationales = load_rationales(cfg.rationales, examples)
    return apply_label_policy(examples, rationales, cfg.rationales.label_policy,
                              drop_unparsed=cfg.rationales.drop_unparsed)


def training_examples(cfg: TrainRunConfig, variant: Variant) -> tuple[list[Example], dict[str, Rationale]]:
    """The task's examples after the label policy, with their rationales; when the variant needs a rationale, the
    examples without one are refused or dropped as ``cfg.missing_rationales`` says."""
    examples, rationales = _rationales_for(cfg, load_task(cfg.task))
    if variant.needs_rationale:
        missing = [ex.id for ex in examples if ex.id not in rationales]
        if missing and cfg.missing_rationales == "error":
            raise ConfigError(f"{len(missing)} of {len(examples)} examples have no rationale (first: "
                              f"'{missing[0]}'); set missing_rationales: drop to go on without them",
                              field="rationales.path")
        examples = [ex for ex in examples if ex.id in rationales]
    return examples, rationales


def variant_record(variant: VariantConfig) -> dict[str, Any]:
    """What ``cotdistill.json`` records about the variant a student was trained on and the prompt format it reads
    (evaluation and the model card read the format back from it)."""
    return {"variant": {"name": variant.name, "params": variant.params},
            "prompt_format": {"label_style": variant.label_style, "show_choices": variant.show_choices}}


def run_metadata(cfg: TrainRunConfig, n_examples: int, n_instances: int) -> dict[str, Any]:
    """What ``cotdistill.json`` records about the data a student was trained on."""
    return {
        **variant_record(cfg.variant),
        "task": cfg.task.model_dump(mode="json"),
        "rationales": cfg.rationales.model_dump(mode="json") if cfg.rationales is not None else None,
        "missing_rationales": cfg.missing_rationales,
        "n_examples": n_examples,
        "n_instances": n_instances,
    }


def start_process_group(train: TrainConfig, output: str | Path, device: str) -> None:
    """Under a launcher (torchrun / accelerate launch: ``WORLD_SIZE`` > 1) with no process group yet, start the
    one Trainer will train in now, as its ``TrainingArguments`` do when first asked for their device (their backend
    and ``ddp_timeout``), so that the work before training (key-token scores) is done once, by rank 0."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and process_group() is None:
        _ = training_arguments(train, output, device).device  # starts accelerate's PartialState


def train_on_examples(examples: list[Example], rationales: dict[str, Rationale], variant: VariantConfig,
                      student: StudentConfig, train: TrainConfig, output: str | Path, *,
                      keytoken_cache: str | Path, metadata: Callable[[int], dict[str, Any]],
                      on_instances: Callable[[int], None] | None = None, overwrite: bool = False,
                      device: str = "auto", **train_kwargs: Any) -> TrainResult:
    """Load the student, build ``variant``'s instances of ``examples`` (seeded by ``train.seed``; key-token scores
    cached in ``keytoken_cache``) and train it into ``output`` (resumed if unfinished).

    ``metadata(n_instances)`` is what ``cotdistill.json`` records about the data beside the training settings
    (a rerun resumes only a run that recorded the same); ``on_instances(n_instances)`` is told once the instances
    are built, before training starts. ``device`` (a device setting) is where the key-token scorer and the
    training run.
    """
    built = variant.build_variant()
    # Loaded once: the tokenizer builds the instances, the model is then trained on them.
    model, tokenizer = load_student(student)
    start_process_group(train, output, device)
    extras = prepare_key_token_extras(built, examples, rationales, tokenizer, cache_dir=keytoken_cache,
                                      device=device)
    instances = build_instances(examples, rationales, built, tokenizer, seed=train.seed,
                                prompt_format=variant.prompt_format(), extras=extras)
    if on_instances is not None:
        on_instances(len(instances))
    return train_student(instances, student, train, output, metadata=metadata(len(instances)),
                         student=(model, tokenizer), overwrite=overwrite, device=device, **train_kwargs)


def run_training(cfg: TrainRunConfig, **train_kwargs: Any) -> TrainResult:
    """config -> task -> rationales -> instances -> trained student in ``cfg.output``."""
    existing = read_metadata(cfg.output)
    if existing is not None and existing.get("finished") and not cfg.overwrite:
        # Fail before loading anything heavy.
        raise ConfigError("holds a finished training run; refusing to overwrite (choose another output or pass "
                          "overwrite)", path=Path(cfg.output))
    variant = cfg.variant.build_variant()
    variant_selector(variant)  # a bad selector fails before the data and the student are loaded
    examples, rationales = training_examples(cfg, variant)
    return train_on_examples(examples, rationales, cfg.variant, cfg.student, cfg.train, cfg.output,
                             keytoken_cache=cfg.keytoken_cache, overwrite=cfg.overwrite,
                             metadata=lambda n_instances: run_metadata(cfg, len(examples), n_instances),
                             **train_kwargs)
