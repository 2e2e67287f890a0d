"""``cotdistill keytokens`` (score rationale tokens, heatmap page) and ``cotdistill analyze logit-lens``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer
import yaml

from cotdistill.cli.app import app
from cotdistill.cli.data_cmds import task_examples
from cotdistill.cli.options import ConfigFlags, check_device, device_option, output_option
from cotdistill.data.rationales import RationaleConfig, RationaleFormat
from cotdistill.data.tasks import TaskConfig
from cotdistill.errors import ConfigError

#: Which comes first in the sequence the scorer reads.
ScoringOrder = Literal["rationale_first", "label_first"]

analyze_app = typer.Typer(help="Look inside trained students.", no_args_is_help=True)
app.add_typer(analyze_app, name="analyze")

#: The flags of ``cotdistill keytokens`` that choose its examples (a TaskConfig) and rationales (a RationaleConfig),
#: and those of ``cotdistill analyze logit-lens`` that choose its examples.
KEYTOKENS_TASK_FLAGS = ConfigFlags("keytokens", TaskConfig)
KEYTOKENS_RATIONALE_FLAGS = ConfigFlags("keytokens", RationaleConfig)
LOGIT_LENS_TASK_FLAGS = ConfigFlags("analyze logit-lens", TaskConfig)
LIMIT_NOTE = "Its seed is 0."


def _parse_k(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"must be a count (5) or a fraction (0.2), got {text!r}", field="--k") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"a fraction must be in [0, 1], got {value}", field="--k")
    return value


def _selector_params(pairs: list[str], names: list[str]) -> dict[str, dict]:
    from cotdistill.keytokens.selectors import SELECTORS

    params: dict[str, dict] = {name: {} for name in names}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"expected NAME=VALUE, got {pair!r}", field="--selector-param")
        takers = [n for n in names if key in SELECTORS.get(n, field="--selector").param_names()]
        if not takers:
            raise ConfigError(f"no chosen selector has a parameter '{key}'", field="--selector-param")
        for name in takers:
            params[name][key] = yaml.safe_load(value)
    return params


@app.command("keytokens")
def keytokens(
    ctx: typer.Context,
    task: str = KEYTOKENS_TASK_FLAGS.option("--task", "name", default=...),
    rationales: str = KEYTOKENS_RATIONALE_FLAGS.option("--rationales", "path", default=...),
    output: Path = output_option("Folder for scores.jsonl and heatmap.html."),
    selector: list[str] = typer.Option(["gradient_x_input"], help="Selector (repeat for several): "
                                       "integrated_gradients, gradient_x_input, attention, occlusion, greedy, tfidf."),
    scorer: str | None = typer.Option(None, help="Scorer model: student alias, hub id, model or trained-student "
                                                 "directory (not needed by tfidf)."),
    order: ScoringOrder = typer.Option("rationale_first", help="What the scorer reads first."),
    k: str = typer.Option("0.2", help="Key tokens per rationale: a count (5) or a fraction (0.2)."),
    split: str = KEYTOKENS_TASK_FLAGS.option("--split", "split", default="dev"),
    task_path: str | None = KEYTOKENS_TASK_FLAGS.option("--task-path", "path"),
    rationales_format: RationaleFormat | None = KEYTOKENS_RATIONALE_FLAGS.option(
        "--rationales-format", "format", note="Default: from the path (.csv, .jsonl, else a palm_cqa folder)."),
    strip_answer_statement: bool = KEYTOKENS_RATIONALE_FLAGS.option(
        "--strip-answer-statement/--no-strip-answer-statement", "strip_answer_statement", default=False),
    limit: int | None = KEYTOKENS_TASK_FLAGS.option("--limit", "limit", min=1, metavar="N", note=LIMIT_NOTE),
    selector_param: list[str] = typer.Option([], help="NAME=VALUE for the selectors that take it (e.g. steps=16)."),
    batch_size: int = typer.Option(16, help="Sequences per forward pass."),
    threads: int | None = typer.Option(None, help="torch CPU threads (1 is several times faster on a busy "
                                                  "shared CPU; default: torch's choice)."),
    cache_dir: Path = typer.Option(Path(".cotdistill-cache/keytokens"), help="Score cache (shared with studies)."),
    overwrite: bool = typer.Option(False, help="Replace existing scores.jsonl / heatmap.html."),
    device: str | None = device_option("the scorer model"),
) -> None:
    """Score each rationale token's support for the gold label; write scores and an HTML heatmap."""
    from rich.progress import Progress

    from cotdistill.data.rationales import load_rationales
    from cotdistill.keytokens import Scorer, make_selector
    from cotdistill.keytokens.api import write_key_token_report

    check_device(device)
    if threads:
        import torch

        torch.set_num_threads(threads)
    k_value = _parse_k(k)
    params = _selector_params(selector_param, selector)
    selectors = [make_selector(name, params[name], field_prefix="--selector") for name in selector]
    if any(s.needs_model for s in selectors) and not scorer:
        raise ConfigError("the chosen selector(s) need a scorer model", field="--scorer")
    if rationales_format is None:
        rationales_format = "csv" if rationales.endswith(".csv") else "jsonl" if rationales.endswith(".jsonl") \
            else "palm_cqa"
    examples = task_examples(KEYTOKENS_TASK_FLAGS, ctx)
    rationale_cfg = KEYTOKENS_RATIONALE_FLAGS.validate({}, {**KEYTOKENS_RATIONALE_FLAGS.overrides(ctx),
                                                            "format": rationales_format}, source="command line")
    rationale_map = load_rationales(rationale_cfg, examples)
    scorer_obj = (Scorer.from_spec(scorer, order=order, batch_size=batch_size, device=device or "auto")
                  if scorer else None)
    n = sum(ex.id in rationale_map for ex in examples)
    with Progress(transient=True) as bar:
        job = bar.add_task("scoring", total=n * len(selectors))
        scores_path, html_path = write_key_token_report(
            examples, rationale_map, selectors, scorer=scorer_obj, k=k_value, output_dir=output, cache_dir=cache_dir,
            overwrite=overwrite, progress=lambda done: bar.advance(job, done))
    typer.echo(f"scored {n} rationale(s) x {len(selectors)} selector(s): {scores_path}, {html_path}")


