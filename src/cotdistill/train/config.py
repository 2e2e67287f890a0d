"""Config of the train stage: how a student is trained (which student, and its LoRA settings, is
:class:`cotdistill.models.config.StudentConfig`)."""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_serializer, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from cotdistill.configbase import StageConfig
from cotdistill.registry import did_you_mean

#: The ``TrainingArguments`` cotdistill sets from its own settings, with what to use instead: each has one source
#: of truth, so ``trainer_args`` may not set them.
TRAINING_ARGUMENTS_SET_BY_COTDISTILL: dict[str, str] = {
    "output_dir": "use the run's `output` (--output)",
    "per_device_train_batch_size": "use train.batch_size",
    "gradient_accumulation_steps": "use train.grad_accum",
    "learning_rate": "use train.learning_rate",
    "num_train_epochs": "use train.epochs",
    "max_steps": "use train.max_steps",
    "warmup_steps": "use train.warmup_ratio",
    "lr_scheduler_type": "use train.lr_scheduler (lr_scheduler_kwargs may go in trainer_args)",
    "weight_decay": "use train.weight_decay",
    "max_grad_norm": "use train.max_grad_norm",
    "seed": "use train.seed",
    "data_seed": "use train.seed",
    "bf16": "use train.bf16",
    "use_cpu": "it trains on CUDA when there is one, else on the CPU",
    "train_sampling_strategy": "use train.group_by_length",
    "save_strategy": "it checkpoints every train.save_steps steps, which resuming needs",
    "save_steps": "use train.save_steps",
    "save_total_limit": "use train.save_total_limit",
    "logging_steps": "use train.logging_steps",
    "dataloader_num_workers": "use train.num_workers",
    "remove_unused_columns": "its weighted loss needs every column of a batch",
}

#: Fields transformers 4 had and 5 took out, with where their job went.
_GONE_FROM_TRAINING_ARGUMENTS: dict[str, str] = {
    "logging_dir": ("transformers 5 has no logging_dir: TensorBoard writes under `output`/runs, or where the "
                    "environment variable TENSORBOARD_LOGGING_DIR says"),
}

_SCALAR_TYPES = (bool, int, float, type(None))


def _is_scalar_type(annotation: Any) -> bool:
    """``float``, ``int | None``, ``bool | None``, ...: a number or boolean, perhaps optional."""
    return all(part in _SCALAR_TYPES for part in (typing.get_args(annotation) or (annotation,)))


def _type_name(annotation: Any) -> str:
    parts = typing.get_args(annotation) or (annotation,)
    return " | ".join("None" if part is type(None) else part.__name__ for part in parts)


#: ``TrainingArguments`` cotdistill chooses unless ``trainer_args`` sets them.
TRAINING_ARGUMENT_DEFAULTS: dict[str, Any] = {
    # torch's fused AdamW has CPU kernels too: measured 13% faster per step than the default on SmolLM2-135M.
    "optim": "adamw_torch_fused",
    "report_to": "none",
    "logging_first_step": True,
    "disable_tqdm": True,
}


