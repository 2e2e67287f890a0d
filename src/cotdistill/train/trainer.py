"""Fine-tune a student on training instances with transformers ``Trainer``, adding only what it lacks.

What is added:

* batches of token ids with per-token loss weights and the list of target positions, in a seeded length-grouped
  order (:mod:`cotdistill.train.batching`);
* :class:`WeightedLossTrainer` computes ``sum(weight * token CE) / sum(weights)`` where the denominator is taken
  over the whole accumulated batch (all micro-batches of an optimizer step, all processes). It does so by
  overriding ``Trainer._get_num_items_in_batch`` to sum weights, so gradient accumulation gives the same gradients
  as one large batch.

Mixed precision is ``torch.autocast`` bf16 (Trainer's ``bf16=True``): weights (and the optimizer) stay in the
student's dtype, matmuls run in bf16. On the AVX512-BF16 CPU this was measured 2.2x faster than fp32; pure bf16
weights (``student.dtype: bf16``) are ~13% faster still but their optimizer steps round away small updates, so
they are opt-in (docs/benchmarks.md). The saved model keeps the student's dtype (fp32 for GGUF and tiny students).

Checkpoints (``checkpoint-*``, with optimizer, scheduler and RNG state) are written every ``save_steps``; a rerun
with the same output directory resumes from the latest one and ends with the same weights as an uninterrupted run
(:mod:`cotdistill.train.rundir`). The finished directory is a standard Hugging Face model directory plus
tokenizer, ``cotdistill.json`` (metadata, configs, result: :mod:`cotdistill.models.metadata`) and a README.md model
card. LoRA adapters are merged into the weights on save by default (``lora.save: adapter`` keeps only the adapter;
:func:`cotdistill.models.load_trained_student` handles both).

``train.trainer_args`` passes further ``TrainingArguments`` through (TensorBoard, activation checkpointing, FSDP,
DeepSpeed, optimizers); the weights are saved by ``Trainer.save_model`` on every process, so that what FSDP or
ZeRO-3 sharded is gathered (docs/training.md, "Passing TrainingArguments through").
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer import TRAINING_ARGS_NAME

from cotdistill.errors import ConfigError
from cotdistill.models.device import bf16_autocast, resolve_device, training_device_arguments
from cotdistill.models.config import StudentConfig
from cotdistill.models.loading import as_student_config, load_student, prepare_tokenizer_for_training
from cotdistill.models.metadata import write_metadata
from cotdistill.train.batching import InstanceDataset, SeededLengthGroupedSampler, WeightedTargetCollator
from cotdistill.train.config import TRAINING_ARGUMENT_DEFAULTS, TrainConfig
from cotdistill.train.model_card import write_model_card
from cotdistill.train.rundir import latest_complete_checkpoint, prepare_output_dir, run_identity
from cotdistill.variants.base import TrainingInstance


@dataclass
class TrainResult:
    """Outcome of :func:`train_student`.

    ``final_loss`` is the weighted loss averaged over the last logging window (``logging_steps`` optimizer
    steps); ``target_tokens`` counts target tokens (non-zero weight) processed and ``total_tokens`` all non-padding
    tokens processed, both summed over processes, in this invocation (a resumed run counts only what it ran).
    """

    output_dir: str
    final_loss: float | None
    train_seconds: float
    target_tokens: int
    resumed: bool
    steps: int = 0
    total_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- trainer


class WeightedLossTrainer(Trainer):
    """``Trainer`` with the weighted, target-only loss normalized over the whole accumulated batch."""

    # compute_loss divides by the weight sum of the whole accumulated batch, so Trainer must not rescale it.
    loss_is_scaled_for_ga = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.target_tokens_seen = 0
        self.total_tokens_seen = 0

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.train_sampling_strategy == "group_by_length" and isinstance(dataset, InstanceDataset):
            lengths = [len(item["input_ids"]) for item in dataset.items]
            return SeededLengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                              lengths, self.args.data_seed if self.args.data_seed is not None
                                              else self.args.seed)
        return super()._get_train_sampler(train_dataset)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor | None:
        if not batch_samples:
            return None
        # Batches may already sit on the accelerator: reduce to Python numbers, then build one tensor on `device`.
        local_weights = sum(float(b["target_weights"].sum(dtype=torch.float64)) for b in batch_samples)
        counts = torch.tensor([
            local_weights,
            float(sum(b["target_ids"].numel() for b in batch_samples)),
            float(sum(int(b["attention_mask"].sum()) for b in batch_samples)),
        ], dtype=torch.float64, device=device)
        if self.args.world_size > 1:
            counts = self.accelerator.gather(counts.unsqueeze(0)).sum(dim=0)
        self.target_tokens_seen += int(counts[1].item())
        self.total_tokens_seen += int(counts[2].item())
        if not self.args.average_tokens_across_devices and self.args.world_size > 1:
            # Each process then normalizes by its own share; the gradient all-reduce averages them.
            return torch.tensor(local_weights, dtype=torch.float64, device=device)
        return counts[0]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        target_ids = inputs["target_ids"]
        target_weights = inputs["target_weights"]
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                        logits_to_keep=inputs["target_mask"], use_cache=False)
        token_ce = torch.nn.functional.cross_entropy(outputs.logits.float(), target_ids, reduction="none")
        weighted_sum = (token_ce * target_weights).sum()
        if num_items_in_batch is None:
            num_items_in_batch = target_weights.sum()
        # An all-zero-weight batch contributes nothing; the clamp only avoids 0/0.
        loss = weighted_sum / num_items_in_batch.clamp_min(1e-12).to(weighted_sum.dtype)
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            # The denominator counts every process's weights while DDP averages gradients over processes.
            loss = loss * self.args.world_size
        return (loss, outputs) if return_outputs else loss


class _FinalStep(TrainerCallback):
    """At the final step: log (so ``final_loss`` covers the last steps whatever ``logging_steps`` is) and skip
    Trainer's end-of-training checkpoint. The finished model is saved by :func:`train_student` right after and the
    checkpoints are then deleted, so that save (weights plus optimizer state: 13 GB for a 1.1B student) would only
    cost time."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.max_steps and state.global_step >= state.max_steps:
            control.should_log = True
            control.should_save = state.global_step % args.save_steps == 0
        return control


