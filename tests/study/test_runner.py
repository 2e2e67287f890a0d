"""The grid runner on the tiny student: cells run once, a SIGKILLed study resumes to identical results."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cotdistill.errors import CotDistillError
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import UNTRAINED, UNTRAINED_SEED, expand_grid, untrained_cells
from cotdistill.study.layout import DONE_FILE
from cotdistill.study.runner import StudyRunner, run_study

TIMING_COLUMNS = ["seconds_per_answer", "train_seconds", "eval_seconds"]


def _comparable(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    # A resumed training counts only the tokens of its own part (target_tokens); weights and results are the same.
    results = pd.read_parquet(out / "results.parquet").drop(columns=TIMING_COLUMNS + ["target_tokens"])
    results = results.sort_values(["cell", "mode"]).reset_index(drop=True)
    predictions = pd.read_parquet(out / "predictions.parquet").sort_values(["cell", "mode", "id"])
    return results, predictions.reset_index(drop=True)


def test_same_cell_same_seed_gives_identical_metrics(tiny_study_run, tiny_study_yaml, tmp_path):
    config, reference = tiny_study_run
    one_cell = load_study_config(tiny_study_yaml({"variants": [{"name": "label_only"}]}, name="one.yaml"))
    again = run_study(one_cell, tmp_path / "again", live=False)
    (cell,) = [c.key for c in StudyRunner(one_cell, again).cells if c.trained]
    first = json.loads((reference / "cells" / cell / "eval" / "label_first" / "metrics.json").read_text())
    second = json.loads((again / "cells" / cell / "eval" / "label_first" / "metrics.json").read_text())
    assert first["accuracy"] == second["accuracy"] and first["n"] == second["n"] == 12
    ref_results, ref_predictions = _comparable(reference)
    results, predictions = _comparable(again)
    for ref, got in ((ref_results, results), (ref_predictions, predictions)):
        pd.testing.assert_frame_equal(ref[ref["cell"] == cell].reset_index(drop=True),
                                      got[got["cell"] == cell].reset_index(drop=True))
    manifest = json.loads((again / "cells" / cell / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["status"] == "done" and manifest["config"]["seed"] == 0
    assert {"git_commit", "versions", "host", "timings", "config"} <= set(manifest)
    assert manifest["versions"]["torch"] and manifest["timings"]["total_seconds"] > 0
    assert (again / "cells" / cell / "cell.log").stat().st_size > 0
    assert (again / "results.csv").is_file()


def test_the_untrained_student_is_one_eval_only_cell_per_task_and_student(tiny_study_run, tiny_study_yaml):
    from cotdistill.evaluate import evaluate_student
    from cotdistill.models import load_student
    from cotdistill.study.taskdata import load_task_data

    config, reference = tiny_study_run
    cfg = load_study_config(config)
    results = pd.read_parquet(reference / "results.parquet")
    row = results[results["variant"] == UNTRAINED]
    assert len(row) == 1 and row["seed"].item() == UNTRAINED_SEED and row["mode"].item() == "label_first"
    runner = StudyRunner(cfg, reference, live=False)
    (cell,) = [c for c in runner.cells if not c.trained]
    assert runner.is_done(cell) and not (runner.cell_dir(cell) / "train").exists()
    # the trained cells keep their keys; the untrained one is not repeated per seed
    assert [c.key for c in runner.cells if c.trained] == [c.key for c in expand_grid(cfg)]
    three_seeds = load_study_config(tiny_study_yaml({"seeds": [0, 1, 2]}, name="three.yaml"))
    assert [c.key for c in untrained_cells(three_seeds)] == [cell.key]
    # the same prompt and scoring as label_only, on the student as it starts
    model, tokenizer = load_student(cfg.students[0].student_config())
    label_only = cfg.variants[0]
    by_hand = evaluate_student(model, tokenizer, load_task_data(cfg.tasks[0], 0, reference, write=False).eval,
                               variant=label_only.build_variant(), prompt_format=label_only.prompt_format(),
                               config=cfg.eval.label_first)
    assert row["accuracy"].item() == by_hand.metrics["accuracy"]
    predictions = pd.read_parquet(reference / "predictions.parquet")
    assert len(predictions[predictions["cell"] == cell.key]) == 12


def test_rerun_of_a_finished_study_computes_nothing(tiny_study_run):
    config, reference = tiny_study_run
    runner = StudyRunner(load_study_config(config), reference, live=False)
    stamps = {c.key: (runner.cell_dir(c) / DONE_FILE).stat().st_mtime_ns for c in runner.cells}
    before = _comparable(reference)
    runner.run()
    assert stamps == {c.key: (runner.cell_dir(c) / DONE_FILE).stat().st_mtime_ns for c in runner.cells}
    pd.testing.assert_frame_equal(before[0], _comparable(reference)[0])


@pytest.mark.extended  # kills and restarts real processes: CI runs it after the default suite
def test_sigkilled_study_resumes_without_recomputing_and_matches_an_uninterrupted_run(tiny_study_run, tmp_path):
    config, reference = tiny_study_run
    cfg = load_study_config(config)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "cotdistill.cli.main", "study", str(config), "-o", str(out),
                             "--no-report"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
    runner = StudyRunner(cfg, out, live=False)
    deadline = time.monotonic() + 240
    try:
        # Kill once a cell is finished and the next one has written a training checkpoint.
        while time.monotonic() < deadline:
            done = [c for c in runner.cells if c.trained and runner.is_done(c)]
            mid = [c for c in runner.cells if not runner.is_done(c)
                   and any((runner.cell_dir(c) / "train").glob("checkpoint-*"))]
            if done and mid:
                break
            assert proc.poll() is None, "the study ended before it could be killed"
            time.sleep(0.02)
        else:
            raise AssertionError("no cell finished in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished = {c.key: (runner.cell_dir(c) / DONE_FILE).stat().st_mtime_ns for c in runner.cells if runner.is_done(c)}
    assert 0 < len(finished) < len(runner.cells)

    run_study(cfg, out, live=False)
    for cell in runner.cells:
        assert runner.is_done(cell)
        attempts = json.loads((runner.cell_dir(cell) / "manifest.json").read_text())["attempts"]
        if cell.key in finished:
            assert (runner.cell_dir(cell) / DONE_FILE).stat().st_mtime_ns == finished[cell.key]
            assert len(attempts) == 1
        else:
            assert len(attempts) == 2
    ref_results, ref_predictions = _comparable(reference)
    results, predictions = _comparable(out)
    pd.testing.assert_frame_equal(ref_results, results)
    pd.testing.assert_frame_equal(ref_predictions, predictions)
    assert set(results["variant"]) == {UNTRAINED, "label_only", "cot_after_label"}


def test_only_runs_the_selected_cells_seed_by_seed(tiny_study_yaml, tmp_path):
    from cotdistill.study.grid import select_cells

    cfg = load_study_config(tiny_study_yaml({"seeds": [0, 1]}))
    runner = StudyRunner(cfg, tmp_path / "out", live=False, only={"variant": ["label_only"]})
    assert [(c.variant, c.seed) for c in runner.selected] == [("label_only", 0), ("label_only", 1)]
    runner.run()
    done = {c.variant for c in runner.cells if runner.is_done(c)}
    assert done == {"label_only"}
    assert set(pd.read_csv(tmp_path / "out" / "results.csv")["variant"]) == {"label_only"}
    both = select_cells(runner.cells, {"seed": ["1"], "variant": ["label_only", "cot_after_label"]})
    assert [(c.variant, c.seed) for c in both] == [("label_only", 1), ("cot_after_label", 1)]


def test_pending_cells_run_seed_major(tiny_study_yaml, tmp_path, monkeypatch):
    cfg = load_study_config(tiny_study_yaml({"seeds": [1, 0]}))
    runner = StudyRunner(cfg, tmp_path / "out", live=False)
    order = []
    monkeypatch.setattr(runner, "run_cell",
                        lambda cell, progress=None, lease=None: order.append((cell.seed, cell.variant)))
    monkeypatch.setattr(runner, "write_tables", lambda: None)
    runner.run()
    assert order == [(UNTRAINED_SEED, UNTRAINED), (1, "label_only"), (1, "cot_after_label"), (0, "label_only"),
                     (0, "cot_after_label")]


def test_only_with_an_unknown_key_or_value_names_the_flag(tiny_study_yaml, tmp_path):
    import pytest

    from cotdistill.errors import ConfigError

    cfg = load_study_config(tiny_study_yaml())
    with pytest.raises(ConfigError, match="--only.*cannot select cells by 'colour'"):
        StudyRunner(cfg, tmp_path / "out", only={"colour": ["red"]})
    with pytest.raises(ConfigError, match="--only.*no cell has task 'CSQA'.*synthetic"):
        StudyRunner(cfg, tmp_path / "out", only={"task": ["CSQA"]})
    assert not (tmp_path / "out").exists()


def test_drop_weights_deletes_only_the_weights_of_evaluated_cells(tiny_study_run, tiny_study_yaml, tmp_path):
    _, kept = tiny_study_run
    cfg = load_study_config(tiny_study_yaml())
    runner = StudyRunner(cfg, tmp_path / "out", live=False, keep_weights=False)
    runner.run()
    trained = [cell for cell in runner.cells if cell.trained]
    for cell in trained:
        directory = runner.cell_dir(cell)
        assert runner.is_done(cell)
        assert not list((directory / "train").glob("*.safetensors"))
        assert (directory / "train" / "config.json").is_file()
        assert json.loads((directory / "manifest.json").read_text())["weights_kept"] is False
    assert len(list((kept / "cells").glob("*/train/*.safetensors"))) == len(trained)  # the default keeps them
    dropped, reference = (_comparable(tmp_path / "out")[0], _comparable(kept)[0])
    pd.testing.assert_frame_equal(dropped.drop(columns="cell"), reference.drop(columns="cell"))
    runner.run()  # a rerun finds every cell done and still writes its tables without the weights
    assert (tmp_path / "out" / "results.csv").is_file()


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    # what safetensors raises when saving the student fills the disk
    RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)"),
])
def test_a_full_disk_stops_the_study_with_an_error_naming_the_cell(tiny_study_yaml, tmp_path, monkeypatch, error):
    runner = StudyRunner(load_study_config(tiny_study_yaml()), tmp_path / "out", live=False)

    def full_disk(*args, **kwargs):
        raise error

    monkeypatch.setattr(runner, "_train", full_disk)
    with pytest.raises(CotDistillError, match="out of disk space") as caught:
        runner.run()
    first = runner.selected[0]
    assert str(runner.cell_dir(first)) in str(caught.value)
    assert not runner.is_done(first)


def test_the_training_phase_says_whether_an_interrupted_cell_resumes_or_starts_again(tmp_path):
    from cotdistill.study.runner import training_phase

    train_dir = tmp_path / "train"
    (train_dir / "checkpoint-500").mkdir(parents=True)  # a kill while it was written: no trainer_state.json
    assert training_phase(train_dir, 7, interrupted=False) == "training on 7 instances"
    assert "again from the start" in training_phase(train_dir, 7, interrupted=True)
    for step in (250, 1000):
        (train_dir / f"checkpoint-{step}").mkdir()
        (train_dir / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert training_phase(train_dir, 7, interrupted=True) == "resuming training on 7 instances from checkpoint-1000"
