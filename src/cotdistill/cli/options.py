"""The CLI's one vocabulary: the options several commands share, each spelled one way.

- ``-o/--output``: what the command writes (a file or a folder). Never an input: a command that reads a study
  takes it as the argument ``STUDY_DIR``.
- ``--task-path``: local file or folder of a task (omitted: the Hugging Face hub).
- ``--rationales`` / ``--rationales-format``: a teacher's rationales (store, file or palm_cqa folder) and their
  format.
- ``--config``: a YAML config of the command's stage.
- ``-n/--num-examples``: how many examples a command prints or builds; other counts are ``--num-<things>``.
- ``--limit N``: everywhere the same: a seeded random subset of N examples of the task, kept in file order (seed 0,
  or the command's ``--seed`` where it has one), the subset ``TaskConfig.limit`` draws.

tests/cli/test_vocabulary.py walks every command and fails on any other spelling of these.
"""

from __future__ import annotations

from typing import Any, get_args

import typer
from pydantic import BaseModel

TASK_PATH_HELP = "Local file or folder of the task (default: the Hugging Face hub)."
LIMIT_HELP = "Use a seeded random subset of N examples of the task (kept in file order)."


def output_option(help: str, default: Any = ...) -> Any:
    """``-o/--output``: what the command writes."""
    return typer.Option(default, "-o", "--output", help=help)


def task_path_option() -> Any:
    return typer.Option(None, "--task-path", help=TASK_PATH_HELP)


def rationales_option(help: str, default: Any = None) -> Any:
    return typer.Option(default, "--rationales", help=help)


def rationales_format_option(help: str, default: Any = None) -> Any:
    return typer.Option(default, "--rationales-format", help=help)


def config_option(help: str) -> Any:
    return typer.Option(None, "--config", help=help)


def limit_option(extra: str = "") -> Any:
    return typer.Option(None, "--limit", min=1, metavar="N", help=f"{LIMIT_HELP}{' ' + extra if extra else ''}")


def num_examples_option(default: int, help: str, *, min: int = 0) -> Any:
    return typer.Option(default, "-n", "--num-examples", min=min, help=help)


def choices_metavar(config: type[BaseModel], name: str) -> str:
    """``[a|b|c]``: the choices of a config field, for a flag that the config validates itself (so that its
    errors name the config key)."""
    return "[" + "|".join(get_args(field_type(config, name))) + "]"


def field_type(config: type[BaseModel], name: str) -> Any:
    """The type of a config field (e.g. its ``Literal`` of choices), so that a flag offers what the config accepts
    and ``--help`` lists the choices."""
    return config.model_fields[name].annotation
