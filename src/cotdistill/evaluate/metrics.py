"""Metrics by name, computed from per-example predictions.

A metric is a function of the prediction records of one evaluation (see ``label_first`` and
``reasoning_first`` for their fields) and declares the modes it applies to. Register new ones with
``@register_metric("name", modes=(...), description=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cotdistill.evaluate.config import EVAL_MODES
from cotdistill.registry import Registry

Predictions = Sequence[dict]


@dataclass(frozen=True)
class Metric:
    name: str
    modes: tuple[str, ...]
    description: str
    compute: Callable[[Predictions], float | None]


METRICS: Registry[Metric] = Registry("metric")


def register_metric(name: str, *, modes: tuple[str, ...] = EVAL_MODES, description: str):
    def add(fn: Callable[[Predictions], float | None]) -> Callable[[Predictions], float | None]:
        METRICS.register(name)(Metric(name, modes, description, fn))
        return fn

    return add


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@register_metric("accuracy", description="Fraction of labeled examples answered correctly (for reasoning-first, "
                                         "an answer whose label cannot be extracted counts as wrong).")
def accuracy(predictions: Predictions) -> float | None:
    return _mean([float(p["correct"]) for p in predictions if p["correct"] is not None])


@register_metric("acc_norm", modes=("label_first",),
                 description="Accuracy when choices are ranked by length-normalised log-probability "
                             "(lm-evaluation-harness acc_norm).")
def acc_norm(predictions: Predictions) -> float | None:
    return _mean([float(p["correct_norm"]) for p in predictions if p["correct_norm"] is not None])


@register_metric("format_compliance", modes=("reasoning_first",),
                 description="Fraction of outputs from which a label could be extracted (strictly or flexibly).")
def format_compliance(predictions: Predictions) -> float | None:
    return _mean([float(p["pred"] is not None) for p in predictions])


@register_metric("strict_compliance", modes=("reasoning_first",),
                 description="Fraction of outputs that state the answer in the trained form "
                             "('So the answer is ...').")
def strict_compliance(predictions: Predictions) -> float | None:
    return _mean([float(p["how"] == "strict") for p in predictions])


@register_metric("mean_tokens_generated", description="Mean number of tokens generated per question "
                                                      "(EOS included; 0 for label-first).")
def mean_tokens_generated(predictions: Predictions) -> float | None:
    return _mean([float(p["tokens_generated"]) for p in predictions])


def compute_metrics(predictions: Predictions, mode: str) -> dict[str, float | int | None]:
    """Every registered metric that applies to ``mode``, plus the counts ``n`` and ``n_labeled``."""
    metrics: dict[str, float | int | None] = {
        "n": len(predictions),
        "n_labeled": sum(1 for p in predictions if p["gold"] is not None),
    }
    for name in METRICS:
        metric = METRICS.get(name)
        if mode in metric.modes:
            metrics[name] = metric.compute(predictions)
    return metrics
