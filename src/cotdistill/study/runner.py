"""Run a study's grid: every (task, student, variant, seed) cell trained and evaluated once, into the output
directory laid out as :mod:`cotdistill.study.layout` describes. A finished cell is never recomputed; an unfinished
one resumes."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from cotdistill.data.example import Example
from cotdistill.distributed import computed_once, join_process_group
from cotdistill.errors import ConfigError
from cotdistill.files import write_json_atomic
from cotdistill.models.device import resolve_device
from cotdistill.study import layout
from cotdistill.study.analysis import PREDICTION_COLUMNS, RESULT_COLUMNS
from cotdistill.study.cellio import cell_log, out_of_disk_as_error
from cotdistill.study.config import StudyConfig, StudyTaskConfig
from cotdistill.study.grid import Cell, expand_grid, select_cells, untrained_cells
from cotdistill.study.leases import DEFAULT_TTL, Lease, try_claim, worker_id
from cotdistill.study.progress import GridProgress
from cotdistill.study.provenance import git_commit, host_info, library_versions
from cotdistill.study.taskdata import TaskData, load_task_data

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def chance_accuracy(examples: list[Example]) -> float:
    return sum(1 / len(ex.choices) for ex in examples) / len(examples)


def training_phase(train_dir: Path, n_instances: int, *, interrupted: bool) -> str:
    """What a cell's training is about to do, for its log: a first run, a resume, or a restart from scratch.

    An interrupted attempt resumes from the checkpoint :func:`train_student` will pick; one stopped before its
    first complete checkpoint trains again from the start, and the log says so.
    """
    from cotdistill.train.rundir import latest_complete_checkpoint

    if not interrupted:
        return f"training on {n_instances} instances"
    checkpoint = latest_complete_checkpoint(train_dir)
    if checkpoint is not None:
        return f"resuming training on {n_instances} instances from {Path(checkpoint).name}"
    return f"training on {n_instances} instances again from the start (no complete checkpoint to resume from)"


class StudyRunner:
    """One study's grid in one output directory: prepares its tasks, runs the selected unfinished cells (each
    trained through :func:`cotdistill.train.pipeline.train_on_examples`, then evaluated) and writes the tables."""

    def __init__(self, cfg: StudyConfig, out_dir: str | Path, *, config_text: str | None = None,
                 config_file: str | None = None, live: bool | None = None,
                 only: dict[str, list[str]] | None = None, keep_weights: bool = True,
                 expected_seconds: dict[str, float] | None = None, lease_ttl: float = DEFAULT_TTL,
                 poll_seconds: float | None = None):
        self.cfg = cfg
        self.keep_weights = keep_weights
        # Workers sharing the directory claim each cell (and each teacher phase) with a lease (study/leases.py).
        self.lease_ttl = lease_ttl
        self.poll_seconds = poll_seconds if poll_seconds is not None else min(30.0, lease_ttl / 4)
        self.worker = worker_id()
        self._attempted: set[str] = set()
        self.expected_seconds = expected_seconds
        self.out = Path(out_dir)
        self.config_text = config_text
        self.config_file = config_file
        self.live = live
        self.cells = untrained_cells(cfg) + expand_grid(cfg)
        self.selected = select_cells(self.cells, only or {})
        self.is_main = _rank() == 0
        self.tasks: dict[int, TaskData] = {}
        self._provenance: dict[str, Any] | None = None

    def cell_dir(self, cell: Cell) -> Path:
        return layout.cell_dir(self.out, cell.key)

    def is_done(self, cell: Cell) -> bool:
        return layout.is_finished(self.cell_dir(cell))

    # -- before any work --
    def prepare(self) -> None:
        """Load every task (and run teachers) and record the study; raises before any training."""
        self.out.mkdir(parents=True, exist_ok=True)
        for i, task in enumerate(self.cfg.tasks):
            self.tasks[i] = self._load_task(task, i)
            audit = self.tasks[i].audit
            if audit is not None and self.is_main:
                path = layout.audit_path(self.out, task.name)
                path.parent.mkdir(exist_ok=True)
                write_json_atomic(path, audit)
        if self.is_main:
            self._record_study()

    def _load_task(self, task: StudyTaskConfig, index: int) -> TaskData:
        """A task's data; its teacher phase runs in one worker only: the others wait for its lease to go, then
        read what it wrote (the teacher's store is reused, nothing is asked twice)."""
        if task.teacher is None or not self.is_main:
            return load_task_data(task, index, self.out, write=self.is_main)
        while True:
            lease = try_claim(self.out, f"teacher-{index}", worker=self.worker, ttl=self.lease_ttl)
            if lease is not None:
                try:
                    return load_task_data(task, index, self.out, write=True)
                finally:
                    lease.release()
            log.info("another worker runs the teacher of %s; waiting", task.name)
            time.sleep(self.poll_seconds)

    def _next_cell(self, pending: list[Cell]) -> tuple[str, Cell | None, Lease | None]:
        """("run", cell, lease) for the first unfinished cell no live worker holds; ("wait", ...) when every
        unfinished cell is held by another worker; ("done", ...) when all are finished."""
        # A cell this worker already ran is not claimed again in this run (lost to a takeover, or finished).
        unfinished = [c for c in pending if not self.is_done(c) and c.key not in self._attempted]
        for cell in unfinished:
            lease = try_claim(self.out, cell.key, worker=self.worker, ttl=self.lease_ttl)
            if lease is None:
                continue
            if self.is_done(cell):  # finished by another worker between the check and the claim
                lease.release()
                continue
            self._attempted.add(cell.key)
            return "run", cell, lease
        return ("wait" if unfinished else "done"), None, None

    def _record_study(self) -> None:
        layout.record_study(self.out, {
            "name": self.cfg.name, "config_hash": self.cfg.study_hash(), "baseline": self.cfg.baseline,
            "config_file": self.config_file, "config": self.cfg.model_dump(mode="json"),
            "cells": [{"key": c.key, "task": c.task, "student": c.student, "variant": c.variant, "seed": c.seed}
                      for c in self.cells],
        }, self.config_text)

    # -- the grid --
    def run(self) -> Path:
        """Run every unfinished cell, then write the results tables; returns the output directory."""
        # Under torchrun the ranks agree on each cell before the first training starts their group.
        join_process_group(cpu=resolve_device(self.cfg.device, field="device").type == "cpu")
        self.prepare()
        # Seed-major: an interrupted grid then holds whole seeds (every variant compared on the same seeds).
        seed_rank = {seed: i for i, seed in enumerate(self.cfg.seeds)}
        pending = sorted((c for c in self.selected if not self.is_done(c)),
                         key=lambda c: seed_rank.get(c.seed, -1))
        expected = ({c.title: self.expected_seconds[c.title] for c in pending if c.title in self.expected_seconds}
                    if self.expected_seconds else None)
        progress = GridProgress(len(self.selected), len(self.selected) - len(pending), title=self.cfg.name,
                                live=self.live, expected=expected) if self.is_main else None
        by_key = {c.key: c for c in pending}
        claimed: dict[str, Lease | None] = {}

        def next_cell_key() -> tuple[str, str | None]:
            # Rank 0 claims (its lease stays here); every rank of a torchrun group then runs the same cell.
            action, cell, claimed["lease"] = self._next_cell(pending)
            return action, cell.key if cell else None

        try:
            while True:
                claimed["lease"] = None
                action, key = computed_once(next_cell_key)
                lease = claimed["lease"]
                if action == "done":
                    break
                if action == "wait":  # every unfinished cell is another worker's: look again later
                    time.sleep(self.poll_seconds)
                    continue
                cell = by_key[key]
                if progress:
                    progress.cell_started(cell.title)
                try:
                    summary = self.run_cell(cell, progress, lease=lease)
                finally:
                    if lease is not None:
                        lease.release()
                if self.is_main:
                    self.write_tables()
                if progress:
                    progress.cell_finished(summary)
        finally:
            if progress:
                progress.close()
        if self.is_main:
            self.write_tables()
        return self.out

    def _phase(self, progress: GridProgress | None, text: str) -> None:
        log.info("%s", text)
        if progress:
            progress.cell_phase(text)

    def run_cell(self, cell: Cell, progress: GridProgress | None = None, *, lease: Lease | None = None) -> str:
        directory = self.cell_dir(cell)
        directory.mkdir(parents=True, exist_ok=True)
        manifest_path = directory / layout.MANIFEST_FILE
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        attempts = manifest.get("attempts", []) + [{"started": _now(), "pid": os.getpid(),
                                                    "host": socket.gethostname()}]
        start = time.perf_counter()
        if self.is_main:
            write_json_atomic(directory / layout.CELL_FILE,
                              {"key": cell.key, "title": cell.title, "config": cell.resolved})
            manifest = {**manifest, "status": "running", "attempts": attempts, "seed": cell.seed,
                        "config": cell.resolved, **self.provenance()}
            write_json_atomic(manifest_path, manifest)
        with cell_log(directory / layout.CELL_LOG), out_of_disk_as_error(directory):
            train_result = self._train(cell, directory, progress)
            # Under torchrun every rank trains the cell and evaluates its shard of the questions; rank 0 writes.
            metrics, eval_seconds = self._evaluate(cell, directory, progress)
        if not self.is_main:
            return ""
        if lease is not None and not lease.renew():
            # Another worker took the cell over while this one stalled: it finishes and records the cell.
            log.warning("lost the lease on %s to another worker; leaving the cell to it", cell.title)
            return "taken over by another worker"
        total = time.perf_counter() - start
        manifest.update({
            "status": "done", "finished": _now(), "weights_kept": self.keep_weights,
            "timings": {"train_seconds": train_result["train_seconds"], "eval_seconds": eval_seconds,
                        "total_seconds": total + sum(a.get("seconds", 0.0) for a in attempts[:-1])},
        })
        attempts[-1]["seconds"] = total
        write_json_atomic(manifest_path, manifest)
        write_json_atomic(directory / layout.DONE_FILE, {"finished": _now(),
                                                   "accuracy": {m: metrics[m]["accuracy"] for m in cell.modes}})
        if not self.keep_weights:
            dropped = layout.drop_weights(directory / layout.TRAIN_DIR)
            log.info("dropped the trained weights (%.2f GB); `cotdistill reproduce %s` retrains them",
                     dropped / 1e9, directory)
        return ", ".join(f"{m.replace('_', '-')} accuracy {100 * metrics[m]['accuracy']:.1f}%" for m in cell.modes)

    def provenance(self) -> dict[str, Any]:
        if self._provenance is None:
            self._provenance = {**git_commit(), "versions": library_versions(), "host": host_info()}
        return self._provenance

    def _train(self, cell: Cell, directory: Path, progress: GridProgress | None) -> dict[str, Any]:
        """Train the cell's student, or resume its unfinished training; a finished one is only read back."""
        from cotdistill.train.pipeline import train_on_examples, variant_record
        from cotdistill.models import read_metadata

        if not cell.trained:
            return {"train_seconds": 0.0}
        assert cell.train_config is not None  # every trained cell carries its settings
        train_dir = directory / layout.TRAIN_DIR
        finished = read_metadata(train_dir)
        if finished is not None and finished.get("finished"):
            return finished["result"]
        data = self.tasks[cell.task_index]
        task_cfg = self.cfg.tasks[cell.task_index]
        # The cell's key already names its data and settings: no example or instance counts, unlike `train`.
        metadata = {**variant_record(cell.variant_config), "task": task_cfg.train.model_dump(mode="json"),
                    "rationales": task_cfg.rationale_source(), "seed": cell.seed, "study_cell": cell.key}
        self._phase(progress, "building training data")
        result = train_on_examples(
            data.train, data.rationales, cell.variant_config, self.cfg.students[cell.student_index].student_config(),
            cell.train_config, train_dir, keytoken_cache=self.out / layout.KEYTOKEN_SCORES_DIR,
            device=self.cfg.device,
            metadata=lambda n_instances: metadata,
            on_instances=lambda n_instances: self._phase(
                progress, training_phase(train_dir, n_instances, interrupted=finished is not None)))
        return result.to_dict()

    def _evaluate(self, cell: Cell, directory: Path,
                  progress: GridProgress | None) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
        from cotdistill.evaluate import evaluate_student, write_eval_result
        from cotdistill.models import load_trained_student

        data = self.tasks[cell.task_index]
        metrics: dict[str, dict[str, Any]] = {}
        seconds: dict[str, float] = {}
        loaded = None
        for mode in cell.modes:
            eval_dir = layout.eval_dir(directory, mode)
            if layout.has_metrics(directory, mode):
                metrics[mode] = layout.read_metrics(directory, mode)
                seconds[mode] = float(metrics[mode].get("seconds", 0.0))
                continue
            if loaded is None and not cell.trained:
                from cotdistill.models import load_student

                self._phase(progress, "loading the untrained student")
                loaded = load_student(self.cfg.students[cell.student_index].student_config())
            elif loaded is None:
                self._phase(progress, "loading the trained student")
                loaded = load_trained_student(directory / layout.TRAIN_DIR)[:2]
            model, tokenizer = loaded
            eval_cfg = self.cfg.eval.config_for(mode)
            self._phase(progress, f"evaluating {mode.replace('_', '-')} on "
                                  f"{min(len(data.eval), eval_cfg.limit or len(data.eval))} questions")
            result = evaluate_student(model, tokenizer, data.eval, variant=cell.variant_config.build_variant(),
                                      prompt_format=cell.variant_config.prompt_format(), config=eval_cfg)
            if self.is_main:
                write_eval_result(result, eval_dir)
            metrics[mode] = result.metrics
            seconds[mode] = float(result.metrics.get("seconds", 0.0))
        return metrics, seconds

    # -- results --
    def write_tables(self) -> None:
        """results.parquet/.csv and predictions.parquet from every finished cell of this grid (atomic writes)."""
        rows, predictions = [], []
        for cell in self.cells:
            if not self.is_done(cell):
                continue
            directory = self.cell_dir(cell)
            train = (layout.read_train_result(directory) if cell.trained
                     else {"train_seconds": 0.0, "final_loss": None, "target_tokens": 0})
            data = self.tasks[cell.task_index]
            for mode in cell.modes:
                m = layout.read_metrics(directory, mode)
                limit = self.cfg.eval.config_for(mode).limit
                evaluated = data.eval[:limit] if limit else data.eval
                rows.append({
                    "cell": cell.key, "task": cell.task, "student": cell.student, "variant": cell.variant,
                    "variant_name": cell.variant_config.name, "k": cell.k, "seed": cell.seed, "mode": mode,
                    "primary_mode": mode == cell.primary_mode, "is_baseline": cell.is_baseline,
                    "accuracy": m["accuracy"], "n": m["n"], "chance": chance_accuracy(evaluated),
                    "format_compliance": m.get("format_compliance"),
                    "mean_tokens_generated": m.get("mean_tokens_generated"),
                    "seconds_per_answer": m.get("seconds_per_answer"), "train_seconds": train["train_seconds"],
                    "eval_seconds": m.get("seconds"), "final_loss": train["final_loss"],
                    "target_tokens": train["target_tokens"],
                })
                predictions += [{"cell": cell.key, "task": cell.task, "student": cell.student,
                                 "variant": cell.variant, "seed": cell.seed, "mode": mode,
                                 "id": str(p["id"]), "gold": p.get("gold"), "pred": p.get("pred"),
                                 "correct": bool(p["correct"])} for p in layout.read_predictions(directory, mode)]
        layout.write_tables(self.out, pd.DataFrame(rows, columns=RESULT_COLUMNS),
                            pd.DataFrame(predictions, columns=PREDICTION_COLUMNS))


def run_study(cfg: StudyConfig, out_dir: str | Path, *, config_text: str | None = None,
              config_file: str | None = None, live: bool | None = None,
              only: dict[str, list[str]] | None = None, keep_weights: bool = True,
              expected_seconds: dict[str, float] | None = None, lease_ttl: float = DEFAULT_TTL,
              poll_seconds: float | None = None, stage: str = "all") -> Path:
    """Run (or resume) the study of ``cfg`` into ``out_dir``; returns ``out_dir``. Any number of such runs (on
    any machines sharing the directory) work through one grid together, each cell claimed by one of them at a
    time (``lease_ttl``: seconds without a heartbeat after which another takes a cell over; ``poll_seconds``: how
    often a worker with nothing to claim looks again). ``stage="teach"`` runs only the teacher phase (every task's
    rationales written and audited, the study recorded) and stops before training, e.g. to stop the teacher's
    server and give its GPU to training. ``only`` restricts the run to
    the cells matching it (see :func:`select_cells`); the tables still collect every finished cell of the grid.
    ``keep_weights=False`` deletes each cell's trained weights once it is evaluated (disk for large grids).
    ``expected_seconds`` (cell title -> predicted seconds, e.g. the demo's plan) makes the progress ETA follow the
    predictions, scaled by how finished cells compared with theirs."""
    if stage not in ("all", "teach"):
        raise ConfigError(f"unknown stage '{stage}' (choose all or teach)", field="--stage")
    runner = StudyRunner(cfg, out_dir, config_text=config_text, config_file=config_file, live=live,
                         only=only, keep_weights=keep_weights, expected_seconds=expected_seconds,
                         lease_ttl=lease_ttl, poll_seconds=poll_seconds)
    if stage == "teach":
        runner.prepare()
        return runner.out
    return runner.run()

