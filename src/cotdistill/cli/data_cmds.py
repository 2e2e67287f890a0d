"""``cotdistill tasks`` and ``cotdistill rationales``: look at tasks, import and audit teacher rationales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cotdistill.cli.app import app
from cotdistill.cli.options import (
    limit_option,
    num_examples_option,
    output_option,
    rationales_format_option,
    rationales_option,
    task_path_option,
)
from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale, write_rationales
from cotdistill.data.rationales import (
    LabelMatch,
    RationaleConfig,
    RationaleFormat,
    RationaleSplit,
    audit_rationales,
    load_rationales,
)
from cotdistill.data.tasks import TASKS, TaskConfig, load_task, task_description
from cotdistill.errors import ConfigError, DataError

tasks_app = typer.Typer(help="Tasks (multiple-choice datasets): list them, show normalized examples.",
                        no_args_is_help=True)
rationales_app = typer.Typer(help="Teacher rationales: import released files into a store, audit teacher labels.",
                             no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")
app.add_typer(rationales_app, name="rationales")


def parse_field_flags(values: list[str] | None, flag: str = "--field") -> dict[str, Any] | None:
    """``["question=q", "choices=a,b,c"]`` -> ``{"question": "q", "choices": ["a", "b", "c"]}``."""
    if not values:
        return None
    out: dict[str, Any] = {}
    for value in values:
        role, sep, name = value.partition("=")
        if not sep or not role or not name:
            raise ConfigError(f"expected ROLE=FIELD, got '{value}'", field=flag)
        out[role.strip()] = [n.strip() for n in name.split(",")] if "," in name else name.strip()
    return out


def task_config_from_flags(task: str, path: str | None, split: str, *, limit: int | None = None, seed: int = 0,
                           fields: list[str] | None = None, fact_as_context: bool = False,
                           hub_name: str | None = None) -> TaskConfig:
    data: dict[str, Any] = {"name": task, "split": split, "path": path, "limit": limit, "seed": seed,
                            "fact_as_context": fact_as_context, "hub_name": hub_name,
                            "fields": parse_field_flags(fields)}
    return TaskConfig.from_dict(data, source="command line")


def print_example(console: Console, ex: Example) -> None:
    console.print(Text(f"[{ex.id}] ", style="bold") + Text(ex.question))
    if ex.context:
        console.print(Text("  context: ", style="dim") + Text(ex.context))
    for label, choice in ex.choices.items():
        gold = label == ex.answer
        console.print(Text(f"  {'*' if gold else ' '}{label}: {choice}", style="green" if gold else ""))
    if ex.answer is None:
        console.print(Text("  (no gold label)", style="dim"))
    console.print()


def print_audit(console: Console, audit: dict[str, Any], title: str) -> None:
    table = Table("measure", "value", title=title)
    for key, value in audit.items():
        if isinstance(value, float):
            shown = f"{value:.3f}"
        elif isinstance(value, dict):
            shown = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
        else:
            shown = "-" if value is None else str(value)
        table.add_row(key, shown)
    console.print(table)


@tasks_app.command("list")
def list_tasks() -> None:
    """List the registered tasks."""
    table = Table("task", "description")
    for name in TASKS.names():
        table.add_row(name, task_description(name))
    Console().print(table)


@tasks_app.command("show")
def show_task(
    task: str = typer.Option(..., "--task", help="Task name (see `cotdistill tasks list`)."),
    task_path: str | None = task_path_option(),
    split: str = typer.Option("validation", "--split", help="Split: train, validation (dev), test."),
    num_examples: int = num_examples_option(3, "How many examples to print."),
    limit: int | None = limit_option("Printed examples come from it."),
    seed: int = typer.Option(0, "--seed", help="Seed of the --limit subset."),
    field: list[str] | None = typer.Option(None, "--field", help="jsonl/csv: ROLE=FIELD (repeatable), e.g. "
                                                                  "question=q or choices=a,b,c."),
    fact_as_context: bool = typer.Option(False, "--fact-as-context", help="openbookqa: fact1 as context."),
) -> None:
    """Print a few examples of a task as normalized records."""
    cfg = task_config_from_flags(task, task_path, split, limit=limit, seed=seed, fields=field,
                                 fact_as_context=fact_as_context)
    examples = load_task(cfg)
    console = Console()
    console.print(Text(f"{task} [{cfg.split}]: {len(examples)} examples", style="bold"))
    console.print()
    for ex in examples[:num_examples]:
        print_example(console, ex)


def rationale_config_from_flags(fmt: str, path: str, rationales_split: str | None, task_split: str | None,
                      **extra: Any) -> RationaleConfig:
    if fmt == "palm_cqa" and rationales_split is None and task_split is not None:
        # PaLM "test" completions are for the CSQA dev split.
        rationales_split = "train" if task_split == "train" else "test"
    data = {"path": path, "format": fmt, "split": rationales_split,
            **{k: v for k, v in extra.items() if v is not None}}
    return RationaleConfig.from_dict(data, source="command line")


def _examples_for(task: str | None, task_path: str | None, split: str) -> list[Example] | None:
    if task is None:
        return None
    return load_task(task_config_from_flags(task, task_path, split))


@rationales_app.command("import")
def import_rationales(
    fmt: RationaleFormat = rationales_format_option("Format of the file read.", default=...),
    path: str = rationales_option("Rationale file, or the palm_cqa folder.", default=...),
    out: Path = output_option("Store to write (JSONL); never overwritten."),
    task: str | None = typer.Option(None, "--task", help="Task of the rationales (reads the teacher's labels "
                                                         "against its choices and audits them)."),
    task_path: str | None = task_path_option(),
    split: str = typer.Option("validation", "--split", help="Task split."),
    rationales_split: RationaleSplit | None = typer.Option(None, "--rationales-split",
                                                           help="palm_cqa: which completions (default: from "
                                                                "--split)."),
    strip: bool = typer.Option(False, "--strip-answer-statement", help="Keep only the reasoning."),
    label_match: LabelMatch | None = typer.Option(None, "--label-match", help="How the teacher's label is read "
                                                                              "(default strict)."),
    source: str | None = typer.Option(None, "--source", help="Teacher name recorded in the store."),
) -> None:
    """Import teacher rationales into a JSONL store and print the audit of the teacher's labels."""
    if out.exists():
        raise DataError("already exists; refusing to overwrite (choose another --output)", path=out)
    cfg = rationale_config_from_flags(fmt, path, rationales_split, split if task else None,
                            strip_answer_statement=strip, label_match=label_match, source=source)
    examples = _examples_for(task, task_path, split)
    rationales = load_rationales(cfg, examples)
    write_rationales(out, rationales.values())
    console = Console()
    console.print(f"wrote {len(rationales)} rationales to {out}")
    _report(console, examples, rationales, title=f"teacher labels: {cfg.source or path}")


