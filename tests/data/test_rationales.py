"""Rationale importers, the teacher-label audit and the label policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale, write_rationales
from cotdistill.data.rationales import (
    RationaleConfig,
    apply_label_policy,
    audit_rationales,
    choices_from_prompt,
    load_rationales,
)
from cotdistill.data.tasks import TaskConfig, load_task
from cotdistill.errors import ConfigError, DataError

FIXTURES = Path(__file__).parent / "fixtures"


def csqa(split: str, folder: Path = FIXTURES / "csqa") -> list[Example]:
    return load_task(TaskConfig(name="commonsense_qa", path=str(folder), split=split))


def test_csv_import_parses_teacher_labels_against_examples():
    examples = csqa("dev")
    cfg = RationaleConfig(path=str(FIXTURES / "rationales.csv"), format="csv")
    r = load_rationales(cfg, examples)
    assert set(r) == {"dv1", "dv2", "dv3", "qx1"}
    assert r["dv1"].teacher_label == "A" and r["dv1"].source == "fixtures/rationales"
    assert r["dv2"].teacher_label == "D" and "\n\nA \"small\" dog" in r["dv2"].text  # quoted newline kept
    assert r["dv3"].teacher_label is None and r["dv3"].meta["label_parse"] == "abstained"
    # qx1 is no CSQA example: its choices come from the prompt column (inline QuaRel options).
    assert r["qx1"].teacher_label == "B" and r["qx1"].meta["choices_from"] == "prompt"
    audit = audit_rationales(examples, r)
    assert audit | {"label_parse": None} == {
        "examples": 3, "with_rationale": 3, "missing": 0, "extra": 1, "labeled": 3, "stated": 2, "agree": 1,
        "disagree": 1, "unparsed": 1, "accuracy": 1 / 3, "accuracy_when_stated": 0.5, "label_parse": None}


def test_csv_strip_answer_statement_keeps_label_and_original():
    cfg = RationaleConfig(path=str(FIXTURES / "rationales.csv"), format="csv", strip_answer_statement=True,
                          source="teacher-x")
    r = load_rationales(cfg, csqa("dev"))
    assert r["dv1"].text == "A revolving door controls who enters a bank."
    assert r["dv1"].teacher_label == "A" and r["dv1"].source == "teacher-x"
    assert r["dv1"].meta["unstripped_text"].startswith("The answer is A because")
    assert r["dv2"].text == 'A "small" dog fits in small places.'


def test_choices_from_prompt():
    assert choices_from_prompt("Question: q\nChoices:\nA: bank\nB: new york\n") == {"A": "bank", "B": "new york"}
    assert choices_from_prompt("Question: Which? (A) rug (B) tile\n") == {"A": "rug", "B": "tile"}
    assert choices_from_prompt("Question: nothing") is None


def test_csv_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,answer\nx,The answer is A\n")
    with pytest.raises(DataError, match=r"r\.csv:1: field 'gold_rationale': missing column"):
        load_rationales(RationaleConfig(path=str(path), format="csv"))
    path.write_text('id,text,gold_rationale\nx,p,"The answer is A"\nx,p,"The answer is B"\n')
    with pytest.raises(DataError, match=r"r\.csv:3: field 'id': duplicate id 'x' \(first on line 2\)"):
        load_rationales(RationaleConfig(path=str(path), format="csv"))
    path.write_text('id,text,gold_rationale\nx,p,"  "\n')
    with pytest.raises(DataError, match=r"r\.csv:2: field 'gold_rationale': empty rationale"):
        load_rationales(RationaleConfig(path=str(path), format="csv"))


def test_palm_cqa_import_cuts_at_next_question_and_maps_letters():
    examples = csqa("train")
    r = load_rationales(RationaleConfig(path=str(FIXTURES / "palm_cqa"), format="palm_cqa", split="train"), examples)
    assert list(r) == ["tr1", "tr2", "tr3", "tr4"]
    assert r["tr1"].text.endswith("So the answer is (a) trunk.") and "Q:" not in r["tr1"].text
    assert r["tr1"].teacher_label == "A" and r["tr1"].meta == {"file": "train_CoT_0.json", "index": 0,
                                                               "label_match": "strict", "label_parse": "letter"}
    assert r["tr2"].teacher_label == "C"  # "(e) take a bath": the restated text is choice C
    assert r["tr3"].teacher_label == "D" and r["tr3"].meta["file"] == "train_CoT_1.json"
    assert r["tr4"].teacher_label is None and r["tr4"].meta["label_parse"] == "hedged"
    assert audit_rationales(examples, r)["agree"] == 3


def test_palm_cqa_without_examples_reads_cqa_choices():
    r = load_rationales(RationaleConfig(path=str(FIXTURES / "palm_cqa"), format="palm_cqa", split="train",
                                        strip_answer_statement=True))
    assert r["tr3"].teacher_label == "D"
    assert r["tr3"].text == "The answer must be about counting. Of the above choices, math problem fits."


def test_palm_cqa_errors(tmp_path):
    with pytest.raises(ConfigError, match="rationales.split"):
        load_rationales(RationaleConfig(path=str(FIXTURES / "palm_cqa"), format="palm_cqa"))
    with pytest.raises(DataError, match="no test_CoT"):
        load_rationales(RationaleConfig(path=str(FIXTURES / "palm_cqa"), format="palm_cqa", split="test"))
    # Choices of the task must be the cqa file's, in order.
    swapped = [Example("tr1", "q", {"A": "kitchen", "B": "trunk", "C": "attic", "D": "pond", "E": "cloud"}, "B")]
    with pytest.raises(DataError, match=r"cqa_train\.json:1: field 'choices'"):
        load_rationales(RationaleConfig(path=str(FIXTURES / "palm_cqa"), format="palm_cqa", split="train"), swapped)
    (tmp_path / "llm").mkdir()
    (tmp_path / "llm" / "train_CoT_0.json").write_text(json.dumps(["So the answer is (a) x."]))
    (tmp_path / "cqa_train.json").write_text("")
    with pytest.raises(DataError, match="0 questions but 1 completions"):
        load_rationales(RationaleConfig(path=str(tmp_path), format="palm_cqa", split="train"))


def test_jsonl_store_round_trip_and_label_check(tmp_path):
    store = write_rationales(tmp_path / "s.jsonl", [Rationale("dv1", "The answer is A because x.", "A", "t")])
    assert load_rationales(RationaleConfig(path=str(store)), csqa("dev"))["dv1"].teacher_label == "A"
    stripped = load_rationales(RationaleConfig(path=str(store), strip_answer_statement=True))
    assert stripped["dv1"].text == "X."
    bad = write_rationales(tmp_path / "b.jsonl", [Rationale("dv1", "t", "Z", "t")])
    with pytest.raises(DataError, match=r"b\.jsonl: field 'teacher_label'"):
        load_rationales(RationaleConfig(path=str(bad)), csqa("dev"))


# --- label policies ------------------------------------------------------------------------------------------

EXAMPLES = [Example(i, "q", {"A": "a", "B": "b"}, "A") for i in ("right", "wrong", "silent", "bare")]
RATIONALES = {"right": Rationale("right", "r", "A"), "wrong": Rationale("wrong", "r", "B"),
              "silent": Rationale("silent", "r", None)}


def test_keep_trains_on_everything():
    examples, rationales = apply_label_policy(EXAMPLES, RATIONALES, "keep")
    assert examples == EXAMPLES and rationales == RATIONALES


def test_drop_removes_disagreeing_examples_and_optionally_unparsed():
    examples, rationales = apply_label_policy(EXAMPLES, RATIONALES, "drop")
    assert [ex.id for ex in examples] == ["right", "silent", "bare"] and set(rationales) == {"right", "silent"}
    examples, rationales = apply_label_policy(EXAMPLES, RATIONALES, "drop", drop_unparsed=True)
    assert [ex.id for ex in examples] == ["right", "bare"] and set(rationales) == {"right"}


def test_relabel_trains_with_the_teachers_label():
    examples, rationales = apply_label_policy(EXAMPLES, RATIONALES, "relabel")
    by_id = {ex.id: ex for ex in examples}
    assert by_id["wrong"].answer == "B" and by_id["wrong"].meta["gold_answer"] == "A"
    assert by_id["right"].answer == "A" and "gold_answer" not in by_id["right"].meta
    assert set(rationales) == set(RATIONALES)


def test_policy_errors():
    with pytest.raises(ConfigError, match="unknown label policy"):
        apply_label_policy(EXAMPLES, RATIONALES, "ignore")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="teacher label 'Q'"):
        apply_label_policy(EXAMPLES, {"right": Rationale("right", "r", "Q")}, "relabel")


# --- the released files in ../shared (counts cross-checked with each PROVENANCE.md) -------------------------------

@pytest.fixture(scope="module")
def shared_tasks(shared_data):
    return {
        "csqa_train": csqa("train", shared_data / "commonsenseqa"),
        "csqa_dev": csqa("dev", shared_data / "commonsenseqa"),
        "obqa_dev": load_task(TaskConfig(name="openbookqa", path=str(shared_data / "openbookqa"), split="dev")),
        "quarel_dev": load_task(TaskConfig(name="quarel_ni", path=str(shared_data / "quarel"), split="dev")),
    }


def _audit(shared_data, teacher, name, examples):
    cfg = RationaleConfig(path=str(shared_data / "rationales" / teacher / f"{name}.csv"), format="csv")
    rationales = load_rationales(cfg, examples)
    return rationales, audit_rationales(examples, rationales)


def _stated_first_letter(rationales, examples):
    """PROVENANCE.md's count: the first "answer is X" in the text, hedges included."""
    import re

    gold = {ex.id: ex.answer for ex in examples}
    found = {rid: m.group(1) for rid, r in rationales.items() if (m := re.search(r"answer is ([A-E])\b", r.text))}
    return len(found), sum(gold[rid] == label for rid, label in found.items())


