"""Multiple-choice tasks by name, loaded from local files or the Hugging Face hub into :class:`Example` lists.

Built-in tasks (``cotdistill tasks list``):

- ``commonsense_qa`` -- hub ``tau/commonsense_qa``; local CSQA release files ``{train,dev}_rand_split.jsonl`` and
  ``test_rand_split_no_answers.jsonl`` (``path`` = one file or their folder).
- ``openbookqa`` -- hub ``allenai/openbookqa`` (config ``main``, or ``additional`` with ``fact_as_context``);
  local ``Data/Main/{train,dev,test}.jsonl`` (or ``Data/Additional/*_complete.jsonl`` holding ``fact1``).
- ``quarel`` -- hub ``allenai/quarel``; local ``quarel-v1-{train,dev,test}.jsonl`` (question with inline
  "(A) .. (B) .." options, ``answer_index`` 0/1). A ``path`` holding the Natural-Instructions reconstruction
  (records with ``choices`` instead of ``answer_index``) is read as ``quarel_ni``.
- ``quarel_ni`` -- the QuaRel questions recovered from Super-NaturalInstructions (``quarel_natural_instructions.jsonl``
  or ``dev278.jsonl``: ``question``, ``choices`` {A, B}, ``answer``, ``id``). Its splits are ``all``, ``dev`` (the
  rows with a QuaRel dev id) and ``non_dev`` (the rest, from QuaRel train or test -- the source does not say which).
- ``jsonl`` / ``csv`` -- any file, read through ``fields`` (see :class:`TaskConfig`).

Splits are ``train``, ``validation`` (alias ``dev``) and ``test``. Gold labels are required except in the
``test`` split. Every row is validated; errors name ``file:line: field '<field in the file>'`` (for hub data the
"file" is ``hub-name[split]`` and the line is the row number).

Other modules add tasks with ``@register_task("name")`` on a function ``loader(cfg: TaskConfig) -> list[Example]``
(its docstring's first line is the description shown by ``cotdistill tasks list``).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from cotdistill.configbase import StageConfig
from cotdistill.data.example import Example
from cotdistill.data.jsonl import read_jsonl
from cotdistill.errors import ConfigError, DataError
from cotdistill.files import read_csv
from cotdistill.registry import Registry

SPLITS = ("train", "validation", "test")
_SPLIT_ALIASES = {"dev": "validation", "val": "validation", "valid": "validation"}
#: Keys of ``TaskConfig.fields`` (the generic ``jsonl`` / ``csv`` tasks).
FIELD_ROLES = ("id", "question", "choices", "answer", "context")
_DEFAULT_FIELDS: dict[str, str | list[str]] = {"id": "id", "question": "question", "choices": "choices",
                                               "answer": "answer"}


class TaskConfig(StageConfig):
    """Which task, which split, from where, and how much of it."""

    name: str = Field(..., description="Registered task name (see `cotdistill tasks list`).")
    split: str = Field("train", description="Split: train, validation (alias dev) or test; quarel_ni: all, dev, "
                                            "non_dev.")
    path: str | None = Field(None, description="Local file or folder of the task; empty: load from the Hugging "
                                               "Face hub through `datasets`.")
    fields: dict[str, str | list[str]] | None = Field(
        None, description="jsonl/csv tasks: where each part is, {id, question, choices, answer, context} -> field "
                          "name (dotted for nested JSON). `choices` names one field (a {label: text} mapping, a list "
                          "of texts labelled A, B, ..., a list of {label, text}, or JSON text of these in a CSV) or a "
                          "list of fields, one per choice. `answer` holds a label, a 0-based index or a choice text.")
    fact_as_context: bool = Field(False, description="openbookqa: show the supporting science fact (fact1) as "
                                                     "context (needs the Additional files / hub config).")
    hub_name: str | None = Field(None, description="Hugging Face dataset id to load instead of the task's default.")
    limit: int | None = Field(None, ge=1, description="Keep at most this many examples (a seeded random subset, in "
                                                      "file order).")
    seed: int = Field(0, description="Seed of the subset drawn when `limit` is set.")

    @field_validator("fields")
    @classmethod
    def _known_roles(cls, value: dict[str, str | list[str]] | None) -> dict[str, str | list[str]] | None:
        if value is not None:
            unknown = sorted(set(value) - set(FIELD_ROLES))
            if unknown:
                raise ValueError(f"unknown role(s) {unknown}; known: {list(FIELD_ROLES)}")
        return value

    def canonical_split(self) -> str:
        return _SPLIT_ALIASES.get(self.split, self.split)


TaskLoader = Callable[[TaskConfig], list[Example]]
TASKS: Registry[TaskLoader] = Registry("task")


def register_task(name: str) -> Callable[[TaskLoader], TaskLoader]:
    """Decorator adding ``loader(cfg) -> list[Example]`` to :data:`TASKS` under ``name``."""
    return TASKS.register(name)


def task_description(name: str) -> str:
    doc = (TASKS.get(name).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def load_task(cfg: TaskConfig) -> list[Example]:
    """The examples of ``cfg``'s task and split, validated, subsampled to ``cfg.limit``."""
    loader = TASKS.get(cfg.name, field="task.name")
    examples = loader(cfg)
    if not examples:
        raise DataError(f"task '{cfg.name}' has no examples in split '{cfg.split}'", path=cfg.path)
    _check_loaded(examples, cfg.name)
    return subsample(examples, cfg.limit, cfg.seed)