# ---------------------------------------------------------------------------------------------- helpers


def bf16_supported(device: str = "auto") -> bool:
    """bf16 pays off on the device training runs on (a device setting): CUDA with bf16, or a CPU with a bf16
    matmul fast path."""
    return bf16_autocast(resolve_device(device, field="device"))


def resolve_bf16(train_cfg: TrainConfig, device: str = "auto") -> bool:
    if train_cfg.bf16 == "auto":
        return bf16_supported(device)
    if train_cfg.bf16 and not bf16_supported(device) and resolve_device(device, field="device").type == "cpu":
        raise ConfigError("bf16 was requested but this CPU has no bf16 fast path", field="train.bf16")
    return bool(train_cfg.bf16)


def _apply_lora(model: Any, student_cfg: StudentConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = student_cfg.lora
    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    try:
        return get_peft_model(model, config)
    except ValueError as err:
        raise ConfigError(f"cannot apply LoRA: {err}", field="student.lora.target_modules") from None


def _set_by_cotdistill(train_cfg: TrainConfig, output_dir: Path, bf16: bool) -> dict[str, Any]:
    """The ``TrainingArguments`` taken from cotdistill's own settings (the keys of
    :data:`~cotdistill.train.config.TRAINING_ARGUMENTS_SET_BY_COTDISTILL`, which ``trainer_args`` may not set)."""
    return {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": train_cfg.batch_size,
        "gradient_accumulation_steps": train_cfg.grad_accum,
        "learning_rate": train_cfg.learning_rate,
        "num_train_epochs": train_cfg.epochs,
        "max_steps": train_cfg.max_steps,
        "warmup_steps": train_cfg.warmup_ratio,
        "lr_scheduler_type": train_cfg.lr_scheduler,
        "weight_decay": train_cfg.weight_decay,
        "max_grad_norm": train_cfg.max_grad_norm,
        "seed": train_cfg.seed,
        "data_seed": train_cfg.seed,
        "bf16": bf16,
        "use_cpu": not torch.cuda.is_available(),
        "train_sampling_strategy": "group_by_length" if train_cfg.group_by_length else "random",
        "save_strategy": "steps",
        "save_steps": train_cfg.save_steps,
        "save_total_limit": train_cfg.save_total_limit,
        "logging_steps": train_cfg.logging_steps,
        "dataloader_num_workers": train_cfg.num_workers,
        "remove_unused_columns": False,
    }


def _training_arguments(train_cfg: TrainConfig, output_dir: Path, bf16: bool,
                        device_arguments: dict[str, Any] | None = None) -> TrainingArguments:
    """cotdistill's settings, its defaults, and ``train_cfg.trainer_args`` over the defaults.

    ``TrainingArguments`` checks the passed-through values itself; what it refuses becomes a one-line
    :class:`ConfigError` naming the key (found by adding the keys one at a time).
    """
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    base = {**_set_by_cotdistill(train_cfg, output_dir, bf16), **TRAINING_ARGUMENT_DEFAULTS,
            "ddp_backend": None if torch.cuda.is_available() or not distributed else "gloo", **(device_arguments or {})}
    try:
        return TrainingArguments(**{**base, **train_cfg.trainer_args})
    except (ValueError, TypeError, KeyError, ImportError, OSError) as err:
        if not train_cfg.trainer_args:
            raise
        reason = " ".join(str(err).split()) or type(err).__name__
    for key, value in train_cfg.trainer_args.items():
        try:
            TrainingArguments(**{**base, key: value})
        except (ValueError, TypeError, KeyError, ImportError, OSError):
            raise ConfigError(f"TrainingArguments refused it: {reason}", field=f"train.trainer_args.{key}") from None
    raise ConfigError(f"TrainingArguments refused these together: {reason}", field="train.trainer_args")


def training_arguments(train_cfg: TrainConfig, output_dir: str | Path, device: str = "auto") -> TrainingArguments:
    """The ``TrainingArguments`` :func:`train_student` trains with on ``device`` (a device setting)."""
    return _training_arguments(train_cfg, Path(output_dir), resolve_bf16(train_cfg, device),
                               training_device_arguments(device, field="device"))


# What accelerate's prepare sets on the model instance: its bf16-autocast forward, the forward it wrapped, and the
# mark that makes every later Accelerator skip the model.
_ACCELERATE_INSTANCE_ATTRS = ("forward", "_original_forward", "_is_accelerate_prepared")


@contextlib.contextmanager
def _accelerate_undone(model: torch.nn.Module):
    """Give ``model`` back as it came: without accelerate's autocast forward and its "prepared" mark.

    Left in place, the mark made the next ``train_student`` on the same model (a warm-up then a timed run, or
    several variants in one process) skip accelerate's preparation, so that run trained without autocast, in fp32:
    4.8x slower per step on an H200. accelerate's own undo, ``unwrap_model(keep_fp32_wrapper=False)``, leaves the mark
    and also strips the model class's own decorators from ``forward``.
    """
    saved = {name: model.__dict__[name] for name in _ACCELERATE_INSTANCE_ATTRS if name in model.__dict__}
    try:
        yield
    finally:
        for name in _ACCELERATE_INSTANCE_ATTRS:
            model.__dict__.pop(name, None)
        model.__dict__.update(saved)


def _final_loss(log_history: list[dict[str, Any]]) -> float | None:
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    return float(losses[-1]) if losses else None


# ---------------------------------------------------------------------------------------------- API


def train_student(
    instances: Sequence[TrainingInstance],
    student_cfg: StudentConfig | str,
    train_cfg: TrainConfig,
    output_dir: str | Path,
    *,
    metadata: dict[str, Any],
    student: tuple[Any, Any] | None = None,
    overwrite: bool = False,
    callbacks: Sequence[TrainerCallback] = (),
    device: str = "auto",
) -> TrainResult:
    """Fine-tune the student on ``instances`` and save it to ``output_dir`` (see the module docstring).

    ``student`` may pass an already loaded ``(model, tokenizer)`` (the one the instances were tokenized with);
    otherwise it is loaded from ``student_cfg``. A rerun into the same ``output_dir`` resumes the unfinished run;
    a finished one is refused unless ``overwrite``. Works unchanged under ``torchrun`` / ``accelerate launch``.
    ``device`` (a device setting) is where it trains: Trainer picks CUDA, then MPS, then the CPU for ``auto``;
    it is not part of the run's identity, so a run resumes on another device.
    """
    from transformers import set_seed

    student_cfg = as_student_config(student_cfg)
    output_dir = Path(output_dir)
    if train_cfg.num_threads is not None:
        torch.set_num_threads(train_cfg.num_threads)
    dataset = InstanceDataset(instances, train_cfg)
    # Bad settings (trainer_args TrainingArguments refuses) fail before the output directory is touched.
    args = training_arguments(train_cfg, output_dir, device)
    bf16 = args.bf16
    _check_sharding(student_cfg, args)
    identity = run_identity(student_cfg, train_cfg, metadata, len(instances))
    prepare_output_dir(output_dir, identity, overwrite=overwrite)

    model, tokenizer = student if student is not None else load_student(student_cfg)
    tokenizer = prepare_tokenizer_for_training(tokenizer)
    set_seed(train_cfg.seed)  # LoRA initialisation draws random numbers
    if student_cfg.lora is not None:
        model = _apply_lora(model, student_cfg)
    model.config.use_cache = False

    trainer = WeightedLossTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
        data_collator=WeightedTargetCollator(tokenizer.pad_token_id, train_cfg.pad_to_multiple_of),
        callbacks=[_FinalStep(), *callbacks],
    )
    last_checkpoint = latest_complete_checkpoint(output_dir) if output_dir.is_dir() else None
    started = time.perf_counter()
    with _accelerate_undone(trainer.model):
        trainer.train(resume_from_checkpoint=last_checkpoint)
    seconds = time.perf_counter() - started
    result = TrainResult(output_dir=str(output_dir), final_loss=_final_loss(trainer.state.log_history),
                         train_seconds=seconds, target_tokens=trainer.target_tokens_seen,
                         resumed=last_checkpoint is not None, steps=trainer.state.global_step,
                         total_tokens=trainer.total_tokens_seen)
    saved_model = _save_weights(trainer, output_dir, student_cfg, tokenizer)
    if trainer.is_world_process_zero():
        _save_finished(trainer, saved_model, output_dir, student_cfg, train_cfg, tokenizer, metadata, identity,
                       result, bf16=bf16)
    trainer.accelerator.wait_for_everyone()
    return result