class TrainConfig(StageConfig):
    learning_rate: float = Field(5e-5, gt=0, description="Peak learning rate (AdamW).")
    epochs: float = Field(3.0, gt=0, description="Passes over the training instances (ignored when max_steps > 0).")
    max_steps: int = Field(-1, description="Stop after this many optimizer steps; -1: run `epochs` epochs.")
    batch_size: int = Field(8, ge=1, description="Sequences per forward pass, per process.")
    grad_accum: int = Field(1, ge=1, description="Forward passes accumulated per optimizer step.")
    max_length: int = Field(512, ge=8, description=(
        "Longest training sequence in tokens: the target is cut from the right to fit; a prompt that alone "
        "exceeds it is an error."))
    label_weight: float = Field(1.0, ge=0, description="Loss weight of label tokens.")
    rationale_weight: float = Field(1.0, ge=0, description="Loss weight of rationale tokens and of filler tokens.")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Fraction of steps of linear learning-rate warmup.")
    lr_scheduler: str = Field("linear", description="transformers scheduler name (linear, cosine, constant, ...).")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, ge=0, description="Gradient clipping norm; 0 disables clipping.")
    seed: int = Field(0, description="Seed of weight init (LoRA), data order and dropout.")
    bf16: Literal["auto"] | bool = Field("auto", description=(
        "bf16 mixed precision (torch.autocast: matmuls in bf16, weights and optimizer state stay in the "
        "student's dtype). 'auto': on when the CPU has a bf16 fast path (AVX512-BF16 or AMX) or CUDA supports "
        "bf16."))
    group_by_length: bool = Field(True, description=(
        "Batch sequences of similar length together (less padding); the order stays seeded."))
    pad_to_multiple_of: int = Field(8, ge=1, description="Pad each batch to a multiple of this many tokens.")
    save_steps: int = Field(500, ge=1, description="Write a resumable checkpoint every this many optimizer steps.")
    save_total_limit: int | None = Field(2, ge=1, description="Keep at most this many checkpoints (null: all).")
    logging_steps: int = Field(10, ge=1, description="Log the mean loss every this many optimizer steps.")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes (0: load in the training process).")
    num_threads: int | None = Field(None, ge=1, description=(
        "torch CPU threads per process (null: torch's default, the visible cores)."))
    keep_checkpoints: bool = Field(False, description="Keep the checkpoint-* directories after a finished run.")
    trainer_args: dict[str, Any] = Field(default_factory=dict, description=(
        "Further transformers TrainingArguments, passed through as given, e.g. {report_to: tensorboard}, "
        "{gradient_checkpointing: true}, {optim: adafactor}, {lr_scheduler_kwargs: {num_cycles: 2}}, "
        "{fsdp: full_shard auto_wrap, fsdp_config: {transformer_layer_cls_to_wrap: [LlamaDecoderLayer]}}, "
        "{deepspeed: ds_zero3.json}. Keys are TrainingArguments fields other than the ones set from this "
        "config (learning_rate is train.learning_rate, ...). Unless given: report_to none, optim "
        "adamw_torch_fused, logging_first_step true, disable_tqdm true."))

    @model_validator(mode="after")
    def _steps_or_epochs(self) -> TrainConfig:
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError("max_steps must be -1 (use epochs) or a positive number of steps")
        return self

    @field_validator("trainer_args")
    @classmethod
    def _trainer_args_are_free_training_arguments(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            return value
        import dataclasses

        from transformers import TrainingArguments

        fields = {field.name for field in dataclasses.fields(TrainingArguments) if field.init}
        settable = fields - TRAINING_ARGUMENTS_SET_BY_COTDISTILL.keys()
        hints = typing.get_type_hints(TrainingArguments)
        checked = dict(value)
        for key, item in value.items():
            if key in TRAINING_ARGUMENTS_SET_BY_COTDISTILL:
                reason = f"set by cotdistill: {TRAINING_ARGUMENTS_SET_BY_COTDISTILL[key]}"
            elif key in cls.model_fields:
                reason = f"not a TrainingArguments field but a cotdistill setting: use train.{key}"
            elif key in _GONE_FROM_TRAINING_ARGUMENTS:
                reason = _GONE_FROM_TRAINING_ARGUMENTS[key]
            elif key not in fields:
                hint = did_you_mean(key, settable).strip()
                reason = "not a field of transformers' TrainingArguments" + (f" ({hint})" if hint else "")
            elif _is_scalar_type(hints[key]):
                # YAML reads 1e-8 as a string, and --trainer-arg VALUE may be one: convert numbers and booleans
                # by the field's type, as transformers' own argument parser does. Other fields (unions with
                # str, dicts, enums) are left to TrainingArguments, whose annotations are looser than its checks.
                try:
                    checked[key] = TypeAdapter(hints[key]).validate_python(item)
                    continue
                except ValidationError as err:
                    reason = f"{err.errors()[0]['msg']} (TrainingArguments.{key} is {_type_name(hints[key])})"
            else:
                continue
            # Raised as a ValidationError of its own, the error's location ends in the key (trainer_args.optimm).
            raise ValidationError.from_exception_data("trainer_args", [InitErrorDetails(
                type=PydanticCustomError("trainer_argument", "{reason}", {"reason": reason}), loc=(key,),
                input=item)])
        return checked

    @model_serializer(mode="wrap")
    def _without_empty_trainer_args(self, handler: Any) -> dict[str, Any]:
        # A config without trainer_args dumps (and so hashes: run identity, study cells) as before the field existed.
        data = handler(self)
        if not self.trainer_args:
            data.pop("trainer_args", None)
        return data
