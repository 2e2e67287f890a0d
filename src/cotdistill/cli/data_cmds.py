"""``cotdistill tasks`` and ``cotdistill rationales``: look at tasks, import and audit teacher rationales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cotdistill.cli.app import app
from cotdistill.cli.options import ConfigFlags, num_examples_option, output_option
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


def task_examples(flags: ConfigFlags, ctx: typer.Context) -> list[Example]:
    """The examples of the task that the declared ``flags`` (of a TaskConfig) choose."""
    return load_task(flags.validate({}, flags.overrides(ctx), source="command line"))


def rationale_config(flags: ConfigFlags, ctx: typer.Context, task_split: str | None) -> RationaleConfig:
    """The RationaleConfig that the declared ``flags`` (of a RationaleConfig) give; palm_cqa completions default to
    those of ``task_split``, the split of the task they are read against."""
    overrides = flags.overrides(ctx)
    if overrides.get("format") == "palm_cqa" and "split" not in overrides and task_split is not None:
        # PaLM "test" completions are for the CSQA dev split.
        overrides["split"] = "train" if task_split == "train" else "test"
    return flags.validate({}, overrides, source="command line")


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


#: The flags of each command below that set keys of its TaskConfig or RationaleConfig.
SHOW_TASK_FLAGS = ConfigFlags("tasks show", TaskConfig)
IMPORT_TASK_FLAGS = ConfigFlags("rationales import", TaskConfig)
IMPORT_RATIONALE_FLAGS = ConfigFlags("rationales import", RationaleConfig)
AUDIT_TASK_FLAGS = ConfigFlags("rationales audit", TaskConfig)
AUDIT_RATIONALE_FLAGS = ConfigFlags("rationales audit", RationaleConfig)
FIELD_NOTE = "Here: ROLE=FIELD (repeatable), e.g. question=q or choices=a,b,c."
RATIONALES_SPLIT_NOTE = "Default: from --split."


@tasks_app.command("show")
def show_task(
    ctx: typer.Context,
    task: str = SHOW_TASK_FLAGS.option("--task", "name", default=...),
    task_path: str | None = SHOW_TASK_FLAGS.option("--task-path", "path"),
    split: str = SHOW_TASK_FLAGS.option("--split", "split", default="validation"),
    num_examples: int = num_examples_option(3, "How many examples to print."),
    limit: int | None = SHOW_TASK_FLAGS.option("--limit", "limit", min=1, metavar="N",
                                               note="Its seed is --seed; the printed examples come from it."),
    seed: int = SHOW_TASK_FLAGS.option("--seed", "seed", default=0),
    field: list[str] | None = SHOW_TASK_FLAGS.option("--field", "fields", convert=parse_field_flags, note=FIELD_NOTE),
    fact_as_context: bool = SHOW_TASK_FLAGS.option("--fact-as-context", "fact_as_context", default=False),
) -> None:
    """Print a few examples of a task as normalized records."""
    examples = task_examples(SHOW_TASK_FLAGS, ctx)
    console = Console()
    console.print(Text(f"{task} [{split}]: {len(examples)} examples", style="bold"))
    console.print()
    for ex in examples[:num_examples]:
        print_example(console, ex)


@rationales_app.command("import")
def import_rationales(
    ctx: typer.Context,
    fmt: RationaleFormat = IMPORT_RATIONALE_FLAGS.option("--rationales-format", "format", default=...),
    path: str = IMPORT_RATIONALE_FLAGS.option("--rationales", "path", default=...),
    out: Path = output_option("Store to write (JSONL); never overwritten."),
    task: str | None = IMPORT_TASK_FLAGS.option("--task", "name", note=(
        "Given, the teacher's labels are read against its choices and audited.")),
    task_path: str | None = IMPORT_TASK_FLAGS.option("--task-path", "path"),
    split: str = IMPORT_TASK_FLAGS.option("--split", "split", default="validation"),
    rationales_split: RationaleSplit | None = IMPORT_RATIONALE_FLAGS.option("--rationales-split", "split",
                                                                            note=RATIONALES_SPLIT_NOTE),
    strip: bool = IMPORT_RATIONALE_FLAGS.option("--strip-answer-statement", "strip_answer_statement", default=False),
    label_match: LabelMatch | None = IMPORT_RATIONALE_FLAGS.option("--label-match", "label_match"),
    source: str | None = IMPORT_RATIONALE_FLAGS.option("--source", "source"),
) -> None:
    """Import teacher rationales into a JSONL store and print the audit of the teacher's labels."""
    if out.exists():
        raise DataError("already exists; refusing to overwrite (choose another --output)", path=out)
    cfg = rationale_config(IMPORT_RATIONALE_FLAGS, ctx, split if task else None)
    examples = task_examples(IMPORT_TASK_FLAGS, ctx) if task is not None else None
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
    ctx: typer.Context,
    rationales_path: str = AUDIT_RATIONALE_FLAGS.option("--rationales", "path", default=...),
    task: str = AUDIT_TASK_FLAGS.option("--task", "name", default=..., note=(
        "The teacher's labels are checked against its gold labels.")),
    task_path: str | None = AUDIT_TASK_FLAGS.option("--task-path", "path"),
    split: str = AUDIT_TASK_FLAGS.option("--split", "split", default="validation"),
    fmt: RationaleFormat = AUDIT_RATIONALE_FLAGS.option("--rationales-format", "format", default="jsonl"),
    rationales_split: RationaleSplit | None = AUDIT_RATIONALE_FLAGS.option("--rationales-split", "split",
                                                                           note=RATIONALES_SPLIT_NOTE),
    label_match: LabelMatch | None = AUDIT_RATIONALE_FLAGS.option("--label-match", "label_match"),
) -> None:
    """How often the teacher's stated label agrees with gold."""
    cfg = rationale_config(AUDIT_RATIONALE_FLAGS, ctx, split)
    examples = task_examples(AUDIT_TASK_FLAGS, ctx)
    _report(Console(), examples, load_rationales(cfg, examples), title=f"teacher labels: {rationales_path}")
