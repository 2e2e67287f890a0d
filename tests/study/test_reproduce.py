"""Rerunning one study cell from its manifest (``cotdistill reproduce``)."""

from __future__ import annotations

import json
import shutil

import pytest

from cotdistill.errors import DataError
from cotdistill.study.grid import expand_grid
from cotdistill.study.layout import DONE_FILE
from cotdistill.study.provenance import host_info
from cotdistill.study.reproduce import reproduce_cell, study_config_from_manifest


def _cells(reference):
    """The finished trained cells (the untrained student's eval-only cell has nothing to retrain)."""
    return sorted(p for p in (reference / "cells").iterdir() if (p / DONE_FILE).is_file()
                  and not json.loads((p / "manifest.json").read_text())["config"].get("untrained"))


def test_manifest_rebuilds_a_one_cell_study_with_the_same_key(tiny_study_run):
    _, reference = tiny_study_run
    for cell_dir in _cells(reference):
        manifest = json.loads((cell_dir / "manifest.json").read_text())
        (cell,) = expand_grid(study_config_from_manifest(manifest, source=str(cell_dir / "manifest.json")))
        assert cell.key == cell_dir.name


def test_rerun_of_a_cell_reproduces_its_accuracy(tiny_study_run, tmp_path):
    _, reference = tiny_study_run
    cell_dir = _cells(reference)[0]
    result = reproduce_cell(cell_dir, tmp_path / "rerun")
    assert result.identical and set(result.accuracy) == {"label_first"}
    assert result.rerun_dir == tmp_path / "rerun" / "cells" / cell_dir.name
    recorded = json.loads((cell_dir / "eval" / "label_first" / "predictions.jsonl").read_text().splitlines()[0])
    rerun = json.loads((result.rerun_dir / "eval" / "label_first" / "predictions.jsonl").read_text().splitlines()[0])
    assert recorded == rerun


def test_a_changed_recorded_accuracy_is_reported_as_a_difference(tiny_study_run, tmp_path):
    _, reference = tiny_study_run
    cell_dir = tmp_path / "study" / "cells" / _cells(reference)[0].name
    shutil.copytree(_cells(reference)[0], cell_dir)
    done = json.loads((cell_dir / DONE_FILE).read_text())
    done["accuracy"]["label_first"] += 0.5
    (cell_dir / DONE_FILE).write_text(json.dumps(done))
    result = reproduce_cell(cell_dir, tmp_path / "rerun")
    assert not result.identical


def test_an_edited_manifest_is_refused(tiny_study_run, tmp_path):
    _, reference = tiny_study_run
    cell_dir = tmp_path / "study" / "cells" / _cells(reference)[0].name
    shutil.copytree(_cells(reference)[0], cell_dir)
    manifest = json.loads((cell_dir / "manifest.json").read_text())
    manifest["config"]["train"]["learning_rate"] *= 2
    (cell_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="cell key"):
        reproduce_cell(cell_dir, tmp_path / "rerun")
    assert not (tmp_path / "rerun").exists()


def test_unfinished_cell_and_own_directory_are_refused(tiny_study_run, tmp_path):
    _, reference = tiny_study_run
    cell_dir = tmp_path / "study" / "cells" / _cells(reference)[0].name
    shutil.copytree(_cells(reference)[0], cell_dir)
    with pytest.raises(Exception, match="another directory"):
        reproduce_cell(cell_dir, tmp_path / "study")
    (cell_dir / DONE_FILE).unlink()
    with pytest.raises(DataError, match="not finished"):
        reproduce_cell(cell_dir, tmp_path / "rerun")


def test_reproduce_cli_prints_both_accuracies_and_exits_0(tiny_study_run, tmp_path, capsys):
    from cotdistill.cli.main import main

    _, reference = tiny_study_run
    cell_dir = _cells(reference)[0]
    assert main(["reproduce", str(cell_dir), "-o", str(tmp_path / "rerun")]) == 0
    out = capsys.readouterr().out
    assert "label_first: recorded" in out and "(same)" in out


def test_study_cli_bad_only_flag_is_one_line_exit_2(tiny_study_yaml, tmp_path, capsys):
    from cotdistill.cli.main import main

    out = tmp_path / "out"
    assert main(["study", str(tiny_study_yaml()), "-o", str(out), "--only", "task"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--only" in err and "KEY=VALUE" in err
    assert not out.exists()


def test_a_rerun_under_other_library_versions_or_another_cpu_names_them(tiny_study_run, tmp_path, capsys):
    from cotdistill.cli.main import main

    _, reference = tiny_study_run
    cell_dir = tmp_path / "study" / "cells" / _cells(reference)[0].name
    shutil.copytree(_cells(reference)[0], cell_dir)
    manifest = json.loads((cell_dir / "manifest.json").read_text())
    assert manifest["versions"]["transformers"] and manifest["versions"]["gguf"]
    assert manifest["host"]["cpu"] and isinstance(manifest["host"]["cpu_bf16"], list)
    manifest["versions"]["transformers"] = "4.0.0"
    manifest["versions"]["no-such-library"] = "1.0"
    manifest["host"]["cpu"] = "Another CPU"
    (cell_dir / "manifest.json").write_text(json.dumps(manifest))

    result = reproduce_cell(cell_dir, tmp_path / "rerun")
    assert set(result.environment_changes) == {"transformers", "no-such-library", "cpu"}
    assert result.environment_changes["transformers"][0] == "4.0.0"
    assert result.environment_changes["no-such-library"] == ("1.0", None)
    assert result.environment_changes["cpu"] == ("Another CPU", host_info()["cpu"])
    assert main(["reproduce", str(cell_dir), "-o", str(tmp_path / "rerun2")]) == 0
    out = capsys.readouterr().out
    assert "environment differs" in out and "transformers 4.0.0 -> " in out
    assert "no-such-library 1.0 -> missing" in out and "cpu Another CPU -> " in out

    del manifest["host"]["cpu"]
    (cell_dir / "manifest.json").write_text(json.dumps(manifest))
    changes = reproduce_cell(cell_dir, tmp_path / "rerun3").environment_changes
    assert changes["cpu"] == ("not recorded", host_info()["cpu"])


def test_a_rerun_in_the_recorded_environment_says_nothing_about_it(tiny_study_run, tmp_path, capsys):
    from cotdistill.cli.main import main

    _, reference = tiny_study_run
    assert main(["reproduce", str(_cells(reference)[0]), "-o", str(tmp_path / "rerun")]) == 0
    assert "environment differs" not in capsys.readouterr().out


def test_an_untrained_cell_is_re_evaluated_without_training(tiny_study_run, tmp_path):
    _, reference = tiny_study_run
    (cell_dir,) = [p for p in (reference / "cells").iterdir()
                   if json.loads((p / "manifest.json").read_text())["config"].get("untrained")]
    result = reproduce_cell(cell_dir, tmp_path / "rerun")
    assert result.identical and set(result.accuracy) == {"label_first"}
    assert result.rerun_dir == tmp_path / "rerun" / "cells" / cell_dir.name
    assert [p.name for p in (tmp_path / "rerun" / "cells").iterdir()] == [cell_dir.name]
    assert not list(result.rerun_dir.glob("train/*.safetensors"))
