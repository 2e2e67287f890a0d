"""From a study's results tables to per-row summaries and paired comparisons of rows.

The results table has one row per (cell, mode): a cell is one (task, student, variant, seed) training run,
evaluated in one or two modes. A *row* of the paper-style table is a (variant, mode) pair -- the variant in
its natural mode (label-first for answer-first variants, reasoning-first otherwise) is labelled with the
variant alone, a variant evaluated in another mode gets the mode in brackets. Summaries and comparisons
are per (task, student, row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cotdistill.study import stats

#: Columns of ``results.parquet`` / ``results.csv`` (one row per cell and evaluation mode).
RESULT_COLUMNS = [
    "cell", "task", "student", "variant", "variant_name", "k", "seed", "mode", "primary_mode", "is_baseline",
    "accuracy", "n", "chance", "format_compliance", "mean_tokens_generated", "seconds_per_answer",
    "train_seconds", "eval_seconds", "final_loss", "target_tokens",
]
#: Columns of ``predictions.parquet`` (one row per cell, mode and evaluation example).
PREDICTION_COLUMNS = ["cell", "task", "student", "variant", "seed", "mode", "id", "gold", "pred", "correct"]

MODE_NAMES = {"label_first": "label-first", "reasoning_first": "reasoning-first"}


def row_label(variant: str, mode: str, primary_mode: bool) -> str:
    return variant if primary_mode else f"{variant} [{MODE_NAMES.get(mode, mode)}]"


def with_row_labels(results: pd.DataFrame) -> pd.DataFrame:
    out = results.copy()
    out["row"] = [row_label(v, m, bool(p)) for v, m, p in zip(out["variant"], out["mode"], out["primary_mode"])]
    return out


class PredictionIndex:
    """Per (cell, mode): which evaluation items the student got right, by example id."""

    def __init__(self, predictions: pd.DataFrame):
        self._by_key = {key: dict(zip(group["id"], group["correct"].astype(bool)))
                        for key, group in predictions.groupby(["cell", "mode"], sort=False)}

    def items(self, keys: list[tuple[str, str]]) -> list[str]:
        """Ids evaluated under every key (reasoning-first may run on a subset)."""
        return sorted(set.intersection(*(set(self._by_key[k]) for k in keys)))

    def matrix(self, keys: list[tuple[str, str]], item_ids: list[str]) -> np.ndarray:
        """(len(keys) x items) 0/1 matrix; keys are one (cell, mode) per seed, in seed order."""
        return np.array([[int(self._by_key[k][i]) for i in item_ids] for k in keys], dtype=int)


def _keys(group: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(group["cell"], group["mode"]))


def summarize(results: pd.DataFrame, predictions: pd.DataFrame, *, resamples: int = stats.BOOTSTRAP_RESAMPLES,
              confidence: float = stats.CONFIDENCE) -> pd.DataFrame:
    """One row per (task, student, row): mean accuracy, seed CI, item-bootstrap CI, costs."""
    results = with_row_labels(results)
    index = PredictionIndex(predictions)
    records = []
    for (task, student, row), group in results.groupby(["task", "student", "row"], sort=False):
        group = group.sort_values("seed")
        seed_ci = stats.seed_interval(group["accuracy"].to_numpy(), confidence)
        keys = _keys(group)
        items = index.items(keys)
        item_ci = stats.item_bootstrap_interval(index.matrix(keys, items), confidence=confidence,
                                                resamples=resamples)
        first = group.iloc[0]
        records.append({
            "task": task, "student": student, "row": row, "variant": first["variant"],
            "variant_name": first["variant_name"], "k": first["k"], "mode": first["mode"],
            "primary_mode": bool(first["primary_mode"]), "is_baseline": bool(first["is_baseline"]),
            "seeds": int(len(group)), "n_items": int(len(items)),
            "accuracy": seed_ci.mean, "seed_ci_low": seed_ci.low, "seed_ci_high": seed_ci.high,
            "item_ci_low": item_ci.low, "item_ci_high": item_ci.high,
            "chance": float(group["chance"].mean()),
            "format_compliance": _mean_or_nan(group["format_compliance"]),
            "mean_tokens_generated": _mean_or_nan(group["mean_tokens_generated"]),
            "seconds_per_answer": _mean_or_nan(group["seconds_per_answer"]),
            "train_seconds": _mean_or_nan(group["train_seconds"]),
            "eval_seconds": _mean_or_nan(group["eval_seconds"]),
        })
    table = pd.DataFrame.from_records(records)
    # Grid order (tasks, students, variants as configured), each variant's natural mode first.
    first_seen = {col: {v: i for i, v in enumerate(dict.fromkeys(results[col]))}
                  for col in ("task", "student", "variant")}
    table["_order"] = [(first_seen["task"][t], first_seen["student"][s], first_seen["variant"][v], not p)
                       for t, s, v, p in zip(table["task"], table["student"], table["variant"],
                                             table["primary_mode"])]
    table = table.sort_values("_order", kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def baseline_pairs(results: pd.DataFrame, baseline: str) -> list[tuple[str, str]]:
    """(row, baseline) for every row of the results but the baseline itself."""
    rows = [row_label(v, m, bool(p)) for v, m, p in zip(results["variant"], results["mode"], results["primary_mode"])]
    return [(row, baseline) for row in dict.fromkeys(rows) if row != baseline]


#: Registered names of the variants the paper's findings compare (see :func:`finding_pairs`).
_COT_AFTER, _COT_BEFORE, _SHUFFLED = "cot_after_label", "cot_before_label", "shuffled_cot_after_label"
_KEY_TOKENS, _RANDOM_K = "key_tokens_after_label", "random_k_tokens_after_label"
FINDING_1 = "1: CoT after vs before the label"
FINDING_2 = "2: shuffled vs coherent CoT after the label"
FINDING_3_RANDOM = "3: key tokens vs random tokens (same k)"
FINDING_3_FULL = "3: key tokens vs the full CoT"
#: The label of a comparison outside the declared family: reported unadjusted.
EXPLORATORY = "exploratory"


def finding_pairs(results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(finding, row, reference row) for the comparisons the paper's three findings rest on, among the rows the
    results have, each variant in its natural evaluation mode: CoT after vs before the label; shuffled vs
    coherent CoT after the label; each key-token row vs random tokens at the same k and vs the full CoT. This is
    the default Holm family of a study. A variant read in another mode (cot_before_label read label-first) is
    left out: that comparison is decided by construction, not by training."""
    labelled = with_row_labels(results)
    rows = labelled[labelled["primary_mode"].astype(bool)].drop_duplicates("row")
    by_name: dict[str, list[pd.Series]] = {}
    for _, r in rows.iterrows():
        by_name.setdefault(r["variant_name"], []).append(r)
    pairs: list[tuple[str, str, str]] = []
    after = [r["row"] for r in by_name.get(_COT_AFTER, [])]
    for a in after:
        for b in by_name.get(_COT_BEFORE, []):
            pairs.append((FINDING_1, a, b["row"]))
        for s in by_name.get(_SHUFFLED, []):
            pairs.append((FINDING_2, s["row"], a))
    randoms = by_name.get(_RANDOM_K, [])
    for key in by_name.get(_KEY_TOKENS, []):
        for rnd in randoms:
            if rnd["k"] == key["k"]:
                pairs.append((FINDING_3_RANDOM, key["row"], rnd["row"]))
        for a in after:
            pairs.append((FINDING_3_FULL, key["row"], a))
    return pairs


