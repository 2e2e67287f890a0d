"""Which rows the paper's findings compare, and pairwise comparisons between any two rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cotdistill.study.analysis import EXPLORATORY, apply_family, compare_rows, finding_pairs


def _results(rows):
    return pd.DataFrame([{"cell": f"{variant}-{mode}-{seed}", "task": "t", "student": "s", "variant": variant,
                          "variant_name": name, "k": k, "seed": seed, "mode": mode, "primary_mode": primary}
                         for variant, name, k, mode, primary in rows for seed in (0, 1)])


ROWS = [
    ("label_only", "label_only", None, "label_first", True),
    ("cot_before_label", "cot_before_label", None, "reasoning_first", True),
    ("cot_before_label", "cot_before_label", None, "label_first", False),
    ("cot_after_label", "cot_after_label", None, "label_first", True),
    ("shuffled_cot_after_label", "shuffled_cot_after_label", None, "label_first", True),
    ("gxi (k=5)", "key_tokens_after_label", 5, "label_first", True),
    ("gxi (k=15)", "key_tokens_after_label", 15, "label_first", True),
    ("random_k_tokens_after_label (k=5)", "random_k_tokens_after_label", 5, "label_first", True),
]


def test_finding_pairs_match_key_tokens_to_random_tokens_of_the_same_k():
    pairs = finding_pairs(_results(ROWS))
    assert ("1: CoT after vs before the label", "cot_after_label", "cot_before_label") in pairs
    # a reasoning-first student read label-first is decided by construction: not in the family
    assert not any("[label-first]" in ref for _, _, ref in pairs)
    assert ("2: shuffled vs coherent CoT after the label", "shuffled_cot_after_label", "cot_after_label") in pairs
    assert ("3: key tokens vs random tokens (same k)", "gxi (k=5)", "random_k_tokens_after_label (k=5)") in pairs
    assert not any(row == "gxi (k=15)" and ref.startswith("random") for _, row, ref in pairs)
    assert ("3: key tokens vs the full CoT", "gxi (k=15)", "cot_after_label") in pairs
    assert all("label_only" not in (row, ref) for _, row, ref in pairs)


def test_compare_rows_pairs_seeds_and_items_and_apply_family_adjusts_only_the_family():
    results = _results(ROWS[:1] + ROWS[3:5])
    predictions = []
    correct = {"label_only": [1, 0, 0, 0, 1, 0], "cot_after_label": [1, 1, 1, 0, 1, 1],
               "shuffled_cot_after_label": [1, 0, 1, 0, 1, 0]}
    for _, r in results.iterrows():
        for i, c in enumerate(correct[r["variant"]]):
            predictions.append({"cell": r["cell"], "mode": r["mode"], "id": f"q{i}", "correct": bool(c)})
    pairs = [("cot_after_label", "label_only"), ("shuffled_cot_after_label", "cot_after_label")]
    table = compare_rows(results, pd.DataFrame(predictions), pairs)
    first = table.iloc[0]
    assert np.isclose(first["difference"], 0.5) and first["seeds"] == 2 and first["n_items"] == 6
    assert first["diff_ci_low"] < first["difference"] < first["diff_ci_high"]
    family = [("2: shuffled", "shuffled_cot_after_label", "cot_after_label")]
    adjusted = apply_family(table, family)
    assert list(adjusted["finding"]) == [EXPLORATORY, "2: shuffled"]
    assert np.isnan(adjusted["p_holm"].iloc[0]) and adjusted["p_holm"].iloc[1] == adjusted["p_value"].iloc[1]
