"""Statistics of a study: intervals per row and paired tests of one row against another.

Inputs are 0/1 correctness arrays shaped ``(n_seeds, n_items)``: row ``s`` holds one trained student's answers on
the evaluation items, columns are the same items in the same order for every variant (the caller aligns them by
example id and pairs the seeds). Uncertainty per row, as in the paper's tables:

* over seeds: mean accuracy of the seeds and a t-interval (training randomness);
* over items: a percentile bootstrap (scipy) that resamples items (evaluation-set sampling).

Two variants are compared by :func:`crossed_difference_test`: the per-(seed, question) differences
``d[s, q] = variant[s, q] - baseline[s, q]`` are modelled as ``mu + seed_s + question_q + residual`` with crossed
random effects, so the question is the unit (its three seeds are not three independent pairs) and the
seed-to-seed variance of training is part of the noise. The p-value and the interval both come from the same
t statistic. McNemar's exact test per seed (statsmodels) is kept as a secondary view: it conditions on the trained
students and so says nothing about training noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
#: p-values below this are printed as "< 1e-6": three seeds and about a thousand questions do not carry more.
SMALLEST_PRINTED_P = 1e-6


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def _as_matrix(correct) -> np.ndarray:
    arr = np.asarray(correct, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"expected a (seeds, items) array with at least one item, got shape {arr.shape}")
    return arr


def _paired(variant_correct, baseline_correct) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_matrix(variant_correct), _as_matrix(baseline_correct)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    return a, b


def seed_interval(accuracies, confidence: float = CONFIDENCE) -> Interval:
    """Mean over seeds and its Student-t interval; with one seed the interval is undefined (NaN)."""
    values = np.asarray(accuracies, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return Interval(mean, float("nan"), float("nan"))
    if np.all(values == values[0]):
        return Interval(mean, mean, mean)
    low, high = sps.ttest_1samp(values, 0.0).confidence_interval(confidence)
    return Interval(mean, float(low), float(high))


def item_bootstrap_interval(correct, *, confidence: float = CONFIDENCE, resamples: int = BOOTSTRAP_RESAMPLES,
                            seed: int = 0) -> Interval:
    """Percentile bootstrap over items of the seed-averaged accuracy (scipy.stats.bootstrap)."""
    per_item = _as_matrix(correct).mean(axis=0)
    mean = float(per_item.mean())
    if np.all(per_item == per_item[0]):  # every resample is the same: the interval is a point
        return Interval(mean, mean, mean)
    ci = sps.bootstrap((per_item,), np.mean, confidence_level=confidence, n_resamples=resamples,
                       method="percentile", random_state=np.random.default_rng(seed)).confidence_interval
    return Interval(mean, float(ci.low), float(ci.high))


@dataclass(frozen=True)
class PairedDifference:
    """Variant minus baseline accuracy with its interval and two-sided p-value from one t statistic."""

    difference: float
    low: float
    high: float
    p_value: float
    std_error: float
    df: float
    seed_sd: float  # seed-to-seed standard deviation of the difference (training noise); NaN with one seed
    question_sd: float  # question-to-question standard deviation of the seed-averaged difference
    seeds: int
    items: int


def crossed_difference_test(variant_correct, baseline_correct, *,
                            confidence: float = CONFIDENCE) -> PairedDifference:
    """Paired comparison with the question as the unit and training noise in the error.

    The differences ``d[s, q]`` follow ``mu + seed_s + question_q + e_sq`` with independent random seed,
    question and residual effects (a linear mixed model with crossed random effects). The design is balanced, so
    REML's variance components are the two-way ANOVA moment estimators (truncated at zero) and the estimate of
    ``mu`` is the mean difference, with variance ``var_seed / S + var_question / Q + var_residual / (S Q)``. That
    variance is a linear combination of the three mean squares; its degrees of freedom are Satterthwaite's, so
    with three seeds a real seed-to-seed spread leaves few degrees of freedom, as it should. With one seed the
    seed variance cannot be estimated and the test is the paired t-test over questions.
    """
    a, b = _paired(variant_correct, baseline_correct)
    d = a - b
    n_seeds, n_items = d.shape
    mean = float(d.mean())
    if n_seeds == 1:
        per_item = d[0]
        ms_terms = [(1.0 / n_items, float(per_item.var(ddof=1)) if n_items > 1 else 0.0, n_items - 1)]
        seed_sd, question_sd = float("nan"), float(np.sqrt(ms_terms[0][1]))
    else:
        seed_means, item_means = d.mean(axis=1), d.mean(axis=0)
        ms_seed = n_items * float(np.sum((seed_means - mean) ** 2)) / (n_seeds - 1)
        ms_item = n_seeds * float(np.sum((item_means - mean) ** 2)) / (n_items - 1) if n_items > 1 else 0.0
        residual = d - seed_means[:, None] - item_means[None, :] + mean
        df_resid = (n_seeds - 1) * (n_items - 1)
        ms_resid = float(np.sum(residual ** 2)) / df_resid if df_resid else 0.0
        var_seed = max(0.0, (ms_seed - ms_resid) / n_items)
        var_item = max(0.0, (ms_item - ms_resid) / n_seeds)
        seed_sd, question_sd = float(np.sqrt(var_seed)), float(np.sqrt(var_item + ms_resid / n_seeds))
        # var(mean) = var_seed/S + var_item/Q + ms_resid/(SQ), as coefficients of the mean squares; a component
        # truncated at zero drops its mean square and the residual term it would have cancelled.
        scale = 1.0 / (n_seeds * n_items)
        ms_terms = [(scale, ms_resid, df_resid)]
        if var_seed > 0:
            ms_terms += [(scale, ms_seed, n_seeds - 1), (-scale, ms_resid, df_resid)]
        if var_item > 0:
            ms_terms += [(scale, ms_item, n_items - 1), (-scale, ms_resid, df_resid)]
        ms_terms = _merge_terms(ms_terms)
    variance = sum(c * ms for c, ms, _ in ms_terms)
    if variance <= 0:  # every pair agrees (or one constant shift): no spread to test against
        p = 1.0 if mean == 0 else 0.0
        return PairedDifference(mean, mean, mean, p, 0.0, float("inf"), seed_sd, question_sd, n_seeds, n_items)
    df = variance ** 2 / sum((c * ms) ** 2 / dof for c, ms, dof in ms_terms if dof > 0)
    std_error = float(np.sqrt(variance))
    t = sps.t(df)
    p = float(2 * t.sf(abs(mean) / std_error))
    half = float(t.ppf(0.5 + confidence / 2)) * std_error
    return PairedDifference(mean, mean - half, mean + half, min(p, 1.0), std_error, float(df), seed_sd,
                            question_sd, n_seeds, n_items)


def _merge_terms(terms: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Sum the coefficients of the same mean square (Satterthwaite counts each mean square once)."""
    merged: dict[tuple[float, int], float] = {}
    for coefficient, ms, dof in terms:
        merged[(ms, dof)] = merged.get((ms, dof), 0.0) + coefficient
    return [(c, ms, dof) for (ms, dof), c in merged.items() if c != 0]


