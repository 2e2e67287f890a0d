"""Print the compute a study's finished cells recorded, per task x student x seed, as a Markdown table.

    python scripts/study_times.py docs/results/local-study
    python scripts/study_times.py runs/local --cells "CommonsenseQA / Gemma-3-270M"

Reads each finished cell's cell.json (its title) and manifest.json (timings and attempts) under STUDY/cells, in a
study's output directory or its published copy, so the wall times docs/results.md quotes are generated, not
summed by hand. A manifest times only the attempt that finished its cell: an attempt stopped before it finished
(a session's end, a full disk) is listed in its attempts but not in its timings, hence the last column.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from cotdistill.study import layout


def finished_cells(study: Path) -> pd.DataFrame:
    """One row per finished cell: its title's parts, recorded compute and training (minutes), attempts."""
    records = []
    for directory in layout.finished_cell_dirs(study):
        try:
            title = json.loads((directory / layout.CELL_FILE).read_text())["title"]
            manifest = json.loads((directory / layout.MANIFEST_FILE).read_text())
            timings = manifest["timings"]
            task, student, _variant, seed = title.split(" / ")
            records.append({"title": title, "task": task, "student": student, "seed": seed.removeprefix("seed "),
                            "compute_min": timings["total_seconds"] / 60, "train_min": timings["train_seconds"] / 60,
                            "attempts": len(manifest.get("attempts") or [])})
        except (OSError, ValueError, KeyError) as err:
            sys.exit(f"{directory}: unreadable cell.json / manifest.json ({type(err).__name__}: {err})")
    return pd.DataFrame.from_records(records).sort_values("title", ignore_index=True) if records else pd.DataFrame()


def seed_totals_table(cells: pd.DataFrame) -> list[str]:
    totals = cells.assign(unfinished=cells["attempts"] > 1).groupby(["task", "student", "seed"]).agg(
        cells=("title", "size"), compute=("compute_min", "sum"), train=("train_min", "sum"),
        unfinished=("unfinished", "sum"))
    lines = ["| task | student | seed | cells | compute, min | training, min | cells with an unfinished attempt |",
             "|---|---|---|---|---|---|---|"]
    for row in totals.reset_index().itertuples():
        lines.append(f"| {row.task} | {row.student} | {row.seed} | {row.cells} | {row.compute:.1f} | {row.train:.1f} "
                     f"| {row.unfinished} |")
    lines.append(f"| all | | | {len(cells)} | {cells['compute_min'].sum():.1f} | {cells['train_min'].sum():.1f} "
                 f"| {totals['unfinished'].sum()} |")
    return lines


def per_cell_table(cells: pd.DataFrame, prefix: str) -> list[str]:
    lines = ["| cell | compute, s | training, s | attempts |", "|---|---|---|---|"]
    for cell in cells[cells["title"].str.startswith(prefix)].itertuples():
        lines.append(f"| {cell.title} | {60 * cell.compute_min:.0f} | {60 * cell.train_min:.0f} | {cell.attempts} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", type=Path, help="a study's output directory or its published copy")
    parser.add_argument("--cells", metavar="PREFIX",
                        help="list each finished cell whose title starts with PREFIX, e.g. 'OpenBookQA / "
                             "SmolLM2-135M', instead of the per-seed totals")
    args = parser.parse_args()
    if not (args.study / layout.CELLS_DIR).is_dir():
        sys.exit(f"{args.study}: no cells/ directory (not a study output directory or published copy)")
    cells = finished_cells(args.study)
    if cells.empty:
        sys.exit(f"{args.study / 'cells'}: no finished cells")
    lines = per_cell_table(cells, args.cells) if args.cells is not None else seed_totals_table(cells)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
