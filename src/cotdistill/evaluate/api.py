"""Evaluate a student on examples, write the results, and evaluate a trained student directory."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.tasks import TaskConfig, load_task
from cotdistill.distributed import join_process_group
from cotdistill.errors import ConfigError, DataError
from cotdistill.evaluate.config import EVAL_MODES, EvalConfig
from cotdistill.evaluate.label_first import evaluate_label_first
from cotdistill.evaluate.metrics import compute_metrics
from cotdistill.evaluate.reasoning_first import evaluate_reasoning_first
from cotdistill.evaluate.runtime import inference_context
from cotdistill.evaluate.sharding import Shard, gather_records, process_shard
from cotdistill.files import write_text_atomic
from cotdistill.models import METADATA_FILE, load_trained_student, recorded_prompt_format
from cotdistill.models.device import place_model, resolve_device
from cotdistill.prompting import PromptFormat
from cotdistill.variants.base import Variant
from cotdistill.variants.config import VariantConfig

PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"
#: What of a trained student's metadata is copied into its evaluation record (not the training log).
TRAINING_RECORD_KEYS = ("variant", "prompt_format", "task", "rationales", "seed", "student")


@dataclass
class EvalResult:
    """``metrics`` (accuracy, n, seconds_per_answer, ...), one prediction record per example (input order), and
    ``run``: how the evaluation was done (mode, scoring, precision, config, ...)."""

    metrics: dict[str, Any]
    predictions: list[dict]
    run: dict[str, Any] = field(default_factory=dict)


def evaluate_student(model: Any, tokenizer: Any, examples: Sequence[Example], *, variant: Variant,
                     prompt_format: PromptFormat, config: EvalConfig, shard: Shard | None = None) -> EvalResult:
    """Evaluate ``model`` on ``examples`` asked with ``variant.eval_prompt`` in ``config.mode``, on
    ``config.device`` (the model is moved there, in place, unless it is there already).

    In an initialised ``torch.distributed`` group every process must call this with the same examples: each
    evaluates its shard of the batches (:mod:`cotdistill.evaluate.sharding`) and every process returns the whole
    result, the records in input order as one process gives them (write it from one process). ``shard``
    overrides the process group's."""
    shard = process_shard() if shard is None else shard
    device = resolve_device(config.device, field="eval.device")
    examples = list(examples)[: config.limit] if config.limit is not None else list(examples)
    if not examples:
        raise DataError("no examples to evaluate")
    model = place_model(model, device)
    prompts = [variant.eval_prompt(ex, prompt_format) for ex in examples]
    was_training = model.training
    model.eval()
    context, precision_name = inference_context(model, config.dtype)
    start = time.perf_counter()
    try:
        with context:
            if config.mode == "label_first":
                own, details = evaluate_label_first(model, tokenizer, examples, prompts,
                                                    prompt_format=prompt_format, config=config, shard=shard)
            else:
                own, details = evaluate_reasoning_first(model, tokenizer, examples, prompts, config=config,
                                                        shard=shard)
    finally:
        model.train(was_training)
    # Timed after the gather: the evaluation takes as long as its slowest process.
    predictions = gather_records(own, shard)
    seconds = time.perf_counter() - start
    metrics = compute_metrics(predictions, config.mode)
    metrics["seconds"] = seconds
    metrics["seconds_per_answer"] = seconds / len(examples)
    run = {"mode": config.mode, "device": str(device), "processes": shard.world_size, "precision": precision_name,
           **details,
           "variant": variant.name,
           "prompt_format": {"label_style": prompt_format.label_style, "show_choices": prompt_format.show_choices},
           "config": config.model_dump(mode="json")}
    return EvalResult(metrics=metrics, predictions=predictions, run=run)