@dataclass(frozen=True)
class McNemarResult:
    only_variant: int  # items the variant got right and the baseline wrong
    only_baseline: int
    p_value: float


def mcnemar_exact(variant_correct, baseline_correct) -> McNemarResult:
    """McNemar's exact test (statsmodels) of one trained pair on its discordant items, two-sided.

    Pass one seed: pooling the (seed, item) pairs of several seeds treats a question seen by three students as
    three independent questions."""
    from statsmodels.stats.contingency_tables import mcnemar

    a, b = _paired(variant_correct, baseline_correct)
    both = int(np.sum((a == 1) & (b == 1)))
    only_a = int(np.sum((a == 1) & (b == 0)))
    only_b = int(np.sum((a == 0) & (b == 1)))
    neither = int(np.sum((a == 0) & (b == 0)))
    p = 1.0 if only_a + only_b == 0 else float(mcnemar([[both, only_a], [only_b, neither]], exact=True).pvalue)
    return McNemarResult(only_a, only_b, min(p, 1.0))


def cohens_h(p_variant: float, p_baseline: float) -> float:
    """Cohen's h, the effect size of a difference of two proportions (statsmodels' proportion_effectsize)."""
    from statsmodels.stats.proportion import proportion_effectsize

    return float(proportion_effectsize(p_variant, p_baseline))


def holm(p_values) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the order given."""
    from statsmodels.stats.multitest import multipletests

    values = list(p_values)
    if not values:
        return []
    return [float(p) for p in multipletests(values, method="holm")[1]]


def format_p(p: float) -> str:
    """A p-value for tables and prose: two significant digits, never below 1e-6 (printed "< 1e-6"); "–" when
    there is none (an exploratory comparison has no adjusted p)."""
    if p is None or np.isnan(p):
        return "–"
    if p < SMALLEST_PRINTED_P:
        return "< 1e-6"
    return f"{p:.2g}"


def significance_mark(p: float) -> str:
    """Marks used in the report's tables (on the Holm-adjusted p within the declared family)."""
    if p is None or np.isnan(p):
        return ""
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return ""


def simulate_paired_grid(rng: np.random.Generator, *, seeds: int = 3, items: int = 1000, effect: float = 0.0,
                         question_sd: float = 0.7, seed_sd: float = 0.1, noise_sd: float = 0.5,
                         difficulty_sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic (variant, baseline) pair of (seeds, items) 0/1 grids for checking the tests' calibration.

    On the logit scale every question has a difficulty shared by both variants and, per variant, an effect shared
    by its seeds (so the per-question differences correlate across seeds, as the study's do); every trained
    student (variant x seed) shifts all its answers by its own training noise (``seed_sd``) and each answer by
    ``noise_sd``. ``effect`` is the variant's true gain in logits (0: no true difference)."""
    from scipy.special import expit

    difficulty = rng.normal(0.0, difficulty_sd, items)

    def answers(shift: float) -> np.ndarray:
        logits = (difficulty + rng.normal(0.0, question_sd, items)[None, :] + rng.normal(0.0, seed_sd, (seeds, 1))
                  + rng.normal(0.0, noise_sd, (seeds, items)) + shift)
        return (rng.random((seeds, items)) < expit(logits)).astype(int)

    return answers(effect), answers(0.0)
