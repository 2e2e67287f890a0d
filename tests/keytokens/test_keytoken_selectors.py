"""Selectors find a planted key word, TF-IDF weighs words as it says, scores are cached, objectives are right."""

from __future__ import annotations

import math

import pytest
import torch
from keytoken_planted import KEY_WORDS, planted_data

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.errors import ConfigError
from cotdistill.keytokens import SELECTORS, ScoreCache, Scorer, make_selector, score_rationales

MODEL_SELECTORS = ["integrated_gradients", "gradient_x_input", "attention", "occlusion", "greedy"]


@pytest.fixture(scope="module")
def planted_cases():
    data = planted_data(12, seed=99)  # not the training draw
    return [ex for ex, _, _ in data], {r.id: r for _, r, _ in data}, {ex.id: where for ex, _, where in data}


@pytest.mark.parametrize("selector", MODEL_SELECTORS)
def test_model_selectors_rank_the_planted_word_first(planted_student, planted_cases, selector):
    model, tokenizer = planted_student
    examples, rationales, planted = planted_cases
    scorer = Scorer(model, tokenizer, scorer_id="planted", batch_size=8)
    scores = score_rationales(selector, examples, rationales, scorer=scorer)
    for ex in examples:
        s = scores[ex.id]
        best = max(range(len(s.words)), key=lambda i: s.word_scores[i])
        assert s.words[best] == s.words[planted[ex.id]], (selector, s.words, s.word_scores)
        assert best == planted[ex.id]


def test_the_planted_word_alone_decides_the_students_answer(planted_student, planted_cases):
    model, tokenizer = planted_student
    examples, rationales, _ = planted_cases
    scorer = Scorer(model, tokenizer, scorer_id="planted")
    swap = {KEY_WORDS["A"]: KEY_WORDS["B"], KEY_WORDS["B"]: KEY_WORDS["A"]}
    swapped = {i: Rationale(i, " ".join(swap.get(w, w) for w in r.text.split())) for i, r in rationales.items()}
    kept = scorer.objective([(scorer.prepare(ex, rationales[ex.id]), None) for ex in examples])
    flipped = scorer.objective([(scorer.prepare(ex, swapped[ex.id]), None) for ex in examples])
    assert min(kept) > math.log(0.8)
    assert max(flipped) < math.log(0.5)


def test_integrated_gradients_add_up_to_the_change_of_the_objective(planted_student, planted_cases):
    model, tokenizer = planted_student
    examples, rationales, _ = planted_cases
    scorer = Scorer(model, tokenizer, scorer_id="planted")
    inputs = [scorer.prepare(ex, rationales[ex.id]) for ex in examples[:3]]
    # Completeness holds in the limit of many steps (the path from zero embeddings bends sharply).
    attributions = make_selector("integrated_gradients", {"steps": 256}).score(scorer, inputs)
    embeds = scorer.rationale_embeddings(inputs)
    with torch.no_grad():
        delta = scorer.objective_of_embeddings(inputs, embeds) - scorer.objective_of_embeddings(
            inputs, torch.zeros_like(embeds))
    for total, expected in zip((sum(a) for a in attributions), delta.tolist(), strict=True):
        assert total == pytest.approx(expected, rel=0.01, abs=1e-3)


def test_label_first_objective_is_the_posterior_of_the_gold_label(tiny_tokenizer, tiny_model):
    ex = Example(id="q", question="Which is hot?", choices={"A": "fire", "B": "ice", "C": "snow"}, answer="B")
    rationale = Rationale(id="q", text="ice is cold but fire is hot")
    scorer = Scorer(tiny_model, tiny_tokenizer, scorer_id="tiny", order="label_first")
    got = scorer.objective([(scorer.prepare(ex, rationale), None)])[0]

    def joint(label: str) -> float:
        fmt = scorer.prompt_format
        prompt = tiny_tokenizer(fmt.prompt(ex))["input_ids"]
        label_ids = tiny_tokenizer(fmt.label_text(ex, label))["input_ids"]
        marker = tiny_tokenizer("\nExplanation:")["input_ids"]
        body = tiny_tokenizer(" " + rationale.text)["input_ids"]
        ids = prompt + label_ids + marker + body
        with torch.no_grad():
            lp = tiny_model(input_ids=torch.tensor([ids])).logits[0].float().log_softmax(-1)
        targets = list(range(len(prompt), len(prompt) + len(label_ids))) + list(range(len(ids) - len(body), len(ids)))
        return sum(lp[t - 1, ids[t]].item() for t in targets)

    joints = {c: joint(c) for c in ex.choices}
    expected = joints["B"] - math.log(sum(math.exp(v) for v in joints.values()))
    assert got == pytest.approx(expected, abs=1e-4)


