"""PNG plots of a study: accuracy bars with CIs, accuracy against k, inference cost per answer."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 110


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return math.ceil(n / cols), cols


def _ci_error(summary: pd.DataFrame) -> np.ndarray:
    """Asymmetric error bars (in points) from the seed CI, falling back to the item CI with one seed."""
    low = summary["seed_ci_low"].where(summary["seed_ci_low"].notna(), summary["item_ci_low"])
    high = summary["seed_ci_high"].where(summary["seed_ci_high"].notna(), summary["item_ci_high"])
    # An interval is clipped to [0, 1]: with two seeds the t-interval is wide and would leave the axes.
    low, high = low.clip(0, 1), high.clip(0, 1)
    return 100 * np.vstack([summary["accuracy"] - low, high - summary["accuracy"]]).clip(min=0)


def accuracy_bars(summary: pd.DataFrame, comparisons: pd.DataFrame, path: Path) -> Path:
    """One panel per (task, student): a bar per row with its 95% CI, chance as a dashed line."""
    panels = list(summary.groupby(["task", "student"], sort=False))
    rows, cols = _grid(len(panels))
    width = max(4.8, 0.55 * summary["row"].nunique() + 2.0)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, 4.4 * rows), squeeze=False)
    for ax, ((task, student), block) in zip(axes.flat, panels):
        block = block.reset_index(drop=True)
        x = np.arange(len(block))
        colors = ["#888888" if b else "#3b75af" for b in block["is_baseline"]]
        ax.bar(x, 100 * block["accuracy"], yerr=_ci_error(block), color=colors, capsize=4, edgecolor="black",
               linewidth=0.5)
        marks = {}
        if not comparisons.empty:
            sel = comparisons[(comparisons["task"] == task) & (comparisons["student"] == student)]
            marks = dict(zip(sel["row"], sel["significance"]))
        for xi, (row, acc) in enumerate(zip(block["row"], block["accuracy"])):
            label = f"{100 * acc:.1f}{marks.get(row, '')}"
            ax.annotate(label, (xi, 100 * acc), textcoords="offset points", xytext=(0, 3), ha="center",
                        fontsize=8)
        chance = float(block["chance"].mean())
        if not math.isnan(chance):
            ax.axhline(100 * chance, color="black", linestyle="--", linewidth=1, label=f"chance {100 * chance:.0f}%")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xticks(x, block["row"], rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{task} / {student}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    # Two lines: one panel is narrower than the whole caption.
    fig.suptitle("Accuracy per variant (mean over seeds, 95% CI)\ngrey: baseline; * Holm-adjusted (declared family)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def k_series(block: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One line per variant entry of the study run at several k (its label without the " (k=...)" suffix), so
    one variant with two selectors gives two lines; rows sorted by k."""
    names = block["row"].str.replace(r" \(k=[^)]*\)$", "", regex=True)
    return {name: line.sort_values("k") for name, line in block.groupby(names, sort=False)}


def accuracy_vs_k(summary: pd.DataFrame, path: Path) -> Path | None:
    """Accuracy against k for variants run at several k, one panel per (task, student); None without k."""
    with_k = summary[summary["k"].notna() & summary["primary_mode"]]
    if with_k.empty:
        return None
    panels = list(with_k.groupby(["task", "student"], sort=False))
    rows, cols = _grid(len(panels))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.0 * rows), squeeze=False)
    for ax, ((task, student), block) in zip(axes.flat, panels):
        for name, line in k_series(block).items():
            err = _ci_error(line)
            ax.errorbar(line["k"], 100 * line["accuracy"], yerr=err, marker="o", capsize=3, label=name)
        base = summary[(summary["task"] == task) & (summary["student"] == student) & summary["is_baseline"]]
        if not base.empty:
            ax.axhline(100 * float(base["accuracy"].iloc[0]), color="#888888", linestyle="--",
                       label=f"baseline {base['row'].iloc[0]}")
        ax.set_xlabel("k (key tokens kept)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{task} / {student}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("Accuracy against k (mean over seeds, 95% CI)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def inference_cost(summary: pd.DataFrame, path: Path) -> Path | None:
    """Seconds per answer of every row, label-first and reasoning-first bars side by side."""
    cost = summary[summary["seconds_per_answer"].notna()]
    if cost.empty:
        return None
    table = cost.groupby(["variant", "mode"], sort=False)["seconds_per_answer"].mean().unstack("mode")
    modes = [m for m in ("label_first", "reasoning_first") if m in table.columns]
    x = np.arange(len(table))
    width = 0.8 / len(modes)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(table) + 2.5), 4.0))
    for i, (mode, color) in enumerate(zip(modes, ("#3b75af", "#d9822b"))):
        ax.bar(x + (i - (len(modes) - 1) / 2) * width, 1000 * table[mode], width, label=mode.replace("_", "-"),
               color=color, edgecolor="black", linewidth=0.5)
    ax.set_xticks(x, table.index, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("milliseconds per answer")
    ax.set_title("Inference cost per answer (mean over tasks, students, seeds)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
