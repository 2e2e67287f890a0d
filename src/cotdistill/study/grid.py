"""The study's grid: its cells (task x student x variant x seed, plus one untrained cell per task and student),
each keyed by the hash of its resolved config, and selecting cells by their labels (``--only KEY=VALUE``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cotdistill.configbase import config_hash
from cotdistill.errors import ConfigError
from cotdistill.study.config import EVAL_IDENTITY_EXCLUDE, TASK_IDENTITY_EXCLUDE, StudyConfig
from cotdistill.train.config import TrainConfig
from cotdistill.variants.config import VariantConfig

T = TypeVar("T")

#: Bumped when what a cell computes changes in a way its config does not show (old cells then rerun).
CELL_FORMAT = 1


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
