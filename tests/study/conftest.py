"""A tiny study (tiny random student, small synthetic task): seconds per cell."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

_TINY_STUDY = {
    "name": "tiny study",
    "tasks": [{
        "label": "synthetic",
        "train": {"name": "synthetic", "split": "train", "limit": 12, "seed": 0},
        "eval": {"name": "synthetic", "split": "test", "limit": 12, "seed": 0},
        "reference_rationales": True,
    }],
    "students": [{"model": "tiny"}],
    "variants": [{"name": "label_only"}, {"name": "cot_after_label"}],
    "seeds": [0],
    "train": {"epochs": 1, "batch_size": 4, "max_length": 96, "save_steps": 1, "logging_steps": 1,
              "learning_rate": 1.0e-3},
    "eval": {"label_first": {"batch_size": 8}},
}


def write_study_yaml(directory: Path, changes: dict | None = None, name: str = "study.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump({**copy.deepcopy(_TINY_STUDY), **(changes or {})}, sort_keys=False))
    return path


@pytest.fixture()
def tiny_study_yaml(tmp_path):
    """``write(changes, name)``: the tiny study with top-level keys replaced, as a YAML file."""
    return lambda changes=None, name="study.yaml": write_study_yaml(tmp_path, changes, name)


@pytest.fixture(scope="module")
def tiny_study_run(tmp_path_factory):
    """The tiny study's YAML and an uninterrupted run of it (shared by a test module)."""
    from cotdistill.study.config import load_study_config
    from cotdistill.study.runner import run_study

    root = tmp_path_factory.mktemp("tiny_study")
    config = write_study_yaml(root)
    return config, run_study(load_study_config(config), root / "reference", live=False)
