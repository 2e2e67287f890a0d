"""``cotdistill report OUT``: Markdown and a self-contained HTML page from a study's output directory.

Reads what ``cotdistill study`` wrote (``study.json``, ``results.parquet``, ``predictions.parquet``,
``cells/*/manifest.json``, ``audits/*.json``), recomputes the statistics, and writes ``OUT/report/``:
``report.md`` (PNG plots beside it), ``report.html`` (plots embedded, one file to send around),
``summary.csv``, ``comparisons.csv`` and ``findings.csv``, and the rows it was computed from (``results.csv``,
``predictions.parquet``), so the report stays consistent with its own tables while the grid goes on running.
``only`` and ``exclude`` (``--only`` / ``--exclude KEY=VALUE``) restrict it to some finished cells, e.g. to leave
out the seed that is still running.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cotdistill.errors import DataError
from cotdistill.report import plots
from cotdistill.study import analysis
from cotdistill.study.runner import DONE_FILE, UNTRAINED, select_by_labels
from cotdistill.study.stats import CONFIDENCE, format_p


@dataclass(frozen=True)
class ReportFiles:
    directory: Path
    markdown: Path
    html: Path
    plots: list[Path]


@dataclass
class StudyOutputs:
    """Everything a study wrote that the report uses."""

    root: Path
    study: dict[str, Any]
    results: pd.DataFrame
    predictions: pd.DataFrame
    manifests: list[dict[str, Any]]
    audits: dict[str, dict[str, Any]]
    selection: str = ""

    @classmethod
    def read(cls, root: str | Path, only: dict[str, list[str]] | None = None,
             exclude: dict[str, list[str]] | None = None) -> StudyOutputs:
        """The study's outputs, restricted to the finished cells ``only`` selects (all of them without it) less
        those ``exclude`` selects. Both match like ``cotdistill study --only``: the values of one key are
        alternatives, different keys must all match -- so ``exclude`` task=T, student=S, seed=2 drops that one
        slice's seed 2."""
        root = Path(root)
        for name in ("study.json", "results.parquet", "predictions.parquet"):
            if not (root / name).is_file():
                raise DataError(f"not a finished study output directory: {name} is missing", path=root)
        results = pd.read_parquet(root / "results.parquet")
        predictions = pd.read_parquet(root / "predictions.parquet")
        rows = list(results.itertuples(index=False))
        cells = {row.cell for row in select_by_labels(rows, only or {}, _row_labels, what="finished cell")}
        if exclude:
            cells -= {row.cell for row in select_by_labels(rows, exclude, _row_labels, what="finished cell",
                                                           flag="--exclude")}
        selection = " ".join([_flags("--only", only or {}), _flags("--exclude", exclude or {})]).strip()
        if selection:
            results = results[results["cell"].isin(cells)].reset_index(drop=True)
            predictions = predictions[predictions["cell"].isin(cells)].reset_index(drop=True)
        manifests = [json.loads(p.read_text()) for p in sorted(root.glob("cells/*/manifest.json"))
                     if not selection or p.parent.name in cells]
        audits = {p.stem: json.loads(p.read_text()) for p in sorted(root.glob("audits/*.json"))}
        return cls(root, json.loads((root / "study.json").read_text()), results, predictions, manifests, audits,
                   selection)


def partial_seeds(results: pd.DataFrame) -> dict[tuple[str, str], list[int]]:
    """Per (task, student), the seeds that some of its rows (variant x evaluation mode) have and others lack: a
    seed whose cells are still running, whose rows would otherwise average over unequal sets of seeds."""
    partial = {}
    results = results[results["variant"] != UNTRAINED]  # evaluated once, not per seed
    for (task, student), slice_rows in results.groupby(["task", "student"], sort=True):
        seeds_per_row = [set(group["seed"]) for _, group in slice_rows.groupby(["variant", "mode"])]
        missing = set().union(*seeds_per_row) - set.intersection(*seeds_per_row)
        if missing:
            partial[(task, student)] = sorted(int(seed) for seed in missing)
    return partial


def _flags(flag: str, selection: dict[str, list[str]]) -> str:
    return " ".join(f"{flag} {key}={value}" for key, values in selection.items() for value in values)


