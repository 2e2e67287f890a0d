"""``cotdistill teach``: elicit, parse, filter and cache a teacher's rationales, with a progress view and audit."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cotdistill.cli.app import app
from cotdistill.cli.options import ConfigFlags, check_device, choices_metavar, config_file_option
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


#: The flags of ``cotdistill teach``, each declared in its signature with the TeachConfig key it sets.
TEACH_FLAGS = ConfigFlags("teach", TeachConfig)


@app.command("teach")
def teach_command(
    ctx: typer.Context,
    config: Path | None = config_file_option("YAML config (sections task, teacher, prompt, sampling; keys "
                                             "label_policy, output_dir, cache). Flags override it."),
    task: str | None = TEACH_FLAGS.option("--task", "task.name"),
    split: str | None = TEACH_FLAGS.option("--split", "task.split"),
    task_path: str | None = TEACH_FLAGS.option("--task-path", "task.path"),
    limit: int | None = TEACH_FLAGS.option("--limit", "task.limit", min=1, metavar="N",
                                           note="Its seed is task.seed of the config (default 0)."),
    backend: str | None = TEACH_FLAGS.option("--backend", "teacher.backend"),
    teacher: str | None = TEACH_FLAGS.option("--teacher", "teacher.model"),
    base_url: str | None = TEACH_FLAGS.option("--base-url", "teacher.base_url"),
    api_key_env: str | None = TEACH_FLAGS.option("--api-key-env", "teacher.api_key_env"),
    concurrency: int | None = TEACH_FLAGS.option("--concurrency", "teacher.concurrency"),
    timeout: float | None = TEACH_FLAGS.option("--timeout", "teacher.timeout_s"),
    max_retries: int | None = TEACH_FLAGS.option("--max-retries", "teacher.max_retries"),
    dtype: str | None = TEACH_FLAGS.option("--dtype", "teacher.dtype", metavar=choices_metavar(TeacherConfig, "dtype")),
    batch_size: int | None = TEACH_FLAGS.option("--batch-size", "teacher.batch_size"),
    device: str | None = TEACH_FLAGS.option("--device", "teacher.device"),
    mode: str | None = TEACH_FLAGS.option("--mode", "prompt.mode", metavar=choices_metavar(PromptConfig, "mode"),
                                          note="See docs/teacher.md."),
    style: str | None = TEACH_FLAGS.option("--style", "prompt.style", metavar=choices_metavar(PromptConfig, "style")),
    template: str | None = TEACH_FLAGS.option("--template", "prompt.template"),
    num_shots: int | None = TEACH_FLAGS.option("--num-shots", "prompt.n_shots"),
    temperature: float | None = TEACH_FLAGS.option("--temperature", "sampling.temperature"),
    top_p: float | None = TEACH_FLAGS.option("--top-p", "sampling.top_p"),
    max_new_tokens: int | None = TEACH_FLAGS.option("--max-new-tokens", "sampling.max_new_tokens"),
    num_samples: int | None = TEACH_FLAGS.option("--num-samples", "sampling.n"),
    seed: int | None = TEACH_FLAGS.option("--seed", "sampling.seed"),
    label_policy: str | None = TEACH_FLAGS.option("--label-policy", "label_policy",
                                                  metavar=choices_metavar(TeachConfig, "label_policy")),
    drop_unparsed: bool | None = TEACH_FLAGS.option("--drop-unparsed/--keep-unparsed", "drop_unparsed"),
    cache: str | None = TEACH_FLAGS.option("--cache", "cache"),
    output: str | None = TEACH_FLAGS.option("--output", "output_dir", short="-o"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Re-export over existing output files."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress view."),
) -> None:
    """Generate teacher rationales (cached, resumable) and write rationales.jsonl + audit.json."""
    from cotdistill.teacher.audit import audit_rows
    from cotdistill.teacher.run import teach

    # An error names the YAML key (prompt.mode), whether the YAML or a flag set it.
    cfg = TEACH_FLAGS.validate(read_yaml(config) if config is not None else {}, TEACH_FLAGS.overrides(ctx),
                               source=str(config) if config is not None else "<flags>", flag_of_key={})
    check_device(device)
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