@analyze_app.command("logit-lens")
def logit_lens_cmd(
    ctx: typer.Context,
    student: list[Path] = typer.Option(..., help="Trained student directory (repeat to compare on one figure)."),
    task: str = LOGIT_LENS_TASK_FLAGS.option("--task", "name", default=...),
    output: Path = output_option("Folder for logit_lens.png and logit_lens.json."),
    name: list[str] = typer.Option([], help="Legend name per --student (default: its variant)."),
    split: str = LOGIT_LENS_TASK_FLAGS.option("--split", "split", default="test"),
    task_path: str | None = LOGIT_LENS_TASK_FLAGS.option("--task-path", "path"),
    limit: int | None = LOGIT_LENS_TASK_FLAGS.option("--limit", "limit", min=1, metavar="N", note=LIMIT_NOTE),
    batch_size: int = typer.Option(8, help="Prompts per forward pass."),
    title: str = typer.Option("", help="Figure title."),
    overwrite: bool = typer.Option(False, help="Replace an existing figure."),
    device: str | None = device_option("each student"),
) -> None:
    """Probability and rank of the gold label at every layer (answer position), one line per student."""
    from cotdistill.keytokens.analysis import logit_lens_of_student, write_logit_lens

    check_device(device)
    if name and len(name) != len(student):
        raise ConfigError(f"give one --name per --student ({len(student)}), or none", field="--name")
    for path in student:
        if not path.is_dir():
            raise ConfigError("not a directory", path=path, field="--student")
    examples = task_examples(LOGIT_LENS_TASK_FLAGS, ctx)
    results = [logit_lens_of_student(path, examples, name=name[i] if name else None, batch_size=batch_size,
                                     device=device or "auto")
               for i, path in enumerate(student)]
    figure, numbers = write_logit_lens(results, output, title=title, overwrite=overwrite)
    for result in results:
        typer.echo(f"{result.name}: p(gold) by layer {' '.join(f'{p:.3f}' for p in result.mean_prob)}")
    typer.echo(f"wrote {figure} and {numbers}")
