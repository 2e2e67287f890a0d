"""Label-first scoring against references computed by hand, and on a student trained to one answer."""

from __future__ import annotations

import pytest
import torch
from eval_helpers import fixed_rationales, make_examples, train_tiny

from cotdistill.data.example import Example
from cotdistill.evaluate import EvalConfig, evaluate_student
from cotdistill.evaluate.label_first import (
    continuation_logprobs,
    continuation_logprobs_naive,
    length_normaliser,
)
from cotdistill.models.tiny import build_tiny_model
from cotdistill.prompting import PromptFormat
from cotdistill.variants import make_variant

FP32 = dict(dtype="fp32")


def _encode(tokenizer, text, special):
    return tokenizer(text, add_special_tokens=special)["input_ids"]


def test_kv_reuse_equals_naive_full_sequence_scoring(tiny_tokenizer, tiny_model):
    examples = make_examples(9)
    fmt = PromptFormat()
    variant = make_variant("cot_after_label")
    prompts = [_encode(tiny_tokenizer, variant.eval_prompt(ex, fmt), True) for ex in examples]
    conts = [[_encode(tiny_tokenizer, fmt.label_text(ex, lab), False) for lab in ex.labels] for ex in examples]
    assert {len(c) for c in conts} == {2, 3, 4, 5}
    assert len({len(p) for p in prompts}) > 3 and max(len(c) for cs in conts for c in cs) > 2
    tiny_model.eval()
    with torch.inference_mode():
        naive = continuation_logprobs_naive(tiny_model, prompts, conts)
        # batch_size 4: batches mix prompt lengths and choice counts
        cached = continuation_logprobs(tiny_model, prompts, conts, batch_size=4, pad_id=0)
    for a, b in zip(cached, naive):
        assert a == pytest.approx(b, abs=1e-4)

    result = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=fmt,
                              config=EvalConfig(batch_size=4, **FP32))
    assert result.run["scoring"] == "text"
    for ex, pred, sums, texts in zip(examples, result.predictions, naive, conts):
        normalised = [s / len(ex.choices[lab]) for s, lab in zip(sums, ex.labels)]
        assert list(pred["scores"].values()) == pytest.approx(sums, abs=1e-4)
        assert list(pred["scores_norm"].values()) == pytest.approx(normalised, abs=1e-4)
        assert pred["pred"] == ex.labels[max(range(len(sums)), key=sums.__getitem__)]
        assert pred["pred_norm"] == ex.labels[max(range(len(sums)), key=normalised.__getitem__)]
        assert pred["correct"] == (pred["pred"] == ex.answer)
    correct = [p["correct"] for p in result.predictions]
    assert result.metrics["accuracy"] == pytest.approx(sum(correct) / len(correct))
    assert result.metrics["n"] == 9 and result.metrics["mean_tokens_generated"] == 0


def test_letter_scoring_is_argmax_of_letter_logprobs_by_hand(letter_tokenizer):
    model = build_tiny_model(len(letter_tokenizer), seed=3).eval()
    examples = make_examples(8)
    fmt = PromptFormat(label_style="letter")
    variant = make_variant("label_only")
    result = evaluate_student(model, letter_tokenizer, examples, variant=variant, prompt_format=fmt,
                              config=EvalConfig(batch_size=3, **FP32))
    assert result.run["scoring"] == "letter_token"
    for ex, pred in zip(examples, result.predictions):
        prompt = torch.tensor([_encode(letter_tokenizer, variant.eval_prompt(ex, fmt), True)])
        with torch.no_grad():
            logprobs = model(input_ids=prompt).logits[0, -1].log_softmax(-1)
        letter_ids = []
        for lab in ex.labels:
            ids = _encode(letter_tokenizer, f" {lab}", False)
            assert len(ids) == 1
            letter_ids.append(ids[0])
        by_hand = logprobs[letter_ids].tolist()
        assert list(pred["scores"].values()) == pytest.approx(by_hand, abs=1e-4)
        assert pred["pred"] == ex.labels[max(range(len(by_hand)), key=by_hand.__getitem__)]


