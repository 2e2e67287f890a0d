"""``cotdistill teach``: elicit, parse, filter and cache a teacher's rationales, with a progress view and audit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cotdistill.cli.app import app
from cotdistill.cli.options import choices_metavar, config_option, limit_option, output_option, task_path_option
from cotdistill.configbase import read_yaml
# The config validates these flags itself, so that an error names the YAML key (prompt.mode).
from cotdistill.teacher.config import PromptConfig, TeachConfig, TeacherConfig


class _RateColumn(ProgressColumn):
    """Answers per second generated in this run (cached answers excluded)."""

    def render(self, task) -> Text:
        fresh = task.completed - task.fields.get("cached", 0)
        elapsed = time.perf_counter() - task.fields.get("started", time.perf_counter())
        return Text(f"{fresh / elapsed:.2f}/s" if elapsed > 0 and fresh > 0 else "-/s", style="progress.data.speed")


class RichProgress:
    """The ``teach`` progress view: done/total, rate, ETA, failures."""

    def __init__(self, console: Console):
        self.progress = Progress(TextColumn("teacher"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), TextColumn("failed {task.fields[failed]}"),
                                 console=console, transient=False)
        self.task_id = None
        self.failed = 0

    def start(self, total: int, done: int) -> None:
        self.progress.start()
        self.task_id = self.progress.add_task("teach", total=total, completed=done, failed=0, cached=done,
                                              started=time.perf_counter())

    def update(self, outcome) -> None:
        self.failed += not outcome.ok
        self.progress.update(self.task_id, advance=1, failed=self.failed)

    def finish(self) -> None:
        self.progress.stop()


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    if value is None:
        return
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


@app.command("teach")
def teach_command(
    config: Path | None = config_option("YAML config (sections task, teacher, prompt, sampling; keys "
                                        "label_policy, output_dir, cache). Flags override it."),
    task: str | None = typer.Option(None, "--task", help="Task name (commonsense_qa, openbookqa, quarel, ...)."),
    split: str | None = typer.Option(None, "--split", help="Split (train, dev, test)."),
    task_path: str | None = task_path_option(),
    limit: int | None = limit_option("Its seed is task.seed of the config (default 0)."),
    backend: str | None = typer.Option(None, "--backend", help="local, openai or fake."),
    teacher: str | None = typer.Option(None, "--teacher", help="local: alias/dir/hub id; openai: model name."),
    base_url: str | None = typer.Option(None, "--base-url", help="openai: server URL ending in /v1."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="openai: env variable with the API key."),
    concurrency: int | None = typer.Option(None, "--concurrency", help="openai: requests in flight."),
    timeout: float | None = typer.Option(None, "--timeout", help="openai: seconds per request."),
    max_retries: int | None = typer.Option(None, "--max-retries", help="openai: retries per request."),
    dtype: str | None = typer.Option(None, "--dtype", metavar=choices_metavar(TeacherConfig, "dtype"),
                                     help="local: weights and compute dtype."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="local: prompts per batch."),
    mode: str | None = typer.Option(None, "--mode", metavar=choices_metavar(PromptConfig, "mode"),
                                    help="What the teacher is asked for (docs/teacher.md)."),
    style: str | None = typer.Option(None, "--style", metavar=choices_metavar(PromptConfig, "style"),
                                     help="Chat turns or one completion prompt."),
    template: str | None = typer.Option(None, "--template", help="Your own prompt template (YAML)."),
    num_shots: int | None = typer.Option(None, "--num-shots", help="Use the first N shots of the template."),
    temperature: float | None = typer.Option(None, "--temperature", help="0: greedy."),
    top_p: float | None = typer.Option(None, "--top-p", help="Nucleus sampling mass."),
    max_new_tokens: int | None = typer.Option(None, "--max-new-tokens", help="Longest answer in tokens."),
    num_samples: int | None = typer.Option(None, "--num-samples", help="Answers sampled per question."),
    seed: int | None = typer.Option(None, "--seed", help="Run seed."),
    label_policy: str | None = typer.Option(None, "--label-policy",
                                            metavar=choices_metavar(TeachConfig, "label_policy"),
                                            help="Rationales whose teacher label is wrong: keep, drop or relabel."),
    drop_unparsed: bool | None = typer.Option(None, "--drop-unparsed/--keep-unparsed",
                                              help="Also drop rationales that state no single label."),
    cache: str | None = typer.Option(None, "--cache", help="SQLite answer cache (default: in the output dir)."),
    output: str | None = output_option("Output directory (rationales.jsonl, audit.json).", default=None),
    overwrite: bool = typer.Option(False, "--overwrite", help="Re-export over existing output files."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress view."),
) -> None:
    """Generate teacher rationales (cached, resumable) and write rationales.jsonl + audit.json."""
    from cotdistill.teacher.audit import audit_rows
    from cotdistill.teacher.run import teach

    data: dict[str, Any] = read_yaml(config) if config is not None else {}
    for dotted, value in [
        ("task.name", task), ("task.split", split), ("task.path", task_path), ("task.limit", limit),
        ("teacher.backend", backend), ("teacher.model", teacher), ("teacher.base_url", base_url),
        ("teacher.api_key_env", api_key_env), ("teacher.concurrency", concurrency), ("teacher.timeout_s", timeout),
        ("teacher.max_retries", max_retries), ("teacher.dtype", dtype), ("teacher.batch_size", batch_size),
        ("prompt.mode", mode), ("prompt.style", style), ("prompt.template", template), ("prompt.n_shots", num_shots),
        ("sampling.temperature", temperature), ("sampling.top_p", top_p),
        ("sampling.max_new_tokens", max_new_tokens), ("sampling.n", num_samples), ("sampling.seed", seed),
        ("label_policy", label_policy), ("drop_unparsed", drop_unparsed), ("cache", cache), ("output_dir", output),
    ]:
        _set(data, dotted, value)
    cfg = TeachConfig.from_dict(data, source=str(config) if config is not None else "<flags>")
    console = Console()
    result = teach(cfg, progress=None if quiet else RichProgress(Console(stderr=True)), overwrite=overwrite)

    table = Table(title=f"Teacher audit: {result.audit['teacher'].get('model')} on {cfg.task.name}/{cfg.task.split}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, value in audit_rows(result.audit):
        table.add_row(metric, value)
    console.print(table)
    stats = result.stats
    for item in stats.exhausted[:10]:
        console.print(f"[red]failed[/red] {item['id']} (sample {item['sample']}): {item['error']}")
    if stats.failed:
        console.print(f"{stats.failed} request(s) failed after retries; rerun the same command with --overwrite "
                      "to ask for them again (everything else comes from the cache).")
    console.print(f"rationales: {result.rationales_path} ({len(result.rationales)} kept)")
    console.print(f"audit: {result.audit_path}   cache: {result.cache_path}")
