"""Evaluate students label-first (rank the choices by log-probability, no generation) or reasoning-first
(greedy-generate, extract the label), and write per-example predictions and metrics."""

from cotdistill.evaluate.api import (
    EvalResult,
    evaluate_student,
    evaluate_trained,
    evaluate_trained_modes,
    write_eval_result,
)
from cotdistill.evaluate.config import EVAL_MODES, EvalConfig
from cotdistill.evaluate.metrics import METRICS, Metric, compute_metrics, register_metric

__all__ = [
    "EVAL_MODES", "METRICS", "EvalConfig", "EvalResult", "Metric", "compute_metrics", "evaluate_student",
    "evaluate_trained", "evaluate_trained_modes", "register_metric", "write_eval_result",
]
