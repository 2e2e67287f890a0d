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


def test_mcnemar_exact_of_one_seed_matches_statsmodels_and_binomtest():
    a, b = VARIANT[0], BASELINE[0]
    got = stats.mcnemar_exact(a, b)
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
    assert got.p_value == pytest.approx(2 * sps.binom.cdf(5, 30, 0.5))
    assert stats.mcnemar_exact(a, a).p_value == 1.0


def test_crossed_test_of_one_seed_is_the_paired_t_test_over_questions():
    got = stats.crossed_difference_test(VARIANT[0], BASELINE[0])
    ref = sps.ttest_rel(VARIANT[0], BASELINE[0])
    low, high = ref.confidence_interval(0.95)
    assert got.p_value == pytest.approx(ref.pvalue)
    assert (got.low, got.high) == pytest.approx((low, high))
    assert got.df == pytest.approx(119) and np.isnan(got.seed_sd)


def test_crossed_test_matches_a_statsmodels_mixed_model_with_crossed_seed_and_question_effects():
    """On a balanced grid with both variance components positive, REML's estimate and standard error of the mean
    difference equal the moment estimators the test uses."""
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(7)
    seeds, items = 4, 60
    d = (0.1 + rng.normal(0, 0.3, (seeds, 1)) + rng.normal(0, 0.5, (1, items))
         + rng.normal(0, 0.4, (seeds, items)))
    got = stats.crossed_difference_test(d, np.zeros_like(d))
    frame = pd.DataFrame({"d": d.ravel(), "seed": np.repeat(np.arange(seeds), items),
                          "question": np.tile(np.arange(items), seeds), "one": 1})
    fit = smf.mixedlm("d ~ 1", frame, groups="one", re_formula="0",
                      vc_formula={"seed": "0 + C(seed)", "question": "0 + C(question)"}).fit(reml=True)
    assert got.difference == pytest.approx(fit.fe_params["Intercept"])
    assert got.std_error == pytest.approx(fit.bse_fe["Intercept"], rel=1e-3)
    assert got.low < got.difference < got.high and got.seed_sd > 0


def test_crossed_test_carries_seed_variance_that_pooled_mcnemar_ignores():
    # Three seeds whose students differ by a seed-wide shift: the mean difference is mostly training noise.
    rng = np.random.default_rng(3)
    baseline = (rng.random((3, 400)) < 0.5).astype(int)
    variant = baseline.copy()
    for seed, flips in enumerate((40, 0, 20)):  # the variant wins 40, 0 and 20 extra questions per seed
        variant[seed, np.flatnonzero(baseline[seed] == 0)[:flips]] = 1
    crossed = stats.crossed_difference_test(variant, baseline)
    pooled = stats.mcnemar_exact(variant.ravel(), baseline.ravel())
    assert pooled.p_value < 1e-6  # 60 discordant pairs, all one way
    assert crossed.p_value > 0.05 and crossed.df < 3  # three seeds: the seed term has 2 degrees of freedom
    assert crossed.low < 0 < crossed.high


def test_crossed_test_is_calibrated_without_an_effect_and_has_power_with_one():
    """Simulated grids like the study's (3 seeds; questions correlated across seeds; per-student training noise):
    at 0.05 it rejects about 5% of grids without a true effect (300 grids: the band is about 3 binomial
    standard errors wide); scripts/stats_calibration.py runs more grids and settings (docs/study.md)."""
    rng = np.random.default_rng(2024)
    null = [stats.crossed_difference_test(*stats.simulate_paired_grid(rng, items=500, seed_sd=0.1)).p_value
            for _ in range(300)]
    rate = np.mean(np.array(null) < 0.05)
    assert 0.015 <= rate <= 0.10, rate
    planted = [stats.crossed_difference_test(*stats.simulate_paired_grid(rng, items=500, seed_sd=0.1,
                                                                         effect=0.4)).p_value
               for _ in range(100)]
    assert np.mean(np.array(planted) < 0.05) > 0.5


def test_cohens_h_matches_statsmodels():
    assert stats.cohens_h(0.7, 0.5) == pytest.approx(proportion_effectsize(0.7, 0.5))
    assert stats.cohens_h(0.5, 0.5) == 0


def test_holm_on_fixed_values():
    # Holm by hand: sorted p (0.01, 0.02, 0.04, 0.3) * (4, 3, 2, 1), running max, capped at 1.
    assert stats.holm([0.04, 0.01, 0.3, 0.02]) == pytest.approx([0.08, 0.04, 0.3, 0.06])
    assert stats.holm([]) == []


def test_significance_marks():
    assert [stats.significance_mark(p) for p in (0.0001, 0.005, 0.03, 0.2)] == ["***", "**", "*", ""]
    assert stats.significance_mark(float("nan")) == ""


def test_p_values_are_printed_no_finer_than_one_in_a_million():
    assert stats.format_p(3e-9) == "< 1e-6" and stats.format_p(0.0) == "< 1e-6"
    assert stats.format_p(0.0312) == "0.031" and stats.format_p(1e-6) == "1e-06"
    assert stats.format_p(float("nan")) == "–"


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        stats.crossed_difference_test(np.ones((2, 3)), np.ones((2, 4)))
