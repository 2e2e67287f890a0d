"""Every reader of a user's file keeps one promise on whatever the file holds (property-based, hypothesis).

Readers: the local task loaders (generic JSONL and CSV, CommonsenseQA, OpenBookQA, QuaRel), the rationale importers
(store, CSV, palm_cqa folder), the train / teach / eval / study config YAMLs and the teacher's SQLite cache. Files:
valid ones damaged -- values of the wrong type, keys missing, records duplicated, lines truncated, odd encodings
(UTF-16, cp1252, a byte-order mark), no records at all, random bytes. The promise: the file is accepted correctly
(records that make sense, never silently none), or the reader raises a one-line :class:`CotDistillError` naming the
file (the CLI prints it and exits 2). Any other exception fails the test.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cotdistill.cli.main import main
from cotdistill.data.rationales import RationaleConfig, load_rationales
from cotdistill.data.tasks import TaskConfig, load_task
from cotdistill.errors import CotDistillError

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Values a damaged field may hold.
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.text(max_size=4), st.sampled_from(["", " ", "A", "B", "café", "\u2028"]),
    st.lists(st.sampled_from([0, "A", None]), max_size=2),
    st.dictionaries(st.sampled_from(["A", "B", "label", "text"]), st.sampled_from(["x", 1, None]), max_size=2))
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252")


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path (dict keys, list indexes) inside ``value``."""
    paths = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return paths
    for key, child in items:
        paths.append((*prefix, key))
        paths.extend(_paths(child, (*prefix, key)))
    return paths


@st.composite
def damaged_records(draw, base: list[dict]) -> tuple[list[dict], bool]:
    """``base`` with 0-3 damages (a value replaced, a key deleted, a record duplicated or dropped); and whether it
    is untouched."""
    records = copy.deepcopy(base)
    damages = draw(st.integers(0, 3))
    for _ in range(damages):
        i = draw(st.integers(0, len(records) - 1))
        kind = draw(st.sampled_from(["set", "delete", "duplicate", "drop"]))
        paths = _paths(records[i])
        if kind in ("set", "delete") and paths:
            *parent_path, key = draw(st.sampled_from(paths))
            parent = records[i]
            for part in parent_path:
                parent = parent[part]
            if kind == "set":
                parent[key] = draw(ODD_VALUES)
            else:
                del parent[key]
        elif kind == "duplicate":
            records.append(copy.deepcopy(records[i]))
        elif kind == "drop" and len(records) > 1:
            records.pop(i)
    return records, damages == 0


@st.composite
def file_bytes(draw, text: str, pristine: bool) -> tuple[bytes, bool]:
    """``text`` encoded one of several ways, maybe truncated or emptied; and whether it is still pristine."""
    shape = draw(st.sampled_from(["as is", "as is", "truncated", "blank lines", "empty", "random bytes"]))
    if shape == "empty":
        return b"", False
    if shape == "random bytes":
        return draw(st.binary(min_size=1, max_size=64)), False
    if shape == "truncated":
        text = text[:draw(st.integers(0, max(len(text) - 1, 0)))]
    elif shape == "blank lines":
        text = "\n\n" + text.replace("\n", "\n  \n") + "\n\n"
    encoding = draw(st.sampled_from(ENCODINGS))
    pristine = pristine and shape in ("as is", "blank lines") and encoding in ("utf-8", "utf-8-sig")
    return text.encode(encoding, errors="replace"), pristine


