"""scripts/restore_results.py: a published copy restored into a new output directory lets the grid go on there."""

from __future__ import annotations

import pytest

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from cotdistill.cli.main import main
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import UNTRAINED_SEED
from cotdistill.study.layout import DONE_FILE
from cotdistill.study.runner import run_study

# Minutes on 2 cores: run by CI after the default suite (-m extended), not in it.
pytestmark = pytest.mark.extended

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def script(name: str, *args: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], capture_output=True, text=True,
                          check=False)


def tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    results = pd.read_parquet(out / "results.parquet").sort_values(["cell", "mode"]).reset_index(drop=True)
    predictions = pd.read_parquet(out / "predictions.parquet").sort_values(["cell", "mode", "id"])
    return results, predictions.reset_index(drop=True)


def test_a_restored_copy_resumes_the_grid_and_its_tables_equal_the_original(tiny_study_yaml, tmp_path):
    cfg = load_study_config(tiny_study_yaml({"seeds": [0, 1]}))
    original = run_study(cfg, tmp_path / "original", live=False, only={"seed": ["0"]})
    # A teacher audit as a study with a teacher writes it (the synthetic task's reference rationales have none).
    audit = {"source": "teacher", "examples": 12, "rationales": 12, "with_label": 12, "agreement": 1.0,
             "label_policy": "drop", "kept": 12}
    (original / "audits").mkdir()
    (original / "audits" / "synthetic.json").write_text(json.dumps(audit))
    assert main(["report", str(original)]) == 0
    assert script("publish_results.py", original, tmp_path / "published").returncode == 0

    completed = script("restore_results.py", tmp_path / "published", tmp_path / "restored")
    assert completed.returncode == 0, completed.stderr
    assert json.loads((tmp_path / "restored" / "audits" / "synthetic.json").read_text()) == audit
    assert "restored 2 finished cells" in completed.stdout
    restored_cells = {p.name: (p / DONE_FILE).stat().st_mtime_ns for p in (tmp_path / "restored" / "cells").iterdir()}

    # Nothing to compute for the restored seed; its tables give the published report back, byte for byte.
    restored = run_study(cfg, tmp_path / "restored", live=False, only={"seed": ["0"]})
    assert main(["report", str(restored)]) == 0
    assert (restored / "report" / "report.md").read_text() == (original / "report" / "report.md").read_text()
    # The grid goes on in the restored directory: only seed 1 trains, seed 0 is read back from the copy.
    run_study(cfg, restored, live=False)
    assert {k: (restored / "cells" / k / DONE_FILE).stat().st_mtime_ns for k in restored_cells} == restored_cells
    assert not [k for k in restored_cells if list((restored / "cells" / k / "train").glob("*.safetensors"))]
    run_study(cfg, original, live=False)
    ours, theirs = tables(restored), tables(original)
    assert set(ours[0]["seed"]) == {UNTRAINED_SEED, 0, 1}
    pd.testing.assert_frame_equal(ours[0][ours[0]["seed"] == 0].reset_index(drop=True),
                                  theirs[0][theirs[0]["seed"] == 0].reset_index(drop=True))
    pd.testing.assert_frame_equal(ours[1][ours[1]["seed"] == 0].reset_index(drop=True),
                                  theirs[1][theirs[1]["seed"] == 0].reset_index(drop=True))
    # Seed 1 trained in each directory on its own gives the same accuracies.
    assert list(ours[0][ours[0]["seed"] == 1]["accuracy"]) == list(theirs[0][theirs[0]["seed"] == 1]["accuracy"])
    assert main(["report", str(restored)]) == 0

    again = script("restore_results.py", tmp_path / "published", restored)
    assert again.returncode == 0 and "restored 0 finished cells" in again.stdout and "2 already there" in again.stdout


def test_restoring_into_another_studys_directory_is_refused_in_one_line(tiny_study_yaml, tmp_path):
    original = run_study(load_study_config(tiny_study_yaml({"variants": [{"name": "label_only"}]})),
                         tmp_path / "original", live=False)
    assert main(["report", str(original)]) == 0
    assert script("publish_results.py", original, tmp_path / "published").returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "study.json").write_text(json.dumps({"config_hash": "another"}))

    completed = script("restore_results.py", tmp_path / "published", other)
    assert completed.returncode != 0
    err = completed.stderr.strip()
    assert err.count("\n") == 0 and "config_hash" in err and "Traceback" not in err
    assert not (other / "cells").exists()

    missing = script("restore_results.py", tmp_path / "nothing-here", tmp_path / "dest")
    assert missing.returncode != 0 and "publish_results.py" in missing.stderr and "Traceback" not in missing.stderr


