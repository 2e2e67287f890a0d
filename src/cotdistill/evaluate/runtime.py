"""What both evaluation modes share: length-sorted batches, padding, precision (prompts and continuations are
encoded by :mod:`cotdistill.prompting`, as in training)."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Sequence
from typing import Any

import torch

from cotdistill.errors import ConfigError
from cotdistill.models.device import bf16_autocast, model_device


def pad_token_id(tokenizer: Any) -> int:
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return pad if pad is not None else 0


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first, so memory peaks show up at once)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask)`` with padding on the left, so every row ends at the last column."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[row, width - len(s):] = 1
    return ids.to(device), mask.to(device)


def right_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask)`` with padding on the right, so every row starts at column 0."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[row, :len(s)] = 1
    return ids.to(device), mask.to(device)


def cache_keyword(model: Any) -> str:
    """The forward argument (and output field) holding the KV cache: transformers 5 renamed ``past_key_values``
    to ``cache``; releases on either side of the rename are in the supported range."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


_DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


@contextlib.contextmanager
def _bf16_autocast(device_type: str):
    with torch.no_grad(), torch.autocast(device_type, dtype=torch.bfloat16):
        yield


def inference_context(model: Any, setting: str) -> tuple[contextlib.AbstractContextManager, str]:
    """The context to run evaluation in for the ``EvalConfig.dtype`` setting, and the precision it gives.

    An fp32 model is run under bf16 autocast rather than cast, so the caller's model is left as it was. Autocast
    is paired with ``no_grad`` instead of ``inference_mode``: under ``inference_mode`` autocast does not cache
    the bf16 copies of the weights and re-casts every weight at every call (measured 1.7-2x slower per layer
    on CPU), which dominates token-by-token generation.
    """
    weights = next(model.parameters()).dtype
    device = model_device(model)
    weights_name = _DTYPE_NAMES.get(weights, str(weights))
    if setting == "fp32" and weights != torch.float32:
        raise ConfigError(f"fp32 evaluation asked for, but the model's weights are {weights_name}; "
                          "load the model in fp32", field="eval.dtype")
    wants_bf16 = setting == "bf16" or (setting == "auto" and bf16_autocast(device))
    if wants_bf16 and weights == torch.float32:
        return _bf16_autocast(device.type), "bf16"
    if setting == "bf16" and weights != torch.bfloat16:
        raise ConfigError(f"bf16 evaluation asked for, but the model's weights are {weights_name}",
                          field="eval.dtype")
    return torch.inference_mode(), weights_name
