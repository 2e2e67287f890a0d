"""One encoding for every stage: what training encodes is what evaluation scores and the key-token scorer reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.evaluate import label_first, reasoning_first
from cotdistill.evaluate.config import EvalConfig
from cotdistill.keytokens.scoring import Scorer
from cotdistill.keytokens.words import student_token_scores, words_of
from cotdistill.prompting import (
    ANSWER_MARKER,
    RATIONALE_MARKER,
    PromptFormat,
    encode_continuation,
    encode_continuation_with_offsets,
    encode_prompt,
    label_ids,
    rationale_ids,
)
from cotdistill.models.tiny import build_tiny_model, build_tiny_tokenizer
from cotdistill.variants import build_instances, make_variant

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cotdistill"

EXAMPLE = Example("q1", "Which surface is rough?", {"A": "smooth ice", "B": "carpet", "C": "glass"}, "B",
                  context="Friction depends on the surface.")
RATIONALE = Rationale("q1", "  Carpet is rough, so it has more friction than smooth ice. ")


@pytest.fixture(scope="module")
def bos_tokenizer():
    """The tiny tokenizer, made to put a BOS before a prompt: prompts and continuations then encode differently."""
    from tokenizers import Tokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tiny = build_tiny_tokenizer([EXAMPLE.question, RATIONALE.text, ANSWER_MARKER, RATIONALE_MARKER])
    backend = Tokenizer.from_str(tiny.backend_tokenizer.to_str())
    backend.post_processor = TemplateProcessing(single="<|endoftext|> $A",
                                                special_tokens=[("<|endoftext|>", tiny.eos_token_id)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>")


def _instance(variant: str, tokenizer, fmt: PromptFormat):
    [instance] = build_instances([EXAMPLE], {EXAMPLE.id: RATIONALE}, make_variant(variant), tokenizer,
                                 prompt_format=fmt)
    return instance


def test_prompts_carry_special_tokens_and_continuations_none(bos_tokenizer):
    text = PromptFormat().prompt(EXAMPLE)
    assert encode_prompt(bos_tokenizer, text) == (bos_tokenizer.bos_token_id, *encode_continuation(bos_tokenizer, text))
    ids, offsets = encode_continuation_with_offsets(bos_tokenizer, text)
    assert ids == encode_continuation(bos_tokenizer, text) and len(offsets) == len(ids)


@pytest.mark.parametrize("label_style", ["text", "letter"])
def test_label_first_evaluation_scores_the_trained_prompt_and_label(bos_tokenizer, monkeypatch, label_style):
    fmt = PromptFormat(label_style=label_style)
    trained = _instance("cot_after_label", bos_tokenizer, fmt)
    seen = {}

    def record(model, prompt_ids, continuations, **_):
        seen["prompts"], seen["continuations"] = prompt_ids, continuations
        return [[0.0] * len(c) for c in continuations]

    # Whichever way the choices are scored (one letter token or a whole continuation), record what is scored.
    monkeypatch.setattr(label_first, "continuation_logprobs", record)
    monkeypatch.setattr(label_first, "answer_token_logprobs", record)
    variant = make_variant("cot_after_label")
    label_first.evaluate_label_first(None, bos_tokenizer, [EXAMPLE], [variant.eval_prompt(EXAMPLE, fmt)],
                                     prompt_format=fmt, config=EvalConfig())
    assert tuple(seen["prompts"][0]) == trained.prompt_ids
    gold = seen["continuations"][0][EXAMPLE.labels.index("B")]
    gold = tuple(gold) if isinstance(gold, list | tuple) else (gold,)
    assert gold == tuple(trained.segment_ids("label")[: len(gold)])
    assert gold == label_ids(bos_tokenizer, fmt, EXAMPLE)[: len(gold)]


def test_reasoning_first_evaluation_asks_the_trained_prompt(bos_tokenizer, monkeypatch):
    fmt = PromptFormat()
    trained = _instance("cot_before_label", bos_tokenizer, fmt)
    seen = []

    class Asked(Exception):
        pass

    def record(seqs, *_):
        seen.extend(seqs)
        raise Asked

    monkeypatch.setattr(reasoning_first, "left_pad", record)
    prompt = make_variant("cot_before_label").eval_prompt(EXAMPLE, fmt)
    with pytest.raises(Asked):
        reasoning_first.generate_greedy(build_tiny_model(len(bos_tokenizer)), bos_tokenizer, [prompt],
                                        max_new_tokens=4, batch_size=1)
    assert tuple(seen[0]) == trained.prompt_ids


@pytest.mark.parametrize("label_style", ["text", "letter"])
def test_the_key_token_scorer_reads_the_training_sequences(bos_tokenizer, label_style):
    fmt = PromptFormat(label_style=label_style)
    model = build_tiny_model(len(bos_tokenizer))
    eos = (bos_tokenizer.eos_token_id,)

    before = Scorer(model, bos_tokenizer, scorer_id="tiny", order="rationale_first", prompt_format=fmt)
    scored = before.prepare(EXAMPLE, RATIONALE)
    [row] = scored.rows
    assert (*row.prefix, *scored.token_ids, *row.suffix, *eos) == tuple(
        _instance("cot_before_label", bos_tokenizer, fmt).input_ids)

    after = Scorer(model, bos_tokenizer, scorer_id="tiny", order="label_first", prompt_format=fmt)
    scored = after.prepare(EXAMPLE, RATIONALE)
    gold_row = scored.rows[scored.gold_row]
    assert (*gold_row.prefix, *scored.token_ids, *eos) == tuple(
        _instance("cot_after_label", bos_tokenizer, fmt).input_ids)
    assert scored.token_ids == rationale_ids(bos_tokenizer, RATIONALE.text)


def test_key_token_scores_cover_the_trained_rationale_tokens(bos_tokenizer):
    trained = _instance("cot_after_label", bos_tokenizer, PromptFormat())
    marker = len(encode_continuation(bos_tokenizer, "\n" + RATIONALE_MARKER))
    body = trained.segment_ids("rationale")[marker:-1]  # after the marker, before EOS
    scores = student_token_scores(RATIONALE.text, [1.0] * len(words_of(RATIONALE.text)), bos_tokenizer)
    assert len(scores) == len(body) == len(rationale_ids(bos_tokenizer, RATIONALE.text))


@pytest.mark.parametrize(("variant", "marker"), [("cot_before_label", ANSWER_MARKER),
                                                 ("cot_after_label", RATIONALE_MARKER)])
def test_each_layout_writes_its_marker_once(bos_tokenizer, variant, marker):
    text = bos_tokenizer.decode(_instance(variant, bos_tokenizer, PromptFormat()).input_ids)
    assert text.count(marker) == 1
    assert text.count(ANSWER_MARKER if marker == RATIONALE_MARKER else RATIONALE_MARKER) == 0


def _python_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_only_prompting_spells_the_markers():
    spelled = {marker + suffix for marker in (ANSWER_MARKER, RATIONALE_MARKER) for suffix in ("", ":")}
    spelled |= {"\n" + s for s in spelled}
    found = [path.relative_to(PACKAGE).as_posix() for path in _python_files()
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Constant) and node.value in spelled]
    assert found == ["prompting.py", "prompting.py"]


def test_only_prompting_tokenises_student_text():
    # The teacher's backend encodes teacher prompts, which no student sees.
    callers = {path.relative_to(PACKAGE).as_posix() for path in _python_files()
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.keyword) and node.arg in ("add_special_tokens", "return_offsets_mapping")}
    assert callers - {"teacher/backends/local.py"} == {"prompting.py"}
