"""Each direct comparison a published report gives (findings.csv: the declared family) agrees with a recomputation
from its predictions.parquet (docs/results/local-study, and issue 22's experiments beside it) with the question as
the unit and seed-to-seed variance in the error: the two-way (seed x question) mean squares of the paired
differences, from pandas here and from statsmodels' ANOVA for one comparison, give the same interval and p-value.
Skips a study whose published files are absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
FILES = ("findings.csv", "results.csv", "predictions.parquet")
# Published studies whose declared family docs/results.md cites, and how many comparisons each family has.
CITED = {"local-study": 40, "csqa-loss-share": 9, "csqa-content": 8, "csqa-more-data": 4}


@pytest.fixture(scope="module", params=sorted(CITED))
def published(request):
    directory = RESULTS / request.param
    if not all((directory / name).is_file() for name in FILES):
        pytest.skip(f"no published study in {directory}")
    results = pd.read_csv(directory / "results.csv", dtype={"cell": str})
    predictions = pd.read_parquet(directory / "predictions.parquet")
    natural = results[results["primary_mode"].astype(bool)][["cell", "mode"]]
    predictions = predictions.merge(natural, on=["cell", "mode"])  # each variant in its natural mode
    findings = pd.read_csv(directory / "findings.csv")
    assert len(findings) == CITED[request.param], f"{directory}: the family changed size; regenerate results.md"
    return findings, predictions


def differences(predictions: pd.DataFrame, task: str, student: str, row: str, reference: str) -> pd.DataFrame:
    """seed x question table of variant minus reference correctness, on the seeds and questions both have."""
    block = predictions[(predictions["task"] == task) & (predictions["student"] == student)]

    def grid(variant: str) -> pd.DataFrame:
        return block[block["variant"] == variant].pivot(index="seed", columns="id", values="correct").astype(float)

    return (grid(row) - grid(reference)).dropna(axis=0, how="all").dropna(axis=1, how="any")


def mean_squares(d: pd.DataFrame) -> tuple[float, float, float]:
    n_seeds, n_items = d.shape
    grand = d.to_numpy().mean()
    ms_seed = n_items * ((d.mean(axis=1) - grand) ** 2).sum() / (n_seeds - 1)
    ms_item = n_seeds * ((d.mean(axis=0) - grand) ** 2).sum() / (n_items - 1)
    residual = d.sub(d.mean(axis=1), axis=0).sub(d.mean(axis=0), axis=1) + grand
    ms_resid = (residual.to_numpy() ** 2).sum() / ((n_seeds - 1) * (n_items - 1))
    return ms_seed, ms_item, ms_resid


def interval_and_p(d: pd.DataFrame, ms: tuple[float, float, float]) -> tuple[float, float, float]:
    """95% interval and p of the mean difference: variance components truncated at zero, Satterthwaite df."""
    n_seeds, n_items = d.shape
    ms_seed, ms_item, ms_resid = ms
    seed_part = ms_seed if ms_seed > ms_resid else ms_resid
    item_part = ms_item - ms_resid if ms_item > ms_resid else 0.0
    variance = (seed_part + item_part) / (n_seeds * n_items)
    parts = [(seed_part, n_seeds - 1 if ms_seed > ms_resid else (n_seeds - 1) * (n_items - 1))]
    if item_part:
        parts += [(ms_item, n_items - 1), (-ms_resid, (n_seeds - 1) * (n_items - 1))]
    # mean squares that share degrees of freedom are the same mean square (the residual): count it once
    merged: dict[int, float] = {}
    for value, dof in parts:
        merged[dof] = merged.get(dof, 0.0) + value
    df = (seed_part + item_part) ** 2 / sum(v ** 2 / dof for dof, v in merged.items() if v)
    mean, se = d.to_numpy().mean(), np.sqrt(variance)
    half = sps.t.ppf(0.975, df) * se
    return mean - half, mean + half, 2 * sps.t.sf(abs(mean) / se, df)


def test_every_published_direct_comparison_recomputes_from_the_predictions(published):
    findings, predictions = published
    assert (findings["seeds"] == 3).all()
    for f in findings.itertuples():
        d = differences(predictions, f.task, f.student, f.row, f.baseline)
        assert d.shape == (f.seeds, f.n_items), (f.task, f.student, f.row, f.baseline)
        low, high, p = interval_and_p(d, mean_squares(d))
        assert d.to_numpy().mean() == pytest.approx(f.difference, abs=1e-9)
        assert (low, high) == pytest.approx((f.diff_ci_low, f.diff_ci_high), abs=1e-6), (f.task, f.row, f.baseline)
        assert p == pytest.approx(f.p_value, rel=1e-4, abs=1e-9), (f.task, f.student, f.row, f.baseline)
    assert (findings["p_holm"] >= findings["p_value"] - 1e-12).all()


def test_the_mean_squares_match_statsmodels_two_way_anova(published):
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    findings, predictions = published
    f = findings[findings["finding"].str.startswith("2")].iloc[0]
    d = differences(predictions, f["task"], f["student"], f["row"], f["baseline"])
    long = d.stack().rename("d").reset_index()
    table = sm.stats.anova_lm(ols("d ~ C(seed) + C(id)", data=long).fit())
    ms = table["mean_sq"]
    assert mean_squares(d) == pytest.approx((ms["C(seed)"], ms["C(id)"], ms["Residual"]), rel=1e-9)
