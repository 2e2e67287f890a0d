"""Print the Markdown tables docs/results.md shows for one task x student slice of a published study.

    python scripts/results_tables.py docs/results/local-study OpenBookQA Gemma-3-270M

Reads the report's summary.csv (accuracy and CIs per row), comparisons.csv (each row against the baseline,
exploratory unless declared), findings.csv (the declared Holm family: the paper's direct comparisons) and
results.csv (each cell's accuracy, for the per-seed table: the rows the report was computed from), as written by
`cotdistill report` and copied by scripts/publish_results.py, so the numbers on the results page are generated,
not retyped.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from cotdistill.study.analysis import EXPLORATORY, with_row_labels
from cotdistill.study.grid import UNTRAINED
from cotdistill.study.stats import format_p

MODE_NAMES = {"label_first": "label-first", "reasoning_first": "reasoning-first"}


def points(fraction: float) -> str:
    return f"{100 * fraction:+.1f}"


def interval(c) -> str:
    return f"{points(c.difference)} [{points(c.diff_ci_low)}, {points(c.diff_ci_high)}]"


def adjusted(c) -> str:
    """The Holm-adjusted p of a family comparison; an exploratory one has none."""
    return "exploratory" if c.finding == EXPLORATORY else format_p(c.p_holm)


def variant_table(summary: pd.DataFrame, comparisons: pd.DataFrame) -> list[str]:
    lines = ["| variant | mode | seeds | accuracy % | vs baseline, points [95% CI] | p | Holm p (family) |",
             "|---|---|---|---|---|---|---|"]
    for row in summary.itertuples():
        accuracy = f"{100 * row.accuracy:.1f}"
        if row.seeds > 1:  # one seed has no interval over seeds
            accuracy += f" ± {100 * (row.seed_ci_high - row.seed_ci_low) / 2:.1f}"
        match = comparisons[comparisons["row"] == row.row]
        if match.empty:
            versus = p_value = holm_p = ""
        else:
            c = match.iloc[0]
            versus, p_value, holm_p = interval(c), format_p(c.p_value), adjusted(c)
        lines.append(f"| {row.row} | {MODE_NAMES.get(row.mode, row.mode)} | {row.seeds} | {accuracy} | {versus} "
                     f"| {p_value} | {holm_p} |")
    return lines


def findings_table(findings: pd.DataFrame) -> list[str]:
    lines = ["| finding | comparison | difference, points [95% CI] | p | Holm p (family) |", "|---|---|---|---|---|"]
    for f in findings.itertuples():
        lines.append(f"| {f.finding.split(':')[0]} | `{f.row}` vs `{f.baseline}` | {interval(f)} "
                     f"| {format_p(f.p_value)} | {adjusted(f)} |")
    return lines


def per_seed_table(summary: pd.DataFrame, results: pd.DataFrame) -> list[str]:
    """Each row's accuracy in every seed, and the spread between its best and worst seed."""
    results = with_row_labels(results[results["variant"] != UNTRAINED])  # the untrained row has no seed
    seeds = sorted(results["seed"].unique())
    lines = ["| variant | mode | " + " | ".join(f"seed {seed}" for seed in seeds) + " | best - worst seed, points |",
             "|---|---|" + "---|" * len(seeds) + "---|"]
    for row in summary.itertuples():
        if row.row == UNTRAINED:
            continue
        by_seed = results[results["row"] == row.row].set_index("seed")["accuracy"]
        cells = [f"{100 * by_seed[seed]:.1f}" if seed in by_seed.index else "" for seed in seeds]
        spread = f"{100 * (by_seed.max() - by_seed.min()):.1f}" if len(by_seed) > 1 else ""
        lines.append(f"| {row.row} | {MODE_NAMES.get(row.mode, row.mode)} | " + " | ".join(cells) + f" | {spread} |")
    return lines


def slice_tables(published: Path, task: str, student: str) -> list[list[str]]:
    """The variant, findings and per-seed tables of one task x student slice."""
    # A report directory and its published copy both hold the four tables.
    paths = {name: published / f"{name}.csv" for name in ("summary", "comparisons", "findings", "results")}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        sys.exit(f"missing {', '.join(missing)} (run `cotdistill report` and scripts/publish_results.py first)")
    frames = {}
    for name, path in paths.items():
        frame = pd.read_csv(path)
        frames[name] = frame[(frame["task"] == task) & (frame["student"] == student)]
    if frames["summary"].empty:
        sys.exit(f"{paths['summary']}: no rows for task {task!r} and student {student!r}")
    return [variant_table(frames["summary"], frames["comparisons"]), findings_table(frames["findings"]),
            per_seed_table(frames["summary"], frames["results"])]


SECTION = re.compile(r"^## (?P<task>[^,\n]+), (?P<student>[^:\n]+):", re.MULTILINE)
NEXT_SECTION = re.compile(r"^## ", re.MULTILINE)
TABLE = re.compile(r"(?:^\|.*\n)+", re.MULTILINE)


def table_kind(header: str) -> str | None:
    if header.startswith("| variant | mode | seeds |"):
        return "variant"
    if header.startswith("| finding |"):
        return "findings"
    if header.startswith("| variant | mode | seed "):
        return "per-seed"
    return None


def rewrite_tables(section: str, new: dict[str, list[str]]) -> tuple[str, set[str]]:
    """The section with each table of a known kind replaced by ``new[kind]``, and the kinds it had."""
    pieces, found, last = [], set(), 0
    for block in TABLE.finditer(section):
        kind = table_kind(block.group(0))
        if kind is not None:
            pieces += [section[last:block.start()], "\n".join(new[kind]) + "\n"]
            found.add(kind)
            last = block.end()
    return "".join(pieces) + section[last:], found


def update_page(page: Path, published: Path) -> None:
    """Rewrite, in each '## <task>, <student>: ...' section of the page, the tables this script prints."""
    if not page.is_file():
        sys.exit(f"{page}: no such page")
    text = page.read_text()
    sections = list(SECTION.finditer(text))
    if not sections:
        sys.exit(f"{page}: no '## <task>, <student>: ...' sections")
    pieces, last = [], 0
    for heading in sections:
        start = heading.start()
        following = NEXT_SECTION.search(text, heading.end())
        end = following.start() if following else len(text)
        new = dict(zip(("variant", "findings", "per-seed"),
                       slice_tables(published, heading["task"], heading["student"].strip())))
        section, found = rewrite_tables(text[start:end], new)
        pieces += [text[last:start], section]
        last = end
        absent = set(new) - found
        if absent:
            print(f"{page}: section {heading.group(0)!r} has no {', '.join(sorted(absent))} table; "
                  "paste it from this script's output", file=sys.stderr)
    page.write_text("".join(pieces) + text[last:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("published", type=Path, help="a study's report directory or its published copy")
    parser.add_argument("task", nargs="?", help="task label, e.g. OpenBookQA")
    parser.add_argument("student", nargs="?", help="student label, e.g. SmolLM2-135M")
    parser.add_argument("--page", type=Path,
                        help="instead of printing one slice, rewrite the tables in every '## <task>, <student>: ...' "
                             "section of this Markdown page (e.g. docs/results.md)")
    args = parser.parse_args()
    if args.page is not None:
        update_page(args.page, args.published)
        return
    if args.task is None or args.student is None:
        parser.error("name a task and a student, or pass --page")
    print("\n\n".join("\n".join(table) for table in slice_tables(args.published, args.task, args.student)))


if __name__ == "__main__":
    main()
