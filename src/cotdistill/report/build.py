"""``cotdistill report OUT``: Markdown and a self-contained HTML page from a study's output directory.

Reads what ``cotdistill study`` wrote (``study.json``, ``results.parquet``, ``predictions.parquet``,
``cells/*/manifest.json``, ``audits/*.json``), recomputes the statistics, and writes ``OUT/report/``:
``report.md`` (PNG plots beside it), ``report.html`` (plots embedded, one file to send around),
``summary.csv``, ``comparisons.csv`` and ``findings.csv``, and the rows it was computed from (``results.csv``,
``predictions.parquet``), so the report stays consistent with its own tables while the grid goes on running.
``only`` and ``exclude`` (``--only`` / ``--exclude KEY=VALUE``) restrict it to some finished cells, e.g. to leave
out the seed that is still running.

Reading the study's outputs is :mod:`cotdistill.report.outputs`, the tables' text :mod:`cotdistill.report.tables`,
the plots :mod:`cotdistill.report.plots`; this module computes the statistics and writes the page.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cotdistill.errors import DataError
from cotdistill.report import plots
from cotdistill.report.outputs import StudyOutputs, partial_seeds
from cotdistill.report.tables import (AT_CHANCE_MARK, audit_table, cheapest_table, comparison_table, cost_table,
                                      detail_table, finding_table, paper_table, per_seed_table, provenance_rows)
from cotdistill.study import analysis


@dataclass(frozen=True)
class ReportFiles:
    directory: Path
    markdown: Path
    html: Path
    plots: list[Path]


def family_pairs(study: dict[str, Any], results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(finding, row, reference) of the study's declared Holm family (config key ``family``), or the paper's
    findings among the grid's rows when it declares none."""
    declared = study.get("config", {}).get("family")
    if declared is None:
        return analysis.finding_pairs(results)
    return [(c["finding"], c["variant"], c["reference"]) for c in declared]


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
    # A row with one seed has no interval over seeds; its ± is the bootstrap interval over items (see ci_half).
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
        ("Per-row statistics", "", detail_table(summary), ""),
        (f"Comparisons against {baseline}",
         "Same items and seeds (paired by seed); difference in accuracy points with its interval and p-value from "
         "the crossed seed x question model; exploratory unless the comparison is in the declared family.",
         comparison_table(comparisons) if not comparisons.empty else None, ""),
        ("The declared family: the paper's findings, compared directly",
         "The confirmatory comparisons (study config `family`; by default 1: CoT after the label vs before it, "
         "each in its natural mode; 2: shuffled vs coherent CoT after the label; 3: key tokens vs as many random "
         "rationale tokens, and vs the full CoT). Holm-adjusted together across every task and student.",
         finding_table(findings) if not findings.empty else None, ""),
        ("Per-seed McNemar (secondary)",
         "Each family comparison within each seed, one trained student against one: McNemar's exact test, "
         "unadjusted. It conditions on the trained students, so training noise is in none of these p-values.",
         per_seed_table(per_seed) if not per_seed.empty else None, ""),
        ("Inference cost", "Mean wall time and generated tokens per answer, label-first vs reasoning-first; "
                           "wall time of each cell's training and evaluation (mean over seeds).",
         cost_table(summary), ""),
        ("Cheapest student that keeps the accuracy",
         "Per task, the fastest (student, variant) whose 95% CI reaches the best mean accuracy.",
         cheapest_table(cheapest) if not cheapest.empty else None, ""),
    ]
    if outputs.audits:
        sections.append(("Teacher audit", "How often the rationale source's stated answer matches the gold label.",
                         audit_table(outputs.audits), ""))
    provenance = provenance_rows(outputs)

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
