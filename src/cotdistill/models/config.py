"""Which student model and how it is loaded (its dtype, GGUF file, hub revision) and whether LoRA adapters are
trained on it: the config every stage loads a student with."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cotdistill.configbase import StageConfig

#: Default LoRA targets: the attention and MLP projections of Llama/Gemma/Qwen-style decoders.
DEFAULT_LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoraSettings(StageConfig):
    r: int = Field(16, ge=1, description="LoRA rank.")
    alpha: float = Field(32.0, gt=0, description="LoRA scaling numerator (the update is scaled by alpha / r).")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout on the LoRA branch input.")
    target_modules: list[str] = Field(list(DEFAULT_LORA_TARGETS),
                                      description="Names of the linear modules that get adapters.")
    save: Literal["merged", "adapter"] = Field(
        "merged", description="'merged': fold the adapters into the weights and save a plain model (default); "
                              "'adapter': save only the adapter (peft format) next to a pointer to the base model.")


class StudentConfig(StageConfig):
    model: str = Field("smollm2-135m", description=(
        "Student: a packaged alias ('smollm2-135m', 'gemma3-270m', 'tiny'), a local Hugging Face model directory "
        "(or a directory holding one .gguf file), or a Hugging Face hub id."))
    dtype: Literal["auto", "bf16", "fp32"] = Field("auto", description=(
        "Dtype of the loaded and saved weights; 'auto' keeps the checkpoint's own dtype (fp32 for GGUF and tiny). "
        "Compute precision during training is TrainConfig.bf16."))
    lora: LoraSettings | None = Field(None, description="Train LoRA adapters instead of all weights (null: full).")
    gguf_file: str | None = Field(None, description=(
        "GGUF file name inside `model` (a directory) to load from; overrides the packaged alias's file."))
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit) for hub ids.")
    trust_remote_code: bool = Field(False, description="Allow code shipped with a hub model to run (off: safer).")
    tiny_vocab_size: int = Field(512, ge=64, description="Vocabulary size of the 'tiny' random student.")
    tiny_seed: int = Field(0, description="Weight-initialisation seed of the 'tiny' random student.")