def _row_labels(row: Any, key: str) -> set[str]:
    """A results row's labels for ``--only`` and ``--exclude``, matched as
    :func:`cotdistill.study.runner.select_cells` matches a cell."""
    if key == "variant":
        return {row.variant, row.variant_name}
    return {str(getattr(row, key))}


def _pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _ci_half(row: pd.Series) -> tuple[float, str]:
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
            half, _ = _ci_half(entry)
            at_chance = AT_CHANCE_MARK if entry["item_ci_low"] <= entry["chance"] else ""
            line.append(f"{_pct(entry['accuracy'])} ± {_pct(half)}{marks.get((task, student, row), '')}{at_chance}")
        body.append(line)
    return header, body


def _markdown_table(header: list[str], body: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _html_table(header: list[str], body: list[list[str]], css_class: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in body)
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _detail_table(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "mode", "seeds", "items", "accuracy %", "95% CI seeds",
              "95% CI items", "chance %", "format ok %"]
    body = [[r["task"], r["student"], r["row"], r["mode"], str(r["seeds"]), str(r["n_items"]), _pct(r["accuracy"]),
             f"[{_pct(max(r['seed_ci_low'], 0.0))}, {_pct(min(r['seed_ci_high'], 1.0))}]",
             f"[{_pct(r['item_ci_low'])}, {_pct(r['item_ci_high'])}]", _pct(r["chance"]),
             _pct(r["format_compliance"])] for _, r in summary.iterrows()]
    return header, body


def _comparison_table(comparisons: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "vs", "items x seeds", "difference (pts)",
              f"{int(CONFIDENCE * 100)}% CI", "p", "Holm p (family)", "seed sd (pts)", "Cohen's h", ""]
    body = [[r.task, r.student, r.row, r.baseline, f"{r.n_items} x {r.seeds}", f"{100 * r.difference:+.1f}",
             f"[{100 * r.diff_ci_low:+.1f}, {100 * r.diff_ci_high:+.1f}]", format_p(r.p_value),
             format_p(r.p_holm) if r.finding != analysis.EXPLORATORY else "exploratory",
             "–" if math.isnan(r.seed_sd) else f"{100 * r.seed_sd:.1f}", f"{r.cohens_h:+.2f}", r.significance]
            for r in comparisons.itertuples()]
    return header, body


def family_pairs(study: dict[str, Any], results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(finding, row, reference) of the study's declared Holm family (config key ``family``), or the paper's
    findings among the grid's rows when it declares none."""
    declared = study.get("config", {}).get("family")
    if declared is None:
        return analysis.finding_pairs(results)
    return [(c["finding"], c["variant"], c["reference"]) for c in declared]


def _finding_table(findings: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header, body = _comparison_table(findings)
    header = ["finding", *header[:3], "reference", *header[4:]]
    return header, [[f, *b] for f, b in zip(findings["finding"], body)]


def _per_seed_table(per_seed: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "student", "variant", "reference", "seed", "difference (pts)",
              "variant-only / reference-only correct", "McNemar p"]
    body = [[r.task, r.student, r.row, r.baseline, str(r.seed), f"{100 * r.difference:+.1f}",
             f"{r.only_variant_correct} / {r.only_baseline_correct}", format_p(r.mcnemar_p)]
            for r in per_seed.itertuples()]
    return header, body


def _cost_table(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
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


def _cheapest_table(cheapest: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["task", "cheapest keeping accuracy", "accuracy %", "ms per answer", "most accurate", "accuracy %",
              "ms per answer"]
    body = [[r.task, f"{r.student} / {r.row}", _pct(r.accuracy), f"{1000 * r.seconds_per_answer:.1f}",
             f"{r.best_student} / {r.best_row}", _pct(r.best_accuracy), f"{1000 * r.best_seconds_per_answer:.1f}"]
            for r in cheapest.itertuples()]
    return header, body


def _audit_table(audits: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
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


def _provenance(outputs: StudyOutputs) -> list[tuple[str, str]]:
    manifests = [m for m in outputs.manifests if m.get("status") == "done"]
    grid = [c["key"] for c in outputs.study.get("cells", [])]
    finished = sum((outputs.root / "cells" / key / DONE_FILE).is_file() for key in grid)
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


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 4px 8px; text-align: left; }
th { background: #eef2f7; }
table.paper td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; }
"""

# Lets a headless browser (and the test) see that every plot decoded: the body gets data-images-loaded.
_LOAD_CHECK = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-total', String(imgs.length));
  document.body.setAttribute('data-images-loaded', String(ok));
  document.body.setAttribute('data-table-rows', String(document.querySelectorAll('table.paper tbody tr').length));
});
"""


def write_report(root: str | Path, *, overwrite: bool = True, only: dict[str, list[str]] | None = None,
                 exclude: dict[str, list[str]] | None = None) -> ReportFiles:
    """Write ``root/report/`` from the finished cells ``only`` selects (all without it) less those ``exclude``
    selects (see :meth:`StudyOutputs.read`). A report is derived data: rewriting it (``overwrite``) loses
    nothing."""
    outputs = StudyOutputs.read(root, only, exclude)
    out_dir = outputs.root / "report"
    if out_dir.exists() and not overwrite:
        raise DataError("report already exists; refusing to overwrite", path=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    baseline = outputs.study["baseline"]
    summary = analysis.summarize(outputs.results, outputs.predictions)
    family = family_pairs(outputs.study, outputs.results)
    versus_baseline = analysis.baseline_pairs(outputs.results, baseline)
    pairs = list(dict.fromkeys([(row, ref) for _, row, ref in family] + versus_baseline))
    table = analysis.apply_family(analysis.compare_rows(outputs.results, outputs.predictions, pairs), family)
    if table.empty:
        comparisons = findings = table
    else:
        comparisons = table[table["baseline"] == baseline].reset_index(drop=True)
        findings = table[table["finding"] != analysis.EXPLORATORY].reset_index(drop=True)
    per_seed = analysis.per_seed_mcnemar(outputs.results, outputs.predictions,
                                         [(row, ref) for _, row, ref in family])
    cheapest = analysis.cheapest_keeping_accuracy(summary)
    summary.to_csv(out_dir / "summary.csv", index=False)
    comparisons.to_csv(out_dir / "comparisons.csv", index=False)
    findings.to_csv(out_dir / "findings.csv", index=False)
    per_seed.to_csv(out_dir / "per_seed_mcnemar.csv", index=False)
    outputs.results.to_csv(out_dir / "results.csv", index=False)
    outputs.predictions.to_parquet(out_dir / "predictions.parquet", index=False)

    figures: list[tuple[str, Path, str]] = [
        ("Accuracy per variant", plots.accuracy_bars(summary, comparisons, out_dir / "accuracy.png"),
         "Bars: mean accuracy over seeds with the 95% CI over seeds; dashed: chance."),
    ]
    k_plot = plots.accuracy_vs_k(summary, out_dir / "accuracy_vs_k.png")
    if k_plot is not None:
        figures.append(("Accuracy against k", k_plot, "Key-token variants at each k, baseline dashed."))
    cost_plot = plots.inference_cost(summary, out_dir / "inference_cost.png")
    if cost_plot is not None:
        figures.append(("Inference cost per answer", cost_plot,
                        "Label-first reads the answer off one forward pass; reasoning-first generates first."))

    title = f"cotdistill study report: {outputs.study.get('name', outputs.root.name)}"
    paper = paper_table(summary, comparisons)
    # A row with one seed has no interval over seeds; its ± is the bootstrap interval over items (see _ci_half).
    one_seed_note = " (over the items where a row has one seed)" if summary["seed_ci_low"].isna().any() else ""
    partial = partial_seeds(outputs.results)
    partial_note = "".join(
        f" Partial seed: {task} x {student} seed {', '.join(map(str, seeds))} has finished for only some rows, so "
        f"those rows average over more seeds than the others (`--exclude task={task} --exclude student={student} "
        f"{' '.join(f'--exclude seed={seed}' for seed in seeds)}` reports whole seeds only)."
        for (task, student), seeds in partial.items())
    sections: list[tuple[str, str, tuple[list[str], list[list[str]]] | None, str]] = [
        ("Results", f"Accuracy (%) on the evaluation items, mean ± 95% CI half-width over seeds{one_seed_note}; "
                    f"marks: significance against `{baseline}` where that comparison is in the declared family "
                    f"(Holm-adjusted; the others are exploratory and unmarked); "
                    f"{AT_CHANCE_MARK.strip()}: the 95% CI over items reaches chance accuracy, so that student "
                    f"did not learn the task and its row measures nothing.{partial_note}", paper, "paper"),
        ("Per-row statistics", "", _detail_table(summary), ""),
        (f"Comparisons against {baseline}",
         "Same items and seeds (paired by seed); difference in accuracy points with its interval and p-value from "
         "the crossed seed x question model; exploratory unless the comparison is in the declared family.",
         _comparison_table(comparisons) if not comparisons.empty else None, ""),
        ("The declared family: the paper's findings, compared directly",
         "The confirmatory comparisons (study config `family`; by default 1: CoT after the label vs before it, "
         "each in its natural mode; 2: shuffled vs coherent CoT after the label; 3: key tokens vs as many random "
         "rationale tokens, and vs the full CoT). Holm-adjusted together across every task and student.",
         _finding_table(findings) if not findings.empty else None, ""),
        ("Per-seed McNemar (secondary)",
         "Each family comparison within each seed, one trained student against one: McNemar's exact test, "
         "unadjusted. It conditions on the trained students, so training noise is in none of these p-values.",
         _per_seed_table(per_seed) if not per_seed.empty else None, ""),
        ("Inference cost", "Mean wall time and generated tokens per answer, label-first vs reasoning-first; "
                           "wall time of each cell's training and evaluation (mean over seeds).",
         _cost_table(summary), ""),
        ("Cheapest student that keeps the accuracy",
         "Per task, the fastest (student, variant) whose 95% CI reaches the best mean accuracy.",
         _cheapest_table(cheapest) if not cheapest.empty else None, ""),
    ]
    if outputs.audits:
        sections.append(("Teacher audit", "How often the rationale source's stated answer matches the gold label.",
                         _audit_table(outputs.audits), ""))
    provenance = _provenance(outputs)

    md = [f"# {title}", ""]
    body_html = [f"<h1>{html.escape(title)}</h1>"]
    # The study's own notes (e.g. how the demo sized itself to its time budget) come before any number.
    for line in outputs.study.get("config", {}).get("notes", []):
        md += [f"> {line}", ""]
        body_html.append(f'<p class="note">{html.escape(line)}</p>')
    for heading, note, table, css in sections:
        md += [f"## {heading}", ""]
        body_html.append(f"<h2>{html.escape(heading)}</h2>")
        if note:
            md += [note, ""]
            body_html.append(f'<p class="note">{html.escape(note).replace("`", "")}</p>')
        if table is None:
            md += ["(none)", ""]
            body_html.append("<p>(none)</p>")
            continue
        md += [_markdown_table(*table), ""]
        body_html.append(_html_table(*table, css_class=css))
        if heading == "Results":
            for fig_title, path, caption in figures:
                md += [f"### {fig_title}", "", f"![{fig_title}]({path.name})", "", caption, ""]
                data = base64.b64encode(path.read_bytes()).decode()
                body_html.append(f"<h3>{html.escape(fig_title)}</h3>"
                                 f'<img alt="{html.escape(fig_title)}" src="data:image/png;base64,{data}">'
                                 f'<p class="note">{html.escape(caption)}</p>')
    md += ["## Provenance", ""] + [f"- **{k}**: {v}" for k, v in provenance] + [""]
    body_html.append("<h2>Provenance</h2><ul>" + "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in provenance) + "</ul>")

    md_path = out_dir / "report.md"
    md_path.write_text("\n".join(md))
    html_path = out_dir / "report.html"
    html_path.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style><script>{_LOAD_CHECK}</script></head>"
        f"<body>{''.join(body_html)}</body></html>\n")
    return ReportFiles(out_dir, md_path, html_path, [p for _, p, _ in figures])