def _merges_lora(student_cfg: StudentConfig) -> bool:
    return student_cfg.lora is not None and student_cfg.lora.save == "merged"


def _check_sharding(student_cfg: StudentConfig, args: TrainingArguments) -> None:
    """Refuse what FSDP / ZeRO-3 would not do as asked, before anything is loaded or written."""
    from accelerate.state import DistributedType, PartialState
    from transformers.integrations import is_deepspeed_zero3_enabled

    if args.fsdp:
        _ = args.device  # sets up accelerate's state (and the process group) as Trainer will
        kind = PartialState().distributed_type
        # accelerate 1.16 builds FSDP only for several processes on accelerators; elsewhere it would silently
        # train unsharded (tried: 2 CPU processes with gloo train as plain data parallelism, docs/training.md).
        if kind in (DistributedType.NO, DistributedType.MULTI_CPU):
            raise ConfigError(f"accelerate applies FSDP only across processes on accelerators (torchrun or "
                              f"accelerate launch on GPUs); here ({kind.value}) it would train unsharded",
                              field="train.trainer_args.fsdp")
    if _merges_lora(student_cfg) and (args.fsdp or is_deepspeed_zero3_enabled()):
        raise ConfigError("merging the LoRA adapters on save needs the whole weights in one process, which FSDP "
                          "and DeepSpeed ZeRO-3 shard across processes; set student.lora.save: adapter",
                          field="student.lora.save")


