"""``cotdistill eval``: evaluate a trained student label-first, reasoning-first or both."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from cotdistill.cli.app import app
from cotdistill.cli.options import ConfigFlags, check_device, config_file_option, device_option, output_option
from cotdistill.data.tasks import TaskConfig
from cotdistill.evaluate.api import evaluate_trained_modes, result_paths
from cotdistill.evaluate.config import EVAL_MODES, EvalConfig, EvalMode, load_eval_config

BOTH = "both"
#: --mode: one evaluation mode, or both (one output subdirectory each).
EvalModeChoice = Literal[EvalMode, "both"]
#: The flags of ``cotdistill eval`` that choose its examples (a TaskConfig).
EVAL_TASK_FLAGS = ConfigFlags("eval", TaskConfig)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    student: Path = typer.Option(..., "--student", help="Trained student directory (written by `cotdistill train`)."),
    task: str = EVAL_TASK_FLAGS.option("--task", "name", default=...),
    output: Path = output_option("Directory for predictions.jsonl and metrics.json; with --mode both, one "
                                 "subdirectory per mode."),
    task_path: str | None = EVAL_TASK_FLAGS.option("--task-path", "path"),
    split: str = EVAL_TASK_FLAGS.option("--split", "split", default="test"),
    mode: EvalModeChoice | None = typer.Option(None, "--mode", help="Evaluation mode, or both (default: the "
                                                                    "config's mode)."),
    config: Path | None = config_file_option("Evaluation config YAML: EvalConfig keys, or an `eval:` section."),
    limit: int | None = EVAL_TASK_FLAGS.option("--limit", "limit", min=1, metavar="N", note=(
        "Its seed is 0. A `limit` in --config (EvalConfig: the first N) then applies to these.")),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace results already in --output."),
    update_card: bool = typer.Option(False, "--update-card",
                                     help="Record the accuracy in the student's model card (README.md)."),
    device: str | None = device_option("the student"),
) -> None:
    """Evaluate a trained student on a task split; write per-example predictions and metrics."""
    eval_cfg = load_eval_config(config) if config is not None else EvalConfig()
    if check_device(device) is not None:
        eval_cfg = eval_cfg.model_copy(update={"device": device})
    # Both --mode and the config's mode are validated choices.
    chosen = mode or eval_cfg.mode
    modes = list(EVAL_MODES) if chosen == BOTH else [chosen]
    out_dirs = {m: output / m for m in modes} if chosen == BOTH else {chosen: output}
    task_cfg = EVAL_TASK_FLAGS.validate({}, EVAL_TASK_FLAGS.overrides(ctx), source="command line")
    results = evaluate_trained_modes(student, task_cfg, eval_cfg, out_dirs, overwrite=overwrite)
    from cotdistill.distributed import process_group

    group = process_group()
    if group is not None and group.get_rank() != 0:
        return  # under torchrun every rank evaluated its share; rank 0 wrote and reports
    if update_card:
        from cotdistill.train.model_card import evaluation_entry, record_evaluations

        card = record_evaluations(student, [evaluation_entry(r, out_dirs[m]) for m, r in results.items()])
        typer.echo(f"model card updated: {card}")
    for m, result in results.items():
        metrics = result.metrics
        accuracy = "n/a (no gold labels)" if metrics["accuracy"] is None else f"{metrics['accuracy']:.4f}"
        extra = ""
        if m == "reasoning_first":
            extra = (f", format compliance {metrics['format_compliance']:.3f}, "
                     f"{metrics['mean_tokens_generated']:.1f} tokens/answer")
        typer.echo(f"{m}: accuracy {accuracy} on {metrics['n']} examples{extra}, "
                   f"{metrics['seconds_per_answer']:.4f} s/answer -> {result_paths(out_dirs[m])[1]}")
