"""``cotdistill predict``: answer a JSON-lines file of questions with a trained student, streaming."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import typer

from cotdistill.cli.app import app
from cotdistill.cli.data_cmds import parse_field_flags
from cotdistill.cli.options import ConfigFlags, check_device
from cotdistill.errors import ConfigError, DataError
from cotdistill.evaluate.config import EVAL_MODES, EvalConfig, load_eval_config
from cotdistill.predict.questions import QuestionParser, read_json_lines

STDIO = "-"
#: The flags of ``cotdistill predict`` that set keys of its EvalConfig.
PREDICT_FLAGS = ConfigFlags("predict", EvalConfig)


@contextlib.contextmanager
def _open_input(input_path: str) -> Iterator[tuple[IO[str], str]]:
    if input_path == STDIO:
        yield sys.stdin, "<stdin>"
        return
    path = Path(input_path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    with path.open(encoding="utf-8") as stream:
        yield stream, str(path)


def _check_can_write(output_path: str, overwrite: bool) -> None:
    if output_path != STDIO and Path(output_path).exists() and not overwrite:
        raise DataError("already exists; refusing to overwrite (choose another output or pass --overwrite)",
                        path=output_path)


@contextlib.contextmanager
def _open_output(output_path: str, overwrite: bool) -> Iterator[IO[str]]:
    """stdout, or a file written beside and renamed at the end, so a failed run leaves no half file behind."""
    _check_can_write(output_path, overwrite)
    if output_path == STDIO:
        yield sys.stdout
        return
    path = Path(output_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8") as stream:
            yield stream
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


@app.command("predict")
def predict_command(
    ctx: typer.Context,
    student: Path = typer.Option(..., "--student", help="Trained student directory (written by `cotdistill train`)."),
    input_path: str = typer.Option(..., "--input", help="JSON-lines questions (question, choices, optional id and "
                                                        "context), or - for stdin."),
    output: str = typer.Option(STDIO, "-o", "--output", help="JSON-lines answers, or - for stdout (default)."),
    mode: str = typer.Option("label_first", "--mode", help="label_first (rank the choices, with probabilities) "
                                                           "or reasoning_first (generate, adds the rationale)."),
    config: Path | None = typer.Option(None, "--config", help="Evaluation config YAML (batch_size, scoring, "
                                                              "dtype, max_new_tokens...): EvalConfig keys or an "
                                                              "`eval:` section."),
    batch_size: int | None = PREDICT_FLAGS.option("--batch-size", "batch_size", min=1),
    device: str | None = PREDICT_FLAGS.option("--device", "device"),
    field: list[str] | None = typer.Option(None, "--field", help="ROLE=FIELD where a question line keeps a part "
                                                                 "(roles id, question, choices, context), as for "
                                                                 "the jsonl task; repeatable."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --output file."),
) -> None:
    """Answer new questions with a trained student, one JSON line per question, in input order."""
    from cotdistill.predict.student import Student

    if mode not in EVAL_MODES:
        raise ConfigError(f"unknown mode '{mode}' (choose {', '.join(EVAL_MODES)})", field="--mode")
    eval_cfg = load_eval_config(config) if config is not None else EvalConfig()
    eval_cfg = PREDICT_FLAGS.validate(eval_cfg.model_dump(), PREDICT_FLAGS.overrides(ctx),
                                      source=str(config) if config is not None else "<flags>")
    check_device(eval_cfg.device)
    fields = parse_field_flags(field)
    _check_can_write(output, overwrite)
    if input_path != STDIO:
        # A file is checked whole before the model is loaded, so a bad line fails at once and writes nothing.
        with _open_input(input_path) as (stream, source):
            parser = QuestionParser(source, fields)
            for line, rec in read_json_lines(stream, source):
                parser.parse(line, rec)
    loaded = Student.load(student, device=eval_cfg.device)
    with _open_input(input_path) as (stream, source), _open_output(output, overwrite) as out:
        parser = QuestionParser(source, fields)
        questions = (parser.parse(line, rec) for line, rec in read_json_lines(stream, source))
        for answer in loaded.predict_iter(questions, mode=mode, config=eval_cfg):
            out.write(json.dumps(answer, ensure_ascii=False) + "\n")
            out.flush()
