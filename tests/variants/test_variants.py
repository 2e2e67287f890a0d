"""Variants: every registered variant builds; property tests on the study's controls."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cotdistill.data import Example, Rationale
from cotdistill.errors import ConfigError, DataError
from cotdistill.prompting import ANSWER_MARKER, PromptFormat
from cotdistill.variants import VARIANTS, VariantConfig, build_instances, make_variant

WORDS = ["friction", "heat", "the", "rough", "carpet", "ice", "more", "less", "mass", "because", "slides", "warm"]

EXAMPLES = [
    Example("q1", "Which surface is rough?", {"A": "ice", "B": "carpet"}, "B"),
    Example("q2", "What gets warm when rubbed?", {"A": "hands", "B": "snow", "C": "water"}, "A", context="Rubbing."),
]
RATIONALES = {
    "q1": Rationale("q1", "Carpet is rough, so it has more friction than smooth ice."),
    "q2": Rationale("q2", "Friction turns motion into heat, so rubbed hands get warm."),
}


def rationale_ids(tok, text):
    return tuple(tok(" " + text.strip(), add_special_tokens=False)["input_ids"])


def label_ids(tok, fmt, ex):
    return tuple(tok(fmt.label_text(ex, ex.answer), add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize("name", VARIANTS.names())
@pytest.mark.parametrize("label_style", ["letter", "text"])
def test_every_variant_builds_prompt_label_and_target(name, label_style, tiny_tokenizer):
    if name in {"key_tokens_after_label", "masked_key_cot_after_label"}:
        pytest.skip("needs key-token scores; covered in tests/keytokens")
    fmt = PromptFormat(label_style=label_style)
    variant = make_variant(name)
    instances = build_instances(EXAMPLES, RATIONALES, variant, tiny_tokenizer, seed=3, prompt_format=fmt)
    assert {i.example_id for i in instances} == {"q1", "q2"}
    for inst in instances:
        ex = next(e for e in EXAMPLES if e.id == inst.example_id)
        prompt = tiny_tokenizer.decode(inst.prompt_ids)
        assert prompt.endswith("Answer:") and ex.question in prompt
        assert inst.target_ids[-1] == tiny_tokenizer.eos_token_id
        kinds = [k for k in inst.token_kinds() if k is not None]
        assert len(kinds) == len(inst.target_ids) and set(kinds) <= {"label", "rationale", "filler"}
    # The label is what an answer-first student emits first; a reasoning-first one emits it last.
    main = [i for i in instances if i.example_id == "q1"][0]
    lab = label_ids(tiny_tokenizer, fmt, EXAMPLES[0])
    if variant.answer_first:
        assert tuple(main.target_ids[: len(lab)]) == lab
        assert main.segments[0].kind == "label"
    else:
        assert main.segments[-1].kind == "label"
        assert tuple(main.target_ids[-len(lab) - 1 : -1]) == lab


def test_reasoning_first_target_ends_with_answer_marker(tiny_tokenizer):
    inst = build_instances(EXAMPLES[:1], RATIONALES, make_variant("cot_before_label"), tiny_tokenizer)[0]
    text = tiny_tokenizer.decode(inst.target_ids, skip_special_tokens=True)
    assert text.strip().endswith(f"{ANSWER_MARKER} carpet")
    assert text.strip().startswith("Carpet is rough")


def test_building_is_seeded_and_order_independent(tiny_tokenizer):
    v = make_variant("shuffled_cot_after_label", {"level": "subword"})
    a = build_instances(EXAMPLES, RATIONALES, v, tiny_tokenizer, seed=7)
    b = build_instances(EXAMPLES[::-1], RATIONALES, v, tiny_tokenizer, seed=7)
    c = build_instances(EXAMPLES, RATIONALES, v, tiny_tokenizer, seed=8)
    assert sorted(a, key=lambda i: i.example_id) == sorted(b, key=lambda i: i.example_id)
    assert a != c


def test_multitask_builds_two_routed_instances(tiny_tokenizer):
    v = make_variant("multitask")
    label, expl = build_instances(EXAMPLES[:1], RATIONALES, v, tiny_tokenizer)
    assert tiny_tokenizer.decode(label.prompt_ids).startswith("[label] ")
    assert tiny_tokenizer.decode(expl.prompt_ids).startswith("[rationale] ")
    assert [s.kind for s in label.segments] == ["label"] and [s.kind for s in expl.segments] == ["rationale"]
    assert v.eval_prompt(EXAMPLES[0], PromptFormat()).startswith("[label] ")


def test_other_example_cot_borrows_another_rationale(tiny_tokenizer):
    inst = build_instances(EXAMPLES[:1], RATIONALES, make_variant("other_example_cot_after_label"), tiny_tokenizer)[0]
    assert tuple(inst.segments[2].token_ids) == rationale_ids(tiny_tokenizer, RATIONALES["q2"].text)


def test_errors_name_the_problem(tiny_tokenizer):
    with pytest.raises(ConfigError, match="variant.name.*unknown variant 'nope'"):
        make_variant("nope")
    with pytest.raises(ConfigError, match="unknown parameter"):
        make_variant("cot_after_label", {"level": "word"})
    with pytest.raises(ConfigError, match="fraction"):
        make_variant("truncated_cot_after_label", {"fraction": 2})
    with pytest.raises(DataError, match="no rationale for example 'q2'"):
        build_instances(EXAMPLES, {"q1": RATIONALES["q1"]}, make_variant("cot_after_label"), tiny_tokenizer)
    # label_only needs no rationale
    assert len(build_instances(EXAMPLES, {}, make_variant("label_only"), tiny_tokenizer)) == 2


def test_variant_config_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="key 'colour': unknown key"):
        VariantConfig.from_dict({"name": "label_only", "colour": "red"})
    cfg = VariantConfig.from_dict({"name": "truncated_cot_after_label", "params": {"fraction": 0.25}})
    assert cfg.build_variant().fraction == 0.25


rationale_texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=rationale_texts, seed=st.integers(0, 2**31), level=st.sampled_from(["word", "subword"]))
def test_shuffle_keeps_the_multiset(tiny_tokenizer, text, seed, level):
    ex = EXAMPLES[0]
    inst = build_instances([ex], {ex.id: Rationale(ex.id, text)},
                           make_variant("shuffled_cot_after_label", {"level": level}), tiny_tokenizer, seed=seed)[0]
    body = inst.segments[2].token_ids
    if level == "subword":
        assert Counter(body) == Counter(rationale_ids(tiny_tokenizer, text))
    else:
        assert Counter(tiny_tokenizer.decode(body).split()) == Counter(text.split())
    assert tuple(inst.target_ids[: len(label_ids(tiny_tokenizer, PromptFormat(), ex))]) == label_ids(
        tiny_tokenizer, PromptFormat(), ex)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=rationale_texts, seed=st.integers(0, 2**31),
       name=st.sampled_from(["random_tokens_after_label", "filler_after_label", "cot_after_label"]),
       source=st.sampled_from(["vocab", "rationales"]))
def test_length_matched_controls_match_the_rationale_token_count(tiny_tokenizer, text, seed, name, source):
    ex = EXAMPLES[0]
    params = {"source": source} if name == "random_tokens_after_label" else {}
    rats = {ex.id: Rationale(ex.id, text), "other": Rationale("other", "warm ice slides")}
    inst = build_instances([ex], rats, make_variant(name, params), tiny_tokenizer, seed=seed)[0]
    body = inst.segments[2]
    assert len(body.token_ids) == len(rationale_ids(tiny_tokenizer, text))
    if name == "filler_after_label":
        assert body.kind == "filler" and len(set(body.token_ids)) == 1
    if name == "random_tokens_after_label":
        assert not set(body.token_ids) & set(tiny_tokenizer.all_special_ids)
        if source == "rationales":
            pool = set(rationale_ids(tiny_tokenizer, text)) | set(rationale_ids(tiny_tokenizer, "warm ice slides"))
            assert set(body.token_ids) <= pool


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=rationale_texts, fraction=st.floats(0, 1))
def test_truncation_keeps_a_prefix_of_the_requested_size(tiny_tokenizer, text, fraction):
    ex = EXAMPLES[0]
    inst = build_instances([ex], {ex.id: Rationale(ex.id, text)},
                           make_variant("truncated_cot_after_label", {"fraction": fraction}), tiny_tokenizer)[0]
    full = rationale_ids(tiny_tokenizer, text)
    kept = tuple(t for s in inst.segments[2:-1] for t in s.token_ids) if len(inst.segments) > 3 else ()
    assert kept == full[: round(len(full) * fraction)]
