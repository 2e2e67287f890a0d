"""Building validated :class:`Example` records from the rows of a task source; errors name ``file:line: field``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.task_config import FIELD_ROLES, SPLITS, TaskConfig
from cotdistill.errors import ConfigError, DataError

class Rows:
    """Turns the rows of one source into validated examples; errors name ``source:line: field``."""

    def __init__(self, source: str | Path, *, labels_required: bool):
        self.source = str(source)
        self.labels_required = labels_required
        self.first_line: dict[str, int] = {}
        self.examples: list[Example] = []

    def error(self, message: str, line: int | None, field: str | None = None) -> DataError:
        return DataError(message, path=self.source, line=line, field=field)

    def add(self, line: int, *, id: Any, question: Any, choices: dict[str, Any], answer: Any,
            context: Any = None, meta: dict[str, Any] | None = None,
            names: dict[str, str] | None = None) -> None:
        """Validate one row; ``names`` gives the file's field name of each role for error messages."""
        names = {**{r: r for r in FIELD_ROLES}, **(names or {})}
        if id is None or str(id).strip() == "":
            raise self.error("empty id", line, names["id"])
        rid = str(id)
        if rid in self.first_line:
            raise self.error(f"duplicate id '{rid}' (first on line {self.first_line[rid]})", line, names["id"])
        if not isinstance(question, str) or not question.strip():
            raise self.error("empty question", line, names["question"])
        if len(choices) < 2:
            raise self.error(f"needs at least 2 choices, got {len(choices)}", line, names["choices"])
        clean: dict[str, str] = {}
        for label, text in choices.items():
            label = str(label).strip()
            if not label:
                raise self.error("empty choice label", line, names["choices"])
            if label in clean:
                raise self.error(f"choice label '{label}' appears twice", line, names["choices"])
            if not isinstance(text, str) or not text.strip():
                raise self.error(f"empty choice '{label}'", line, names["choices"])
            clean[label] = text.strip()
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            if self.labels_required:
                raise self.error("missing gold label (only the test split may be unlabeled)", line, names["answer"])
            answer = None
        else:
            answer = str(answer).strip()
            if answer not in clean:
                raise self.error(f"gold label '{answer}' is not among the choices {list(clean)}", line,
                                 names["answer"])
        if context is not None and not isinstance(context, str):
            raise self.error("context must be text", line, names["context"])
        self.first_line[rid] = line
        self.examples.append(Example(id=rid, question=question.strip(), choices=clean, answer=answer,
                                     context=context.strip() if context else None, meta=dict(meta or {})))


def get_field(rec: dict[str, Any], dotted: str, rows: Rows, line: int, *, required: bool = True) -> Any:
    """``rec["a"]["b"]`` for ``"a.b"``; a missing part is an error naming the field (or ``None`` if optional)."""
    value: Any = rec
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            if required:
                raise rows.error("missing", line, dotted)
            return None
        value = value[part]
    return value


def load_hub(cfg: TaskConfig, default_name: str, config: str | None, split: str
              ) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    """Rows of a hub dataset (row numbers from 1) and the name used for it in errors."""
    import datasets

    name = cfg.hub_name or default_name
    source = f"{name}[{config + ':' if config else ''}{split}]"
    try:
        dataset = datasets.load_dataset(name, config, split=split)
    except Exception as err:  # noqa: BLE001 -- offline, unknown name, missing split: all reach the user as one line
        raise DataError(f"could not load from the Hugging Face hub ({type(err).__name__}: {err})".splitlines()[0],
                        path=source) from err
    return source, ((i, dict(row)) for i, row in enumerate(dataset, 1))


def choices_from_parallel(value: Any, rows: Rows, line: int, field: str) -> dict[str, Any]:
    """HF's ``{"label": [...], "text": [...]}`` as a ``{label: text}`` mapping."""
    if not isinstance(value, dict) or not isinstance(value.get("label"), list) or not isinstance(
            value.get("text"), list) or len(value["label"]) != len(value["text"]):
        raise rows.error("expected {label: [...], text: [...]} of equal length", line, field)
    return dict(zip(value["label"], value["text"], strict=True))


def choices_from_value(value: Any, rows: Rows, line: int, field: str) -> dict[str, Any]:
    """Choices given as a {label: text} mapping, a list of texts, a list of {label, text} or HF parallel lists."""
    if isinstance(value, dict):
        if set(value) == {"label", "text"} and isinstance(value["label"], list):
            return choices_from_parallel(value, rows, line, field)
        return dict(value)
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            out: dict[str, Any] = {}
            for v in value:
                if "label" not in v or "text" not in v:
                    raise rows.error("each choice needs 'label' and 'text'", line, field)
                if str(v["label"]) in out:
                    raise rows.error(f"choice label '{v['label']}' appears twice", line, field)
                out[str(v["label"])] = v["text"]
            return out
        return {letter(i): v for i, v in enumerate(value)}
    raise rows.error("choices must be a mapping or a list", line, field)


def letter(index: int) -> str:
    return chr(ord("A") + index)


def split_path(cfg: TaskConfig, files: dict[str, tuple[str, ...]]) -> Path:
    """The file of ``cfg.split`` for a local task: ``cfg.path`` itself, or the split's file inside the folder."""
    assert cfg.path is not None
    path = Path(cfg.path)
    if path.is_file():
        return path
    if not path.exists():
        raise DataError("path not found", path=path)
    split = cfg.canonical_split()
    if split not in files:
        raise ConfigError(f"unknown split '{cfg.split}' for task '{cfg.name}' (choose from {list(files)})",
                          field="task.split")
    for name in files[split]:
        if (path / name).is_file():
            return path / name
    raise DataError(f"no file for split '{cfg.split}' here (looked for {', '.join(files[split])})", path=path)


def hub_split(cfg: TaskConfig) -> str:
    split = cfg.canonical_split()
    if split not in SPLITS:
        raise ConfigError(f"unknown split '{cfg.split}' (choose from train, validation/dev, test)",
                          field="task.split")
    return split


def reject_generic_options(cfg: TaskConfig) -> None:
    if cfg.fields is not None:
        raise ConfigError(f"task '{cfg.name}' has a fixed format; only the jsonl and csv tasks read `fields`",
                          field="task.fields")


def reject_fact(cfg: TaskConfig) -> None:
    if cfg.fact_as_context:
        raise ConfigError(f"only openbookqa has a fact to show as context, not '{cfg.name}'",
                          field="task.fact_as_context")


_INLINE_OPTIONS = re.compile(r"^(?P<stem>.*?)\s*\(A\)\s*(?P<a>.*?)\s*\(B\)\s*(?P<b>.*)$", re.DOTALL)


def split_inline_options(question: str) -> tuple[str, dict[str, str]] | None:
    """``"Which is faster? (A) a car (B) a bike"`` -> ``("Which is faster?", {"A": "a car", "B": "a bike"})``."""
    m = _INLINE_OPTIONS.match(question.strip())
    if not m:
        return None
    return m.group("stem").strip(), {"A": m.group("a").strip(), "B": m.group("b").strip()}