def _aligned(block: pd.DataFrame, index: PredictionIndex, row: str, reference: str):
    """The two rows' 0/1 matrices on the seeds both have (paired by seed) and the items both were evaluated on."""
    base = block[block["row"] == reference]
    base_by_seed = dict(zip(base["seed"], _keys(base)))
    group = block[(block["row"] == row) & block["seed"].isin(base_by_seed)].sort_values("seed")
    if group.empty:
        return None
    variant_keys = _keys(group)
    base_keys = [base_by_seed[s] for s in group["seed"]]
    items = index.items(variant_keys + base_keys)
    return list(group["seed"]), index.matrix(variant_keys, items), index.matrix(base_keys, items)


def _aligned_pairs(results: pd.DataFrame, predictions: pd.DataFrame, pairs: list[tuple[str, str]]):
    """``(task, student, row, reference, seeds, row matrix, reference matrix)`` for each pair present in each
    (task, student): the 0/1 matrices on the seeds both rows have and the items both were evaluated on."""
    results = with_row_labels(results)
    index = PredictionIndex(predictions)
    for (task, student), block in results.groupby(["task", "student"], sort=False):
        for row, reference in pairs:
            aligned = _aligned(block, index, row, reference)
            if aligned is not None:
                yield (task, student, row, reference, *aligned)


