"""What a finished study wrote that its report reads (see :mod:`cotdistill.study.layout`), restricted to some
finished cells (``--only`` / ``--exclude``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cotdistill.errors import DataError
from cotdistill.study import layout
from cotdistill.study.grid import UNTRAINED, select_by_labels


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
        for name in (layout.STUDY_FILE, layout.RESULTS_PARQUET, layout.PREDICTIONS_PARQUET):
            if not (root / name).is_file():
                raise DataError(f"not a finished study output directory: {name} is missing", path=root)
        results = pd.read_parquet(root / layout.RESULTS_PARQUET)
        predictions = pd.read_parquet(root / layout.PREDICTIONS_PARQUET)
        rows = list(results.itertuples(index=False))
        cells = {row.cell for row in select_by_labels(rows, only or {}, _row_labels, what="finished cell")}
        if exclude:
            cells -= {row.cell for row in select_by_labels(rows, exclude, _row_labels, what="finished cell",
                                                           flag="--exclude")}
        selection = " ".join([_flags("--only", only or {}), _flags("--exclude", exclude or {})]).strip()
        if selection:
            results = results[results["cell"].isin(cells)].reset_index(drop=True)
            predictions = predictions[predictions["cell"].isin(cells)].reset_index(drop=True)
        manifests = [json.loads(p.read_text())
                     for p in sorted(root.glob(f"{layout.CELLS_DIR}/*/{layout.MANIFEST_FILE}"))
                     if not selection or p.parent.name in cells]
        audits = {p.stem: json.loads(p.read_text()) for p in sorted(root.glob(f"{layout.AUDITS_DIR}/*.json"))}
        return cls(root, layout.read_study(root), results, predictions, manifests, audits,
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
    :func:`cotdistill.study.grid.select_cells` matches a cell."""
    if key == "variant":
        return {row.variant, row.variant_name}
    return {str(getattr(row, key))}