def _save_weights(trainer: Trainer, output_dir: Path, student_cfg: StudentConfig, tokenizer: Any) -> Any:
    """Save the trained weights and the tokenizer; called on every process, so that ``Trainer.save_model`` can
    gather what FSDP or DeepSpeed ZeRO-3 sharded (only the main process writes). Returns the model saved."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    model.config.use_cache = True
    if _merges_lora(student_cfg):
        # Every process holds the whole weights here (_check_sharding refused sharded training).
        if trainer.is_world_process_zero():
            model = model.merge_and_unload()
            model.save_pretrained(output_dir)
            tokenizer.save_pretrained(output_dir)
        return model
    if trainer.is_fsdp_enabled:
        # Sharded state dicts suit the checkpoints; the finished model is one whole state dict, as with TRL.
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(output_dir))  # the weights, and the tokenizer (Trainer's processing_class)
    if trainer.is_world_process_zero():
        # save_model also pickles the TrainingArguments; cotdistill.json records the configs as JSON instead.
        (output_dir / TRAINING_ARGS_NAME).unlink(missing_ok=True)
    return model


def _save_finished(trainer: Trainer, model: Any, output_dir: Path, student_cfg: StudentConfig,
                   train_cfg: TrainConfig, tokenizer: Any, metadata: dict[str, Any], identity: dict[str, Any],
                   result: TrainResult, *, bf16: bool) -> None:
    """On the main process, after the weights: drop the checkpoints, write the metadata (finished) and the card."""
    if not train_cfg.keep_checkpoints:
        for checkpoint in output_dir.glob("checkpoint-*"):
            shutil.rmtree(checkpoint)
    record = {
        **json.loads(json.dumps(metadata, default=str)),
        "finished": True,
        "seed": train_cfg.seed,
        "student": student_cfg.model_dump(mode="json"),
        "train": train_cfg.model_dump(mode="json"),
        "bf16": bf16,
        "saved_dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "weights": "lora_adapter" if student_cfg.lora is not None and student_cfg.lora.save == "adapter" else "full",
        "result": result.to_dict(),
        "log_history": trainer.state.log_history,
        "run": identity,
    }
    write_metadata(output_dir, record)
    write_model_card(output_dir, record, tokenizer)
