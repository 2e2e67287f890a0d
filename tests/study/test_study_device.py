"""The study's `device:` reaches every cell's evaluation and local teacher unless a stage names its own; where a
cell runs is not part of what it computes (cell keys and the study hash ignore it); a device that is not there is
a one-line error naming the YAML key before any work."""

from __future__ import annotations

import pytest
import torch

from cotdistill.cli.main import main
from cotdistill.errors import CotDistillError
from cotdistill.study.config import load_study_config
from cotdistill.study.reproduce import reproduce_cell
from cotdistill.study.runner import expand_grid, untrained_cells

LOCAL_TEACHER = {"label": "synthetic", "train": {"name": "synthetic", "split": "train", "limit": 4},
                 "eval": {"name": "synthetic", "split": "test", "limit": 4},
                 "teacher": {"teacher": {"backend": "local", "model": "tiny"}}}


@pytest.fixture()
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_the_study_device_reaches_every_stage_that_names_none(tiny_study_yaml):
    cfg = load_study_config(tiny_study_yaml({"device": "cpu", "tasks": [LOCAL_TEACHER],
                                             "eval": {"reasoning_first": {"device": "auto"}}}))
    assert cfg.eval.label_first.device == "cpu"
    assert cfg.eval.reasoning_first.device == "auto"  # its own
    assert cfg.tasks[0].teacher.teacher.device == "cpu"
    plain = load_study_config(tiny_study_yaml({"tasks": [LOCAL_TEACHER]}, name="plain.yaml"))
    assert {plain.eval.label_first.device, plain.tasks[0].teacher.teacher.device} == {"auto"}


def test_where_a_cell_runs_is_not_part_of_its_key_or_the_study_hash(tiny_study_yaml):
    plain = load_study_config(tiny_study_yaml({"tasks": [LOCAL_TEACHER]}))
    placed = load_study_config(tiny_study_yaml({
        "tasks": [{**LOCAL_TEACHER, "teacher": {"teacher": {"backend": "local", "model": "tiny", "device": "cpu"}}}],
        "device": "cpu", "eval": {"label_first": {"batch_size": 8, "device": "cpu"}}}, name="placed.yaml"))
    def keys(cfg):
        return [c.key for c in untrained_cells(cfg) + expand_grid(cfg)]

    assert keys(placed) == keys(plain)
    assert placed.study_hash() == plain.study_hash()


@pytest.mark.parametrize(("changes", "key"), [
    ({"device": "cuda"}, "'device'"),
    ({"eval": {"label_first": {"device": "cuda"}}}, "'eval.label_first.device'"),
    ({"tasks": [{**LOCAL_TEACHER, "teacher": {"teacher": {"backend": "local", "model": "tiny", "device": "cuda"}}}]},
     "'tasks[0].teacher.teacher.device'"),
])
def test_a_missing_device_is_one_line_naming_the_yaml_key_before_any_work(cpu_only, tiny_study_yaml, tmp_path,
                                                                         capsys, changes, key):
    path = tiny_study_yaml(changes)
    out = tmp_path / "out"
    assert main(["study", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "study.yaml: key " + key in err
    assert "'cuda' requested but torch.cuda.is_available() is False" in err
    assert not out.exists()


def test_reproduce_checks_its_device_before_reading_the_cell(cpu_only, tmp_path):
    with pytest.raises(CotDistillError, match="field 'device': 'cuda' requested"):
        reproduce_cell(tmp_path / "no-such-cell", tmp_path / "rerun", device="cuda")