def keeps_the_promise(read, path: Path) -> Any:
    """``read()``'s result, or ``None`` after checking that its error is one line naming ``path``."""
    try:
        return read()
    except CotDistillError as err:
        message = str(err)
        assert "\n" not in message and "\r" not in message, message
        assert path.name in message or "--" in message, message
        return None


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _csv(records: list[dict]) -> str:
    columns = list(dict.fromkeys(key for r in records for key in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    for r in records:
        writer.writerow({k: v if isinstance(v, str) else json.dumps(v) for k, v in r.items()})
    return out.getvalue()


# --- tasks -----------------------------------------------------------------------------------------------------

_GENERIC = [{"id": f"g{i}", "question": f"Où est le café {i}?", "choices": ["ici", "là", "naïve"], "answer": i % 3}
            for i in range(3)]
_CSQA = [{"id": f"c{i}", "question": {"stem": f"Wo ist {i}?", "choices": [
    {"label": label, "text": f"{label} — {i}"} for label in "ABCDE"]}, "answerKey": "ABCDE"[i]} for i in range(3)]
_QUAREL = [{"id": f"q{i}", "question": f"Which is faster {i}? (A) a café cart (B) a bike", "answer_index": i % 2}
           for i in range(3)]
TASK_FILES = {
    "jsonl": ("train.jsonl", _GENERIC, _jsonl),
    "csv": ("train.csv", _GENERIC, _csv),
    "commonsense_qa": ("train_rand_split.jsonl", _CSQA, _jsonl),
    "openbookqa": ("train.jsonl", _CSQA, _jsonl),
    "quarel": ("quarel-v1-train.jsonl", _QUAREL, _jsonl),
}


def _check_examples(examples, n_pristine: int | None) -> None:
    assert examples, "accepted with no examples"
    assert len({ex.id for ex in examples}) == len(examples)
    for ex in examples:
        assert isinstance(ex.question, str) and ex.question.strip()
        assert len(ex.choices) >= 2 and all(isinstance(t, str) and t for t in ex.choices.values())
        assert ex.answer in ex.choices
    if n_pristine is not None:
        assert len(examples) == n_pristine


@pytest.mark.parametrize("task", sorted(TASK_FILES))
@SETTINGS
@given(data=st.data())
def test_task_loaders_keep_the_promise(task, data):
    name, base, render = TASK_FILES[task]
    records, pristine = data.draw(damaged_records(base))
    content, pristine = data.draw(file_bytes(render(records), pristine))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        cfg = TaskConfig(name=task, path=str(path), split="train")
        examples = keeps_the_promise(lambda: load_task(cfg), path)
    if pristine:
        assert examples is not None, "a valid file was refused"
    if examples is not None:
        _check_examples(examples, len(base) if pristine else None)


# --- rationales ------------------------------------------------------------------------------------------------

_STORE = [{"id": f"r{i}", "text": f"Le café {i} because.", "teacher_label": "A", "source": "t", "meta": {"k": i}}
          for i in range(3)]
_RATIONALE_CSV = [{"id": f"r{i}", "text": f"Question: où? (A) x (B) y {i}",
                   "gold_rationale": f"The answer is A because café {i}."} for i in range(3)]


def _check_rationales(rationales, n_pristine: int | None) -> None:
    assert rationales, "accepted with no rationales"
    for rid, r in rationales.items():
        assert r.id == rid and isinstance(r.text, str) and isinstance(r.meta, dict)
        assert r.teacher_label is None or isinstance(r.teacher_label, str)
    if n_pristine is not None:
        assert len(rationales) == n_pristine


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@SETTINGS
@given(data=st.data())
def test_rationale_importers_keep_the_promise(fmt, data):
    base, render = (_STORE, _jsonl) if fmt == "jsonl" else (_RATIONALE_CSV, _csv)
    records, pristine = data.draw(damaged_records(base))
    content, pristine = data.draw(file_bytes(render(records), pristine))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"rationales.{fmt}"
        path.write_bytes(content)
        rationales = keeps_the_promise(lambda: load_rationales(RationaleConfig(path=str(path), format=fmt)), path)
    if pristine:
        assert rationales is not None, "a valid file was refused"
    if rationales is not None:
        _check_rationales(rationales, len(base) if pristine else None)


_PALM_QUESTIONS = [{"id": f"p{i}", "question": f"où {i}?", "choices": ["a", "b", "c", "d", "e"], "answer": "b"}
                   for i in range(3)]


@SETTINGS
@given(data=st.data())
def test_palm_cqa_folder_keeps_the_promise(data):
    questions, pristine_q = data.draw(damaged_records(_PALM_QUESTIONS))
    completions, pristine_c = data.draw(damaged_records([{"all": [f"So the answer is (b) café {i}. Q: next"
                                                                  for i in range(3)]}]))
    q_bytes, pristine_q = data.draw(file_bytes(_jsonl(questions), pristine_q))
    c_bytes, pristine_c = data.draw(file_bytes(json.dumps(completions[0].get("all"), ensure_ascii=False),
                                               pristine_c))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "llm").mkdir()
        (folder / "llm" / "train_CoT_0.json").write_bytes(c_bytes)
        (folder / "cqa_train.json").write_bytes(q_bytes)
        cfg = RationaleConfig(path=str(folder), format="palm_cqa", split="train")
        try:
            rationales = load_rationales(cfg)
        except CotDistillError as err:
            assert "\n" not in str(err) and ("cqa_train.json" in str(err) or "train_CoT_0.json" in str(err)), err
            rationales = None
    if pristine_q and pristine_c:
        assert rationales is not None, "a valid folder was refused"
    if rationales is not None:
        _check_rationales(rationales, 3 if pristine_q and pristine_c else None)


# --- configs ---------------------------------------------------------------------------------------------------

def _train_config(tmp: Path) -> dict:
    task = tmp / "train.jsonl"
    task.write_text(_jsonl(_GENERIC))
    return {"task": {"name": "jsonl", "path": str(task), "split": "train", "limit": 2},
            "variant": {"name": "label_only", "label_style": "text"}, "student": {"model": "tiny"},
            "train": {"epochs": 1, "learning_rate": 1.0e-3, "batch_size": 2}, "output": str(tmp / "out")}


def _read_train(path: Path):
    from cotdistill.cli.train_cmds import build_run_config

    return build_run_config(path, {})


def _read_teach(path: Path):
    from cotdistill.configbase import read_yaml
    from cotdistill.teacher.config import TeachConfig

    return TeachConfig.from_dict(read_yaml(path), source=str(path))


def _read_eval(path: Path):
    from cotdistill.evaluate.config import load_eval_config

    return load_eval_config(path)


def _read_study(path: Path):
    from cotdistill.study.config import load_study_config

    return load_study_config(path)


CONFIGS = {
    "train": (_train_config, _read_train),
    "teach": (lambda tmp: {"task": {"name": "synthetic", "split": "train", "limit": 3},
                           "teacher": {"backend": "fake"}, "sampling": {"n": 1, "temperature": 0.0},
                           "output_dir": str(tmp / "teach")}, _read_teach),
    "eval": (lambda tmp: {"eval": {"mode": "label_first", "batch_size": 4, "max_new_tokens": 8}}, _read_eval),
    "study": (lambda tmp: {"name": "tiny", "tasks": [{"label": "synthetic",
                                                      "train": {"name": "synthetic", "split": "train", "limit": 4},
                                                      "eval": {"name": "synthetic", "split": "test", "limit": 4},
                                                      "reference_rationales": True}],
                           "students": [{"model": "tiny"}], "variants": [{"name": "label_only"}],
                           "seeds": [0], "train": {"epochs": 1}}, _read_study),
}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@SETTINGS
@given(data=st.data())
def test_config_files_keep_the_promise(kind, data):
    make, read = CONFIGS[kind]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # A config file holds one mapping: of the damaged list only the first counts.
        records, pristine = data.draw(damaged_records([make(tmp)]))
        config = records[0]
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        if data.draw(st.booleans()):
            text = "# réglages\n" + text.replace("  ", "\t", data.draw(st.integers(0, 1)))
            pristine = pristine and "\t" not in text
        content, pristine = data.draw(file_bytes(text, pristine))
        path = tmp / f"{kind}.yaml"
        path.write_bytes(content)
        loaded = keeps_the_promise(lambda: read(path), path)
    if pristine:
        assert loaded is not None, "a valid config was refused"


# --- teacher cache ---------------------------------------------------------------------------------------------

@SETTINGS
@given(shape=st.sampled_from(["empty", "random", "truncated", "other schema", "bad row"]),
       noise=st.binary(min_size=1, max_size=200), cut=st.integers(1, 4000))
def test_teacher_cache_keeps_the_promise(shape, noise, cut):
    from cotdistill.teacher.cache import CachedGeneration, GenerationCache

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "teacher_cache.sqlite"
        if shape == "random":
            path.write_bytes(b"SQLite format 3\x00" * (noise[0] % 2) + noise)
        elif shape in ("truncated", "bad row"):
            with GenerationCache(path) as cache:
                cache.put(CachedGeneration(key="k", backend="fake", model="m", prompt="p", params={"t": 0},
                                           sample_index=0, text="The answer is A.", finish_reason="stop",
                                           prompt_tokens=1, completion_tokens=2, latency_s=0.1, attempts=1,
                                           meta={}))
            if shape == "bad row":
                with sqlite3.connect(path) as db:
                    db.execute("UPDATE generations SET params = ?", (noise.decode("latin-1"),))
            else:
                path.write_bytes(path.read_bytes()[:cut])
        elif shape == "other schema":
            with sqlite3.connect(path) as db:
                db.execute("CREATE TABLE generations (key TEXT, something TEXT)")
        elif shape == "empty":
            path.write_bytes(b"")

        def use():
            with GenerationCache(path) as cache:
                return len(cache), cache.get("k"), cache.existing_keys(["k", "j"]), cache.failures()

        result = keeps_the_promise(use, path)
    if shape == "empty":
        assert result is not None and result[0] == 0


# --- the CLI turns the error into exit 2 -------------------------------------------------------------------------

def test_cli_exits_2_with_one_line_on_a_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "train.jsonl"
    path.write_bytes(_jsonl(_GENERIC).encode("cp1252"))
    assert main(["tasks", "show", "--task", "jsonl", "--task-path", str(path), "--split", "train"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:1" in err and "UTF-8" in err


def test_cli_exits_2_on_an_empty_task_file(tmp_path, capsys):
    path = tmp_path / "train.csv"
    path.write_text("")
    assert main(["tasks", "show", "--task", "csv", "--task-path", str(path), "--split", "train"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "empty" in err
