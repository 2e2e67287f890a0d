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
from collections import defaultdict
from pathlib import Path

from cotdistill.study.runner import DONE_FILE


def finished_cells(study: Path) -> list[tuple[str, dict]]:
    """(title, manifest) of every finished cell, in title order."""
    cells = []
    for directory in sorted((study / "cells").glob("*")):
        if (directory / DONE_FILE).is_file():
            title = json.loads((directory / "cell.json").read_text())["title"]
            cells.append((title, json.loads((directory / "manifest.json").read_text())))
    return sorted(cells, key=lambda cell: cell[0])


def seed_totals_table(cells: list[tuple[str, dict]]) -> list[str]:
    totals: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    for title, manifest in cells:
        task, student, _variant, seed = title.split(" / ")
        entry = totals[(task, student, seed)]
        entry[0] += 1
        entry[1] += manifest["timings"]["total_seconds"] / 60
        entry[2] += manifest["timings"]["train_seconds"] / 60
        entry[3] += len(manifest.get("attempts") or []) > 1
    lines = ["| task | student | seed | cells | compute, min | training, min | cells with an unfinished attempt |",
             "|---|---|---|---|---|---|---|"]
    for (task, student, seed), (count, total, train, retried) in sorted(totals.items()):
        lines.append(f"| {task} | {student} | {seed.removeprefix('seed ')} | {count} | {total:.1f} | {train:.1f} "
                     f"| {retried} |")
    lines.append(f"| all | | | {len(cells)} | {sum(e[1] for e in totals.values()):.1f} "
                 f"| {sum(e[2] for e in totals.values()):.1f} | {sum(e[3] for e in totals.values())} |")
    return lines


def per_cell_table(cells: list[tuple[str, dict]], prefix: str) -> list[str]:
    lines = ["| cell | compute, s | training, s | attempts |", "|---|---|---|---|"]
    for title, manifest in cells:
        if title.startswith(prefix):
            timings = manifest["timings"]
            lines.append(f"| {title} | {timings['total_seconds']:.0f} | {timings['train_seconds']:.0f} "
                         f"| {len(manifest.get('attempts') or [])} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", type=Path, help="a study's output directory or its published copy")
    parser.add_argument("--cells", metavar="PREFIX",
                        help="list each finished cell whose title starts with PREFIX, e.g. 'OpenBookQA / "
                             "SmolLM2-135M', instead of the per-seed totals")
    args = parser.parse_args()
    if not (args.study / "cells").is_dir():
        sys.exit(f"{args.study}: no cells/ directory (not a study output directory or published copy)")
    cells = finished_cells(args.study)
    if not cells:
        sys.exit(f"{args.study / 'cells'}: no finished cells")
    lines = per_cell_table(cells, args.cells) if args.cells is not None else seed_totals_table(cells)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
