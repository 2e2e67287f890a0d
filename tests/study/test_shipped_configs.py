"""Every shipped study config parses and validates (none is run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cotdistill.cli.study_cmds import demo_config_path
from cotdistill.study.config import load_study_config
from cotdistill.study.runner import expand_grid, load_task_data

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


def test_there_are_paper_and_local_configs():
    names = {p.relative_to(REPO / "configs").parts[0] for p in CONFIGS}
    assert {"paper", "local"} <= names


@pytest.mark.parametrize("path", [p for p in CONFIGS if "local" not in p.parts],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_hub_config_validates(path, monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = load_study_config(path)
    assert expand_grid(cfg)


@pytest.mark.shared
@pytest.mark.parametrize("path", [p for p in CONFIGS if "local" in p.parts], ids=lambda p: str(p.relative_to(REPO)))
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
