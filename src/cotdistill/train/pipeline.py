"""One training run from one config: load the task and rationales, build the variant's instances, train, save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.data.rationales import apply_label_policy, load_rationales
from cotdistill.data.tasks import load_task
from cotdistill.errors import ConfigError
from cotdistill.keytokens import prepare_key_token_extras, variant_selector
from cotdistill.models import load_student, read_metadata
from cotdistill.train.run_config import TrainRunConfig
from cotdistill.train.trainer import TrainResult, train_student
from cotdistill.variants import build_instances
from cotdistill.variants.base import Variant


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


def run_metadata(cfg: TrainRunConfig, n_examples: int, n_instances: int) -> dict[str, Any]:
    """What ``cotdistill.json`` records about the data a student was trained on."""
    return {
        "variant": {"name": cfg.variant.name, "params": cfg.variant.params},
        "prompt_format": {"label_style": cfg.variant.label_style, "show_choices": cfg.variant.show_choices},
        "task": cfg.task.model_dump(mode="json"),
        "rationales": cfg.rationales.model_dump(mode="json") if cfg.rationales is not None else None,
        "missing_rationales": cfg.missing_rationales,
        "n_examples": n_examples,
        "n_instances": n_instances,
    }


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
    model, tokenizer = load_student(cfg.student)
    extras = prepare_key_token_extras(variant, examples, rationales, tokenizer, cache_dir=cfg.keytoken_cache)
    instances = build_instances(examples, rationales, variant, tokenizer, seed=cfg.train.seed,
                                prompt_format=cfg.variant.prompt_format(), extras=extras)
    metadata = run_metadata(cfg, len(examples), len(instances))
    return train_student(instances, cfg.student, cfg.train, cfg.output, metadata=metadata,
                         student=(model, tokenizer), overwrite=cfg.overwrite, **train_kwargs)
