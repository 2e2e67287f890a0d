"""LoRA: only adapters train; the merged save is a plain usable model; the adapter save reloads too."""

from __future__ import annotations

import torch
from train_helpers import tiny_instances
from transformers import TrainerCallback

from cotdistill.models import LoraSettings, StudentConfig, load_trained_student
from cotdistill.models.tiny import build_tiny_model
from cotdistill.train.config import TrainConfig
from cotdistill.train.trainer import train_student


class TrainableNames(TrainerCallback):
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]


def test_lora_trains_only_adapters_and_saves_merged_or_adapter(tiny_tokenizer, tmp_path):
    instances = tiny_instances(tiny_tokenizer, 4)
    cfg = TrainConfig(batch_size=4, max_steps=3, learning_rate=1e-2, bf16=False)
    base = build_tiny_model(len(tiny_tokenizer), seed=0)
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    seen = TrainableNames()
    merged_cfg = StudentConfig(model="tiny", lora=LoraSettings(r=4, target_modules=["q_proj", "v_proj"]))
    train_student(instances, merged_cfg, cfg, tmp_path / "merged", metadata={}, student=(base, tiny_tokenizer),
                  callbacks=[seen])
    assert seen.names and all("lora_" in n for n in seen.names)

    merged, _, meta = load_trained_student(tmp_path / "merged")
    assert meta["weights"] == "full" and not any("lora" in k for k in merged.state_dict())
    changed = {k for k, v in merged.state_dict().items() if not torch.equal(v, base_state[k])}
    assert changed and all(("q_proj" in k or "v_proj" in k) for k in changed)

    adapter_cfg = StudentConfig(model="tiny", lora=LoraSettings(r=4, target_modules=["q_proj", "v_proj"],
                                                                save="adapter"))
    train_student(instances, adapter_cfg, cfg, tmp_path / "adapter", metadata={},
                  student=(build_tiny_model(len(tiny_tokenizer), seed=0), tiny_tokenizer))
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    from_adapter, _, meta = load_trained_student(tmp_path / "adapter")
    assert meta["weights"] == "lora_adapter"
    ids = torch.tensor([instances[0].input_ids])
    with torch.no_grad():
        torch.testing.assert_close(from_adapter(input_ids=ids).logits, merged(input_ids=ids).logits)
