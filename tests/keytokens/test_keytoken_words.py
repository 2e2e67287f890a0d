"""Scorer-token scores sum into words; words spread back over another tokenizer's tokens."""

from __future__ import annotations

from cotdistill.keytokens.words import aggregate_to_words, student_token_scores, token_words, word_spans
from cotdistill.models.tiny import build_tiny_tokenizer
from cotdistill.prompting import encode_continuation_with_offsets, rationale_string

TEXT = "  Photosynthesis converts sunlight, water and CO2 into glucose.  "


def test_subword_scores_sum_into_their_words(tiny_tokenizer):
    string = rationale_string(TEXT)
    ids, offsets = encode_continuation_with_offsets(tiny_tokenizer, string)
    spans = word_spans(string)
    owners = token_words(offsets, spans)
    assert len(ids) > len(spans)  # some words are split into several tokens
    # Only whitespace-only tokens belong to no word.
    assert all(string[a:b].strip() == "" for (a, b), w in zip(offsets, owners, strict=True) if w is None)
    words = aggregate_to_words([1.0] * len(ids), owners, len(spans))
    # Each word's score is the number of its tokens, and those tokens spell it.
    for w, (a, b) in enumerate(spans):
        pieces = "".join(string[s:e] for (s, e), o in zip(offsets, owners, strict=True) if o == w)
        assert pieces.strip() == string[a:b]
        assert words[w] == sum(1 for o in owners if o == w)


def test_word_scores_reach_every_token_of_another_tokenizer(tiny_tokenizer):
    coarse = build_tiny_tokenizer(vocab_size=300)  # another vocabulary: other subword splits
    word_scores = [float(i) for i in range(len(word_spans(rationale_string(TEXT))))]
    per_token = student_token_scores(TEXT, word_scores, coarse)
    ids = coarse(rationale_string(TEXT), add_special_tokens=False)["input_ids"]
    assert len(per_token) == len(ids)
    assert len(ids) != len(tiny_tokenizer(rationale_string(TEXT), add_special_tokens=False)["input_ids"])
    # Token scores run through the words in order, each word's tokens sharing its score; a whitespace-only
    # token (none is selectable) gets -inf.
    in_words = [s for s in per_token if s != float("-inf")]
    assert sorted(set(in_words)) == word_scores
    assert in_words == sorted(in_words)
