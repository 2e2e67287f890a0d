"""`cotdistill report --only/--exclude` then scripts/publish_results.py: the copy holds just the reported cells."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from cotdistill.cli.main import main

PUBLISH = Path(__file__).resolve().parents[2] / "scripts" / "publish_results.py"


def publish(study: Path, dest: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PUBLISH), str(study), str(dest)], capture_output=True, text=True,
                          check=False)


def test_publish_copies_only_the_cells_of_the_report(tmp_path, make_study):
    study = make_study(tmp_path / "study", seeds=(0, 1))
    assert main(["report", str(study), "--exclude", "task=other", "--exclude", "seed=1"]) == 0
    # A cell that finishes after the report was written is not in it, so it is not published either.
    late = study / "cells" / "late-cell"
    late.mkdir()
    (late / "manifest.json").write_text(json.dumps({"status": "done"}))
    (late / "DONE").write_text("{}")

    completed = publish(study, tmp_path / "published")
    assert completed.returncode == 0, completed.stderr
    dest = tmp_path / "published"
    results = pd.read_csv(dest / "results.csv")
    reported = set(results["cell"])
    assert ("other", 1) not in set(zip(results["task"], results["seed"]))
    assert {p.name for p in (dest / "cells").iterdir()} == reported
    assert set(pd.read_parquet(dest / "predictions.parquet")["cell"]) == reported
    assert (dest / "report.md").is_file() and (dest / "accuracy.png").is_file()


def test_publish_without_a_report_says_what_to_run(tmp_path, make_study):
    study = make_study(tmp_path / "study")
    completed = publish(study, tmp_path / "published")
    assert completed.returncode != 0
    assert "cotdistill report" in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "published").exists()


def test_a_malformed_exclude_names_the_flag_in_one_line(tmp_path, make_study, capsys):
    study = make_study(tmp_path / "study")
    assert main(["report", str(study), "--exclude", "seed"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--exclude" in err and "KEY=VALUE" in err
