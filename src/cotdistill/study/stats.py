"""Statistics of a study: confidence intervals per cell and paired tests of each variant against a baseline.

Inputs are 0/1 correctness arrays shaped ``(n_seeds, n_items)``: row ``s`` holds one trained student's
answers on the evaluation items, columns are the same items in the same order for every variant (the caller
aligns them by example id). Two kinds of uncertainty are reported, as in the paper's tables:

* over seeds: mean accuracy of the seeds and a t-interval (training randomness);
* over items: a percentile bootstrap that resamples items (evaluation-set sampling).

A variant is compared with the baseline on the same items and seeds: McNemar's exact test on the discordant
(seed, item) pairs, a paired bootstrap of the accuracy difference, Cohen's h as effect size, and Holm's
step-down correction across all comparisons of a study.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


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


def seed_interval(accuracies, confidence: float = CONFIDENCE) -> Interval:
    """Mean over seeds and its Student-t interval; with one seed the interval is undefined (NaN)."""
    values = np.asarray(accuracies, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return Interval(mean, float("nan"), float("nan"))
    sem = float(values.std(ddof=1) / np.sqrt(values.size))
    if sem == 0.0:
        return Interval(mean, mean, mean)
    low, high = sps.t.interval(confidence, df=values.size - 1, loc=mean, scale=sem)
    return Interval(mean, float(low), float(high))


def item_bootstrap_interval(correct, *, confidence: float = CONFIDENCE, resamples: int = BOOTSTRAP_RESAMPLES,
                            seed: int = 0) -> Interval:
    """Percentile bootstrap over items of the seed-averaged accuracy."""
    matrix = _as_matrix(correct)
    per_item = matrix.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, per_item.size, size=(resamples, per_item.size))
    boot = per_item[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return Interval(float(per_item.mean()), float(low), float(high))


@dataclass(frozen=True)
class McNemarResult:
    only_variant: int  # (seed, item) pairs the variant got right and the baseline wrong
    only_baseline: int
    p_value: float


def mcnemar_exact(variant_correct, baseline_correct) -> McNemarResult:
    """McNemar's exact (binomial) test on the discordant (seed, item) pairs, two-sided."""
    a, b = _as_matrix(variant_correct), _as_matrix(baseline_correct)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    only_a = int(np.sum((a == 1) & (b == 0)))
    only_b = int(np.sum((a == 0) & (b == 1)))
    n = only_a + only_b
    p = 1.0 if n == 0 else float(sps.binomtest(min(only_a, only_b), n, 0.5, alternative="two-sided").pvalue)
    return McNemarResult(only_a, only_b, min(p, 1.0))


@dataclass(frozen=True)
class PairedBootstrapResult:
    difference: float  # variant accuracy minus baseline accuracy
    low: float
    high: float
    p_value: float  # two-sided: how often the resampled difference falls on the other side of zero


def paired_bootstrap(variant_correct, baseline_correct, *, confidence: float = CONFIDENCE,
                     resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> PairedBootstrapResult:
    """Bootstrap over items (the same resampled items for both) of the seed-averaged accuracy difference."""
    a, b = _as_matrix(variant_correct), _as_matrix(baseline_correct)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    per_item_diff = a.mean(axis=0) - b.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, per_item_diff.size, size=(resamples, per_item_diff.size))
    boot = per_item_diff[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    observed = float(per_item_diff.mean())
    if observed == 0.0:
        p = 1.0
    else:
        # Proportion of resamples at or beyond zero on the far side, doubled, with the +1 correction that keeps
        # a bootstrap p-value away from an impossible 0.
        far = np.sum(boot <= 0) if observed > 0 else np.sum(boot >= 0)
        p = min(1.0, 2 * (far + 1) / (resamples + 1))
    return PairedBootstrapResult(observed, float(low), float(high), float(p))


def cohens_h(p_variant: float, p_baseline: float) -> float:
    """Cohen's h, the effect size of a difference of two proportions: 2 asin sqrt(p1) - 2 asin sqrt(p2)."""
    return float(2 * np.arcsin(np.sqrt(p_variant)) - 2 * np.arcsin(np.sqrt(p_baseline)))


def holm(p_values) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the order given."""
    from statsmodels.stats.multitest import multipletests

    values = list(p_values)
    if not values:
        return []
    return [float(p) for p in multipletests(values, method="holm")[1]]


def significance_mark(adjusted_p: float) -> str:
    """Marks used in the report's table (after Holm correction)."""
    if adjusted_p < 0.001:
        return "***"
    if adjusted_p < 0.01:
        return "**"
    if adjusted_p < 0.05:
        return "*"
    return ""
