"""The built-in synthetic task: seeded, disjoint splits, answers that follow the rule, reference rationales."""

from __future__ import annotations

import pytest

from cotdistill.data.synthetic import EFFECTS, QUANTITIES, REFERENCE_SOURCE, generate_synthetic, reference_rationales
from cotdistill.data.tasks import TASKS, TaskConfig, load_task
from cotdistill.errors import CotDistillError


def test_registered_and_loaded_through_the_task_registry():
    assert "synthetic" in TASKS
    examples = load_task(TaskConfig(name="synthetic", split="test", limit=30, seed=1))
    assert len(examples) == 30 and len({ex.id for ex in examples}) == 30
    assert examples == generate_synthetic("test", 30, 1)[0]


def test_seeded_and_prefix_stable():
    a, ra = generate_synthetic("train", 50, 0)
    b, rb = generate_synthetic("train", 50, 0)
    assert a == b and ra == rb
    assert generate_synthetic("train", 20, 0)[0] == a[:20]
    assert generate_synthetic("train", 50, 1)[0] != a


def test_splits_ask_about_disjoint_combinations():
    def combos(split):
        examples, _ = generate_synthetic(split, 150, 0)
        return {(ex.meta["effect"], frozenset(ex.choices.values())) for ex in examples}

    train, val, test = combos("train"), combos("validation"), combos("test")
    assert not (train & test) and not (train & val) and not (val & test)


def test_answers_follow_the_rule_and_rationales_state_it():
    examples, rationales = generate_synthetic("train", 200, 3)
    assert {len(ex.choices) for ex in examples} == {2, 3, 4}
    assert len({ex.answer for ex in examples}) == 4  # the answer's letter varies
    for ex in examples:
        effect = EFFECTS[ex.meta["effect"]]
        order = QUANTITIES[effect.quantity].things
        ranks = {label: order.index(text) for label, text in ex.choices.items()}
        best = max(ranks, key=ranks.get) if effect.most else min(ranks, key=ranks.get)
        assert ex.answer == best
        r = rationales[ex.id]
        assert r.source == REFERENCE_SOURCE and r.meta["reference"] and r.teacher_label == ex.answer
        assert r.text.startswith(effect.rule) and ex.answer_text.lower() in r.text.lower()
        assert "answer" not in r.text.lower()
    assert reference_rationales(examples) == rationales


def test_bad_requests():
    with pytest.raises(CotDistillError, match="at most"):
        generate_synthetic("validation", 100000, 0)
    with pytest.raises(CotDistillError, match="path"):
        load_task(TaskConfig(name="synthetic", path="x.jsonl"))
    with pytest.raises(CotDistillError, match="reference_rationales"):
        from cotdistill.data.example import Example

        reference_rationales([Example(id="x", question="q", choices={"A": "a", "B": "b"}, answer="A")])
