"""Reload a student that ``cotdistill train`` finished: a Hugging Face model directory with its tokenizer and
``cotdistill.json``, holding either the whole weights or (``lora.save: adapter``) a LoRA adapter of its base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cotdistill.errors import ConfigError
from cotdistill.models.config import StudentConfig
from cotdistill.models.device import as_device, place_model
from cotdistill.models.loading import load_student, prepare_tokenizer_for_training
from cotdistill.models.metadata import METADATA_FILE, read_metadata


def load_trained_student(path: str | Path, *, device: Any = None) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, tokenizer, metadata)`` of a finished training directory (an adapter is merged on load), the model
    moved once to ``device`` (a ``torch.device`` or a device setting; ``None``: the CPU it is loaded on)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    device = as_device(device)
    metadata = read_metadata(path)
    if metadata is None:
        raise ConfigError(f"no {METADATA_FILE} here; not a cotdistill training directory", path=path)
    if not metadata.get("finished"):
        raise ConfigError("training in this directory has not finished (rerun train to resume it)", path=path)
    tokenizer = prepare_tokenizer_for_training(AutoTokenizer.from_pretrained(path))
    if metadata.get("weights") == "lora_adapter":
        from peft import PeftModel

        base, _ = load_student(StudentConfig.model_validate({**metadata["student"], "lora": None}))
        model = PeftModel.from_pretrained(base, path).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
    model = place_model(model, device)
    model.eval()
    return model, tokenizer, metadata
