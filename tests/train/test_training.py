"""Gradient accumulation equivalence, interrupted-and-resumed runs, overwrite protection, saved outputs."""

from __future__ import annotations

import json

import pytest
import torch
from train_helpers import tiny_instances
from transformers import TrainerCallback

from cotdistill.errors import ConfigError
from cotdistill.models import load_trained_student
from cotdistill.models.tiny import build_tiny_model
from cotdistill.train.config import TrainConfig
from cotdistill.train.rundir import prepare_output_dir
from cotdistill.train.trainer import bf16_supported, train_student

METADATA = {"variant": {"name": "cot_after_label", "params": {}}, "task": {"name": "test"}}


class GradCapture(TrainerCallback):
    """Keeps the gradients of the first optimizer step (after accumulation, before clipping/stepping)."""

    def __init__(self):
        self.grads = None

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        if self.grads is None:
            self.grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _fresh(tokenizer):
    return build_tiny_model(len(tokenizer), seed=0), tokenizer


def test_grad_accumulation_equals_one_large_batch(tiny_tokenizer, tmp_path):
    instances = tiny_instances(tiny_tokenizer, 4)
    lengths = {len(i.input_ids) for i in instances}
    assert len(lengths) > 1, "the test needs sequences of unequal length"
    runs = {}
    for batch_size, grad_accum in [(4, 1), (1, 4)]:
        capture = GradCapture()
        cfg = TrainConfig(batch_size=batch_size, grad_accum=grad_accum, max_steps=1, bf16=False, logging_steps=1,
                          group_by_length=False, label_weight=2.0, rationale_weight=0.5)
        result = train_student(instances, "tiny", cfg, tmp_path / f"b{batch_size}", metadata=METADATA,
                               student=_fresh(tiny_tokenizer), callbacks=[capture])
        runs[(batch_size, grad_accum)] = (capture.grads, result)
    (grads_a, res_a), (grads_b, res_b) = runs[(4, 1)], runs[(1, 4)]
    assert res_a.final_loss == pytest.approx(res_b.final_loss, rel=1e-5)
    assert res_a.target_tokens == res_b.target_tokens > 0
    for name, grad in grads_a.items():
        torch.testing.assert_close(grads_b[name], grad, rtol=1e-4, atol=1e-7, msg=name)


class StopAfterSave(TrainerCallback):
    """Simulates a crash right after the checkpoint of step ``step`` was written."""

    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt("simulated interruption")


@pytest.mark.extended  # kills and restarts real processes: CI runs it after the default suite
def test_interrupted_run_resumes_to_the_same_weights(tiny_tokenizer, tmp_path):
    instances = tiny_instances(tiny_tokenizer, 6)
    cfg = TrainConfig(batch_size=2, epochs=2, save_steps=2, bf16=False, logging_steps=1, learning_rate=1e-3)
    whole = train_student(instances, "tiny", cfg, tmp_path / "whole", metadata=METADATA,
                          student=_fresh(tiny_tokenizer))
    with pytest.raises(KeyboardInterrupt):
        train_student(instances, "tiny", cfg, tmp_path / "cut", metadata=METADATA, student=_fresh(tiny_tokenizer),
                      callbacks=[StopAfterSave(4)])
    assert (tmp_path / "cut" / "checkpoint-4").is_dir()
    assert json.loads((tmp_path / "cut" / "cotdistill.json").read_text())["finished"] is False
    resumed = train_student(instances, "tiny", cfg, tmp_path / "cut", metadata=METADATA,
                            student=_fresh(tiny_tokenizer))
    assert resumed.resumed and not whole.resumed
    assert resumed.steps == whole.steps == 6
    model_a, _, meta_a = load_trained_student(tmp_path / "whole")
    model_b, _, meta_b = load_trained_student(tmp_path / "cut")
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        assert torch.equal(a, b), name
    assert not list((tmp_path / "cut").glob("checkpoint-*")), "checkpoints are removed after a finished run"
    untrained = build_tiny_model(len(tiny_tokenizer), seed=0)
    assert not torch.equal(model_a.model.norm.weight, untrained.model.norm.weight)
    assert meta_a["finished"] and meta_a["variant"]["name"] == "cot_after_label"
    assert meta_a["saved_dtype"] == "float32" and meta_a["seed"] == 0
    assert (tmp_path / "whole" / "README.md").read_text().startswith("---")

    # A finished run is never overwritten silently; a different unfinished run is not resumed.
    with pytest.raises(ConfigError, match="finished training run"):
        train_student(instances, "tiny", cfg, tmp_path / "whole", metadata=METADATA, student=_fresh(tiny_tokenizer))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not ours")
    with pytest.raises(ConfigError, match="not a cotdistill training directory"):
        train_student(instances, "tiny", cfg, tmp_path / "other", metadata=METADATA, student=_fresh(tiny_tokenizer))


def test_unfinished_run_with_another_config_is_refused_unless_overwrite(tmp_path):
    run = tmp_path / "run"
    prepare_output_dir(run, {"train": 1}, overwrite=False)
    (run / "checkpoint-1").mkdir()
    prepare_output_dir(run, {"train": 1}, overwrite=False)  # same run: resumed, kept
    assert (run / "checkpoint-1").is_dir()
    with pytest.raises(ConfigError, match="different configuration"):
        prepare_output_dir(run, {"train": 2}, overwrite=False)
    prepare_output_dir(run, {"train": 2}, overwrite=True)
    assert not (run / "checkpoint-1").exists()
    assert json.loads((run / "cotdistill.json").read_text()) == {"finished": False, "run": {"train": 2}}


@pytest.mark.skipif(not bf16_supported(), reason="needs bf16 autocast (CUDA, or a CPU with AMX / AVX512-BF16)")
def test_a_model_trained_twice_in_one_process_trains_under_autocast_both_times(tiny_tokenizer, tmp_path):
    """accelerate marks a model it prepared; left on the model, the mark made a second ``train_student`` on it
    skip the preparation and train in fp32 (found by the GPU benchmark's warm-up run)."""
    instances = tiny_instances(tiny_tokenizer, 4)
    model, _ = _fresh(tiny_tokenizer)
    seen: list[tuple[int, torch.dtype]] = []
    run = 0
    model.model.layers[0].self_attn.q_proj.register_forward_hook(lambda m, i, out: seen.append((run, out.dtype)))
    cfg = TrainConfig(batch_size=2, max_steps=1, bf16=True, logging_steps=1, save_steps=100)
    for run in (1, 2):
        train_student(instances, "tiny", cfg, tmp_path / f"run{run}", metadata=METADATA,
                      student=(model, tiny_tokenizer))
        # The caller gets the model back as it gave it: the class's forward, no accelerate attributes.
        assert not {"forward", "_original_forward", "_is_accelerate_prepared"} & set(model.__dict__)
    assert {dtype for r, dtype in seen if r == 1} == {torch.bfloat16}
    assert {dtype for r, dtype in seen if r == 2} == {torch.bfloat16}
