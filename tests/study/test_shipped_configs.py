"""Every shipped config (studies, single training runs, evaluation settings) parses and validates; none is run."""

from __future__ import annotations

from pathlib import Path

import pytest

from cotdistill.cli.study_cmds import demo_config_path
from cotdistill.configbase import read_yaml
from cotdistill.data.rationales import load_rationales
from cotdistill.data.tasks import load_task
from cotdistill.evaluate.config import load_eval_config
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import expand_grid, untrained_cells
from cotdistill.study.taskdata import load_task_data
from cotdistill.train.model_card import dataset_ids
from cotdistill.train.pipeline import TrainRunConfig

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))
STUDIES = [p for p in CONFIGS if "tasks" in read_yaml(p)]
RUNS = [p for p in CONFIGS if "task" in read_yaml(p)]
EVALS = [p for p in CONFIGS if set(read_yaml(p)) == {"eval"}]


def test_every_config_is_of_a_known_kind():
    assert set(CONFIGS) == set(STUDIES) | set(RUNS) | set(EVALS)


@pytest.mark.parametrize("path", EVALS, ids=lambda p: str(p.relative_to(REPO)))
def test_eval_config_validates(path):
    load_eval_config(path)


@pytest.mark.shared
@pytest.mark.parametrize("path", RUNS, ids=lambda p: str(p.relative_to(REPO)))
def test_run_config_validates_and_its_data_loads(path, shared_data, monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = TrainRunConfig.from_yaml(path)
    cfg.variant.build_variant()
    examples = load_task(cfg.task)
    rationales = load_rationales(cfg.rationales, examples) if cfg.rationales else {}
    assert examples and (not cfg.rationales or {ex.id for ex in examples} <= set(rationales))


def test_there_are_paper_and_local_configs():
    names = {p.relative_to(REPO / "configs").parts[0] for p in CONFIGS}
    assert {"paper", "local"} <= names


@pytest.mark.parametrize("path", [p for p in STUDIES if "local" not in p.parts],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_hub_config_validates(path, monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = load_study_config(path)
    assert expand_grid(cfg)


@pytest.mark.shared
@pytest.mark.parametrize("path", [p for p in STUDIES if "local" in p.parts], ids=lambda p: str(p.relative_to(REPO)))
def test_local_config_validates_and_its_data_loads(path, shared_data, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    cfg = load_study_config(path)
    assert expand_grid(cfg)
    for i, task in enumerate(cfg.tasks):
        data = load_task_data(task, i, tmp_path, write=False)
        assert data.train and data.eval and set(data.rationales) == {ex.id for ex in data.train}


def test_demo_config_is_the_issue_s_study():
    cfg = load_study_config(demo_config_path())
    cells = expand_grid(cfg)
    assert {c.variant for c in cells} == {"label_only", "cot_before_label", "cot_after_label",
                                          "shuffled_cot_after_label"}
    assert cfg.seeds == [0, 1] and [s.model for s in cfg.students] == ["smollm2-135m"]
    assert cfg.tasks[0].train.name == "synthetic" and cfg.tasks[0].reference_rationales
    assert cfg.train.bf16 == "auto" and len(cells) == 8


#: Issue 22's experiments on CommonsenseQA: each keeps the published study's settings, so its reference rows
#: (label_only, cot_after_label, shuffled_cot_after_label, untrained) are the published cells, restored.
EXPERIMENTS = {"csqa_rationale_content.yaml": 20, "csqa_loss_share.yaml": 20, "csqa_more_data.yaml": 10}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_experiment_configs_share_their_reference_cells_with_the_published_study(name, shared_data, monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = load_study_config(REPO / "configs" / "local" / name)
    published = {p.name for p in (REPO / "docs" / "results" / "local-study" / "cells").iterdir()}
    shared = [c for c in expand_grid(cfg) + untrained_cells(cfg) if c.key in published]
    assert len(shared) == EXPERIMENTS[name]
    assert {c.variant for c in shared} == {"untrained", "label_only", "cot_after_label", "shuffled_cot_after_label"}


def test_the_paper_study_trains_in_mixed_precision_and_names_reachable_datasets():
    cfg = load_study_config(REPO / "configs" / "paper" / "study.yaml")
    # fp32 master weights (AdamW updates survive), bf16 matmuls where the device has them
    assert {s.dtype for s in cfg.students} == {"fp32"} and cfg.train.bf16 == "auto"
    quarel = next(t for t in cfg.tasks if t.train.name == "quarel")
    assert dataset_ids(quarel.train.model_dump()) == ["community-datasets/quarel"]
