"""Print how far apart finished cells are: where each ran, its accuracy, and how often two cells predict the same
answer, as Markdown tables.

    python scripts/compare_cells.py docs/results/csqa-content:aba65200b429e7cf \
        docs/results/csqa-content-zen3-fp32:aba65200b429e7cf docs/results/csqa-content-zen3-fp32:47e2cd49133bf921

Each argument is STUDY:CELL, a study's output directory or its published copy and a cell key in it. The same cell
key in two copies is one configuration trained twice (on two machines, or in two precisions); a cell of another
seed beside them says how far apart training noise alone puts two students. Reads STUDY/cells/CELL (cell.json,
manifest.json) and STUDY/predictions.parquet, so the agreement docs/results.md quotes is generated, not counted by
hand.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import pandas as pd

from cotdistill.study import layout


def load_cell(spec: str) -> dict:
    """The title, machine and label-first predictions of the finished cell STUDY:CELL."""
    study_text, _, key = spec.rpartition(":")
    if not study_text or not key:
        sys.exit(f"{spec}: expected STUDY:CELL, e.g. docs/results/csqa-content:aba65200b429e7cf")
    study = Path(study_text)
    directory = study / "cells" / key
    try:
        title = json.loads((directory / layout.CELL_FILE).read_text())["title"]
        host = json.loads((directory / layout.MANIFEST_FILE).read_text())["host"]
        predictions = pd.read_parquet(study / "predictions.parquet", columns=["cell", "mode", "id", "pred", "correct"])
    except (OSError, ValueError, KeyError) as err:
        sys.exit(f"{spec}: unreadable cell.json / manifest.json / predictions.parquet ({type(err).__name__}: {err})")
    predictions = predictions[(predictions["cell"] == key) & (predictions["mode"] == "label_first")]
    if predictions.empty:
        sys.exit(f"{study / 'predictions.parquet'}: no label-first predictions of cell {key}")
    return {"spec": spec, "title": title, "cpu": host.get("cpu", "?"),
            "precision": "bf16 autocast" if host.get("bf16_fast") else "fp32",
            "predictions": predictions.set_index("id")}


def cells_table(cells: list[dict]) -> list[str]:
    lines = ["| cell | what | CPU | training precision | accuracy % |", "|---|---|---|---|---|"]
    for cell in cells:
        lines.append(f"| {cell['spec']} | {cell['title']} | {cell['cpu']} | {cell['precision']} "
                     f"| {100 * cell['predictions']['correct'].mean():.2f} |")
    return lines


def agreement_table(cells: list[dict]) -> list[str]:
    lines = ["| cell | cell | questions | same answer % | accuracy difference, points |", "|---|---|---|---|---|"]
    for first, second in itertools.combinations(cells, 2):
        both = first["predictions"].merge(second["predictions"], left_index=True, right_index=True,
                                           suffixes=("_1", "_2"))
        if both.empty:
            sys.exit(f"{first['spec']} and {second['spec']} share no question")
        same = (both["pred_1"] == both["pred_2"]).mean()
        difference = both["correct_1"].mean() - both["correct_2"].mean()
        lines.append(f"| {first['spec']} | {second['spec']} | {len(both)} | {100 * same:.1f} "
                     f"| {100 * difference:+.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cells", nargs="+", metavar="STUDY:CELL", help="a finished cell of a study or its copy")
    args = parser.parse_args()
    if len(args.cells) < 2:
        parser.error("name at least two cells to compare")
    cells = [load_cell(spec) for spec in args.cells]
    print("\n".join(cells_table(cells)) + "\n\n" + "\n".join(agreement_table(cells)))


if __name__ == "__main__":
    main()
