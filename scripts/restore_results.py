"""Rebuild the finished cells of a study output directory from a copy made by publish_results.py, so that the grid
can go on on another machine and its tables and report hold the published cells and the new ones together.

    python scripts/restore_results.py docs/results/local-study runs/local
    cotdistill study configs/local/study.yaml -o runs/local --only seed=2   # runs only what is missing

With ``--config`` it seeds a *new* study from published cells: only the cells of that config's grid (the cells
whose resolved config it shares, e.g. label_only of the same task, student and settings) are restored, into a
directory that is empty or recorded for that config, and the new study records itself when it first runs:

    python scripts/restore_results.py docs/results/local-study runs/csqa-content \
        --config configs/local/csqa_rationale_content.yaml

For every published cell it writes what `cotdistill study` reads back from a finished cell: manifest.json and
cell.json as published, eval/<mode>/metrics.json as published, eval/<mode>/predictions.jsonl from the published
predictions.parquet (the columns the study's tables use: id, gold, pred, correct), train/cotdistill.json holding the
training result's train_seconds, final_loss and target_tokens from results.csv, and restored.json naming the copy;
and the teacher audits (audits/*.json) the destination lacks.
Each cell is assembled beside the cells and renamed into place with its DONE record, so a study running into the
same directory never reads half a cell. Trained weights were never published: `cotdistill reproduce` retrains any
cell. Cells already in the destination are left as they are; a destination recorded for another study config is
refused. The study's tables (results.parquet, predictions.parquet) are rewritten by the next `cotdistill study`
into the destination, after each cell it finishes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from cotdistill.errors import CotDistillError
from cotdistill.models import METADATA_FILE
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import expand_grid, untrained_cells
from cotdistill.study.layout import DONE_FILE

TRAIN_RESULT_COLUMNS = ("train_seconds", "final_loss", "target_tokens")
PREDICTION_FIELDS = ("id", "gold", "pred", "correct")
RESTORED_FILE = "restored.json"


def _json_value(value):
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _check_same_study(published: Path, dest: Path, config_hash: str | None) -> None:
    """DEST is empty or records the study restored into: the published one, or ``--config``'s (hash given)."""
    expected = config_hash or json.loads((published / "study.json").read_text()).get("config_hash")
    if (dest / "study.json").is_file():
        existing = json.loads((dest / "study.json").read_text())
        if existing.get("config_hash") != expected:
            sys.exit(f"{dest / 'study.json'}: config_hash {existing.get('config_hash')} is not the restored "
                     f"study's ({expected}); restore into an empty directory")
        return
    dest.mkdir(parents=True, exist_ok=True)
    if config_hash is not None:
        return
    for name in ("study.json", "study.yaml"):
        if (published / name).is_file():
            shutil.copy2(published / name, dest / name)


def restore_audits(published: Path, dest: Path) -> None:
    """The teacher audits the report shows (a running study writes its own, the same, when it starts)."""
    for audit in sorted((published / "audits").glob("*.json")):
        if not (dest / "audits" / audit.name).exists():
            (dest / "audits").mkdir(exist_ok=True)
            shutil.copy2(audit, dest / "audits" / audit.name)


def _check_published_cell(published: Path, key: str, results: pd.DataFrame,
                          by_cell: dict[str, pd.DataFrame]) -> None:
    """Exit with one line naming what a damaged copy lacks, before anything of the cell is written."""
    source = published / "cells" / key
    needed = [source / name for name in ("manifest.json", "cell.json", DONE_FILE)]
    needed += [source / "eval" / mode / "metrics.json" for mode in results["mode"]]
    for path in needed:
        if not path.is_file():
            sys.exit(f"{path}: missing (results.csv names cell {key})")
    if key not in by_cell:
        sys.exit(f"{published / 'predictions.parquet'}: no predictions of cell {key} (results.csv names it)")


def restore_cell(published: Path, dest: Path, key: str, results: pd.DataFrame, predictions: pd.DataFrame) -> None:
    """Assemble one finished cell in a scratch folder beside DEST/cells and rename it into place."""
    source = published / "cells" / key
    scratch = dest / "cells" / f".restoring-{key}"
    if scratch.exists():
        shutil.rmtree(scratch)
    (scratch / "train").mkdir(parents=True)
    for name in ("manifest.json", "cell.json"):
        shutil.copy2(source / name, scratch / name)
    first = results.iloc[0]
    (scratch / "train" / METADATA_FILE).write_text(json.dumps({
        "finished": True, "restored_from": str(published),
        "result": {column: _json_value(first[column]) for column in TRAIN_RESULT_COLUMNS}}, indent=2) + "\n")
    for mode in results["mode"]:
        eval_dir = scratch / "eval" / mode
        eval_dir.mkdir(parents=True)
        shutil.copy2(source / "eval" / mode / "metrics.json", eval_dir / "metrics.json")
        rows = predictions[predictions["mode"] == mode]
        with (eval_dir / "predictions.jsonl").open("w") as fh:
            for row in rows.itertuples(index=False):
                fh.write(json.dumps({f: _json_value(getattr(row, f)) for f in PREDICTION_FIELDS}) + "\n")
    (scratch / RESTORED_FILE).write_text(json.dumps({
        "from": str(published), "restored": datetime.now(timezone.utc).isoformat(timespec="seconds")}) + "\n")
    shutil.copy2(source / DONE_FILE, scratch / DONE_FILE)
    scratch.rename(dest / "cells" / key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("published", type=Path, help="a copy written by publish_results.py, e.g. "
                                                     "docs/results/local-study")
    parser.add_argument("dest", type=Path, help="the study output directory to restore into, e.g. runs/local")
    parser.add_argument("--config", type=Path, help="restore only the cells of this study config's grid, to seed "
                                                    "a new study that shares them")
    args = parser.parse_args()
    for name in ("study.json", "results.csv", "predictions.parquet"):
        if not (args.published / name).is_file():
            sys.exit(f"{args.published}: no {name} (not a copy made by scripts/publish_results.py)")
    results = pd.read_csv(args.published / "results.csv", dtype={"cell": str})
    predictions = pd.read_parquet(args.published / "predictions.parquet")
    for path, frame, columns in ((args.published / "results.csv", results, ("cell", "mode") + TRAIN_RESULT_COLUMNS),
                                 (args.published / "predictions.parquet", predictions,
                                  ("cell", "mode") + PREDICTION_FIELDS)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            sys.exit(f"{path}: no column {missing[0]} (not a copy made by scripts/publish_results.py)")
    config_hash = None
    if args.config is not None:
        try:
            cfg = load_study_config(args.config)
        except CotDistillError as err:
            sys.exit(str(err))
        config_hash = cfg.study_hash()
        wanted = {cell.key for cell in expand_grid(cfg) + untrained_cells(cfg)}
        results = results[results["cell"].isin(wanted)]
    _check_same_study(args.published, args.dest, config_hash)
    restore_audits(args.published, args.dest)
    (args.dest / "cells").mkdir(parents=True, exist_ok=True)
    restored = kept = 0
    by_cell = dict(tuple(predictions.groupby("cell")))
    for key, rows in results.groupby("cell", sort=True):
        if (args.dest / "cells" / key).exists():
            kept += 1
            continue
        _check_published_cell(args.published, key, rows, by_cell)
        restore_cell(args.published, args.dest, key, rows, by_cell[key])
        restored += 1
    print(f"restored {restored} finished cells into {args.dest / 'cells'}"
          + (f" ({kept} already there, left as they are)" if kept else ""))


if __name__ == "__main__":
    main()
