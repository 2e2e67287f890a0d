"""Reloading a finished training directory: whole weights, or a LoRA adapter merged onto the base it names; a
directory that is not a finished run is a one-line error."""

from __future__ import annotations

import pytest
import torch

from cotdistill.errors import ConfigError
from cotdistill.models import StudentConfig, load_student, load_trained_student, write_metadata

IDS = torch.tensor([[3, 17, 42, 99, 5]])


def _logits(model):
    with torch.no_grad():
        return model.eval()(input_ids=IDS).logits


def test_whole_weights_reload_in_eval_mode_with_a_training_ready_tokenizer(tiny_model, tiny_tokenizer, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    tiny_tokenizer.save_pretrained(tmp_path)
    write_metadata(tmp_path, {"finished": True, "weights": "full", "seed": 3})
    model, tokenizer, metadata = load_trained_student(tmp_path)
    assert not model.training and metadata["seed"] == 3
    assert tokenizer.pad_token is not None and tokenizer.padding_side == "right"
    torch.testing.assert_close(_logits(model), _logits(tiny_model))


def test_an_adapter_is_merged_onto_the_base_student_its_metadata_names(tmp_path):
    from peft import LoraConfig, get_peft_model

    student = StudentConfig(model="tiny", tiny_seed=2)
    base, tokenizer = load_student(student)
    # Random (not zero) B matrices, so that the adapter changes the logits.
    adapted = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapted.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    write_metadata(tmp_path, {"finished": True, "weights": "lora_adapter",
                              "student": {**student.model_dump(mode="json"), "lora": {"r": 2}}})
    expected = _logits(adapted.merge_and_unload())
    model, _, _ = load_trained_student(tmp_path)
    assert not any("lora" in name for name in model.state_dict())
    torch.testing.assert_close(_logits(model), expected)
    assert not torch.allclose(expected, _logits(load_student(student)[0]))


def test_a_directory_that_is_not_a_finished_run_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no cotdistill.json here"):
        load_trained_student(tmp_path)
    write_metadata(tmp_path, {"finished": False, "run": {}})
    with pytest.raises(ConfigError, match="has not finished"):
        load_trained_student(tmp_path)
