"""The training pipeline: one code path from loaded examples to a trained student, for `cotdistill train` and for
every study cell."""

from __future__ import annotations

import json

import pytest
from train_helpers import tiny_examples, tiny_rationales

from cotdistill.study.config import parse_study_config
from cotdistill.study.runner import StudyRunner
from cotdistill.models.config import StudentConfig
from cotdistill.train.config import TrainConfig
from cotdistill.train.pipeline import TrainRunConfig, run_training, train_on_examples, variant_record
from cotdistill.variants.config import VariantConfig


def test_train_on_examples_records_what_it_is_given(tmp_path):
    told = []
    variant = VariantConfig(name="cot_before_label", label_style="letter")
    result = train_on_examples(
        tiny_examples(4), tiny_rationales(4), variant, StudentConfig(model="tiny"),
        TrainConfig(max_steps=1, batch_size=2, bf16=False, seed=5), tmp_path / "student",
        keytoken_cache=tmp_path / "cache", metadata=lambda n: {**variant_record(variant), "n_instances": n},
        on_instances=told.append)
    assert told == [4] and result.steps == 1
    meta = json.loads((tmp_path / "student" / "cotdistill.json").read_text())
    assert meta["variant"] == {"name": "cot_before_label", "params": {}}
    assert meta["prompt_format"] == {"label_style": "letter", "show_choices": True}
    assert meta["n_instances"] == 4 and meta["seed"] == 5
    assert meta["run"]["metadata"] == {**variant_record(variant), "n_instances": 4}


class _Captured(Exception):
    """Stops a run once the trainer has been handed its instances and metadata."""


@pytest.fixture()
def captured(monkeypatch):
    """What the pipeline hands the trainer, captured instead of training."""
    calls = []

    def capture(instances, student_cfg, train_cfg, output_dir, *, metadata, **kwargs):
        calls.append({"instances": list(instances), "train": train_cfg, "metadata": metadata})
        raise _Captured

    monkeypatch.setattr("cotdistill.train.pipeline.train_student", capture)
    return calls


TASK = {"name": "synthetic", "split": "train", "limit": 6, "seed": 0}
VARIANT = {"name": "shuffled_cot_after_label", "label_style": "letter"}
TRAIN = {"max_steps": 1, "batch_size": 2, "bf16": False, "learning_rate": 1.0e-3}


def test_a_study_cell_trains_on_what_cotdistill_train_builds(captured, tmp_path):
    """The same task, variant, student, settings and seed: the same instances, whichever command trains them;
    each records its own fields (a study cell's key already names its data, so it records no counts)."""
    cfg = TrainRunConfig.model_validate({"task": TASK, "variant": VARIANT, "student": {"model": "tiny"},
                                         "train": {**TRAIN, "seed": 3}, "output": str(tmp_path / "student"),
                                         "keytoken_cache": str(tmp_path / "cache")})
    with pytest.raises(_Captured):
        run_training(cfg)
    study = parse_study_config({
        "name": "one cell", "students": [{"model": "tiny"}], "variants": [VARIANT], "seeds": [3], "train": TRAIN,
        "tasks": [{"label": "synthetic", "train": TASK, "eval": {**TASK, "split": "test"},
                   "reference_rationales": True}]})
    runner = StudyRunner(study, tmp_path / "study", live=False)
    runner.prepare()
    (cell,) = [c for c in runner.cells if c.trained]
    with pytest.raises(_Captured):
        runner._train(cell, runner.cell_dir(cell), None)

    trained, cell_run = captured
    assert cell_run["instances"] == trained["instances"] and len(trained["instances"]) == 6
    assert cell_run["train"] == cell.train_config == cfg.train
    assert trained["metadata"] == {**variant_record(cfg.variant), "task": cfg.task.model_dump(mode="json"),
                                   "rationales": None, "missing_rationales": "error", "n_examples": 6,
                                   "n_instances": 6}
    assert cell_run["metadata"] == {**variant_record(cell.variant_config), "task": cfg.task.model_dump(mode="json"),
                                    "rationales": "reference_rationales", "seed": 3, "study_cell": cell.key}