def compare_rows(results: pd.DataFrame, predictions: pd.DataFrame, pairs: list[tuple[str, str]], *,
                 confidence: float = stats.CONFIDENCE) -> pd.DataFrame:
    """Each (row, reference row) pair within every (task, student), on the seeds both have (paired by seed) and
    the items both were evaluated on: the difference with its interval and p-value from
    :func:`stats.crossed_difference_test` (question the unit, seed-to-seed variance in the noise) and Cohen's h.
    Unadjusted: :func:`apply_family` adds the Holm-adjusted p of the declared family. The reference row is in
    column ``baseline``."""
    records = []
    for task, student, row, reference, _, variant_matrix, base_matrix in _aligned_pairs(results, predictions, pairs):
        test = stats.crossed_difference_test(variant_matrix, base_matrix, confidence=confidence)
        records.append({
            "task": task, "student": student, "row": row, "baseline": reference, "seeds": test.seeds,
            "n_items": test.items, "variant_accuracy": float(variant_matrix.mean()),
            "baseline_accuracy": float(base_matrix.mean()), "difference": test.difference,
            "diff_ci_low": test.low, "diff_ci_high": test.high, "p_value": test.p_value,
            "std_error": test.std_error, "df": test.df, "seed_sd": test.seed_sd,
            "question_sd": test.question_sd,
            "cohens_h": stats.cohens_h(float(variant_matrix.mean()), float(base_matrix.mean())),
        })
    return pd.DataFrame.from_records(records)


def apply_family(table: pd.DataFrame, family: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Label each comparison with its finding when (row, reference) is in the declared family, else
    ``exploratory``; Holm-adjust the p-values of the family's comparisons together (every task and student) and
    leave the exploratory ones unadjusted (``p_holm`` NaN). Marks are on the adjusted p."""
    out = table.copy()
    if out.empty:
        return out
    finding = {(row, ref): name for name, row, ref in family}
    out.insert(0, "finding", [finding.get((r, b), EXPLORATORY) for r, b in zip(out["row"], out["baseline"])])
    in_family = out["finding"] != EXPLORATORY
    out["p_holm"] = float("nan")
    out.loc[in_family, "p_holm"] = stats.holm(out.loc[in_family, "p_value"])
    out["significance"] = [stats.significance_mark(p) for p in out["p_holm"]]
    return out


def per_seed_mcnemar(results: pd.DataFrame, predictions: pd.DataFrame,
                     pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Secondary view: McNemar's exact test of each pair within each seed (one trained student against one),
    unadjusted. It conditions on the trained students, so training noise is in none of these p-values."""
    records = []
    for task, student, row, reference, seeds, variant_matrix, base_matrix in _aligned_pairs(results, predictions,
                                                                                            pairs):
        for seed, variant_row, base_row in zip(seeds, variant_matrix, base_matrix):
            test = stats.mcnemar_exact(variant_row, base_row)
            records.append({"task": task, "student": student, "row": row, "baseline": reference,
                            "seed": int(seed), "n_items": int(variant_row.size),
                            "difference": float(variant_row.mean() - base_row.mean()),
                            "only_variant_correct": test.only_variant,
                            "only_baseline_correct": test.only_baseline, "mcnemar_p": test.p_value})
    return pd.DataFrame.from_records(records)


def _mean_or_nan(series: pd.Series) -> float:
    values = pd.to_numeric(series, errors="coerce").dropna()
    return float(values.mean()) if len(values) else float("nan")


def cheapest_keeping_accuracy(summary: pd.DataFrame) -> pd.DataFrame:
    """Per task: the (student, row) answering fastest whose seed CI still reaches the best mean accuracy.

    "Keeps the accuracy" is read as "not distinguishable from the best by its 95% CI over seeds" (the item CI
    when a row has a single seed); cost is measured seconds per answer.
    """
    records = []
    for task, block in summary.groupby("task", sort=False):
        block = block[block["seconds_per_answer"].notna()]
        if block.empty:
            continue
        best = block.loc[block["accuracy"].idxmax()]
        reach = block["seed_ci_high"].where(block["seed_ci_high"].notna(), block["item_ci_high"])
        keeping = block[reach >= best["accuracy"]]
        pick = keeping.loc[keeping["seconds_per_answer"].idxmin()]
        records.append({"task": task, "student": pick["student"], "row": pick["row"],
                        "accuracy": pick["accuracy"], "seconds_per_answer": pick["seconds_per_answer"],
                        "best_student": best["student"], "best_row": best["row"], "best_accuracy": best["accuracy"],
                        "best_seconds_per_answer": best["seconds_per_answer"]})
    return pd.DataFrame.from_records(records)