def subsample(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    """A seeded random subset of ``limit`` examples kept in their original order (all when ``limit`` is None)."""
    if limit is None or limit >= len(examples):
        return list(examples)
    keep = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]


def _check_loaded(examples: list[Example], task: str) -> None:
    # Loaders of this module validate row by row with line numbers; this catches loaders registered elsewhere.
    seen: set[str] = set()
    for ex in examples:
        if ex.id in seen:
            raise DataError(f"task '{task}' returned duplicate id '{ex.id}'", field="id")
        seen.add(ex.id)
        if ex.answer is not None and ex.answer not in ex.choices:
            raise DataError(f"task '{task}', example '{ex.id}': gold label '{ex.answer}' is not among the choices "
                            f"{list(ex.choices)}", field="answer")


# --- building and validating rows ------------------------------------------------------------------------------

class _Rows:
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


def _get(rec: dict[str, Any], dotted: str, rows: _Rows, line: int, *, required: bool = True) -> Any:
    """``rec["a"]["b"]`` for ``"a.b"``; a missing part is an error naming the field (or ``None`` if optional)."""
    value: Any = rec
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            if required:
                raise rows.error("missing", line, dotted)
            return None
        value = value[part]
    return value


def _load_hub(cfg: TaskConfig, default_name: str, config: str | None, split: str
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


def _choices_from_parallel(value: Any, rows: _Rows, line: int, field: str) -> dict[str, Any]:
    """HF's ``{"label": [...], "text": [...]}`` as a ``{label: text}`` mapping."""
    if not isinstance(value, dict) or not isinstance(value.get("label"), list) or not isinstance(
            value.get("text"), list) or len(value["label"]) != len(value["text"]):
        raise rows.error("expected {label: [...], text: [...]} of equal length", line, field)
    return dict(zip(value["label"], value["text"], strict=True))


def _choices_from_value(value: Any, rows: _Rows, line: int, field: str) -> dict[str, Any]:
    """Choices given as a {label: text} mapping, a list of texts, a list of {label, text} or HF parallel lists."""
    if isinstance(value, dict):
        if set(value) == {"label", "text"} and isinstance(value["label"], list):
            return _choices_from_parallel(value, rows, line, field)
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
        return {_letter(i): v for i, v in enumerate(value)}
    raise rows.error("choices must be a mapping or a list", line, field)


def _letter(index: int) -> str:
    return chr(ord("A") + index)


def _split_path(cfg: TaskConfig, files: dict[str, tuple[str, ...]]) -> Path:
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


def _hub_split(cfg: TaskConfig) -> str:
    split = cfg.canonical_split()
    if split not in SPLITS:
        raise ConfigError(f"unknown split '{cfg.split}' (choose from train, validation/dev, test)",
                          field="task.split")
    return split


def _reject_generic_options(cfg: TaskConfig) -> None:
    if cfg.fields is not None:
        raise ConfigError(f"task '{cfg.name}' has a fixed format; only the jsonl and csv tasks read `fields`",
                          field="task.fields")


def _reject_fact(cfg: TaskConfig) -> None:
    if cfg.fact_as_context:
        raise ConfigError(f"only openbookqa has a fact to show as context, not '{cfg.name}'",
                          field="task.fact_as_context")


# --- CommonsenseQA -------------------------------------------------------------------------------------------

_CSQA_FILES = {"train": ("train_rand_split.jsonl",), "validation": ("dev_rand_split.jsonl",),
               "test": ("test_rand_split_no_answers.jsonl", "test_rand_split.jsonl")}


@register_task("commonsense_qa")
def load_commonsense_qa(cfg: TaskConfig) -> list[Example]:
    """CommonsenseQA (5 choices): hub tau/commonsense_qa or the release's *_rand_split.jsonl files."""
    _reject_generic_options(cfg)
    _reject_fact(cfg)
    if cfg.path is None:
        split = _hub_split(cfg)
        source, records = _load_hub(cfg, "tau/commonsense_qa", None, split)
        rows = _Rows(source, labels_required=split != "test")
        for line, rec in records:
            rows.add(line, id=_get(rec, "id", rows, line), question=_get(rec, "question", rows, line),
                     choices=_choices_from_parallel(_get(rec, "choices", rows, line), rows, line, "choices"),
                     answer=rec.get("answerKey"), names={"answer": "answerKey"},
                     meta={"question_concept": rec.get("question_concept")})
        return rows.examples
    path = _split_path(cfg, _CSQA_FILES)
    rows = _Rows(path, labels_required=cfg.canonical_split() != "test" and "no_answers" not in path.name)
    for line, rec in read_jsonl(path):
        rows.add(line, id=_get(rec, "id", rows, line), question=_get(rec, "question.stem", rows, line),
                 choices=_choices_from_value(_get(rec, "question.choices", rows, line), rows, line,
                                             "question.choices"),
                 answer=rec.get("answerKey"),
                 names={"question": "question.stem", "choices": "question.choices", "answer": "answerKey"},
                 meta={"question_concept": _get(rec, "question.question_concept", rows, line, required=False)})
    return rows.examples


# --- OpenBookQA ----------------------------------------------------------------------------------------------

_OBQA_FILES = {"train": ("train.jsonl", "train_complete.jsonl"), "validation": ("dev.jsonl", "dev_complete.jsonl"),
               "test": ("test.jsonl", "test_complete.jsonl")}


@register_task("openbookqa")
def load_openbookqa(cfg: TaskConfig) -> list[Example]:
    """OpenBookQA (4 choices): hub allenai/openbookqa or the release's Data/Main/*.jsonl files."""
    _reject_generic_options(cfg)
    if cfg.path is None:
        split = _hub_split(cfg)
        config = "additional" if cfg.fact_as_context else "main"
        source, records = _load_hub(cfg, "allenai/openbookqa", config, split)
        # OpenBookQA labels every split, test included.
        rows = _Rows(source, labels_required=True)
        for line, rec in records:
            rows.add(line, id=_get(rec, "id", rows, line), question=_get(rec, "question_stem", rows, line),
                     choices=_choices_from_parallel(_get(rec, "choices", rows, line), rows, line, "choices"),
                     answer=_get(rec, "answerKey", rows, line),
                     context=_get(rec, "fact1", rows, line) if cfg.fact_as_context else None,
                     names={"question": "question_stem", "answer": "answerKey", "context": "fact1"})
        return rows.examples
    path = _split_path(cfg, _OBQA_FILES)
    # OpenBookQA labels every split, test included.
    rows = _Rows(path, labels_required=True)
    for line, rec in read_jsonl(path):
        rows.add(line, id=_get(rec, "id", rows, line), question=_get(rec, "question.stem", rows, line),
                 choices=_choices_from_value(_get(rec, "question.choices", rows, line), rows, line,
                                             "question.choices"),
                 answer=_get(rec, "answerKey", rows, line),
                 context=_get(rec, "fact1", rows, line) if cfg.fact_as_context else None,
                 names={"question": "question.stem", "choices": "question.choices", "answer": "answerKey",
                        "context": "fact1"})
    return rows.examples


# --- QuaRel --------------------------------------------------------------------------------------------------

_QUAREL_FILES = {"train": ("quarel-v1-train.jsonl",), "validation": ("quarel-v1-dev.jsonl",),
                 "test": ("quarel-v1-test.jsonl",)}
_INLINE_OPTIONS = re.compile(r"^(?P<stem>.*?)\s*\(A\)\s*(?P<a>.*?)\s*\(B\)\s*(?P<b>.*)$", re.DOTALL)


def split_inline_options(question: str) -> tuple[str, dict[str, str]] | None:
    """``"Which is faster? (A) a car (B) a bike"`` -> ``("Which is faster?", {"A": "a car", "B": "a bike"})``."""
    m = _INLINE_OPTIONS.match(question.strip())
    if not m:
        return None
    return m.group("stem").strip(), {"A": m.group("a").strip(), "B": m.group("b").strip()}


def _add_quarel_original(rows: _Rows, line: int, rec: dict[str, Any]) -> None:
    question = _get(rec, "question", rows, line)
    parsed = split_inline_options(question) if isinstance(question, str) else None
    if parsed is None:
        raise rows.error("question has no inline '(A) ... (B) ...' options", line, "question")
    stem, choices = parsed
    index = rec.get("answer_index")
    if index is None and rows.labels_required:
        raise rows.error("missing gold label (only the test split may be unlabeled)", line, "answer_index")
    if index is not None and (type(index) is not int or index not in (0, 1)):
        raise rows.error(f"must be 0 or 1, got {index!r}", line, "answer_index")
    meta = {k: rec[k] for k in ("world_literals", "logical_form_pretty") if k in rec}
    rows.add(line, id=_get(rec, "id", rows, line), question=stem, choices=choices,
             answer=_letter(index) if index is not None else None, meta=meta, names={"answer": "answer_index"})


@register_task("quarel")
def load_quarel(cfg: TaskConfig) -> list[Example]:
    """QuaRel (2 choices): hub allenai/quarel or quarel-v1-{train,dev,test}.jsonl (NI reconstruction auto-detected)."""
    _reject_generic_options(cfg)
    _reject_fact(cfg)
    if cfg.path is None:
        split = _hub_split(cfg)
        source, records = _load_hub(cfg, "allenai/quarel", None, split)
        rows = _Rows(source, labels_required=split != "test")
        for line, rec in records:
            _add_quarel_original(rows, line, rec)
        return rows.examples
    path = Path(cfg.path)
    if _is_quarel_ni(path):
        return load_quarel_ni(cfg)
    path = _split_path(cfg, _QUAREL_FILES)
    rows = _Rows(path, labels_required=cfg.canonical_split() != "test")
    for line, rec in read_jsonl(path):
        _add_quarel_original(rows, line, rec)
    return rows.examples


_QUAREL_NI_FILE = "quarel_natural_instructions.jsonl"
_QUAREL_NI_SPLITS = ("all", "dev", "non_dev")


def _is_quarel_ni(path: Path) -> bool:
    """Whether ``path`` is the Natural-Instructions reconstruction (records with ``choices``, no ``answer_index``)."""
    if path.is_dir():
        originals = [path / name for (name,) in _QUAREL_FILES.values()]
        return (path / _QUAREL_NI_FILE).is_file() and not any(p.is_file() for p in originals)
    if path.is_file():
        for _, rec in read_jsonl(path):
            return "choices" in rec and "answer_index" not in rec
    return False


@register_task("quarel_ni")
def load_quarel_ni(cfg: TaskConfig) -> list[Example]:
    """QuaRel questions with gold labels recovered from Super-NaturalInstructions (splits all, dev, non_dev)."""
    _reject_generic_options(cfg)
    _reject_fact(cfg)
    if cfg.path is None:
        raise ConfigError("quarel_ni is only available as a local file (quarel_natural_instructions.jsonl)",
                          field="task.path")
    split = cfg.canonical_split()
    split = "dev" if split == "validation" else split
    if split not in _QUAREL_NI_SPLITS:
        raise ConfigError(f"unknown split '{cfg.split}' for quarel_ni (choose from {list(_QUAREL_NI_SPLITS)}; "
                          "the source does not tell QuaRel train from test)", field="task.split")
    path = Path(cfg.path)
    if path.is_dir():
        path = path / _QUAREL_NI_FILE
    rows = _Rows(path, labels_required=True)
    for line, rec in read_jsonl(path):
        quarel_id = rec.get("id")
        if (split == "dev" and quarel_id is None) or (split == "non_dev" and quarel_id is not None):
            continue
        if quarel_id is None:
            ni_index = rec.get("ni_index")
            if ni_index is None:
                raise rows.error("needs an 'id' or an 'ni_index'", line, "id")
            quarel_id = f"quarel_ni_{ni_index}"
        choices = _get(rec, "choices", rows, line)
        if not isinstance(choices, dict):
            raise rows.error("must be a {label: text} mapping", line, "choices")
        meta = {k: rec[k] for k in ("source_task", "label_source", "ni_index") if k in rec}
        rows.add(line, id=quarel_id, question=_get(rec, "question", rows, line), choices=choices,
                 answer=_get(rec, "answer", rows, line), meta=meta)
    return rows.examples


# --- generic files -------------------------------------------------------------------------------------------

def _generic_fields(cfg: TaskConfig) -> dict[str, str | list[str]]:
    fields = {**_DEFAULT_FIELDS, **(cfg.fields or {})}
    for role, name in fields.items():
        if role != "choices" and not isinstance(name, str):
            raise ConfigError("must name one field", field=f"task.fields.{role}")
    return fields


def _generic_answer(value: Any, choices: dict[str, Any], rows: _Rows, line: int, field: str) -> str | None:
    """A label, a 0-based index or a choice text, as the label (``None`` when empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    labels = [str(k) for k in choices]
    if text in labels:
        return text
    if isinstance(value, int) or (isinstance(value, str) and text.isdigit()):
        index = int(text)
        if 0 <= index < len(labels):
            return labels[index]
    for label, choice in choices.items():
        if isinstance(choice, str) and choice.strip() == text:
            return str(label)
    raise rows.error(f"gold label '{text}' is not among the choices {labels} (nor an index or a choice text)",
                     line, field)


def _add_generic(rows: _Rows, line: int, rec: dict[str, Any], fields: dict[str, str | list[str]],
                 *, json_choices: bool) -> None:
    spec = fields["choices"]
    if isinstance(spec, list):
        choices = {_letter(i): _get(rec, name, rows, line) for i, name in enumerate(spec)}
        choices_field = ",".join(spec)
    else:
        value = _get(rec, spec, rows, line)
        if json_choices and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                raise rows.error(f"not JSON ({err.msg})", line, spec) from None
        choices = _choices_from_value(value, rows, line, spec)
        choices_field = spec
    answer_field = str(fields["answer"])
    answer = _generic_answer(_get(rec, answer_field, rows, line, required=rows.labels_required), choices, rows,
                             line, answer_field)
    context_field = fields.get("context")
    context = _get(rec, str(context_field), rows, line, required=False) if context_field else None
    rows.add(line, id=_get(rec, str(fields["id"]), rows, line),
             question=_get(rec, str(fields["question"]), rows, line), choices=choices, answer=answer,
             context=context or None,
             names={"id": str(fields["id"]), "question": str(fields["question"]), "choices": choices_field,
                    "answer": answer_field, "context": str(context_field)})


def _generic_path(cfg: TaskConfig, suffix: str) -> Path:
    if cfg.path is None:
        raise ConfigError(f"the {cfg.name} task reads a local file: set its path", field="task.path")
    split = cfg.canonical_split()
    names = (f"{split}.{suffix}",) + ((f"dev.{suffix}",) if split == "validation" else ())
    return _split_path(cfg, {split: names})


@register_task("jsonl")
def load_jsonl_task(cfg: TaskConfig) -> list[Example]:
    """Any JSON-lines file (or folder of <split>.jsonl) read through `fields`."""
    _reject_fact(cfg)
    fields = _generic_fields(cfg)
    path = _generic_path(cfg, "jsonl")
    rows = _Rows(path, labels_required=cfg.canonical_split() != "test")
    for line, rec in read_jsonl(path):
        _add_generic(rows, line, rec, fields, json_choices=False)
    return rows.examples


@register_task("csv")
def load_csv_task(cfg: TaskConfig) -> list[Example]:
    """Any CSV file with a header (or folder of <split>.csv) read through `fields`; choices as JSON or columns."""
    _reject_fact(cfg)
    fields = _generic_fields(cfg)
    path = _generic_path(cfg, "csv")
    rows = _Rows(path, labels_required=cfg.canonical_split() != "test")
    _, records = read_csv(path)
    for line, rec in records:
        _add_generic(rows, line, rec, fields, json_choices=True)
    return rows.examples


# The built-in synthetic task registers itself here, so every user of TASKS sees it (it imports this module).
from cotdistill.data import synthetic as _synthetic  # noqa: E402,F401
