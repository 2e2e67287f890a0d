"""The report from a fabricated study directory: table, significance, plots, HTML self-contained."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from cotdistill.errors import DataError
from cotdistill.report import write_report


def test_report_has_table_with_all_variants_cis_and_marks(study_dir):
    files = write_report(study_dir)
    md = files.markdown.read_text()
    for row in ("label_only", "cot_before_label", "cot_after_label", "shuffled_cot_after_label",
                "cot_before_label [label-first]", "key_tokens_after_label (k=4)"):
        assert f"| {row} |" in md
    # cot_after_label vs label_only (80% vs 55%) is not in the default family: exploratory, so unmarked
    line = next(ln for ln in md.splitlines() if ln.startswith("| cot_after_label |"))
    assert re.search(r"\d+\.\d ± \d+\.\d \|", line) and "*" not in line
    assert "| exploratory |" in md
    assert "## Teacher audit" in md and "## Provenance" in md and "abc123" in md
    assert "reasoning-first" in md
    # 2 tasks x (4 variants + key tokens at 3 k) x 2 seeds finished, one grid cell not run
    assert "28 of the grid's 29 finished" in md
    assert "training s per cell" in md
    assert "half-width over seeds;" in md  # every row has two seeds: no one-seed note


def test_plots_are_readable_pngs(study_dir):
    files = write_report(study_dir)
    names = sorted(p.name for p in files.plots)
    assert names == ["accuracy.png", "accuracy_vs_k.png", "inference_cost.png"]
    for path in files.plots:
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width >= 400 and img.height >= 300
        assert f"]({path.name})" in files.markdown.read_text()


def test_html_is_self_contained(study_dir):
    files = write_report(study_dir)
    page = files.html.read_text()
    assert page.count("<img") == 3 and page.count('src="data:image/png;base64,') == 3
    assert not re.search(r'src="(?!data:)', page)
    assert '<table class="paper">' in page


def test_without_k_or_audit_those_parts_are_absent(tmp_path, make_study):
    root = make_study(tmp_path / "s", with_k=False, audit=False, seeds=(0,))
    files = write_report(root)
    md = files.markdown.read_text()
    assert "accuracy_vs_k.png" not in md and "Teacher audit" not in md
    # one seed: the CI falls back to the bootstrap over items, so it is still shown
    line = next(ln for ln in md.splitlines() if ln.startswith("| cot_after_label |"))
    assert "± –" not in line
    assert "half-width over seeds (over the items where a row has one seed)" in md


def test_not_a_study_directory(tmp_path):
    with pytest.raises(DataError, match="study.json"):
        write_report(tmp_path)


def test_findings_section_compares_the_paper_pairs(tmp_path, make_study):
    import pandas as pd

    files = write_report(make_study(tmp_path / "study", with_k=True))
    findings = pd.read_csv(files.directory / "findings.csv")
    pairs = set(zip(findings["finding"].str[:1], findings["row"], findings["baseline"]))
    assert ("1", "cot_after_label", "cot_before_label") in pairs
    # a reasoning-first student read label-first is decided by construction: in no family
    assert ("1", "cot_after_label", "cot_before_label [label-first]") not in pairs
    assert ("2", "shuffled_cot_after_label", "cot_after_label") in pairs
    assert ("3", "key_tokens_after_label (k=4)", "cot_after_label") in pairs
    # no random_k rows in this study: no key-vs-random comparison
    assert not findings["baseline"].str.startswith("random_k").any()
    # shuffled (56%) vs coherent (80%) on 2 x 120 paired answers: a large, significant drop
    shuffled = findings[findings["row"] == "shuffled_cot_after_label"].iloc[0]
    assert shuffled["difference"] < -0.15 and shuffled["significance"].startswith("*")
    md = files.markdown.read_text()
    assert "## The declared family: the paper's findings, compared directly" in md
    assert "## Per-seed McNemar (secondary)" in md
    per_seed = pd.read_csv(files.directory / "per_seed_mcnemar.csv")
    assert len(per_seed) == 2 * len(findings) and set(per_seed["seed"]) == {0, 1}
    assert "| 2: shuffled vs coherent CoT after the label |" in md


def test_results_at_chance_are_marked(tmp_path, make_study):
    import pandas as pd

    study = make_study(tmp_path / "study")
    results = pd.read_parquet(study / "results.parquet")
    # label_only is right 55% of the time; with chance at 56% its CI reaches chance, the others' do not
    results.loc[results["variant"] == "label_only", "chance"] = 0.56
    results.to_parquet(study / "results.parquet")
    md = write_report(study).markdown.read_text()
    label_only = next(ln for ln in md.splitlines() if ln.startswith("| label_only |"))
    cot_after = next(ln for ln in md.splitlines() if ln.startswith("| cot_after_label |"))
    assert label_only.count("†") == 2 and "†" not in cot_after
    assert "reaches chance accuracy" in md


def test_k_plot_draws_one_line_per_selector_entry():
    import pandas as pd

    from cotdistill.report.plots import k_series

    rows = ["key_tokens_gxi (k=15)", "key_tokens_gxi (k=5)", "key_tokens_tfidf (k=5)", "random_k_tokens_after_label (k=5)"]
    block = pd.DataFrame({"row": rows, "k": [15, 5, 5, 5]})
    series = k_series(block)
    assert list(series) == ["key_tokens_gxi", "key_tokens_tfidf", "random_k_tokens_after_label"]
    assert list(series["key_tokens_gxi"]["k"]) == [5, 15]


def test_only_and_exclude_restrict_the_report_and_its_tables_to_the_selected_cells(tmp_path, make_study):
    import pandas as pd

    root = make_study(tmp_path / "study", seeds=(0, 1, 2))
    everything = pd.read_parquet(root / "results.parquet")
    files = write_report(root)
    results = pd.read_csv(files.directory / "results.csv")
    assert list(results["cell"]) == list(everything["cell"])
    assert list(results["accuracy"]) == list(everything["accuracy"])

    # Seed 2 of one task is still running: leave out just that slice's seed.
    files = write_report(root, exclude={"task": ["other"], "seed": ["2"]})
    results = pd.read_csv(files.directory / "results.csv")
    assert set(results.loc[results["task"] == "other", "seed"]) == {0, 1}
    assert set(results.loc[results["task"] == "synthetic", "seed"]) == {0, 1, 2}
    predictions = pd.read_parquet(files.directory / "predictions.parquet")
    assert set(predictions["cell"]) == set(results["cell"])
    summary = pd.read_csv(files.directory / "summary.csv")
    assert set(summary.groupby("task")["seeds"].max().items()) == {("other", 2), ("synthetic", 3)}
    assert "selected by --exclude task=other --exclude seed=2" in files.markdown.read_text()

    # A variant matches by its grid label or its registered name, as in `cotdistill study --only`.
    files = write_report(root, only={"variant": ["label_only", "cot_after_label"], "seed": ["0"]})
    results = pd.read_csv(files.directory / "results.csv")
    assert set(zip(results["variant"], results["seed"])) == {("label_only", 0), ("cot_after_label", 0)}


def test_a_selection_that_matches_no_finished_cell_names_the_flag(tmp_path, make_study):
    from cotdistill.errors import ConfigError

    root = make_study(tmp_path / "study")
    with pytest.raises(ConfigError, match="--exclude.*no finished cell has seed '7'"):
        write_report(root, exclude={"seed": ["7"]})
    with pytest.raises(ConfigError, match="--only.*cannot select cells by 'colour'"):
        write_report(root, only={"colour": ["red"]})
    assert not (root / "report").exists()


def test_a_seed_finished_for_only_some_rows_is_named_with_the_flags_that_leave_it_out(tmp_path, make_study):
    import pandas as pd

    root = make_study(tmp_path / "study", seeds=(0, 1))
    assert "Partial seed" not in write_report(root).markdown.read_text()

    # Seed 1 of task "other" has finished for label_only only: its other cells are still running.
    results = pd.read_parquet(root / "results.parquet")
    running = (results["task"] == "other") & (results["seed"] == 1) & (results["variant"] != "label_only")
    results[~running].to_parquet(root / "results.parquet")
    md = write_report(root).markdown.read_text()
    assert "Partial seed: other x tiny seed 1 has finished for only some rows" in md
    assert "`--exclude task=other --exclude student=tiny --exclude seed=1`" in md
    assert "synthetic x tiny seed" not in md
    md = write_report(root, exclude={"task": ["other"], "seed": ["1"]}).markdown.read_text()
    assert "Partial seed" not in md


def test_provenance_counts_the_cells_of_each_library_version_and_cpu(tmp_path, make_study):
    study = make_study(tmp_path / "study", seeds=(0,))
    manifests = sorted((study / "cells").glob("*/manifest.json"))
    for i, path in enumerate(manifests):
        manifest = json.loads(path.read_text())
        manifest["versions"] = {"torch": "2.13.0", "transformers": "5.24.0" if i < 3 else "5.25.0"}
        if i >= 3:
            manifest["host"] = {"hostname": "testhost", "cpu": "Test CPU", "cpu_bf16": ["amx_bf16"]}
        path.write_text(json.dumps(manifest))
    write_report(study)
    text = (study / "report" / "report.md").read_text()
    rest = len(manifests) - 3
    assert f"transformers 5.24.0 (3 cells), 5.25.0 ({rest} cells)" in text
    assert "torch 2.13.0," in text and "torch 2.13.0 (" not in text
    assert f"testhost (3 cells), testhost (Test CPU; bf16: amx_bf16) ({rest} cells)" in text


def test_a_declared_family_is_holm_adjusted_and_marked_the_rest_exploratory(tmp_path, make_study):
    import pandas as pd

    root = make_study(tmp_path / "study")
    study = json.loads((root / "study.json").read_text())
    study["config"] = {"family": [{"finding": "CoT helps", "variant": "cot_after_label",
                                   "reference": "label_only"}]}
    (root / "study.json").write_text(json.dumps(study))
    files = write_report(root)
    comparisons = pd.read_csv(files.directory / "comparisons.csv")
    declared = comparisons[comparisons["finding"] == "CoT helps"]
    assert len(declared) == 2  # one per task, adjusted together
    assert (declared["p_holm"] >= declared["p_value"]).all() and (declared["significance"] == "***").all()
    others = comparisons[comparisons["finding"] == "exploratory"]
    assert others["p_holm"].isna().all() and (others["significance"].fillna("") == "").all()
    md = files.markdown.read_text()
    line = next(ln for ln in md.splitlines() if ln.startswith("| cot_after_label |"))
    assert "***" in line
    assert "< 1e-6" in md  # 80% vs 55% on 240 paired answers: printed no finer than 1e-6
