"""A fabricated study output directory (no training): known accuracies per variant and seed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

VARIANTS = {"label_only": 0.55, "cot_before_label": 0.60, "cot_after_label": 0.80, "shuffled_cot_after_label": 0.56}
N_ITEMS = 120


def fabricate_study(root, *, seeds=(0, 1), with_k=False, audit=True):
    rng = np.random.default_rng(0)
    results, predictions, grid = [], [], []
    variants = dict(VARIANTS)
    if with_k:
        variants.update({f"key_tokens_after_label (k={k})": 0.55 + 0.05 * i for i, k in enumerate((1, 4, 16))})
    for task in ("synthetic", "other"):
        for variant, p in variants.items():
            name, k = (variant.split(" ")[0], int(variant.split("=")[1][:-1])) if "k=" in variant else (variant, None)
            modes = ["label_first", "reasoning_first"] if name == "cot_before_label" else ["label_first"]
            for seed in seeds:
                cell = f"{task}-{variant}-{seed}"
                grid.append({"key": cell})
                for mode in modes:
                    primary = mode == ("reasoning_first" if name == "cot_before_label" else "label_first")
                    n = N_ITEMS if mode == "label_first" else 60
                    correct = rng.random(n) < p
                    for i in range(n):
                        predictions.append({"cell": cell, "task": task, "student": "tiny", "variant": variant,
                                            "seed": seed, "mode": mode, "id": f"q{i:03d}", "gold": "A",
                                            "pred": "A" if correct[i] else "B", "correct": bool(correct[i])})
                    results.append({
                        "cell": cell, "task": task, "student": "tiny", "variant": variant, "variant_name": name,
                        "k": k, "seed": seed, "mode": mode, "primary_mode": primary,
                        "is_baseline": variant == "label_only", "accuracy": float(correct.mean()), "n": n,
                        "chance": 0.4, "format_compliance": 0.9 if mode == "reasoning_first" else None,
                        "mean_tokens_generated": 30.0 if mode == "reasoning_first" else 0.0,
                        "seconds_per_answer": 0.2 if mode == "reasoning_first" else 0.01,
                        "train_seconds": 5.0, "eval_seconds": 1.0, "final_loss": 1.0, "target_tokens": 100})
                (root / "cells" / cell).mkdir(parents=True, exist_ok=True)
                (root / "cells" / cell / "manifest.json").write_text(json.dumps({
                    "status": "done", "git_commit": "abc123", "host": {"hostname": "testhost"},
                    "versions": {"torch": "x"}, "timings": {"total_seconds": 6.0}}))
                (root / "cells" / cell / "DONE").write_text("{}")
    # One more cell of the grid that has not run: the report counts what it covers.
    grid.append({"key": "not-run-yet"})
    pd.DataFrame(results).to_parquet(root / "results.parquet")
    pd.DataFrame(predictions).to_parquet(root / "predictions.parquet")
    (root / "study.json").write_text(json.dumps({"name": "fabricated", "baseline": "label_only",
                                                  "config_hash": "h", "config_file": "x.yaml",
                                                  "cells": grid}))
    if audit:
        (root / "audits").mkdir(exist_ok=True)
        (root / "audits" / "synthetic.json").write_text(json.dumps({
            "source": "teacher", "examples": 100, "rationales": 100, "with_label": 95, "agreement": 0.9,
            "label_policy": "drop", "kept": 90}))
    return root


@pytest.fixture()
def make_study():
    return fabricate_study


@pytest.fixture()
def study_dir(tmp_path):
    return fabricate_study(tmp_path / "study", with_k=True)
