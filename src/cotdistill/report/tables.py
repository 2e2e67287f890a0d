"""The report's tables, each as ``(header, rows of text)`` from the statistics' frames: the paper-style table, the
per-row statistics, comparisons, findings, per-seed McNemar, costs, the teacher audit and provenance."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pandas as pd

from cotdistill.report.outputs import StudyOutputs
from cotdistill.study import analysis, layout
from cotdistill.study.stats import CONFIDENCE, format_p


def _pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def ci_half(row: pd.Series) -> tuple[float, str]:
    """Half-width of the seed CI (the item CI when there is one seed) and which it is."""
    if not math.isnan(row["seed_ci_low"]):
        return (row["seed_ci_high"] - row["seed_ci_low"]) / 2, "seeds"
    return (row["item_ci_high"] - row["item_ci_low"]) / 2, "items"


#: Marks a result whose 95% CI over the evaluation items reaches chance accuracy: it cannot show an effect.
AT_CHANCE_MARK = " †"


def paper_table(summary: pd.DataFrame, comparisons: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Rows: variants (and variants in a second mode); columns: task x student; cells 'mean ± CI marks'."""
    columns = list(dict.fromkeys(zip(summary["task"], summary["student"])))
    rows = list(dict.fromkeys(summary["row"]))
    marks = {}
    if not comparisons.empty:
        marks = {(r.task, r.student, r.row): r.significance for r in comparisons.itertuples()}
    cells = {(r["task"], r["student"], r["row"]): r for _, r in summary.iterrows()}
    header = ["variant"] + [f"{task} / {student}" for task, student in columns]
    body = []
    for row in rows:
        line = [row]
        for task, student in columns:
            entry = cells.get((task, student, row))
            if entry is None:
                line.append("")
                continue
            half, _ = ci_half(entry)
            at_chance = AT_CHANCE_MARK if entry["item_ci_low"] <= entry["chance"] else ""
            line.append(f"{_pct(entry['accuracy'])} ± {_pct(half)}{marks.get((task, student, row), '')}{at_chance}")
        body.append(line)
    return header, body


def detail_table(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "mode", "seeds", "items", "accuracy %", "95% CI seeds",
              "95% CI items", "chance %", "format ok %"]
    body = [[r["task"], r["student"], r["row"], r["mode"], str(r["seeds"]), str(r["n_items"]), _pct(r["accuracy"]),
             f"[{_pct(max(r['seed_ci_low'], 0.0))}, {_pct(min(r['seed_ci_high'], 1.0))}]",
             f"[{_pct(r['item_ci_low'])}, {_pct(r['item_ci_high'])}]", _pct(r["chance"]),
             _pct(r["format_compliance"])] for _, r in summary.iterrows()]
    return header, body


def comparison_table(comparisons: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "vs", "items x seeds", "difference (pts)",
              f"{int(CONFIDENCE * 100)}% CI", "p", "Holm p (family)", "seed sd (pts)", "Cohen's h", ""]
    body = [[r.task, r.student, r.row, r.baseline, f"{r.n_items} x {r.seeds}", f"{100 * r.difference:+.1f}",
             f"[{100 * r.diff_ci_low:+.1f}, {100 * r.diff_ci_high:+.1f}]", format_p(r.p_value),
             format_p(r.p_holm) if r.finding != analysis.EXPLORATORY else "exploratory",
             "–" if math.isnan(r.seed_sd) else f"{100 * r.seed_sd:.1f}", f"{r.cohens_h:+.2f}", r.significance]
            for r in comparisons.itertuples()]
    return header, body


