"""Key, masked and random-k variants: order kept, k respected, masks disjoint from keys, controls length-matched."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.errors import ConfigError, DataError
from cotdistill.keytokens import prepare_key_token_extras, variant_selector
from cotdistill.variants import build_instances, make_variant
from cotdistill.variants.keytoken import KEY_TOKEN_SCORES, resolve_k

WORDS = ["sun", "heat", "rock", "water", "the", "plant", "energy", "light", "cold", "mass", "speed", "tree"]
EXAMPLE = Example(id="e1", question="What warms the rock?", choices={"A": "sun", "B": "ice"}, answer="A")
SCORE_PARAMS = {"selector": "occlusion", "scorer": "tiny"}


def _body(instance):
    """The token ids after the label and the rationale marker (EOS dropped)."""
    segments = instance.segments[2:]
    ids = [t for s in segments for t in s.token_ids]
    return ids[:-1]


ks = st.one_of(st.integers(0, 40), st.floats(0.0, 1.0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=25), k=ks,
       scores=st.lists(st.floats(-5, 5), min_size=60, max_size=60), seed=st.integers(0, 5))
def test_key_masked_and_random_k_bodies(tiny_tokenizer, words, k, scores, seed):
    rationale = Rationale("e1", " ".join(words))
    ids = tiny_tokenizer(" " + rationale.text, add_special_tokens=False)["input_ids"]
    extras = {KEY_TOKEN_SCORES: {"e1": scores[: len(ids)]}}

    def body(name, **params):
        variant = make_variant(name, params)
        [inst] = build_instances([EXAMPLE], {"e1": rationale}, variant, tiny_tokenizer, seed=seed, extras=extras)
        assert inst.segments[0].kind == "label"
        return _body(inst)

    key = body("key_tokens_after_label", k=k, **SCORE_PARAMS)
    masked = body("masked_key_cot_after_label", k=k, **SCORE_PARAMS)
    random_k = body("random_k_tokens_after_label", k=k)
    n = resolve_k(k, len(ids))

    def positions(sub):
        """Positions of ``sub`` as a subsequence of ids, chosen greedily (so order is checked too)."""
        out, start = [], 0
        for t in sub:
            start = ids.index(t, start)
            out.append(start)
            start += 1
        return out

    assert len(key) == len(random_k) == n  # k respected; control length-matched
    key_pos = positions(key)  # raises if the keys are not in original order
    positions(random_k)
    assert len(masked) == len(ids) - n
    # The masked body is exactly the rationale without the key positions (disjoint, together: everything).
    ranked = sorted(range(len(ids)), key=lambda i: (-scores[i], i))[:n]
    assert sorted(ranked) == key_pos or [ids[i] for i in sorted(ranked)] == key
    assert masked == [t for i, t in enumerate(ids) if i not in set(sorted(ranked))]
    # The keys are the best-scored tokens.
    kept = set(sorted(ranked))
    if n and len(ids) > n:
        assert min(scores[i] for i in kept) >= max(scores[i] for i in range(len(ids)) if i not in kept)


def test_placeholder_keeps_length_and_marks_fillers(tiny_tokenizer):
    rationale = Rationale("e1", "the sun heats the rock")
    ids = tiny_tokenizer(" " + rationale.text, add_special_tokens=False)["input_ids"]
    scores = [0.0] * len(ids)
    scores[1] = 9.0
    variant = make_variant("masked_key_cot_after_label", {"k": 1, "placeholder": ".", **SCORE_PARAMS})
    [inst] = build_instances([EXAMPLE], {"e1": rationale}, variant, tiny_tokenizer,
                             extras={KEY_TOKEN_SCORES: {"e1": scores}})
    dot = tiny_tokenizer(".", add_special_tokens=False)["input_ids"][0]
    assert _body(inst) == [ids[0], dot, *ids[2:]]
    assert [s.kind for s in inst.segments[2:]] == ["rationale", "filler", "rationale", "rationale"]


def test_variant_parameters_are_checked():
    with pytest.raises(ConfigError, match="k as a fraction"):
        make_variant("key_tokens_after_label", {"k": 1.5, **SCORE_PARAMS})
    with pytest.raises(ConfigError, match="order must be"):
        make_variant("key_tokens_after_label", {"order": "sideways", **SCORE_PARAMS})


def test_the_named_selector_is_checked_by_keytokens(tmp_path, tiny_tokenizer):
    with pytest.raises(ConfigError, match="needs a scorer") as err:
        variant_selector(make_variant("key_tokens_after_label", {"k": 3, "selector": "occlusion"}))
    assert err.value.field == "variant.params.scorer"
    with pytest.raises(ConfigError, match="unknown key-token selector") as err:
        variant_selector(make_variant("masked_key_cot_after_label", {"selector": "magic", "scorer": "tiny"}),
                         field_prefix="variants[1].params")
    assert err.value.field == "variants[1].params.selector"
    assert variant_selector(make_variant("key_tokens_after_label", {"k": 3, "selector": "tfidf"})).name == "tfidf"
    assert variant_selector(make_variant("random_k_tokens_after_label", {"k": 3})) is None
    # Training computes the scores through the same check.
    with pytest.raises(ConfigError, match="needs a scorer"):
        prepare_key_token_extras(make_variant("key_tokens_after_label", {"selector": "greedy"}), [EXAMPLE],
                                 {"e1": Rationale("e1", "sun heat")}, tiny_tokenizer, tmp_path)


def test_missing_scores_are_a_data_error(tiny_tokenizer):
    variant = make_variant("key_tokens_after_label", {"k": 2, **SCORE_PARAMS})
    with pytest.raises(DataError, match="prepare_key_token_extras"):
        build_instances([EXAMPLE], {"e1": Rationale("e1", "sun heat")}, variant, tiny_tokenizer)


def test_prepare_key_token_extras_feeds_the_variant(tmp_path, tiny_tokenizer):
    rationales = {"e1": Rationale("e1", "sun heats the rock"), "e2": Rationale("e2", "the rock is cold")}
    examples = [EXAMPLE, Example(id="e2", question="?", choices={"A": "x", "B": "y"}, answer="B")]
    assert prepare_key_token_extras(make_variant("random_k_tokens_after_label", {"k": 2}), examples, rationales,
                                    tiny_tokenizer, tmp_path) == {}
    variant = make_variant("key_tokens_after_label", {"k": 2, "selector": "tfidf"})  # " sun" is 2 tokens
    extras = prepare_key_token_extras(variant, examples, rationales, tiny_tokenizer, tmp_path)
    [first, _] = build_instances(examples, rationales, variant, tiny_tokenizer, extras=extras)
    # tf-idf: "sun" and "heats" occur in one rationale only ("the", "rock" in both); the tie goes to "sun".
    assert tiny_tokenizer.decode(_body(first)).strip() == "sun"
