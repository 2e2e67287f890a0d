"""Reasoning-first evaluation: batched greedy generation, label extraction, format failures."""

from __future__ import annotations

import pytest
import torch
from eval_helpers import fixed_rationales, make_examples, train_tiny

from cotdistill.data.example import Example
from cotdistill.evaluate import EvalConfig, evaluate_student
from cotdistill.evaluate.reasoning_first import generate_greedy
from cotdistill.models.tiny import build_tiny_model
from cotdistill.prompting import ANSWER_MARKER, PromptFormat
from cotdistill.variants import make_variant

RF = dict(mode="reasoning_first", dtype="fp32")


def test_left_padded_batches_generate_what_single_prompts_do(tiny_tokenizer, tiny_model):
    variant, fmt = make_variant("cot_before_label"), PromptFormat()
    prompts = [variant.eval_prompt(ex, fmt) for ex in make_examples(6)]
    tiny_model.eval()
    with torch.inference_mode():
        batched = generate_greedy(tiny_model, tiny_tokenizer, prompts, max_new_tokens=8, batch_size=4)
        single = generate_greedy(tiny_model, tiny_tokenizer, prompts, max_new_tokens=8, batch_size=1)
    assert batched == single
    assert all(count == 8 for _, count in batched)  # a random model does not stop early here


def _scripted_generate(tokenizer, outputs_by_question: dict[str, str]):
    """A ``generate`` that answers each (left-padded) prompt with the scripted text of its question, then EOS."""
    eos = tokenizer.eos_token_id

    def generate(input_ids, attention_mask, generation_config):
        rows = []
        for ids, mask in zip(input_ids.tolist(), attention_mask.tolist()):
            prompt = tokenizer.decode([t for t, m in zip(ids, mask) if m])
            text = next(out for q, out in outputs_by_question.items() if f"Question: {q}\n" in prompt)
            rows.append(tokenizer(text, add_special_tokens=False)["input_ids"] + [eos])
        width = max(len(r) for r in rows)
        padded = [r + [generation_config.pad_token_id] * (width - len(r)) for r in rows]
        return torch.cat([input_ids, torch.tensor(padded)], dim=1)

    return generate


def test_labels_are_extracted_strictly_flexibly_and_failures_count_as_wrong(tiny_tokenizer, tiny_model,
                                                                             monkeypatch):
    choices = {"A": "ice", "B": "carpet", "C": "warm water"}
    examples = [Example(id=f"q{i}", question=f"Which is number {i}?", choices=choices, answer="B") for i in range(5)]
    outputs = {
        "Which is number 0?": f"Carpet is rough.\n{ANSWER_MARKER} carpet",  # strict, text, right
        "Which is number 1?": f"Ice is smooth.\n{ANSWER_MARKER} A",  # strict, letter, wrong
        "Which is number 2?": "Rough things rub, like (B) does.",  # flexible, right
        "Which is number 3?": "I do not know.",  # format failure
        "Which is number 4?": "",  # format failure: stopped at once
    }
    monkeypatch.setattr(tiny_model, "generate", _scripted_generate(tiny_tokenizer, outputs))
    result = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=make_variant("cot_before_label"),
                              prompt_format=PromptFormat(), config=EvalConfig(batch_size=2, **RF))
    got = [(p["pred"], p["how"], p["correct"]) for p in result.predictions]
    assert got == [("B", "strict", True), ("A", "strict", False), ("B", "flexible", True), (None, None, False),
                   (None, None, False)]
    assert [p["output"].strip() for p in result.predictions] == [o.strip() for o in outputs.values()]
    expected_tokens = [len(tiny_tokenizer(o, add_special_tokens=False)["input_ids"]) + 1 for o in outputs.values()]
    assert [p["tokens_generated"] for p in result.predictions] == expected_tokens
    m = result.metrics
    assert m["accuracy"] == pytest.approx(2 / 5)
    assert m["format_compliance"] == pytest.approx(3 / 5)
    assert m["strict_compliance"] == pytest.approx(2 / 5)
    assert m["mean_tokens_generated"] == pytest.approx(sum(expected_tokens) / 5)
    assert m["seconds_per_answer"] > 0 and "acc_norm" not in m


def test_student_trained_to_reason_then_answer_is_read_strictly(tiny_tokenizer):
    train = make_examples(8)
    train = [Example(id=ex.id, question=ex.question, choices={**ex.choices, "B": "carpet"}, answer="B")
             for ex in train]
    rationale = "Carpet is rough."
    fmt = PromptFormat(label_style="letter")
    model = build_tiny_model(len(tiny_tokenizer), seed=2)
    train_tiny(model, tiny_tokenizer, train, fixed_rationales(train, rationale), variant="cot_before_label",
               prompt_format=fmt, steps=40)
    test = [Example(id=f"t{i}", question=f"Which one is good for unseen test {i}?",
                    choices={"A": "ice", "B": "carpet", "C": "tree"}, answer="B") for i in range(4)]
    result = evaluate_student(model, tiny_tokenizer, test, variant=make_variant("cot_before_label"),
                              prompt_format=fmt, config=EvalConfig(max_new_tokens=24, **RF))
    target = f" {rationale}\n{ANSWER_MARKER} B"
    for pred in result.predictions:
        assert pred["output"] == target
        assert (pred["pred"], pred["how"]) == ("B", "strict")
        # stopped at EOS: the target's tokens plus EOS, not max_new_tokens
        assert pred["tokens_generated"] == len(tiny_tokenizer(target, add_special_tokens=False)["input_ids"]) + 1
    assert result.metrics["accuracy"] == 1.0 and result.metrics["format_compliance"] == 1.0
