"""Study statistics against scipy / statsmodels on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_effectsize
from statsmodels.stats.weightstats import DescrStatsW

from cotdistill.study import stats

RNG = np.random.default_rng(1234)
BASELINE = (RNG.random((3, 120)) < 0.55).astype(int)
VARIANT = np.where(RNG.random((3, 120)) < 0.25, 1 - BASELINE, BASELINE)  # flips a quarter of the answers


def test_seed_interval_matches_statsmodels_t_interval():
    accs = [0.61, 0.58, 0.66, 0.63]
    got = stats.seed_interval(accs)
    low, high = DescrStatsW(np.array(accs)).tconfint_mean(alpha=0.05)
    assert got.mean == pytest.approx(np.mean(accs))
    assert (got.low, got.high) == pytest.approx((low, high))


def test_seed_interval_of_one_seed_is_undefined_and_of_equal_seeds_is_a_point():
    assert np.isnan(stats.seed_interval([0.5]).low)
    assert stats.seed_interval([0.5, 0.5]).half_width == 0


def test_item_bootstrap_agrees_with_scipy_bootstrap():
    correct = BASELINE[0]
    got = stats.item_bootstrap_interval(correct, resamples=20000, seed=0)
    ref = sps.bootstrap((correct,), np.mean, method="percentile", n_resamples=20000,
                        random_state=np.random.default_rng(0)).confidence_interval
    assert got.mean == pytest.approx(correct.mean())
    assert got.low == pytest.approx(ref.low, abs=0.01)
    assert got.high == pytest.approx(ref.high, abs=0.01)
    assert got.low < got.mean < got.high


@pytest.mark.parametrize("seed_rows", [1, 3])
def test_mcnemar_exact_matches_statsmodels_and_binomtest(seed_rows):
    a, b = VARIANT[:seed_rows], BASELINE[:seed_rows]
    got = stats.mcnemar_exact(a, b)
    a, b = a.ravel(), b.ravel()
    table = [[np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
             [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))]]
    assert (got.only_variant, got.only_baseline) == (table[0][1], table[1][0])
    assert got.p_value == pytest.approx(mcnemar(table, exact=True).pvalue)
    n = table[0][1] + table[1][0]
    assert got.p_value == pytest.approx(sps.binomtest(min(table[0][1], table[1][0]), n, 0.5).pvalue)


def test_mcnemar_on_a_textbook_table():
    # 2x2 table with discordant counts 25 vs 5: statsmodels exact p = 2 * P(X <= 5 | n=30, 0.5)
    a = np.array([1] * 40 + [1] * 25 + [0] * 5 + [0] * 30)
    b = np.array([1] * 40 + [0] * 25 + [1] * 5 + [0] * 30)
    got = stats.mcnemar_exact(a, b)
    assert got.p_value == pytest.approx(mcnemar([[40, 25], [5, 30]], exact=True).pvalue)
    assert got.p_value == pytest.approx(2 * sps.binom.cdf(5, 30, 0.5))
    assert stats.mcnemar_exact(a, a).p_value == 1.0


def test_paired_bootstrap_difference_interval_and_p_value():
    strong = np.ones((2, 200), dtype=int)
    weak = (np.random.default_rng(0).random((2, 200)) < 0.5).astype(int)
    res = stats.paired_bootstrap(strong, weak, seed=0)
    assert res.difference == pytest.approx(strong.mean() - weak.mean())
    assert 0 < res.low < res.difference < res.high
    assert res.p_value < 0.01
    same = stats.paired_bootstrap(weak, weak, seed=0)
    assert same.difference == 0 and same.p_value == 1.0
    # the CI of a paired difference matches scipy's paired bootstrap of the per-item differences
    diffs = VARIANT.mean(axis=0) - BASELINE.mean(axis=0)
    ref = sps.bootstrap((diffs,), np.mean, method="percentile", n_resamples=20000,
                        random_state=np.random.default_rng(0)).confidence_interval
    got = stats.paired_bootstrap(VARIANT, BASELINE, resamples=20000, seed=0)
    assert (got.low, got.high) == pytest.approx((ref.low, ref.high), abs=0.01)


def test_cohens_h_matches_statsmodels():
    assert stats.cohens_h(0.7, 0.5) == pytest.approx(proportion_effectsize(0.7, 0.5))
    assert stats.cohens_h(0.5, 0.5) == 0


def test_holm_on_fixed_values():
    # Holm by hand: sorted p (0.01, 0.02, 0.04, 0.3) * (4, 3, 2, 1), running max, capped at 1.
    assert stats.holm([0.04, 0.01, 0.3, 0.02]) == pytest.approx([0.08, 0.04, 0.3, 0.06])
    assert stats.holm([]) == []


def test_significance_marks():
    assert [stats.significance_mark(p) for p in (0.0001, 0.005, 0.03, 0.2)] == ["***", "**", "*", ""]


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        stats.mcnemar_exact(np.ones((2, 3)), np.ones((2, 4)))
