"""Multiple-choice tasks by name, loaded from local files or the Hugging Face hub into :class:`Example` lists.

Built-in tasks (``cotdistill tasks list``):

- ``commonsense_qa`` -- hub ``tau/commonsense_qa``; local CSQA release files ``{train,dev}_rand_split.jsonl`` and
  ``test_rand_split_no_answers.jsonl`` (``path`` = one file or their folder).
- ``openbookqa`` -- hub ``allenai/openbookqa`` (config ``main``, or ``additional`` with ``fact_as_context``);
  local ``Data/Main/{train,dev,test}.jsonl`` (or ``Data/Additional/*_complete.jsonl`` holding ``fact1``).
- ``quarel`` -- hub ``community-datasets/quarel``; local ``quarel-v1-{train,dev,test}.jsonl`` (question with inline
  "(A) .. (B) .." options, ``answer_index`` 0/1). A ``path`` holding the Natural-Instructions reconstruction
  (records with ``choices`` instead of ``answer_index``) is read as ``quarel_ni``.
- ``quarel_ni`` -- the QuaRel questions recovered from Super-NaturalInstructions (``quarel_natural_instructions.jsonl``
  or ``dev278.jsonl``: ``question``, ``choices`` {A, B}, ``answer``, ``id``). Its splits are ``all``, ``dev`` (the
  rows with a QuaRel dev id) and ``non_dev`` (the rest, from QuaRel train or test -- the source does not say which).
- ``jsonl`` / ``csv`` -- any file, read through ``fields`` (see :class:`TaskConfig`).

Splits are ``train``, ``validation`` (alias ``dev``) and ``test``. Gold labels are required except in the
``test`` split. Every row is validated; errors name ``file:line: field '<field in the file>'`` (for hub data the
"file" is ``hub-name[split]`` and the line is the row number).

Each source is one module of :mod:`cotdistill.data.sources` (the synthetic task: :mod:`cotdistill.data.synthetic`)
with a function ``loader(cfg: TaskConfig) -> list[Example]`` (its docstring's first line is the description shown by
``cotdistill tasks list``); :data:`~cotdistill.data.sources.BUILTIN_TASKS` lists them by name and :data:`TASKS`
starts from that list. Other modules add tasks with ``@register_task("name")`` on such a function.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from cotdistill.data.example import Example
from cotdistill.data.rows import split_inline_options
from cotdistill.data.sources import BUILTIN_TASKS
from cotdistill.data.task_config import FIELD_ROLES, SPLITS, TaskConfig, TaskLoader
from cotdistill.errors import DataError
from cotdistill.registry import Registry

__all__ = ["FIELD_ROLES", "SPLITS", "TASKS", "TaskConfig", "TaskLoader", "load_task", "register_task",
           "split_inline_options", "subsample", "task_description"]

TASKS: Registry[TaskLoader] = Registry("task", BUILTIN_TASKS)


def register_task(name: str) -> Callable[[TaskLoader], TaskLoader]:
    """Decorator adding ``loader(cfg) -> list[Example]`` to :data:`TASKS` under ``name``."""
    return TASKS.register(name)


def task_description(name: str) -> str:
    doc = (TASKS.get(name).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def load_task(cfg: TaskConfig) -> list[Example]:
    """The examples of ``cfg``'s task and split, validated, subsampled to ``cfg.limit``."""
    loader = TASKS.get(cfg.name, field="task.name")
    examples = loader(cfg)
    if not examples:
        raise DataError(f"task '{cfg.name}' has no examples in split '{cfg.split}'", path=cfg.path)
    _check_loaded(examples, cfg.name)
    return subsample(examples, cfg.limit, cfg.seed)


def subsample(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    """A seeded random subset of ``limit`` examples kept in their original order (all when ``limit`` is None)."""
    if limit is None or limit >= len(examples):
        return list(examples)
    keep = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]


def _check_loaded(examples: list[Example], task: str) -> None:
    # Loaders of this module validate row by row with line numbers; this catches loaders registered elsewhere.
    seen: set[str] = set()
    for ex in examples:
        if ex.id in seen:
            raise DataError(f"task '{task}' returned duplicate id '{ex.id}'", field="id")
        seen.add(ex.id)
        if ex.answer is not None and ex.answer not in ex.choices:
            raise DataError(f"task '{task}', example '{ex.id}': gold label '{ex.answer}' is not among the choices "
                            f"{list(ex.choices)}", field="answer")
