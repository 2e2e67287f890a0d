"""The teacher stage with the scripted backend: cache and resume, parsing, policies, audit, outputs."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import make_examples

from cotdistill.data.example import Example
from cotdistill.data.rationale import read_rationales
from cotdistill.errors import DataError
from cotdistill.teacher import FakeBackend, TeachConfig, teach
from cotdistill.teacher.audit import clean_completion, parse_teacher_answer


def _cfg(tmp_path, out="out", **over) -> TeachConfig:
    data = {"task": {"name": "jsonl"}, "output_dir": str(tmp_path / out),
            "teacher": {"backend": "fake", "model": "scripted"}}
    data.update(over)
    return TeachConfig.from_dict(data)


def _by_question(answers: dict[int, str]):
    """A responder answering question q<i> with ``answers[i % len(answers)]`` ({gold}/{other} filled in)."""

    def respond(request):
        ex = request.example
        i = int(ex.id[1:])
        other = next(lab for lab in ex.choices if lab != ex.answer)
        return answers[i % len(answers)].format(gold=ex.answer, other=other, gold_text=ex.answer_text)

    return respond


SCRIPT = {
    0: "The answer is {gold} because it fits.",                 # correct, strict
    1: "The answer is {other} because it looks right.",         # wrong, strict
    2: "I cannot tell which one.",                              # unparseable
    3: "Thinking about it, ({gold}) seems best.",               # correct, flexible
    4: "The answer is {gold} because the {gold_text} is it.",   # correct, reasoning spells the gold choice
}


def test_rerun_asks_nothing_and_outputs_carry_provenance(tmp_path):
    examples = make_examples(10)
    cfg = _cfg(tmp_path, sampling={"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 20, "seed": 3})
    first = FakeBackend("scripted", responder=_by_question(SCRIPT))
    result = teach(cfg, examples=examples, backend=first)
    assert len(first.asked) == 10 and result.stats.requested == 10

    again = FakeBackend("scripted", responder=_by_question(SCRIPT))
    with pytest.raises(DataError, match="refusing to overwrite"):
        teach(cfg, examples=examples, backend=again)
    rerun = teach(cfg, examples=examples, backend=again, overwrite=True)
    assert again.asked == [] and rerun.stats.cached == 10 and rerun.stats.requested == 0
    assert rerun.rationales_path.read_text() == result.rationales_path.read_text()

    stored = read_rationales(result.rationales_path)
    r = stored["q1"]
    assert r.source == "fake:scripted" and r.teacher_label != examples[1].answer
    meta = r.meta
    assert meta["status"] == "wrong" and meta["parse"] == "strict"
    assert meta["params"] == {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 20, "seed": 3}
    assert meta["prompt"][-1]["content"].startswith("Question: q1:")
    assert meta["raw_text"].startswith("The answer is") and meta["completion_tokens"] > 0
    assert meta["latency_s"] is not None and meta["prompt_mode"] == "label_first"
    assert isinstance(meta["request_seed"], int)

    # Changing anything that determines the answer (here top_p) is a new request; the rest stays cached.
    changed = FakeBackend("scripted", responder=_by_question(SCRIPT))
    teach(_cfg(tmp_path, "out2", cache=str(result.cache_path), sampling={"temperature": 0.7, "top_p": 0.8,
                                                                         "max_new_tokens": 20, "seed": 3}),
          examples=examples, backend=changed)
    assert len(changed.asked) == 10


def test_parsing_statuses_audit_and_leakage(tmp_path):
    examples = make_examples(10)
    result = teach(_cfg(tmp_path), examples=examples, backend=FakeBackend("s", responder=_by_question(SCRIPT)))
    audit = json.loads(result.audit_path.read_text())
    assert audit["status_counts"] == {"correct": 6, "wrong": 2, "unparseable": 2, "unlabeled": 0, "failed": 0}
    assert audit["teacher_accuracy"] == 0.75 and audit["teacher_accuracy_all"] == 0.6
    assert audit["parse"]["strict"] == 6 and audit["parse"]["flexible"] == 2 and audit["parse"]["unparseable"] == 2
    assert audit["leakage"]["states_answer"] == 0.6
    assert audit["leakage"]["reasoning_mentions_gold_text"] == 0.2
    assert audit["length_words"]["min"] == 5 and audit["length_words"]["max"] == 11
    assert audit["config"]["teacher"]["backend"] == "fake"


@pytest.mark.parametrize(("policy", "drop_unparsed", "kept"), [
    ("keep", False, 10), ("drop", False, 8), ("drop", True, 6), ("relabel", False, 10), ("relabel", True, 8)])
def test_label_policies(tmp_path, policy, drop_unparsed, kept):
    result = teach(_cfg(tmp_path, label_policy=policy, drop_unparsed=drop_unparsed), examples=make_examples(10),
                   backend=FakeBackend("s", responder=_by_question(SCRIPT)))
    stored = read_rationales(result.rationales_path)
    assert len(stored) == kept == result.audit["label_policy"]["kept"]
    statuses = {r.meta["status"] for r in stored.values()}
    assert ("wrong" in statuses) == (policy != "drop")
    assert result.audit["label_policy"]["relabeled"] == (2 if policy == "relabel" else 0)


def test_n_samples_keep_the_first_correct_one_and_write_all_samples(tmp_path):
    calls: dict[str, int] = {}

    def respond(request):
        ex = request.example
        calls[ex.id] = calls.get(ex.id, 0) + 1
        wrong = next(lab for lab in ex.choices if lab != ex.answer)
        label = ex.answer if request.sample_index == 2 else wrong
        return f"The answer is {label} because sample {request.sample_index}."

    examples = make_examples(4)
    cfg = _cfg(tmp_path, sampling={"n": 3, "temperature": 1.0})
    result = teach(cfg, examples=examples, backend=FakeBackend("s", responder=respond))
    assert calls == {ex.id: 3 for ex in examples}
    chosen = read_rationales(result.rationales_path)
    assert all(r.meta["sample_index"] == 2 and r.meta["status"] == "correct" for r in chosen.values())
    samples = read_rationales(result.samples_path)
    assert sorted(samples) == sorted(f"{ex.id}#{k}" for ex in examples for k in range(3))
    assert result.audit["questions_with_a_correct_answer"] == 4 and result.audit["answers"] == 12
    # Raising n asks only for the new samples.
    more = FakeBackend("s", responder=respond)
    teach(_cfg(tmp_path, sampling={"n": 4, "temperature": 1.0}), examples=examples, backend=more, overwrite=True)
    assert len(more.asked) == 4


def test_cache_is_one_sqlite_file_in_wal_mode(tmp_path):
    result = teach(_cfg(tmp_path), examples=make_examples(3), backend=FakeBackend("s"))
    with sqlite3.connect(result.cache_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 3


def test_completion_answers_are_cut_at_the_stop_string():
    assert clean_completion(" The answer is B because x.\nQuestion: next one", ("\nQuestion:",)) == \
        "The answer is B because x."
    ex = Example("e", "q", {"A": "cold", "B": "hot"}, "B")
    parsed = parse_teacher_answer("Heat rises, so the answer is B.", ex)
    assert (parsed.label, parsed.status, parsed.states_answer) == ("B", "correct", True)
