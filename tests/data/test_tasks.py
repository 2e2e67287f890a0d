"""Task loaders on local fixtures, hub paths with a patched ``datasets.load_dataset``, row validation."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from cotdistill.data.example import Example
from cotdistill.data.tasks import TASKS, TaskConfig, load_task, register_task, split_inline_options, subsample
from cotdistill.errors import ConfigError, DataError

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str, path: Path | str | None, split: str = "train", **kw) -> list[Example]:
    return load_task(TaskConfig(name=name, path=str(path) if path is not None else None, split=split, **kw))


# --- local files ------------------------------------------------------------------------------------------

def test_commonsense_qa_folder_splits():
    train = load("commonsense_qa", FIXTURES / "csqa", "train")
    assert [ex.id for ex in train] == ["tr1", "tr2", "tr3", "tr4"]
    assert train[0].choices == {"A": "trunk", "B": "kitchen", "C": "attic", "D": "pond", "E": "cloud"}
    assert train[0].answer == "A" and train[0].meta["question_concept"] == "spare tire"
    assert [ex.id for ex in load("commonsense_qa", FIXTURES / "csqa", "dev")] == ["dv1", "dv2", "dv3"]
    assert len(load("commonsense_qa", FIXTURES / "csqa", "validation")) == 3
    test = load("commonsense_qa", FIXTURES / "csqa", "test")
    assert [ex.answer for ex in test] == [None, None]


def test_commonsense_qa_single_file():
    exs = load("commonsense_qa", FIXTURES / "csqa" / "dev_rand_split.jsonl", "validation")
    assert exs[2].answer == "B" and exs[2].answer_text == "scissors"


def test_openbookqa_main_and_fact():
    dev = load("openbookqa", FIXTURES / "obqa" / "Main", "dev")
    assert [ex.id for ex in dev] == ["8-1", "8-2"] and dev[1].answer_text == "an iron nail"
    assert dev[0].context is None
    with_fact = load("openbookqa", FIXTURES / "obqa" / "Additional", "dev", fact_as_context=True)
    assert with_fact[1].context == "a magnet attracts iron"
    assert load("openbookqa", FIXTURES / "obqa" / "Main", "test")[0].answer == "A"


def test_openbookqa_fact_missing_is_an_error():
    with pytest.raises(DataError, match=r"dev\.jsonl:1: field 'fact1': missing"):
        load("openbookqa", FIXTURES / "obqa" / "Main", "dev", fact_as_context=True)


def test_quarel_original_format():
    dev = load("quarel", FIXTURES / "quarel", "dev")
    assert [ex.id for ex in dev] == ["QuaRel_V1_Fx_0101", "QuaRel_V1_Fx_0102", "QuaRel_V1_Fx_0103"]
    assert dev[0].question.endswith("Which surface is smoother?")
    assert dev[0].choices == {"A": "rug", "B": "tile"} and dev[0].answer == "B"
    assert dev[2].choices == {"A": "more gravity", "B": "less gravity"} and dev[2].answer == "A"
    assert dev[0].meta["world_literals"] == {"world1": "rug", "world2": "tile"}
    assert len(load("quarel", FIXTURES / "quarel", "train")) == 2


def test_split_inline_options():
    assert split_inline_options("Which? (A) a car (B) a bike") == ("Which?", {"A": "a car", "B": "a bike"})
    assert split_inline_options("No options here") is None


def test_quarel_ni_splits_and_autodetect():
    ni = FIXTURES / "quarel_ni.jsonl"
    assert [ex.id for ex in load("quarel_ni", ni, "all")] == ["QuaRel_V1_Fx_0101", "quarel_ni_1", "QuaRel_V1_Fx_0102"]
    assert [ex.id for ex in load("quarel_ni", ni, "dev")] == ["QuaRel_V1_Fx_0101", "QuaRel_V1_Fx_0102"]
    assert [ex.id for ex in load("quarel_ni", ni, "non_dev")] == ["quarel_ni_1"]
    # `quarel` hands a reconstruction file to quarel_ni.
    assert [ex.answer for ex in load("quarel", ni, "dev")] == ["B", "B"]
    with pytest.raises(ConfigError, match="task.split.*non_dev"):
        load("quarel_ni", ni, "train")


def test_generic_jsonl_with_field_mapping():
    fields = {"id": "uid", "question": "q.text", "choices": "opts", "answer": "gold", "context": "ctx"}
    exs = load("jsonl", FIXTURES / "generic", "validation", fields=fields)
    assert exs[0].choices == {"A": "a feather", "B": "a brick"} and exs[0].answer == "B"  # 0-based index
    assert exs[0].context == "Bricks are dense."
    assert exs[1].choices == {"X": "ice", "Y": "soup"} and exs[1].answer == "X" and exs[1].context is None
    assert exs[2].choices == {"1": "the sun", "2": "a candle"} and exs[2].answer == "1"  # by choice text


def test_generic_csv_with_choice_columns_and_quoted_newline():
    fields = {"choices": ["a", "b", "c"], "answer": "label"}
    exs = load("csv", FIXTURES / "generic" / "validation.csv", "validation", fields=fields)
    assert [ex.answer for ex in exs] == ["B", "A"]
    assert exs[1].question == "Which one is\na fruit?"


def test_csv_choices_as_json(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,question,choices,answer\nr1,Q?,"[""x"", ""y""]",B\n')
    assert load("csv", path, "train")[0].choices == {"A": "x", "B": "y"}


def test_limit_is_a_seeded_random_subset_in_file_order():
    exs = [Example(str(i), "q", {"A": "a", "B": "b"}, "A") for i in range(50)]
    a, b = subsample(exs, 10, seed=1), subsample(exs, 10, seed=1)
    assert a == b and len(a) == 10
    assert a != exs[:10]
    assert [int(e.id) for e in a] == sorted(int(e.id) for e in a)
    assert subsample(exs, 10, seed=2) != a
    assert len(load("commonsense_qa", FIXTURES / "csqa", "train", limit=2, seed=3)) == 2


def test_registry_accepts_other_loaders():
    @register_task("test_two_questions")
    def two(cfg: TaskConfig) -> list[Example]:
        """Two fixed questions."""
        return [Example("1", "q1", {"A": "a", "B": "b"}, "A"), Example("2", "q2", {"A": "a", "B": "b"}, "B")]

    try:
        assert [ex.id for ex in load_task(TaskConfig(name="test_two_questions", limit=1))] in (["1"], ["2"])
    finally:
        TASKS._entries.pop("test_two_questions")


def test_every_source_module_is_listed_by_name():
    import pkgutil

    from cotdistill.data import sources, synthetic
    from cotdistill.data.sources import BUILTIN_TASKS

    modules = {f"{sources.__name__}.{m.name}" for m in pkgutil.iter_modules(sources.__path__)} | {synthetic.__name__}
    assert {loader.__module__ for _, loader in BUILTIN_TASKS} == modules
    assert TASKS.names() == sorted(name for name, _ in BUILTIN_TASKS)
    assert all(TASKS.get(name) is loader for name, loader in BUILTIN_TASKS)


def test_the_registry_is_built_without_side_effect_imports():
    # Registration is an explicit list: no module of the data stage imports another only to run it.
    data_dir = Path(__file__).resolve().parents[2] / "src" / "cotdistill" / "data"
    assert [p.name for p in sorted(data_dir.rglob("*.py")) if "noqa: F401" in p.read_text()] == []


def test_unknown_task_and_options():
    with pytest.raises(ConfigError, match="unknown task 'nope'"):
        load("nope", None)
    with pytest.raises(ConfigError, match="task.fields"):
        load("commonsense_qa", FIXTURES / "csqa", fields={"id": "x"})
    with pytest.raises(ConfigError, match="unknown key"):
        TaskConfig.from_dict({"name": "csv", "bogus": 1})
    with pytest.raises(ConfigError, match="fields"):
        TaskConfig.from_dict({"name": "csv", "fields": {"stem": "q"}})


# --- validation errors name file:line:field -------------------------------------------------------------------

def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


GOOD = {"id": "a", "question": "Q?", "choices": {"A": "x", "B": "y"}, "answer": "A"}


@pytest.mark.parametrize("bad, pattern", [
    ({**GOOD, "id": "g"}, r"t\.jsonl:2: field 'id': duplicate id 'g' \(first on line 1\)"),
    ({**GOOD, "id": "b", "answer": "C"}, r"t\.jsonl:2: field 'answer': gold label 'C' is not among the choices"),
    ({**GOOD, "id": "b", "question": "  "}, r"t\.jsonl:2: field 'question': empty question"),
    ({**GOOD, "id": "b", "choices": {"A": "x", "B": ""}}, r"t\.jsonl:2: field 'choices': empty choice 'B'"),
    ("{not json", r"t\.jsonl:2: unparseable JSON"),
    ({"id": "b", "choices": {"A": "x", "B": "y"}, "answer": "A"}, r"t\.jsonl:2: field 'question': missing"),
    ({**GOOD, "id": "b", "answer": None}, r"t\.jsonl:2: field 'answer': missing gold label"),
])
def test_generic_validation_errors(tmp_path, bad, pattern):
    path = write_jsonl(tmp_path / "t.jsonl", [{**GOOD, "id": "g"}, bad])
    with pytest.raises(DataError, match=pattern):
        load("jsonl", path, "train")


def test_test_split_may_be_unlabeled(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{k: v for k, v in GOOD.items() if k != "answer"}])
    assert load("jsonl", path, "test")[0].answer is None


def test_csqa_errors_use_the_file_field_names(tmp_path):
    row = json.loads((FIXTURES / "csqa" / "dev_rand_split.jsonl").read_text().splitlines()[0])
    path = write_jsonl(tmp_path / "dev_rand_split.jsonl", [row, {**row, "id": "other", "answerKey": "F"}])
    with pytest.raises(DataError, match=r"dev_rand_split\.jsonl:2: field 'answerKey': gold label 'F' is not among"):
        load("commonsense_qa", path, "validation")
    write_jsonl(path, [row, row])
    with pytest.raises(DataError, match=r"dev_rand_split\.jsonl:2: field 'id': duplicate id"):
        load("commonsense_qa", path, "validation")
    no_stem = {**row, "id": "other", "question": {"choices": row["question"]["choices"]}}
    write_jsonl(path, [row, no_stem])
    with pytest.raises(DataError, match=r":2: field 'question\.stem': missing"):
        load("commonsense_qa", path, "validation")


def test_quarel_errors(tmp_path):
    good = json.loads((FIXTURES / "quarel" / "quarel-v1-dev.jsonl").read_text().splitlines()[0])
    path = write_jsonl(tmp_path / "quarel-v1-dev.jsonl", [good, {**good, "id": "q2", "answer_index": 2}])
    with pytest.raises(DataError, match=r":2: field 'answer_index': must be 0 or 1"):
        load("quarel", path, "dev")
    write_jsonl(path, [{**good, "question": "Which is smoother, rug or tile?"}])
    with pytest.raises(DataError, match=r":1: field 'question': question has no inline"):
        load("quarel", path, "dev")


def test_missing_path_and_split_file(tmp_path):
    with pytest.raises(DataError, match="path not found"):
        load("commonsense_qa", tmp_path / "absent")
    with pytest.raises(DataError, match="no file for split 'train'"):
        load("commonsense_qa", tmp_path)
    with pytest.raises(ConfigError, match="task.path"):
        load("jsonl", None)


# --- the hub, without network ----------------------------------------------------------------------------------

@pytest.fixture()
def fake_hub(monkeypatch):
    """Replace ``datasets.load_dataset`` with in-process ``datasets.Dataset`` objects in the hub schemas."""
    calls = []
    tables = {
        ("tau/commonsense_qa", None, "validation"): {
            "id": ["c1"], "question": ["Where is a bank?"], "question_concept": ["bank"],
            "choices": [{"label": ["A", "B", "C", "D", "E"], "text": ["town", "sea", "sky", "moon", "sun"]}],
            "answerKey": ["A"]},
        ("tau/commonsense_qa", None, "test"): {
            "id": ["c2"], "question": ["Where?"], "question_concept": ["x"],
            "choices": [{"label": ["A", "B", "C", "D", "E"], "text": ["a1", "b1", "c1", "d1", "e1"]}],
            "answerKey": [""]},
        ("allenai/openbookqa", "main", "train"): {
            "id": ["o1"], "question_stem": ["The sun is"], "choices": [{"text": ["hot", "cold", "wet", "blue"],
                                                                        "label": ["A", "B", "C", "D"]}],
            "answerKey": ["A"]},
        ("allenai/openbookqa", "additional", "train"): {
            "id": ["o1"], "question_stem": ["The sun is"], "choices": [{"text": ["hot", "cold", "wet", "blue"],
                                                                        "label": ["A", "B", "C", "D"]}],
            "answerKey": ["A"], "fact1": ["the sun is a star"], "humanScore": [1.0], "clarity": [2.0],
            "turkIdAnonymized": ["t"]},
        ("community-datasets/quarel", None, "validation"): {
            "id": ["QuaRel_V1_Fx_0101"], "answer_index": [1], "logical_forms": [["(infer)"]],
            "logical_form_pretty": ["qrel"], "world_literals": [{"world1": ["rug"], "world2": ["tile"]}],
            "question": ["Which is smoother? (A) rug (B) tile"]},
    }

    def load_dataset(name, config=None, *, split):
        calls.append((name, config, split))
        if (name, config, split) not in tables:
            raise FileNotFoundError(f"Couldn't find '{name}' on the Hugging Face Hub")
        return datasets.Dataset.from_dict(tables[(name, config, split)])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_hub_commonsense_qa(fake_hub):
    (ex,) = load("commonsense_qa", None, "dev")
    assert fake_hub == [("tau/commonsense_qa", None, "validation")]
    assert ex == Example("c1", "Where is a bank?", {"A": "town", "B": "sea", "C": "sky", "D": "moon", "E": "sun"}, "A")
    assert ex.meta["question_concept"] == "bank"
    assert load("commonsense_qa", None, "test")[0].answer is None


def test_hub_openbookqa_configs(fake_hub):
    (ex,) = load("openbookqa", None, "train")
    assert ex.question == "The sun is" and ex.answer_text == "hot" and ex.context is None
    (with_fact,) = load("openbookqa", None, "train", fact_as_context=True)
    assert with_fact.context == "the sun is a star"
    assert fake_hub == [("allenai/openbookqa", "main", "train"), ("allenai/openbookqa", "additional", "train")]


def test_hub_quarel(fake_hub):
    (ex,) = load("quarel", None, "validation")
    assert fake_hub == [("community-datasets/quarel", None, "validation")]
    assert ex.choices == {"A": "rug", "B": "tile"} and ex.answer == "B" and ex.question == "Which is smoother?"


def test_hub_errors_are_one_line(fake_hub):
    with pytest.raises(DataError, match=r"^mirror/csqa\[validation\]: could not load from the Hugging Face hub"):
        load("commonsense_qa", None, "dev", hub_name="mirror/csqa")
    with pytest.raises(ConfigError, match="unknown split 'holdout'"):
        load("quarel", None, "holdout")


# --- the real files in ../shared -------------------------------------------------------------------------------

@pytest.mark.shared
def test_shared_commonsense_qa(shared_data):
    folder = shared_data / "commonsenseqa"
    counts = {s: len(load("commonsense_qa", folder, s)) for s in ("train", "dev", "test")}
    assert counts == {"train": 9741, "dev": 1221, "test": 1140}


@pytest.mark.shared
def test_shared_openbookqa(shared_data):
    counts = {s: len(load("openbookqa", shared_data / "openbookqa", s)) for s in ("train", "dev", "test")}
    assert counts == {"train": 4957, "dev": 500, "test": 500}


@pytest.mark.shared
def test_shared_quarel_reconstruction(shared_data):
    folder = shared_data / "quarel"
    assert len(load("quarel_ni", folder, "all")) == 802
    dev = load("quarel", folder / "quarel_natural_instructions.jsonl", "dev")
    assert len(dev) == 92
    dev278 = load("quarel_ni", folder / "dev278.jsonl", "all")
    assert {ex.id: ex.answer for ex in dev278} == {ex.id: ex.answer for ex in dev}
    assert len(load("quarel_ni", folder, "non_dev")) == 710
