"""Teacher rationales from released files: import, parse the teacher's label, audit it, decide what to train on.

Formats (``RationaleConfig.format``):

- ``jsonl`` -- the store written by :func:`write_rationales` (one :class:`Rationale` per line).
- ``csv`` -- ``id,text,gold_rationale`` files of sominw/pattern_distillation (Mistral-7B, Llama-3-70B): the
  rationale is the ``gold_rationale`` column -- despite its name, the teacher's own answer and explanation. The
  teacher's label is parsed from it ("The answer is X ..."); the choices come from the task's examples when given,
  else from the prompt column (``text``: "Choices:\\nA: ..." lines or inline "(A) .. (B) .." options).
- ``palm_cqa`` -- the CommonsenseQA folder of Distilling Step-by-Step: ``llm/{split}_CoT_<k>.json`` (JSON lists of
  raw PaLM few-shot completions, file k holding rows 1000k..) aligned by index with ``cqa_{split}.json``. Each
  completion is cut at the next few-shot "Q:"; the teacher's label follows "So the answer is (x) ...".

The teacher's label is kept beside the text (``Rationale.teacher_label``) so that :func:`audit_rationales` can
measure how often the teacher was right and :func:`apply_label_policy` can drop or relabel examples it got wrong.
How the label was read (``strict`` / ``flexible`` and what was seen, see :mod:`cotdistill.data.answers`) is in
``meta["label_match"]`` and ``meta["label_parse"]``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from cotdistill.configbase import StageConfig
from cotdistill.data.answers import parse_answer, strip_answer_statement
from cotdistill.data.example import Example
from cotdistill.data.jsonl import parse_json_line
from cotdistill.data.rationale import Rationale, read_rationales
from cotdistill.data.rows import split_inline_options
from cotdistill.errors import ConfigError, DataError
from cotdistill.files import read_csv, read_text

RationaleFormat = Literal["jsonl", "csv", "palm_cqa"]
#: palm_cqa: the completions for CSQA train ("train") or for CSQA dev ("test").
RationaleSplit = Literal["train", "test"]
#: How the teacher's label is read: an explicit statement only, or also the last choice mentioned.
LabelMatch = Literal["strict", "flexible"]
#: What to train on when the teacher's label disagrees with the gold label (see :func:`apply_label_policy`).
LabelPolicy = Literal["keep", "drop", "relabel"]
LABEL_POLICIES: tuple[str, ...] = ("keep", "drop", "relabel")


class RationaleConfig(StageConfig):
    """Where a teacher's rationales are, in which format, and how they are cleaned."""

    path: str = Field(..., description="Rationale file (jsonl, csv) or the palm_cqa folder.")
    format: RationaleFormat = Field("jsonl", description="jsonl (the store), csv (id,text,gold_rationale) or "
                                                         "palm_cqa (Distilling Step-by-Step PaLM completions).")
    split: RationaleSplit | None = Field(
        None, description="palm_cqa: which completions, train (CSQA train) or test (CSQA dev).")
    id_field: str = Field("id", description="csv: column of the example id.")
    text_field: str = Field("gold_rationale", description="csv: column of the teacher's rationale.")
    prompt_field: str | None = Field("text", description="csv: column of the teacher's prompt, read for the choices "
                                                         "of examples not given; empty: none.")
    source: str | None = Field(None, description="Name of the teacher / file recorded in each rationale; default "
                                                 "from the path (e.g. mistral_7b/openbookqa).")
    strip_answer_statement: bool = Field(
        False, description="Remove the leading/trailing answer statement ('The answer is B because', 'So the "
                           "answer is (d) ...') so the text is only the reasoning (the label is parsed first).")
    label_match: LabelMatch = Field(
        "strict", description="How the teacher's label is read: strict (an explicit statement) or flexible (also "
                              "the last choice letter or text mentioned).")
    label_policy: LabelPolicy = Field(
        "keep", description="Examples whose teacher label disagrees with gold: keep (train on all), drop, or "
                            "relabel (train with the teacher's label).")
    drop_unparsed: bool = Field(False, description="Also drop examples whose rationale states no label.")


