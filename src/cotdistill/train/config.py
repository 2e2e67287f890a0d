"""Config of the train stage: how a student is trained (which student, and its LoRA settings, is
:class:`cotdistill.models.config.StudentConfig`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cotdistill.configbase import StageConfig


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

    @model_validator(mode="after")
    def _steps_or_epochs(self) -> TrainConfig:
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError("max_steps must be -1 (use epochs) or a positive number of steps")
        return self
