"""Fine-tune students on variant instances and save them (students are loaded and reloaded by
:mod:`cotdistill.models`).

Heavy imports (torch, transformers) happen when the names are first used, so ``import cotdistill.train`` is cheap.
"""

from __future__ import annotations

from typing import Any

from cotdistill.train.config import TrainConfig

_LAZY = {
    "TrainResult": "cotdistill.train.trainer",
    "train_student": "cotdistill.train.trainer",
    "TrainRunConfig": "cotdistill.train.pipeline",
    "run_training": "cotdistill.train.pipeline",
}

__all__ = ["TrainConfig", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cotdistill.train' has no attribute {name!r}")