def _by_id(examples: Sequence[Example] | Mapping[str, Example] | None) -> dict[str, Example]:
    if examples is None:
        return {}
    if isinstance(examples, Mapping):
        return dict(examples)
    return {ex.id: ex for ex in examples}


def load_rationales(cfg: RationaleConfig, examples: Sequence[Example] | Mapping[str, Example] | None = None
                    ) -> dict[str, Rationale]:
    """Import the rationales of ``cfg`` keyed by example id; ``examples`` (the task's) give the choices the
    teacher's label is read against."""
    known = _by_id(examples)
    if cfg.format == "jsonl":
        rationales = _load_store(cfg, known)
    elif cfg.format == "csv":
        rationales = _load_csv(cfg, known)
    else:
        rationales = _load_palm_cqa(cfg, known)
    if cfg.strip_answer_statement:
        rationales = {rid: _stripped(r) for rid, r in rationales.items()}
    return rationales


def _stripped(r: Rationale) -> Rationale:
    text = strip_answer_statement(r.text)
    if text == r.text:
        return r
    return dataclasses.replace(r, text=text, meta={**r.meta, "unstripped_text": r.text})


def _parsed(text: str, example: Example | None, cfg: RationaleConfig) -> tuple[str | None, dict[str, Any]]:
    """The teacher's label and how it was read (``None`` without choices to read it against)."""
    if example is None:
        return None, {"label_parse": "no_choices"}
    parse = parse_answer(text, example, strict_only=cfg.label_match == "strict")
    return parse.label, {"label_match": parse.how, "label_parse": parse.detail}


