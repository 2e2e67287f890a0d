"""The trained student's model card: Hugging Face model-card metadata (read back with huggingface_hub's
ModelCard), base model and datasets, the prompt format with a worked example, evaluations with intervals."""

from __future__ import annotations

import json

import pytest
from huggingface_hub import ModelCard, ModelCardData

from cotdistill.train.model_card import (
    base_model_id,
    dataset_ids,
    record_evaluations,
    wilson_interval,
    write_model_card,
)
from cotdistill.variants import VARIANTS


def _metadata(**overrides):
    metadata = {
        "finished": True, "seed": 3,
        "variant": {"name": "cot_after_label", "params": {}},
        "prompt_format": {"label_style": "text", "show_choices": True},
        "task": {"name": "openbookqa", "split": "train", "path": "/data/openbookqa", "limit": 200},
        "rationales": {"path": "/data/r.csv", "format": "csv", "label_policy": "keep"},
        "student": {"model": "smollm2-135m", "lora": None},
        "result": {"steps": 75, "final_loss": 1.2345},
    }
    return {**metadata, **overrides}


@pytest.fixture()
def student_dir(tmp_path, tiny_tokenizer):
    path = tmp_path / "obqa-student"
    path.mkdir()
    tiny_tokenizer.save_pretrained(path)
    return path


def test_card_metadata_reads_back_with_huggingface_hub(student_dir, tiny_tokenizer):
    card_path = write_model_card(student_dir, _metadata(), tiny_tokenizer)
    card = ModelCard.load(card_path)
    assert isinstance(card.data, ModelCardData)
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.datasets == ["allenai/openbookqa"]
    assert card.data.library_name == "transformers" and "cotdistill" in card.data.tags
    assert card.data.eval_results is None
    text = card.text
    assert "training variant: `cot_after_label`" in text and "final training loss: 1.2345" in text
    assert "Not evaluated yet" in text


def test_worked_example_is_what_the_variant_trains_on(student_dir, tiny_tokenizer):
    text = ModelCard.load(write_model_card(student_dir, _metadata(), tiny_tokenizer)).text
    assert "Question: Which object has more friction?\nChoices:\nA: ice\nB: carpet\nAnswer:\n" in text
    assert " carpet\nExplanation: A rough surface like carpet has more friction than smooth ice.<|endoftext|>" in text
    letters = _metadata(variant={"name": "cot_before_label", "params": {}},
                        prompt_format={"label_style": "letter", "show_choices": True})
    text = ModelCard.load(write_model_card(student_dir, letters, tiny_tokenizer)).text
    assert "smooth ice.\nSo the answer is B<|endoftext|>" in text
    assert "the choice letters" in text


def test_evaluations_go_into_the_model_index_with_intervals(student_dir, tiny_tokenizer):
    (student_dir / "cotdistill.json").write_text(json.dumps(_metadata()))
    entry = {"task": {"name": "openbookqa", "split": "validation", "path": None}, "mode": "label_first",
             "accuracy": 0.31, "n_labeled": 500, "seconds_per_answer": 0.0123, "mean_tokens_generated": 0.0,
             "precision": "fp32", "machine": "AMD EPYC", "threads": 2, "results": "out/eval"}
    record_evaluations(student_dir, [entry])
    # The same key again replaces the entry; another mode is kept beside it.
    record_evaluations(student_dir, [{**entry, "accuracy": 0.32},
                                     {**entry, "mode": "reasoning_first", "accuracy": 0.25}])
    card = ModelCard.load(student_dir / "README.md")
    results = {r.metric_name: r for r in card.data.eval_results}
    assert set(results) == {"label_first accuracy", "reasoning_first accuracy"}
    assert results["label_first accuracy"].metric_value == 0.32
    assert results["label_first accuracy"].dataset_type == "allenai/openbookqa"
    assert results["label_first accuracy"].dataset_split == "validation"
    low, high = wilson_interval(160, 500)
    assert f"| 32.00% | {100 * low:.2f}% - {100 * high:.2f}% | 500 | 0.0123 |" in card.text
    assert len(json.loads((student_dir / "cotdistill.json").read_text())["evaluations"]) == 2


def test_wilson_interval():
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)


@pytest.mark.parametrize("student,expected", [
    ({"model": "smollm2-135m"}, "HuggingFaceTB/SmolLM2-135M-Instruct"),
    ({"model": "gemma3-270m"}, "google/gemma-3-270m"),
    ({"model": "Qwen/Qwen2.5-0.5B"}, "Qwen/Qwen2.5-0.5B"),
    ({"model": "tiny"}, None),
    ({"model": "./students/mine"}, None),
    (None, None),
])
def test_base_model_id(student, expected):
    assert base_model_id(student) == expected


def test_dataset_ids():
    assert dataset_ids({"name": "commonsense_qa"}) == ["tau/commonsense_qa"]
    assert dataset_ids({"name": "openbookqa", "hub_name": "me/obqa-copy"}) == ["me/obqa-copy"]
    assert dataset_ids({"name": "jsonl", "path": "q.jsonl"}) == []


@pytest.mark.parametrize("variant_name", sorted(VARIANTS.names()))
def test_every_registered_variant_writes_its_card(student_dir, tiny_tokenizer, variant_name):
    # The card is written after training finishes; a variant that cannot build the worked example would lose
    # the end of a finished run (other_example_cot_after_label needs a second example's rationale to borrow).
    metadata = _metadata(variant={"name": variant_name, "params": {}})
    text = ModelCard.load(write_model_card(student_dir, metadata, tiny_tokenizer)).text
    assert f"training variant: `{variant_name}`" in text
    assert "Question: Which object has more friction?" in text
