"""Fine-tune students: load them (aliases, local dirs, GGUF, hub ids), train on variant instances, save, reload.

Heavy imports (torch, transformers) happen when the names are first used, so ``import cotdistill.train`` is cheap.
"""

from __future__ import annotations

from typing import Any

from cotdistill.train.config import LoraSettings, StudentConfig, TrainConfig

_LAZY = {
    "load_student": "cotdistill.train.student",
    "load_tokenizer": "cotdistill.train.student",
    "TrainResult": "cotdistill.train.trainer",
    "train_student": "cotdistill.train.trainer",
    "load_trained_student": "cotdistill.train.trainer",
    "TrainRunConfig": "cotdistill.train.pipeline",
    "run_training": "cotdistill.train.pipeline",
}

__all__ = ["LoraSettings", "StudentConfig", "TrainConfig", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cotdistill.train' has no attribute {name!r}")
