"""Rationale sources of a study's task: a teacher run once (fake backend), a rationale file, audits."""

from __future__ import annotations

import json

from cotdistill.cli.main import main
from cotdistill.data.rationale import Rationale, write_rationales
from cotdistill.data.synthetic import generate_synthetic
from cotdistill.study.config import load_study_config
from cotdistill.study.runner import StudyRunner

TASK = {"label": "synthetic", "train": {"name": "synthetic", "split": "train", "limit": 30, "seed": 0},
        "eval": {"name": "synthetic", "split": "test", "limit": 10, "seed": 0}}


def test_teacher_runs_once_and_its_audit_is_recorded(tiny_study_yaml, tmp_path):
    cfg = load_study_config(tiny_study_yaml({"tasks": [{**TASK, "teacher": {
        "teacher": {"backend": "fake"}, "label_policy": "drop"}}]}))
    runner = StudyRunner(cfg, tmp_path / "out", live=False)
    runner.prepare()
    store = tmp_path / "out" / "teacher" / "synthetic" / "rationales.jsonl"
    stamp = store.stat().st_mtime_ns
    audit = json.loads((tmp_path / "out" / "audits" / "synthetic.json").read_text())
    assert audit["examples"] == 30 and audit["label_policy"] == "drop" and 0 < audit["kept"] < 30
    data = runner.tasks[0]
    assert len(data.train) == audit["kept"] and set(data.rationales) == {ex.id for ex in data.train}
    assert all(data.rationales[ex.id].teacher_label == ex.answer for ex in data.train)  # disagreements dropped

    again = StudyRunner(cfg, tmp_path / "out", live=False)
    again.prepare()
    assert store.stat().st_mtime_ns == stamp
    assert [ex.id for ex in again.tasks[0].train] == [ex.id for ex in data.train]


def test_rationale_file_with_relabel_policy(tiny_study_yaml, tmp_path):
    examples, reference = generate_synthetic("train", 30, 0)
    # the "teacher" is wrong on the first 5 questions and silent on the next 5
    wrong = {ex.id: next(label for label in ex.choices if label != ex.answer) for ex in examples[:5]}
    store = write_rationales(tmp_path / "r.jsonl", [
        Rationale(id=r.id, text=r.text, teacher_label=wrong.get(r.id, None if i in range(5, 10) else r.teacher_label),
                  source="file") for i, r in enumerate(reference.values())])
    cfg = load_study_config(tiny_study_yaml({"tasks": [{**TASK, "rationales": {
        "path": str(store), "label_policy": "relabel"}}]}))
    runner = StudyRunner(cfg, tmp_path / "out", live=False)
    runner.prepare()
    audit = json.loads((tmp_path / "out" / "audits" / "synthetic.json").read_text())
    assert audit["rationales"] == 30 and audit["with_label"] == 25 and audit["agreement"] == 20 / 30
    train = {ex.id: ex for ex in runner.tasks[0].train}
    assert len(train) == 30 and all(train[i].answer == label for i, label in wrong.items())
    study = json.loads((tmp_path / "out" / "study.json").read_text())
    # two variants and the untrained student
    assert study["baseline"] == "label_only" and len(study["cells"]) == 3


def test_stage_teach_runs_only_the_teacher_phase(tiny_study_yaml, tmp_path, capsys):
    path = tiny_study_yaml({"tasks": [{**TASK, "teacher": {"teacher": {"backend": "fake"}, "label_policy": "drop"}}]})
    out = tmp_path / "out"
    assert main(["study", str(path), "-o", str(out), "--stage", "teach"]) == 0
    assert (out / "teacher" / "synthetic" / "rationales.jsonl").is_file()
    assert (out / "audits" / "synthetic.json").is_file() and (out / "study.json").is_file()
    assert not (out / "cells").exists() and "teacher phase done" in capsys.readouterr().out
    assert main(["study", str(path), "-o", str(out), "--stage", "train"]) == 2