def _default_source(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


# --- store ---------------------------------------------------------------------------------------------------

def _load_store(cfg: RationaleConfig, known: dict[str, Example]) -> dict[str, Rationale]:
    path = Path(cfg.path)
    rationales = read_rationales(path)
    for rid, r in rationales.items():
        ex = known.get(rid)
        if ex is not None and r.teacher_label is not None and r.teacher_label not in ex.choices:
            raise DataError(f"rationale '{rid}': teacher label '{r.teacher_label}' is not among the example's "
                            f"choices {ex.labels}", path=path, field="teacher_label")
    if cfg.source is not None:
        rationales = {rid: dataclasses.replace(r, source=cfg.source) for rid, r in rationales.items()}
    return rationales


# --- CSV (sominw/pattern_distillation) -------------------------------------------------------------------------

_PROMPT_CHOICE_LINE = re.compile(r"^\s*([A-Z])\s*[:.)]\s*(.+?)\s*$")


def choices_from_prompt(prompt: str) -> dict[str, str] | None:
    """The choices listed in a teacher prompt: "Choices:\\nA: x\\nB: y" lines, or inline "(A) x (B) y"."""
    head, sep, tail = prompt.partition("Choices:")
    if sep:
        choices = {}
        for line in tail.splitlines():
            m = _PROMPT_CHOICE_LINE.match(line)
            if m:
                choices[m.group(1)] = m.group(2)
        return choices or None
    question = re.sub(r"^\s*Question:\s*", "", prompt)
    parsed = split_inline_options(question)
    return parsed[1] if parsed else None


def _load_csv(cfg: RationaleConfig, known: dict[str, Example]) -> dict[str, Rationale]:
    path = Path(cfg.path)
    source = cfg.source or _default_source(path)
    out: dict[str, Rationale] = {}
    first_line: dict[str, int] = {}
    header, records = read_csv(path, what="rationale file")
    for column in (cfg.id_field, cfg.text_field):
        if column not in header:
            raise DataError(f"missing column (header has {header})", path=path, line=1, field=column)
    use_prompt = cfg.prompt_field is not None and cfg.prompt_field in header
    for line, rec in records:
        rid = (rec.get(cfg.id_field) or "").strip()
        text = rec.get(cfg.text_field)
        if not rid:
            raise DataError("empty id", path=path, line=line, field=cfg.id_field)
        if rid in out:
            raise DataError(f"duplicate id '{rid}' (first on line {first_line[rid]})", path=path, line=line,
                            field=cfg.id_field)
        if text is None or not text.strip():
            raise DataError("empty rationale", path=path, line=line, field=cfg.text_field)
        example = known.get(rid)
        meta: dict[str, Any] = {"line": line}
        if example is None and use_prompt:
            choices = choices_from_prompt(rec.get(cfg.prompt_field) or "")
            if choices:
                example = Example(id=rid, question="", choices=choices, answer=None)
                meta["choices_from"] = "prompt"
        label, how = _parsed(text, example, cfg)
        out[rid] = Rationale(id=rid, text=text.strip(), teacher_label=label, source=source, meta={**meta, **how})
        first_line[rid] = line
    if not out:
        raise DataError("no rationales (the file has no rows)", path=path)
    return out


# --- PaLM completions for CommonsenseQA (Distilling Step-by-Step) ------------------------------------------------

def _palm_completion_files(folder: Path, split: str) -> list[Path]:
    llm = folder / "llm"
    if not llm.is_dir():
        raise DataError("completion folder not found", path=llm)
    pattern = re.compile(rf"{split}_CoT_(\d+)\.json")
    numbered = sorted((int(m.group(1)), p) for p in llm.iterdir() if (m := pattern.fullmatch(p.name)))
    if not numbered:
        raise DataError(f"no {split}_CoT_<k>.json completion files", path=llm)
    numbers = [n for n, _ in numbered]
    if numbers != list(range(len(numbered))):
        raise DataError(f"completion files must be numbered 0..{len(numbered) - 1}, found {numbers}", path=llm)
    return [p for _, p in numbered]


def _load_palm_cqa(cfg: RationaleConfig, known: dict[str, Example]) -> dict[str, Rationale]:
    if cfg.split is None:
        raise ConfigError("palm_cqa needs the split (train or test)", field="rationales.split")
    folder = Path(cfg.path)
    if not folder.is_dir():
        raise DataError("palm_cqa folder not found", path=folder)
    completions: list[tuple[Path, int, Any]] = []
    for file in _palm_completion_files(folder, cfg.split):
        try:
            items = json.loads(read_text(file))
        except json.JSONDecodeError as err:
            raise DataError(f"unparseable JSON ({err.msg})", path=file, line=err.lineno) from None
        if not isinstance(items, list):
            raise DataError("must be a JSON list of completions", path=file)
        completions.extend((file, i, item) for i, item in enumerate(items))
    questions_path = folder / f"cqa_{cfg.split}.json"
    questions = [line for line in read_text(questions_path, what="question file").split("\n") if line.strip()]
    if len(questions) != len(completions):
        raise DataError(f"{len(questions)} questions but {len(completions)} completions in llm/{cfg.split}_CoT_*.json",
                        path=questions_path)
    if not questions:
        raise DataError("no questions and no completions (the files are empty)", path=questions_path)
    source = cfg.source or f"palm_cqa/{cfg.split}"
    out: dict[str, Rationale] = {}
    for lineno, (raw_question, (file, index, completion)) in enumerate(zip(questions, completions, strict=True), 1):
        row = parse_json_line(raw_question, questions_path, lineno)
        assert row is not None  # blank lines were left out above
        for key in ("id", "choices"):
            if key not in row:
                raise DataError("missing", path=questions_path, line=lineno, field=key)
        if not isinstance(completion, str):
            raise DataError("completion must be a string", path=file, field=f"[{index}]")
        rid = str(row["id"])
        if rid in out:
            raise DataError(f"duplicate id '{rid}'", path=questions_path, line=lineno, field="id")
        example = _palm_example(row, known.get(rid), questions_path, lineno)
        # The completion runs on into invented few-shot questions: the rationale ends at the next "Q:".
        text = completion.split("Q:", 1)[0].strip()
        if not text:
            raise DataError("empty completion before the next 'Q:'", path=file, field=f"[{index}]")
        label, how = _parsed(text, example, cfg)
        out[rid] = Rationale(id=rid, text=text, teacher_label=label, source=source,
                             meta={"file": file.name, "index": index, **how})
    return out


def _palm_example(row: dict[str, Any], known: Example | None, path: Path, line: int) -> Example:
    """The example whose choices the PaLM label is read against; cqa rows list CSQA choices A..E in order."""
    texts = row["choices"]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise DataError("must be a list of choice texts", path=path, line=line, field="choices")
    choices = {chr(ord("A") + i): t for i, t in enumerate(texts)}
    if known is not None:
        if list(known.choices.values()) != [t.strip() for t in texts]:
            raise DataError(f"choices {texts} differ from the task's {list(known.choices.values())} for id "
                            f"'{known.id}'", path=path, line=line, field="choices")
        return known
    gold = [label for label, t in choices.items() if t == row.get("answer")]
    return Example(id=str(row["id"]), question=str(row.get("question", "")), choices=choices,
                   answer=gold[0] if gold else None)


# --- audit and label policy ------------------------------------------------------------------------------------

def audit_rationales(examples: Iterable[Example], rationales: Mapping[str, Rationale]) -> dict[str, Any]:
    """How far the teacher's stated labels agree with gold on ``examples``.

    Keys: ``examples``; ``with_rationale`` / ``missing`` (examples with / without a rationale); ``extra``
    (rationales of ids not among the examples); ``labeled`` (with rationale and gold label); ``stated`` (of those,
    the teacher stated a label); ``agree`` / ``disagree`` / ``unparsed``; ``accuracy`` = agree / labeled (no
    stated label counts as wrong); ``accuracy_when_stated`` = agree / stated; ``label_parse`` (counts of how
    labels were read, from ``meta``).
    """
    examples = list(examples)
    ids = {ex.id for ex in examples}
    with_rationale = [ex for ex in examples if ex.id in rationales]
    labeled = [ex for ex in with_rationale if ex.answer is not None]
    stated = [ex for ex in labeled if rationales[ex.id].teacher_label is not None]
    agree = sum(rationales[ex.id].teacher_label == ex.answer for ex in stated)
    parse_counts = Counter(str(rationales[ex.id].meta.get("label_parse", "unknown")) for ex in with_rationale)
    return {
        "examples": len(examples),
        "with_rationale": len(with_rationale),
        "missing": len(examples) - len(with_rationale),
        "extra": sum(rid not in ids for rid in rationales),
        "labeled": len(labeled),
        "stated": len(stated),
        "agree": agree,
        "disagree": len(stated) - agree,
        "unparsed": len(labeled) - len(stated),
        "accuracy": agree / len(labeled) if labeled else None,
        "accuracy_when_stated": agree / len(stated) if stated else None,
        "label_parse": dict(sorted(parse_counts.items())),
    }


def apply_label_policy(examples: Sequence[Example], rationales: Mapping[str, Rationale], policy: LabelPolicy,
                       *, drop_unparsed: bool = False) -> tuple[list[Example], dict[str, Rationale]]:
    """What to train on given the teacher's labels.

    - ``keep``: every example with its gold label (the teacher's mistakes stay in the rationales).
    - ``drop``: remove examples whose teacher label disagrees with gold (and their rationales).
    - ``relabel``: keep every example but train it with the teacher's label: ``answer`` becomes the teacher's
      label (the gold one is kept in ``meta["gold_answer"]``), so label and rationale agree.

    ``drop_unparsed`` also removes examples whose rationale states no label (under any policy). Examples
    without a rationale or without a gold label are left as they are.
    """
    if policy not in LABEL_POLICIES:
        raise ConfigError(f"unknown label policy '{policy}' (choose from {list(LABEL_POLICIES)})",
                          field="rationales.label_policy")
    kept: list[Example] = []
    for ex in examples:
        r = rationales.get(ex.id)
        if r is None or ex.answer is None:
            kept.append(ex)
            continue
        if r.teacher_label is None:
            if not drop_unparsed:
                kept.append(ex)
            continue
        if r.teacher_label not in ex.choices:
            raise DataError(f"example '{ex.id}': teacher label '{r.teacher_label}' is not among its choices "
                            f"{ex.labels}", field="teacher_label")
        if r.teacher_label == ex.answer or policy == "keep":
            kept.append(ex)
        elif policy == "relabel":
            kept.append(dataclasses.replace(ex, answer=r.teacher_label, meta={**ex.meta, "gold_answer": ex.answer}))
    kept_ids = {ex.id for ex in kept}
    dropped = {ex.id for ex in examples} - kept_ids
    return kept, {rid: r for rid, r in rationales.items() if rid not in dropped}
