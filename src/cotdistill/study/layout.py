"""The output directory of a study, ``OUT``, and reading and writing its records::

    study.json                   the resolved config, its hash, the baseline (earlier versions: history/)
    study.yaml                   the config as given
    audits/<task>.json           rationale / teacher audit per task (when it has a rationale source)
    teacher/<task>/              rationales written by a configured teacher (reused on rerun)
    keytoken_scores/             cache of key-token scores (key-token variants)
    cells/<hash>/                one cell, named by the hash of its resolved config
        cell.json                what the cell is (resolved config, labels)
        manifest.json            provenance: config, git commit, library versions, seed, timings, host
        cell.log                 everything the cell printed or logged
        train/                   the trained student (checkpoints while training; cotdistill.json: result)
        eval/<mode>/             predictions.jsonl + metrics.json per evaluation mode
        DONE                     written last, atomically: the cell is finished
    results.parquet / .csv       one row per cell and evaluation mode
    predictions.parquet          one row per cell, mode and evaluation example

A finished cell (``DONE``) is never recomputed; an unfinished one resumes: training from its latest
checkpoint, evaluation modes already written are kept. Nothing already computed is overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from cotdistill.evaluate.api import METRICS_FILE, PREDICTIONS_FILE
from cotdistill.files import write_json_atomic, write_text_atomic
from cotdistill.models import METADATA_FILE

STUDY_FILE = "study.json"
STUDY_YAML = "study.yaml"
HISTORY_DIR = "history"
AUDITS_DIR = "audits"
TEACHER_DIR = "teacher"
KEYTOKEN_SCORES_DIR = "keytoken_scores"
CELLS_DIR = "cells"
CELL_FILE = "cell.json"
MANIFEST_FILE = "manifest.json"
CELL_LOG = "cell.log"
TRAIN_DIR = "train"
EVAL_DIR = "eval"
DONE_FILE = "DONE"
RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
PREDICTIONS_PARQUET = "predictions.parquet"
#: The study's record and tables, kept under history/<hash>/ when another config runs in the same directory.
STUDY_RECORDS = (STUDY_FILE, STUDY_YAML, RESULTS_PARQUET, RESULTS_CSV, PREDICTIONS_PARQUET)


def cell_dir(root: Path, key: str) -> Path:
    return root / CELLS_DIR / key


def is_finished(directory: Path) -> bool:
    """Whether the cell in ``directory`` is finished (its DONE record is written last)."""
    return (directory / DONE_FILE).is_file()


def finished_cell_dirs(root: Path) -> list[Path]:
    """The directories of the finished cells under ``root`` (any config's), sorted by key."""
    cells = root / CELLS_DIR
    return sorted(d for d in cells.iterdir() if is_finished(d)) if cells.is_dir() else []


def eval_dir(directory: Path, mode: str) -> Path:
    return directory / EVAL_DIR / mode


def audit_path(root: Path, task: str) -> Path:
    return root / AUDITS_DIR / f"{task}.json"


def teacher_dir(root: Path, task: str) -> Path:
    return root / TEACHER_DIR / task


def read_study(root: Path) -> dict[str, Any]:
    return json.loads((root / STUDY_FILE).read_text())


def record_study(root: Path, record: dict[str, Any], config_text: str | None) -> None:
    """Write study.json (and study.yaml, the config as given). When another config (another ``config_hash``) ran
    here before, its record and tables move to history/<its hash>/ first; its cells stay in cells/."""
    study_file = root / STUDY_FILE
    if study_file.is_file():
        previous = json.loads(study_file.read_text())
        if previous.get("config_hash") != record["config_hash"]:
            keep = root / HISTORY_DIR / previous.get("config_hash", "unknown")
            keep.mkdir(parents=True, exist_ok=True)
            for name in STUDY_RECORDS:
                if (root / name).exists() and not (keep / name).exists():
                    (root / name).replace(keep / name)
    write_json_atomic(study_file, record)
    if config_text is not None:
        write_text_atomic(root / STUDY_YAML, config_text)


def read_train_result(directory: Path) -> dict[str, Any]:
    """The training result (train_seconds, final_loss, target_tokens, ...) of a finished cell's student."""
    return json.loads((directory / TRAIN_DIR / METADATA_FILE).read_text())["result"]


def has_metrics(directory: Path, mode: str) -> bool:
    """Whether the cell's evaluation in ``mode`` is written (an interrupted cell keeps it)."""
    return (eval_dir(directory, mode) / METRICS_FILE).is_file()


def read_metrics(directory: Path, mode: str) -> dict[str, Any]:
    return json.loads((eval_dir(directory, mode) / METRICS_FILE).read_text())


def read_predictions(directory: Path, mode: str) -> Iterator[dict[str, Any]]:
    """The prediction records of one evaluation mode of a cell, in evaluation order."""
    with (eval_dir(directory, mode) / PREDICTIONS_FILE).open() as fh:
        for line in fh:
            yield json.loads(line)


def read_accuracy(directory: Path) -> dict[str, float]:
    """Accuracy per evaluation mode of a finished cell, as its DONE record holds it."""
    return json.loads((directory / DONE_FILE).read_text())["accuracy"]


def write_tables(root: Path, results: pd.DataFrame, predictions: pd.DataFrame) -> None:
    """results.parquet / results.csv and predictions.parquet, each written atomically."""
    for frame, name in ((results, RESULTS_PARQUET), (predictions, PREDICTIONS_PARQUET)):
        tmp = root / f"{name}.{os.getpid()}.tmp"  # workers sharing the directory write at the same time
        frame.to_parquet(tmp, index=False)
        tmp.replace(root / name)
    write_text_atomic(root / RESULTS_CSV, results.to_csv(index=False))


def drop_weights(train_dir: Path) -> int:
    """Delete the weight files of a finished cell's student (its config, tokenizer and training record stay);
    returns the bytes freed. Only called after the cell's DONE record is written, so nothing it measured is lost."""
    freed = 0
    for path in [*train_dir.glob("*.safetensors"), *train_dir.glob("*.safetensors.index.json"),
                 *train_dir.glob("pytorch_model*.bin")]:
        freed += path.stat().st_size
        path.unlink()
    return freed
