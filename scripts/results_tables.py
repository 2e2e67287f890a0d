"""Print the Markdown tables docs/results.md shows for one task x student slice of a published study.

    python scripts/results_tables.py docs/results/local-study OpenBookQA Gemma-3-270M

Reads the report's summary.csv (accuracy and CIs per row), comparisons.csv (each row against the baseline) and
findings.csv (the paper's direct comparisons), as written by `cotdistill report` and copied by
scripts/publish_results.py, so the numbers on the results page are generated, not retyped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

MODE_NAMES = {"label_first": "label-first", "reasoning_first": "reasoning-first"}


def points(fraction: float) -> str:
    return f"{100 * fraction:+.1f}"


def variant_table(summary: pd.DataFrame, comparisons: pd.DataFrame) -> list[str]:
    lines = ["| variant | mode | seeds | accuracy % | vs baseline, points [95% paired CI] | McNemar p (Holm) |",
             "|---|---|---|---|---|---|"]
    for row in summary.itertuples():
        accuracy = f"{100 * row.accuracy:.1f}"
        if row.seeds > 1:  # one seed has no interval over seeds
            accuracy += f" ± {100 * (row.seed_ci_high - row.seed_ci_low) / 2:.1f}"
        match = comparisons[comparisons["row"] == row.row]
        if match.empty:
            versus = p_value = ""
        else:
            c = match.iloc[0]
            versus = f"{points(c.difference)} [{points(c.diff_ci_low)}, {points(c.diff_ci_high)}]"
            p_value = f"{c.mcnemar_p:.2f} ({c.mcnemar_p_holm:.2g})"
        lines.append(f"| {row.row} | {MODE_NAMES.get(row.mode, row.mode)} | {row.seeds} | {accuracy} | {versus} "
                     f"| {p_value} |")
    return lines


def findings_table(findings: pd.DataFrame) -> list[str]:
    lines = ["| finding | comparison | difference, points [95% paired CI] | McNemar p (Holm) |", "|---|---|---|---|"]
    for f in findings.itertuples():
        lines.append(f"| {f.finding.split(':')[0]} | `{f.row}` vs `{f.baseline}` | {points(f.difference)} "
                     f"[{points(f.diff_ci_low)}, {points(f.diff_ci_high)}] "
                     f"| {f.mcnemar_p:.2f} ({f.mcnemar_p_holm:.2g}) |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("published", type=Path, help="a study's report directory or its published copy")
    parser.add_argument("task", help="task label, e.g. OpenBookQA")
    parser.add_argument("student", help="student label, e.g. SmolLM2-135M")
    args = parser.parse_args()
    tables = {name: args.published / f"{name}.csv" for name in ("summary", "comparisons", "findings")}
    missing = [str(path) for path in tables.values() if not path.is_file()]
    if missing:
        sys.exit(f"missing {', '.join(missing)} (run `cotdistill report` and scripts/publish_results.py first)")
    frames = {}
    for name, path in tables.items():
        frame = pd.read_csv(path)
        frames[name] = frame[(frame["task"] == args.task) & (frame["student"] == args.student)]
    if frames["summary"].empty:
        sys.exit(f"{tables['summary']}: no rows for task {args.task!r} and student {args.student!r}")
    print("\n".join(variant_table(frames["summary"], frames["comparisons"])))
    print()
    print("\n".join(findings_table(frames["findings"])))


if __name__ == "__main__":
    main()
