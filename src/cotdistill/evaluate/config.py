"""Config of the evaluation stage: how a student is asked and scored."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cotdistill.configbase import StageConfig, read_yaml
from cotdistill.models.device import DEVICE_HELP, DeviceSetting

EvalMode = Literal["label_first", "reasoning_first"]
EVAL_MODES: tuple[str, ...] = ("label_first", "reasoning_first")


class EvalConfig(StageConfig):
    mode: EvalMode = Field(
        "label_first",
        description="label_first: score the choices after the prompt in one pass, no generation (how an "
                    "answer-first student is used); reasoning_first: greedy-generate, then extract the label.")
    batch_size: int = Field(16, ge=1, description="Questions per forward pass / generation batch.")
    max_new_tokens: int = Field(128, ge=1, description="reasoning_first: most tokens generated per question.")
    scoring: Literal["auto", "letter", "text"] = Field(
        "auto",
        description="label_first: 'letter' compares the log-probs of the choice letters at the answer position; "
                    "'text' the log-probs of the choice texts; 'auto' follows the prompt format's label_style.")
    normalisation: Literal["chars", "bytes", "tokens"] = Field(
        "chars",
        description="label_first acc_norm: divide each choice's summed log-prob by its length in characters "
                    "(lm-evaluation-harness acc_norm), UTF-8 bytes, or tokens.")
    dtype: Literal["auto", "bf16", "fp32"] = Field(
        "auto",
        description="Compute precision: 'auto' is bf16 where the model is bf16 or the device runs bf16 fast, "
                    "else the model's own dtype; an fp32 model runs under bf16 autocast (its weights are not "
                    "changed).")
    limit: int | None = Field(None, ge=1, description="Evaluate only the first N examples (None: all).")
    device: DeviceSetting = Field("auto", description="Where the student is evaluated: " + DEVICE_HELP)


def load_eval_config(path: str | Path) -> EvalConfig:
    """An :class:`EvalConfig` from YAML: a file of its keys, or the ``eval:`` section of a larger config."""
    section = "eval" if "eval" in read_yaml(path) else None
    return EvalConfig.from_yaml(path, section=section)
