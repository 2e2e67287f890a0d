"""Loading students: local directories, hub-id code path, quantization-flagged (GGUF) rebuild, tokenizer setup.
The GGUF cases also train the rebuilt student one step: the rebuild exists so that Trainer accepts it."""

from __future__ import annotations

import pytest
import torch

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.errors import ConfigError
from cotdistill.models import StudentConfig, load_trained_student
from cotdistill.models.loading import (
    is_flagged_quantized,
    load_student,
    load_tokenizer,
    prepare_tokenizer_for_training,
    rebuild_plain_model,
    resolve_pretrained_dir,
)
from cotdistill.train.config import TrainConfig
from cotdistill.train.trainer import train_student
from cotdistill.variants import build_instances, make_variant

IDS = torch.tensor([[3, 17, 42, 99, 5]])


def _logits(model):
    with torch.no_grad():
        return model.eval()(input_ids=IDS).logits


def _two_instances(tokenizer):
    examples = [Example(id=f"q{i}", question="Which is heavier?", choices={"A": "a rock", "B": "a leaf"}, answer="A")
                for i in range(2)]
    rationales = {ex.id: Rationale(id=ex.id, text="A rock has more mass than a leaf.") for ex in examples}
    return build_instances(examples, rationales, make_variant("cot_after_label"), tokenizer, seed=0)


def test_tiny_alias_gives_a_padded_right_padding_student():
    model, tokenizer = load_student(StudentConfig(model="tiny", dtype="bf16", tiny_vocab_size=300))
    assert tokenizer.pad_token == tokenizer.eos_token and tokenizer.padding_side == "right"
    assert model.config.vocab_size == len(tokenizer) and model.dtype == torch.bfloat16


def test_local_directory_loads_like_a_hub_id_and_keeps_dtype(tiny_model, tiny_tokenizer, tmp_path):
    tiny_model.save_pretrained(tmp_path / "student")
    tiny_tokenizer.save_pretrained(tmp_path / "student")
    assert resolve_pretrained_dir(StudentConfig(model=str(tmp_path / "student"))) == str(tmp_path / "student")
    model, loaded_tok = load_student(str(tmp_path / "student"))
    torch.testing.assert_close(_logits(model), _logits(tiny_model))
    assert loaded_tok.pad_token is not None and loaded_tok.padding_side == "right"
    assert len(load_tokenizer(str(tmp_path / "student"))) == len(tiny_tokenizer)


def test_hub_id_is_passed_to_from_pretrained_and_bad_specs_are_config_errors(tmp_path):
    # Hub ids go to from_pretrained unchanged (offline in tests, so loading them fails cleanly).
    assert resolve_pretrained_dir(StudentConfig(model="HuggingFaceTB/SmolLM2-135M")) == "HuggingFaceTB/SmolLM2-135M"
    with pytest.raises(ConfigError, match="student.model"):
        load_student("no-such-org/no-such-model-xyz")
    with pytest.raises(ConfigError, match="neither a packaged alias"):
        load_student(str(tmp_path / "missing" / "dir"))


def test_quantization_flagged_model_is_rebuilt_saved_and_reloaded_with_the_same_logits(tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM
    from transformers.utils.quantization_config import GgufConfig

    # What transformers leaves on a model loaded from GGUF: a quantization config on the model config.
    tiny_model.config.quantization_config = GgufConfig(gguf_file="tiny.gguf")
    assert is_flagged_quantized(tiny_model)
    plain = rebuild_plain_model(tiny_model)
    assert not is_flagged_quantized(plain) and "quantization_config" not in plain.config.to_dict()
    assert plain.lm_head.weight.data_ptr() == plain.model.embed_tokens.weight.data_ptr()  # still tied
    plain.save_pretrained(tmp_path / "rebuilt")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "rebuilt")
    torch.testing.assert_close(_logits(reloaded), _logits(tiny_model))


def test_tokenizer_without_pad_token_pads_with_eos(tiny_tokenizer):
    tok = tiny_tokenizer.__class__(tokenizer_object=tiny_tokenizer.backend_tokenizer, eos_token="<|endoftext|>")
    tok.padding_side = "left"
    tok = prepare_tokenizer_for_training(tok)
    assert tok.pad_token == "<|endoftext|>" and tok.padding_side == "right"


@pytest.mark.slow
def test_packaged_smollm2_gguf_student_trains_saves_and_reloads(tmp_path):
    model, tokenizer = load_student("smollm2-135m")
    assert not is_flagged_quantized(model)
    instances = _two_instances(tokenizer)
    train_student(instances, "smollm2-135m", TrainConfig(max_steps=1, batch_size=2), tmp_path / "out",
                  metadata={}, student=(model, tokenizer))
    loaded, _, meta = load_trained_student(tmp_path / "out")
    torch.testing.assert_close(_logits(loaded), _logits(model))
    assert meta["saved_dtype"] == "float32"


def test_gguf_directory_is_dequantized_once_rebuilt_trained_and_saved(tiny_model, tiny_tokenizer, tmp_path,
                                                                      monkeypatch):
    from gguf_helpers import write_tiny_gguf

    monkeypatch.setenv("COTDISTILL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "gguf").mkdir()
    write_tiny_gguf(tiny_model, tiny_tokenizer, tmp_path / "gguf" / "tiny.gguf")
    model, tokenizer = load_student(str(tmp_path / "gguf"))
    assert not is_flagged_quantized(model)
    torch.testing.assert_close(_logits(model), _logits(tiny_model))
    text = "Question: Which is heavier? Answer: a rock"
    assert tokenizer(text)["input_ids"] == tiny_tokenizer(text)["input_ids"]
    cached = next((tmp_path / "cache").iterdir())
    stamp = (cached / "model.safetensors").stat().st_mtime_ns
    model, tokenizer = load_student(StudentConfig(model=str(tmp_path / "gguf"), gguf_file="tiny.gguf"))
    assert (cached / "model.safetensors").stat().st_mtime_ns == stamp, "second load must reuse the cache"

    train_student(_two_instances(tokenizer), str(tmp_path / "gguf"), TrainConfig(max_steps=1, batch_size=2),
                  tmp_path / "out", metadata={}, student=(model, tokenizer))
    reloaded, _, _ = load_trained_student(tmp_path / "out")
    torch.testing.assert_close(_logits(reloaded), _logits(model))