def test_a_damaged_copy_is_refused_in_one_line_naming_what_it_lacks(tiny_study_yaml, tmp_path):
    original = run_study(load_study_config(tiny_study_yaml({"variants": [{"name": "label_only"}]})),
                         tmp_path / "original", live=False)
    assert main(["report", str(original)]) == 0
    published = tmp_path / "published"
    assert script("publish_results.py", original, published).returncode == 0
    metrics = sorted(published.glob("cells/*/eval/label_first/metrics.json"))[0]
    metrics.unlink()

    completed = script("restore_results.py", published, tmp_path / "dest")
    assert completed.returncode != 0
    err = completed.stderr.strip()
    assert err.count("\n") == 0 and str(metrics) in err and "Traceback" not in err
    assert not list((tmp_path / "dest" / "cells").iterdir())

    results = pd.read_csv(published / "results.csv").drop(columns=["final_loss"])
    results.to_csv(published / "results.csv", index=False)
    completed = script("restore_results.py", published, tmp_path / "dest")
    assert completed.returncode != 0 and "final_loss" in completed.stderr and "Traceback" not in completed.stderr


def test_config_seeds_a_new_study_with_the_published_cells_it_shares(tiny_study_yaml, tmp_path):
    original = run_study(load_study_config(tiny_study_yaml({"variants": [{"name": "label_only"},
                                                                          {"name": "cot_after_label"}]})),
                         tmp_path / "original", live=False)
    assert main(["report", str(original)]) == 0
    assert script("publish_results.py", original, tmp_path / "published").returncode == 0
    # The new study keeps label_only and adds a weighted variant: only label_only (and the untrained cell) is shared.
    new_yaml = tiny_study_yaml({"variants": [{"name": "label_only"},
                                             {"name": "cot_after_label", "label": "weighted",
                                              "train": {"rationale_weight": 0.5}}]}, name="new.yaml")
    new_cfg = load_study_config(new_yaml)
    dest = tmp_path / "new"
    completed = script("restore_results.py", tmp_path / "published", dest, "--config", new_yaml)
    assert completed.returncode == 0, completed.stderr
    assert "restored 2 finished cells" in completed.stdout
    assert not (dest / "study.json").exists()
    shared = {p.name: (p / DONE_FILE).stat().st_mtime_ns for p in (dest / "cells").iterdir()}

    run_study(new_cfg, dest, live=False)
    assert {k: (dest / "cells" / k / DONE_FILE).stat().st_mtime_ns for k in shared} == shared
    results = pd.read_parquet(dest / "results.parquet")
    assert set(results["variant"]) == {"untrained", "label_only", "weighted"}
    published = pd.read_csv(tmp_path / "published" / "results.csv", dtype={"cell": str})
    label_only = published[published["variant"] == "label_only"]["accuracy"].tolist()
    assert results[results["variant"] == "label_only"]["accuracy"].tolist() == label_only

    refused = script("restore_results.py", tmp_path / "published", original, "--config", new_yaml)
    assert refused.returncode != 0 and "config_hash" in refused.stderr and "Traceback" not in refused.stderr


def test_a_new_study_goes_on_from_the_shared_copy_and_its_own_partial_copy(tiny_study_yaml, tmp_path):
    """How scripts/csqa_experiments.sh carries an experiment over sessions: each session restores the published
    study's shared cells and the experiment's own published cells, and trains only what neither copy holds."""
    original = run_study(load_study_config(tiny_study_yaml()), tmp_path / "original", live=False)
    assert main(["report", str(original)]) == 0
    assert script("publish_results.py", original, tmp_path / "shared").returncode == 0
    new_yaml = tiny_study_yaml({"variants": [{"name": "label_only"},
                                             {"name": "cot_after_label", "label": "weighted",
                                              "train": {"rationale_weight": 0.5}}],
                                "seeds": [0, 1]}, name="new.yaml")
    new_cfg = load_study_config(new_yaml)

    first_session = tmp_path / "first"
    assert script("restore_results.py", tmp_path / "shared", first_session, "--config", new_yaml).returncode == 0
    run_study(new_cfg, first_session, live=False, only={"variant": ["weighted"], "seed": ["0"]})
    assert main(["report", str(first_session)]) == 0
    assert script("publish_results.py", first_session, tmp_path / "partial").returncode == 0
    published_keys = set(pd.read_csv(tmp_path / "partial" / "results.csv", dtype={"cell": str})["cell"])

    next_session = tmp_path / "next"
    for copy in ("shared", "partial"):
        completed = script("restore_results.py", tmp_path / copy, next_session, "--config", new_yaml)
        assert completed.returncode == 0, completed.stderr
    assert "already there" in completed.stdout
    restored = {p.name: (p / DONE_FILE).stat().st_mtime_ns for p in (next_session / "cells").iterdir()}
    assert set(restored) == published_keys
    run_study(new_cfg, next_session, live=False)
    assert {k: (next_session / "cells" / k / DONE_FILE).stat().st_mtime_ns for k in restored} == restored
    results = pd.read_parquet(next_session / "results.parquet")
    assert sorted(results[results["variant"] == "weighted"]["seed"].tolist()) == [0, 1]
    first = pd.read_parquet(first_session / "results.parquet")
    assert _accuracies(results, "weighted", 0) == _accuracies(first, "weighted", 0)


def _accuracies(results: pd.DataFrame, variant: str, seed: int) -> list[float]:
    return results[(results["variant"] == variant) & (results["seed"] == seed)]["accuracy"].tolist()