def _report(console: Console, examples: list[Example] | None, rationales: dict[str, Rationale], title: str) -> None:
    if examples is None:
        stated = sum(r.teacher_label is not None for r in rationales.values())
        console.print(f"{stated} of {len(rationales)} state a label (give --task to audit them against gold)")
        return
    print_audit(console, audit_rationales(examples, rationales), title)


@rationales_app.command("audit")
def audit(
    rationales_path: str = rationales_option("Rationale store, file or palm_cqa folder.", default=...),
    task: str = typer.Option(..., "--task", help="Task whose gold labels the teacher is checked against."),
    task_path: str | None = task_path_option(),
    split: str = typer.Option("validation", "--split", help="Task split."),
    fmt: RationaleFormat = rationales_format_option("jsonl (a store), csv or palm_cqa.", default="jsonl"),
    rationales_split: RationaleSplit | None = typer.Option(None, "--rationales-split",
                                                           help="palm_cqa: which completions (default: from "
                                                                "--split)."),
    label_match: LabelMatch | None = typer.Option(None, "--label-match", help="csv/palm_cqa: how the teacher's "
                                                                              "label is read (default strict)."),
) -> None:
    """How often the teacher's stated label agrees with gold."""
    cfg = rationale_config_from_flags(fmt, rationales_path, rationales_split, split, label_match=label_match)
    examples = _examples_for(task, task_path, split)
    _report(Console(), examples, load_rationales(cfg, examples), title=f"teacher labels: {rationales_path}")
