"""``cotdistill export`` (the training instances a variant builds, as JSON lines and a ``datasets`` dataset),
``cotdistill export-lm-eval`` (an lm-evaluation-harness task of a student's prompt format) and ``cotdistill push``
(a trained student to the Hugging Face hub)."""

from __future__ import annotations

from pathlib import Path

import typer

from cotdistill.cli.app import app
from cotdistill.cli.data_cmds import FIELD_NOTE, parse_field_flags, task_examples
from cotdistill.cli.options import ConfigFlags, config_file_option, output_option
from cotdistill.cli.train_cmds import build_run_config
from cotdistill.data.tasks import TaskConfig
from cotdistill.train.run_config import TrainRunConfig


#: The flags of ``cotdistill export`` that set keys of its run config (spelled as in ``cotdistill train``).
EXPORT_FLAGS = ConfigFlags("export", TrainRunConfig)


@app.command("export")
def export_command(
    ctx: typer.Context,
    output: Path = output_option("Export directory: instances.jsonl, dataset/ (datasets.load_from_disk) and "
                                 "cotdistill-export.json."),
    config: Path | None = config_file_option("YAML run config of `cotdistill train` (its `output` is ignored); "
                                             "flags override it."),
    variant: str | None = EXPORT_FLAGS.option("--variant", "variant.name"),
    task: str | None = EXPORT_FLAGS.option("--task", "task.name"),
    task_path: str | None = EXPORT_FLAGS.option("--task-path", "task.path"),
    split: str | None = EXPORT_FLAGS.option("--split", "task.split"),
    limit: int | None = EXPORT_FLAGS.option("--limit", "task.limit", min=1, metavar="N",
                                            note="Its seed is task.seed of the config (default 0)."),
    rationales: str | None = EXPORT_FLAGS.option("--rationales", "rationales.path"),
    rationales_format: str | None = EXPORT_FLAGS.option("--rationales-format", "rationales.format"),
    label_policy: str | None = EXPORT_FLAGS.option("--label-policy", "rationales.label_policy"),
    label_style: str | None = EXPORT_FLAGS.option("--label-style", "variant.label_style"),
    student: str | None = EXPORT_FLAGS.option("--student", "student.model", note="Here only its tokenizer is used."),
    max_length: int | None = EXPORT_FLAGS.option("--max-length", "train.max_length"),
    seed: int | None = EXPORT_FLAGS.option("--seed", "train.seed", note="Here: the seed of the variant's randomness."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into a non-empty --output."),
) -> None:
    """Write the training instances a variant builds (prompt, target, segment kinds, label, token ids)."""
    from cotdistill.predict.export import export_instances

    # The run config requires a training output; an export writes none, so it is given the export directory.
    overrides = {**EXPORT_FLAGS.overrides(ctx), "output": str(output)}
    run_cfg = build_run_config(config, overrides, {**EXPORT_FLAGS.flag_of_key, "output": "--output"})
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


#: The flags of ``cotdistill export-lm-eval`` that choose its examples (a TaskConfig).
LM_EVAL_TASK_FLAGS = ConfigFlags("export-lm-eval", TaskConfig)


@app.command("export-lm-eval")
def export_lm_eval_command(
    ctx: typer.Context,
    student: Path = typer.Option(..., "--student", help="Trained student directory: its prompt format is used."),
    task: str = LM_EVAL_TASK_FLAGS.option("--task", "name", default=...),
    output: Path = output_option("Directory for <name>.yaml and <name>.jsonl (lm_eval --include_path)."),
    task_path: str | None = LM_EVAL_TASK_FLAGS.option("--task-path", "path"),
    split: str = LM_EVAL_TASK_FLAGS.option("--split", "split", default="test"),
    limit: int | None = LM_EVAL_TASK_FLAGS.option("--limit", "limit", min=1, metavar="N", note="Its seed is 0."),
    field: list[str] | None = LM_EVAL_TASK_FLAGS.option("--field", "fields", convert=parse_field_flags,
                                                        note=FIELD_NOTE),
    name: str | None = typer.Option(None, "--name", help="lm-eval task name (default cotdistill_<task>_<split>)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the files of an earlier export."),
) -> None:
    """Write an lm-evaluation-harness task that scores the student's prompt format like `cotdistill eval`'s
    label-first mode (acc = accuracy, acc_norm = acc_norm)."""
    from cotdistill.predict.lm_eval_export import export_lm_eval_task

    task_name = name or "".join(c if c.isalnum() else "_" for c in f"cotdistill_{task}_{split}".lower())
    examples = task_examples(LM_EVAL_TASK_FLAGS, ctx)
    yaml_path = export_lm_eval_task(student, examples, output, task_name, overwrite=overwrite)
    typer.echo(f"{yaml_path}\nrun: lm_eval --model hf --model_args pretrained={student},dtype=float32 "
               f"--include_path {output} --tasks {task_name}")