def finding_table(findings: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header, body = comparison_table(findings)
    header = ["finding", *header[:3], "reference", *header[4:]]
    return header, [[f, *b] for f, b in zip(findings["finding"], body)]


def per_seed_table(per_seed: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "reference", "seed", "difference (pts)",
              "variant-only / reference-only correct", "McNemar p"]
    body = [[r.task, r.student, r.row, r.baseline, str(r.seed), f"{100 * r.difference:+.1f}",
             f"{r.only_variant_correct} / {r.only_baseline_correct}", format_p(r.mcnemar_p)]
            for r in per_seed.itertuples()]
    return header, body


def cost_table(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "mode", "ms per answer", "tokens generated per answer",
              "training s per cell", "evaluation s per cell"]
    body = []
    for _, r in summary.iterrows():
        ms = "–" if math.isnan(r["seconds_per_answer"]) else f"{1000 * r['seconds_per_answer']:.1f}"
        tokens = "–" if math.isnan(r["mean_tokens_generated"]) else f"{r['mean_tokens_generated']:.1f}"
        body.append([r["task"], r["student"], r["row"], r["mode"].replace("_", "-"), ms, tokens,
                     _seconds(r["train_seconds"]), _seconds(r["eval_seconds"])])
    return header, body


def _seconds(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{x:.0f}"


def cheapest_table(cheapest: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "cheapest keeping accuracy", "accuracy %", "ms per answer", "most accurate", "accuracy %",
              "ms per answer"]
    body = [[r.task, f"{r.student} / {r.row}", _pct(r.accuracy), f"{1000 * r.seconds_per_answer:.1f}",
             f"{r.best_student} / {r.best_row}", _pct(r.best_accuracy), f"{1000 * r.best_seconds_per_answer:.1f}"]
            for r in cheapest.itertuples()]
    return header, body


def audit_table(audits: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["task", "rationale source", "training examples", "rationales", "with a stated label",
              "agree with gold %", "label policy", "kept for training"]
    body = [[task, a.get("source", ""), str(a.get("examples", "")), str(a.get("rationales", "")),
             str(a.get("with_label", "")), _pct(a.get("agreement", float("nan"))), a.get("label_policy", ""),
             str(a.get("kept", ""))] for task, a in audits.items()]
    return header, body


def _host(host: dict[str, Any]) -> str:
    name = host.get("hostname", "unknown")
    if host.get("cpu"):  # recorded since the CPU was found to matter (bf16 kernels differ between processors)
        name += f" ({host['cpu']}; bf16: {'+'.join(host.get('cpu_bf16') or []) or 'none'})"
    return name


def _counted(values: list[str]) -> str:
    """The distinct values, each with its number of cells when the cells do not all agree."""
    counts = Counter(values)
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{value} ({n} cells)" for value, n in sorted(counts.items()))


def _library_versions(manifests: list[dict[str, Any]]) -> str:
    """Each library's version; where the cells ran under several, each with its number of cells."""
    names = list(dict.fromkeys(name for m in manifests for name in m.get("versions", {})))
    return ", ".join(f"{name} " + _counted([m.get("versions", {}).get(name, "not recorded") for m in manifests])
                     for name in names)


def provenance_rows(outputs: StudyOutputs) -> list[tuple[str, str]]:
    manifests = [m for m in outputs.manifests if m.get("status") == "done"]
    grid = [c["key"] for c in outputs.study.get("cells", [])]
    finished = sum(layout.is_finished(layout.cell_dir(outputs.root, key)) for key in grid)
    commits = sorted({m.get("git_commit") or "unknown" for m in manifests})
    total = sum(m.get("timings", {}).get("total_seconds", 0.0) for m in manifests)
    study = outputs.study
    covered = (f"{outputs.results['cell'].nunique()} selected by {outputs.selection}" if outputs.selection
               else f"{len(manifests)} finished in this directory")
    return [
        ("study", f"{study.get('name', '')} (config hash {study.get('config_hash', '')})"),
        ("config file", str(study.get("config_file", ""))),
        ("cells", f"{finished} of the grid's {len(grid)} finished (a partial grid reports only its finished "
                  f"cells); this report: {covered}, {total / 60:.1f} min of compute in total"),
        ("git commit(s)", ", ".join(commits)),
        ("host(s)", _counted([_host(m.get("host", {})) for m in manifests])),
        ("library versions", _library_versions(manifests)),
        ("statistics", f"{int(CONFIDENCE * 100)}% CIs per row: Student-t over seeds, percentile bootstrap over "
                       "items. Comparisons: mixed model of the paired (seed, question) differences with crossed "
                       "random seed and question effects (question the unit, seed-to-seed training variance in "
                       "the noise), t with Satterthwaite degrees of freedom for both the interval and the p-value; "
                       "Holm-adjusted over the declared family only, every other comparison exploratory and "
                       "unadjusted; marks * p<0.05, ** p<0.01, *** p<0.001 (adjusted); p below 1e-6 printed "
                       "as < 1e-6. McNemar's exact test per seed is a secondary table."),
    ]
