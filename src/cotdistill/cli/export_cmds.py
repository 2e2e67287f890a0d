"""``cotdistill export`` (the training instances a variant builds, as JSON lines and a ``datasets`` dataset),
``cotdistill export-lm-eval`` (an lm-evaluation-harness task of a student's prompt format) and ``cotdistill push``
(a trained student to the Hugging Face hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cotdistill.cli.app import app
from cotdistill.cli.train_cmds import build_run_config


@app.command("export")
def export_command(
    output: Path = typer.Option(..., "-o", "--output", help="Export directory: instances.jsonl, dataset/ "
                                                            "(datasets.load_from_disk) and cotdistill-export.json."),
    config: Path | None = typer.Option(None, "--config", help="YAML run config of `cotdistill train` (its "
                                                              "`output` is ignored); flags override it."),
    variant: str | None = typer.Option(None, "--variant", help="Training variant (see `cotdistill variants list`)."),
    task: str | None = typer.Option(None, "--task", help="Task name (see `cotdistill tasks list`)."),
    task_path: str | None = typer.Option(None, "--task-path", help="Local file or folder of the task."),
    split: str | None = typer.Option(None, "--split", help="Task split (default train)."),
    limit: int | None = typer.Option(None, "--limit", help="A seeded random subset of this many examples."),
    rationales: str | None = typer.Option(None, "--rationales", help="Rationale file or folder."),
    rationales_format: str | None = typer.Option(None, "--rationales-format", help="jsonl, csv or palm_cqa."),
    label_policy: str | None = typer.Option(None, "--label-policy", help="keep, drop or relabel examples whose "
                                                                         "teacher label is wrong."),
    label_style: str | None = typer.Option(None, "--label-style", help="letter or text."),
    student: str | None = typer.Option(None, "--student", help="Whose tokenizer: smollm2-135m, gemma3-270m, tiny, "
                                                               "a directory or a hub id."),
    max_length: int | None = typer.Option(None, "--max-length", help="Longest sequence in tokens."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the variant's randomness."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into a non-empty --output."),
) -> None:
    """Write the training instances a variant builds (prompt, target, segment kinds, label, token ids)."""
    from cotdistill.predict.export import export_instances

    flags: dict[str, Any] = {
        "--task": task, "--task-path": task_path, "--split": split, "--limit": limit, "--rationales": rationales,
        "--rationales-format": rationales_format, "--label-policy": label_policy, "--variant": variant,
        "--label-style": label_style, "--student": student, "--max-length": max_length, "--seed": seed,
        # The run config requires a training output; an export writes none, so it is given the export directory.
        "--output": str(output),
    }
    run_cfg = build_run_config(config, flags)
    count = export_instances(run_cfg, output, overwrite=overwrite)
    typer.echo(f"{count} training instances -> {output}")


@app.command("push")
def push_command(
    student: Path = typer.Option(..., "--student", help="Trained student directory (written by `cotdistill train`)."),
    repo: str = typer.Option(..., "--repo", help="Hugging Face hub repo id, e.g. your-name/obqa-student."),
    private: bool = typer.Option(False, "--private", help="Create the repo private."),
) -> None:
    """Upload a trained student (weights, tokenizer, cotdistill.json, model card) to the Hugging Face hub; the
    token is huggingface_hub's (`hf auth login` or HF_TOKEN)."""
    from cotdistill.predict.hub import push_student

    typer.echo(push_student(student, repo, private=private))


@app.command("export-lm-eval")
def export_lm_eval_command(
    student: Path = typer.Option(..., "--student", help="Trained student directory: its prompt format is used."),
    task: str = typer.Option(..., "--task", help="Task name (see `cotdistill tasks list`)."),
    output: Path = typer.Option(..., "-o", "--output", help="Directory for <name>.yaml and <name>.jsonl "
                                                            "(lm_eval --include_path)."),
    task_path: str | None = typer.Option(None, "--task-path", help="Local file or folder of the task."),
    split: str = typer.Option("test", "--split", help="Split: train, validation (dev) or test."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="A seeded random subset of this many examples."),
    field: list[str] | None = typer.Option(None, "--field", help="jsonl/csv tasks: ROLE=FIELD (repeatable)."),
    name: str | None = typer.Option(None, "--name", help="lm-eval task name (default cotdistill_<task>_<split>)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the files of an earlier export."),
) -> None:
    """Write an lm-evaluation-harness task that scores the student's prompt format like `cotdistill eval`'s
    label-first mode (acc = accuracy, acc_norm = acc_norm)."""
    from cotdistill.cli.data_cmds import task_config_from_flags
    from cotdistill.data.tasks import load_task
    from cotdistill.predict.lm_eval_export import export_lm_eval_task

    task_name = name or "".join(c if c.isalnum() else "_" for c in f"cotdistill_{task}_{split}".lower())
    examples = load_task(task_config_from_flags(task, task_path, split, limit=limit, fields=field))
    yaml_path = export_lm_eval_task(student, examples, output, task_name, overwrite=overwrite)
    typer.echo(f"{yaml_path}\nrun: lm_eval --model hf --model_args pretrained={student},dtype=float32 "
               f"--include_path {output} --tasks {task_name}")