def test_label_first_scores_every_token_with_each_selector(tiny_tokenizer, tiny_model):
    ex = Example(id="q", question="Which is hot?", choices={"A": "fire", "B": "ice"}, answer="A")
    rationale = Rationale(id="q", text="fire is hot and ice is cold")
    scorer = Scorer(tiny_model, tiny_tokenizer, scorer_id="tiny", order="label_first")
    n = len(tiny_tokenizer(" " + rationale.text)["input_ids"])
    for name in MODEL_SELECTORS:
        tokens = make_selector(name).score(scorer, [scorer.prepare(ex, rationale)])[0]
        assert len(tokens) == n and all(math.isfinite(t) for t in tokens), name


def test_tfidf_weighs_rare_and_repeated_words_up():
    rationales = {"a": Rationale("a", "The sun heats the sun-facing rock."),
                  "b": Rationale("b", "The moon reflects light."),
                  "c": Rationale("c", "The rock is heavy.")}
    examples = [Example(id=i, question="?", choices={"A": "x", "B": "y"}, answer="A") for i in rationales]
    scores = score_rationales("tfidf", examples, rationales)
    a = dict(zip(scores["a"].words, scores["a"].word_scores, strict=True))
    # tf = count / words in the rationale; idf = ln((1 + 3) / (1 + document frequency)) + 1; words are
    # lowercased and stripped of surrounding punctuation ("The" = "the", "rock." = "rock").
    assert a["heats"] == pytest.approx(1 / 6 * (math.log(4 / 2) + 1))
    assert a["rock."] == pytest.approx(1 / 6 * (math.log(4 / 3) + 1))
    assert a["The"] == a["the"] == pytest.approx(2 / 6 * 1.0)
    assert a["heats"] > a["rock."]  # rarer across rationales
    b = dict(zip(scores["b"].words, scores["b"].word_scores, strict=True))
    assert b["moon"] == b["reflects"] == b["light."] > b["The"]
    assert scores["b"].top_words(3) == ["moon", "reflects", "light."]


def test_scores_are_cached_and_the_model_not_loaded_again(tmp_path, tiny_tokenizer, tiny_model, monkeypatch):
    data = planted_data(5, seed=3)
    examples, rationales = [ex for ex, _, _ in data], {r.id: r for _, r, _ in data}
    cache = ScoreCache(tmp_path)
    scorer = Scorer(tiny_model, tiny_tokenizer, scorer_id="tiny")
    first = score_rationales("occlusion", examples, rationales, scorer=scorer, cache=cache)
    assert len(cache) == 5

    def must_not_load():
        raise AssertionError("the model was loaded although every score is cached")

    lazy = Scorer(scorer_id="tiny", loader=must_not_load)
    monkeypatch.setattr(SELECTORS.get("occlusion"), "score", lambda *a: pytest.fail("recomputed"))
    again = score_rationales("occlusion", examples, rationales, scorer=lazy, cache=ScoreCache(tmp_path))
    assert again == first
    # Another order is another key: it must be computed (and would load the model).
    with pytest.raises(AssertionError, match="was loaded"):
        score_rationales("occlusion", examples, rationales, cache=cache,
                         scorer=Scorer(scorer_id="tiny", order="label_first", loader=must_not_load))


def test_unknown_selector_and_parameter_are_config_errors():
    with pytest.raises(ConfigError, match="known: attention"):
        make_selector("saliency")
    with pytest.raises(ConfigError, match="unknown parameter"):
        make_selector("integrated_gradients", {"stepz": 3})
    with pytest.raises(ConfigError, match="needs a scorer"):
        score_rationales("occlusion", [], {})