def result_paths(out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    return out_dir / PREDICTIONS_FILE, out_dir / METRICS_FILE


def check_can_write(out_dir: str | Path, *, overwrite: bool = False) -> None:
    """Fail before any work if ``out_dir`` already holds evaluation results and ``overwrite`` is off."""
    if overwrite:
        return
    for path in result_paths(out_dir):
        if path.exists():
            raise DataError("evaluation results already exist; refusing to overwrite (choose another output "
                            "directory or pass overwrite)", path=path)


def write_eval_result(result: EvalResult, out_dir: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``predictions.jsonl`` (one record per example) and ``metrics.json`` (the metrics, plus ``run``)."""
    check_can_write(out_dir, overwrite=overwrite)
    predictions_path, metrics_path = result_paths(out_dir)
    predictions_path.parent.mkdir(parents=True, exist_ok=True)
    contents = {
        predictions_path: "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in result.predictions),
        metrics_path: json.dumps({**result.metrics, "run": result.run}, indent=2, ensure_ascii=False) + "\n",
    }
    for path, text in contents.items():
        write_text_atomic(path, text)
    return predictions_path, metrics_path


def trained_variant_config(metadata: dict, student_dir: Path) -> VariantConfig:
    """The variant and prompt format a student was trained with, from its ``cotdistill.json`` metadata."""
    source = str(student_dir / METADATA_FILE)
    variant_meta, format_meta = metadata.get("variant"), metadata.get("prompt_format")
    for key, value in (("variant", variant_meta), ("prompt_format", format_meta)):
        if not isinstance(value, dict):
            raise DataError("missing or not a mapping in the student's metadata", path=source, field=key)
    fields = {"name": variant_meta.get("name"), "params": variant_meta.get("params") or {},
              **recorded_prompt_format(metadata)}
    return VariantConfig.from_dict(fields, source=source)


def evaluate_trained(student_dir: str | Path, task_cfg: TaskConfig, eval_cfg: EvalConfig, out_dir: str | Path, *,
                     overwrite: bool = False) -> EvalResult:
    """Load a student trained by ``cotdistill train``, evaluate it in ``eval_cfg.mode`` on ``task_cfg`` with the
    variant and prompt format it was trained with, and write the results to ``out_dir``."""
    results = evaluate_trained_modes(student_dir, task_cfg, eval_cfg, {eval_cfg.mode: out_dir}, overwrite=overwrite)
    return results[eval_cfg.mode]


def evaluate_trained_modes(student_dir: str | Path, task_cfg: TaskConfig, eval_cfg: EvalConfig,
                           out_dirs: dict[str, str | Path], *, overwrite: bool = False) -> dict[str, EvalResult]:
    """Like :func:`evaluate_trained` for several modes (``{mode: output directory}``), loading the student once.
    Every output directory is checked before anything is computed. Under torchrun / accelerate launch the
    processes share the work (:func:`evaluate_student`) and the first writes the results."""
    student_dir = Path(student_dir)
    device = resolve_device(eval_cfg.device, field="eval.device")
    join_process_group(cpu=device.type == "cpu")
    writes = process_shard().rank == 0
    for mode, out_dir in out_dirs.items():
        if mode not in EVAL_MODES:
            raise ConfigError(f"unknown evaluation mode '{mode}' (known: {', '.join(EVAL_MODES)})", field="eval.mode")
        check_can_write(out_dir, overwrite=overwrite)
    if not student_dir.is_dir():
        raise DataError("trained student directory not found", path=student_dir)
    examples = load_task(task_cfg)
    model, tokenizer, metadata = load_trained_student(student_dir, device=device)
    variant_cfg = trained_variant_config(metadata, student_dir)
    variant = variant_cfg.build_variant()
    results = {}
    for mode, out_dir in out_dirs.items():
        result = evaluate_student(model, tokenizer, examples, variant=variant,
                                  prompt_format=variant_cfg.prompt_format(),
                                  config=eval_cfg.model_copy(update={"mode": mode}))
        result.run.update({"student": str(student_dir), "task": task_cfg.model_dump(mode="json"),
                           "trained_on": {k: metadata[k] for k in TRAINING_RECORD_KEYS if k in metadata}})
        if writes:
            write_eval_result(result, out_dir, overwrite=overwrite)
        results[mode] = result
    return results