def test_multi_token_letters_are_scored_as_sequences(tiny_tokenizer, tiny_model):
    # " C" is two tokens for the default tiny tokenizer, so letters cannot be compared token by token.
    examples = make_examples(6)
    fmt = PromptFormat(label_style="letter")
    variant = make_variant("label_only")
    result = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=fmt,
                              config=EvalConfig(**FP32))
    assert result.run["scoring"] == "letter_sequence"
    prompts = [_encode(tiny_tokenizer, variant.eval_prompt(ex, fmt), True) for ex in examples]
    conts = [[_encode(tiny_tokenizer, f" {lab}", False) for lab in ex.labels] for ex in examples]
    with torch.inference_mode():
        naive = continuation_logprobs_naive(tiny_model.eval(), prompts, conts)
    for pred, sums in zip(result.predictions, naive):
        assert list(pred["scores"].values()) == pytest.approx(sums, abs=1e-4)


def test_scoring_letters_for_a_text_trained_format_uses_letter_labels(letter_tokenizer):
    model = build_tiny_model(len(letter_tokenizer)).eval()
    result = evaluate_student(model, letter_tokenizer, make_examples(4), variant=make_variant("label_only"),
                              prompt_format=PromptFormat(), config=EvalConfig(scoring="letter", **FP32))
    assert result.run["scoring"] == "letter_token"


@pytest.mark.parametrize("label_style", ["text", "letter"])
def test_student_trained_on_one_answer_is_scored_correctly(letter_tokenizer, label_style):
    # Every training answer is the long choice "warm water in the sun" (letter B), which an untrained student
    # ranks below the short ones; unseen questions put it at B as well.
    def examples_with_fixed_answer(prefix, n):
        fillers = ["ice", "carpet", "rock", "soil", "tree", "light"]
        return [Example(id=f"{prefix}{i}", question=f"Which thing number {i} is {prefix}?",
                        choices={"A": fillers[i % 6], "B": "warm water in the sun", "C": fillers[(i + 1) % 6],
                                 **({"D": fillers[(i + 2) % 6]} if i % 2 else {})},
                        answer="B") for i in range(n)]

    train = examples_with_fixed_answer("train", 8)
    test = examples_with_fixed_answer("test", 6)
    fmt = PromptFormat(label_style=label_style)
    model = build_tiny_model(len(letter_tokenizer), seed=1)
    before = evaluate_student(model.eval(), letter_tokenizer, test, variant=make_variant("label_only"),
                              prompt_format=fmt, config=EvalConfig(**FP32))
    train_tiny(model, letter_tokenizer, train, fixed_rationales(train, "unused"), variant="label_only",
               prompt_format=fmt, steps=30)
    after = evaluate_student(model, letter_tokenizer, test, variant=make_variant("label_only"), prompt_format=fmt,
                             config=EvalConfig(**FP32))
    assert before.metrics["accuracy"] < 1.0
    assert after.metrics["accuracy"] == 1.0
    assert after.metrics["acc_norm"] == 1.0


def test_bf16_autocast_leaves_weights_and_agrees_with_fp32(tiny_tokenizer, tiny_model, examples):
    variant, fmt = make_variant("cot_after_label"), PromptFormat()
    fp32 = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=fmt,
                            config=EvalConfig(dtype="fp32"))
    bf16 = evaluate_student(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=fmt,
                            config=EvalConfig(dtype="bf16"))
    assert bf16.run["precision"] == "bf16" and fp32.run["precision"] == "fp32"
    assert next(tiny_model.parameters()).dtype == torch.float32
    for a, b in zip(fp32.predictions, bf16.predictions):
        assert list(b["scores"].values()) == pytest.approx(list(a["scores"].values()), rel=0.05, abs=0.2)


def test_length_normaliser_counts_like_lm_eval():
    assert length_normaliser(" deep sea", 3, "chars") == 8  # the delimiter space is not counted
    assert length_normaliser(" café", 2, "chars") == 4
    assert length_normaliser(" café", 2, "bytes") == 5
    assert length_normaliser(" café", 2, "tokens") == 2


def test_unlabeled_examples_are_predicted_but_not_scored(tiny_tokenizer, tiny_model, examples):
    unlabeled = [Example(id=ex.id, question=ex.question, choices=ex.choices, answer=None) for ex in examples[:3]]
    result = evaluate_student(tiny_model, tiny_tokenizer, unlabeled + examples[3:],
                              variant=make_variant("label_only"), prompt_format=PromptFormat(),
                              config=EvalConfig(**FP32))
    assert [p["correct"] for p in result.predictions[:3]] == [None] * 3
    assert all(p["pred"] in ex.labels for p, ex in zip(result.predictions, examples))
    assert result.metrics["n"] == len(examples) and result.metrics["n_labeled"] == len(examples) - 3