@pytest.mark.shared
def test_shared_mistral_openbookqa(shared_data, shared_tasks):
    rationales, audit = _audit(shared_data, "mistral_7b", "openbookqa", shared_tasks["obqa_dev"])
    assert len(rationales) == 500 and audit["missing"] == 0
    assert _stated_first_letter(rationales, shared_tasks["obqa_dev"]) == (432, 322)  # PROVENANCE.md
    # The parser drops hedges ("C or D", 19 of them after "answer is") and adds statements such as "A. The ..."
    # or "A is the correct answer".
    assert (audit["stated"], audit["agree"]) == (446, 343)
    assert audit["label_parse"]["hedged"] == 22


@pytest.mark.shared
def test_shared_mistral_and_llama_commonsense_qa(shared_data, shared_tasks):
    exs = shared_tasks["csqa_dev"]
    mistral, m_audit = _audit(shared_data, "mistral_7b", "commonsenseqa", exs)
    llama, l_audit = _audit(shared_data, "llama3_70b", "commonsenseqa", exs)
    assert _stated_first_letter(mistral, exs) == (1153, 813) and _stated_first_letter(llama, exs) == (1218, 1013)
    assert (m_audit["stated"], m_audit["agree"]) == (1142, 815)
    assert (l_audit["stated"], l_audit["agree"]) == (1215, 1011)


@pytest.mark.shared
def test_shared_quarel_rationales(shared_data, shared_tasks):
    exs = shared_tasks["quarel_dev"]
    _, llama = _audit(shared_data, "llama3_70b", "quarel", exs)
    _, mistral = _audit(shared_data, "mistral_7b", "quarel", exs)
    # PROVENANCE.md (quarel/): on the 92 labelled items Llama agrees 85 times; the other 186 rows are extra.
    assert (llama["labeled"], llama["agree"], llama["extra"]) == (92, 85, 186)
    assert (mistral["stated"], mistral["agree"]) == (74, 60)


@pytest.mark.shared
def test_shared_palm_cqa(shared_data, shared_tasks):
    folder = str(shared_data / "rationales" / "palm_cqa")
    for split, examples, n, agree in (("train", shared_tasks["csqa_train"], 9741, 7377),
                                      ("test", shared_tasks["csqa_dev"], 1221, 962)):
        # Passing the CSQA examples checks every cqa row's choices against CommonsenseQA, by id.
        rationales = load_rationales(RationaleConfig(path=folder, format="palm_cqa", split=split), examples)
        audit = audit_rationales(examples, rationales)
        assert (len(rationales), audit["missing"], audit["agree"]) == (n, 0, agree)
