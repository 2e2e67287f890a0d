"""Copy what a study's documentation cites from its output directory into the repository (small files only).

    python scripts/publish_results.py runs/local docs/results/local-study

Copies the report (Markdown, PNG plots, summary/comparison/finding tables), the results table and the
per-question predictions it was computed from, and for every cell in it its manifest, DONE record and evaluation
metrics -- so ``cotdistill reproduce DEST/cells/KEY -o DIR`` reruns any cell from the copy. Cells that finished
after the report was written (or that ``cotdistill report --only`` left out) are not copied, so the copy is
consistent while the grid goes on running. Trained weights stay behind. Refuses to write into a destination that
holds files it would replace, unless --overwrite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

from cotdistill.study.layout import DONE_FILE

REPORT_FILES = ("report.md", "summary.csv", "comparisons.csv", "findings.csv", "per_seed_mcnemar.csv", "results.csv",
                "predictions.parquet")
TABLES = ("study.json", "study.yaml")
CELL_FILES = ("manifest.json", DONE_FILE, "cell.json")


def files_to_copy(study: Path) -> list[tuple[Path, Path]]:
    """(source, path relative to the destination) of everything that is published."""
    pairs = [(study / "report" / name, Path(name)) for name in REPORT_FILES]
    pairs += [(png, Path(png.name)) for png in sorted((study / "report").glob("*.png"))]
    pairs += [(study / name, Path(name)) for name in TABLES]
    pairs += [(audit, Path("audits") / audit.name) for audit in sorted((study / "audits").glob("*.json"))]
    reported = set(pd.read_csv(study / "report" / "results.csv", dtype={"cell": str})["cell"])
    for cell in sorted((study / "cells").iterdir()):
        if cell.name not in reported:
            continue
        pairs += [(cell / name, Path("cells") / cell.name / name) for name in CELL_FILES]
        pairs += [(metrics, Path("cells") / cell.name / metrics.relative_to(cell))
                  for metrics in sorted((cell / "eval").glob("*/metrics.json"))]
    return [(src, rel) for src, rel in pairs if src.is_file()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", type=Path, help="output directory of `cotdistill study` (with its report)")
    parser.add_argument("dest", type=Path, help="where the copies go, e.g. docs/results/local-study")
    parser.add_argument("--overwrite", action="store_true", help="replace files already in the destination")
    args = parser.parse_args()
    if not (args.study / "report" / "results.csv").is_file():
        sys.exit(f"{args.study}: no report/results.csv (run `cotdistill report {args.study}` first)")
    pairs = files_to_copy(args.study)
    existing = [rel for _, rel in pairs if (args.dest / rel).exists()]
    if existing and not args.overwrite:
        sys.exit(f"{args.dest}: {len(existing)} files would be replaced (e.g. {existing[0]}); pass --overwrite")
    for src, rel in pairs:
        (args.dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, args.dest / rel)
    print(f"copied {len(pairs)} files to {args.dest}")


if __name__ == "__main__":
    main()
