"""Which rows the paper's findings compare, and pairwise comparisons between any two rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cotdistill.study.analysis import compare_rows, finding_pairs


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
    assert ("1: CoT after vs before the label", "cot_after_label", "cot_before_label [label-first]") in pairs
    assert ("2: shuffled vs coherent CoT after the label", "shuffled_cot_after_label", "cot_after_label") in pairs
    assert ("3: key tokens vs random tokens (same k)", "gxi (k=5)", "random_k_tokens_after_label (k=5)") in pairs
    assert not any(row == "gxi (k=15)" and ref.startswith("random") for _, row, ref in pairs)
    assert ("3: key tokens vs the full CoT", "gxi (k=15)", "cot_after_label") in pairs
    assert all("label_only" not in (row, ref) for _, row, ref in pairs)


def test_compare_rows_counts_discordant_pairs_on_shared_items():
    results = _results(ROWS[:1] + ROWS[3:4])
    predictions = []
    correct = {"label_only": [1, 0, 0, 0], "cot_after_label": [1, 1, 1, 0]}
    for _, r in results.iterrows():
        for i, c in enumerate(correct[r["variant"]]):
            predictions.append({"cell": r["cell"], "mode": r["mode"], "id": f"q{i}", "correct": bool(c)})
    table = compare_rows(results, pd.DataFrame(predictions), [("cot_after_label", "label_only")], resamples=200)
    (row,) = table.itertuples()
    assert (row.only_variant_correct, row.only_baseline_correct) == (4, 0)
    assert np.isclose(row.difference, 0.5) and row.seeds == 2 and row.n_items == 4
