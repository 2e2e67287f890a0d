"""The same training code under ``torchrun --nproc_per_node 2`` (gloo, CPU) equals one process with the same
global batch: the loss is normalized by the weights of all processes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from train_helpers import tiny_instances

from cotdistill.models.tiny import build_tiny_model
from cotdistill.train.config import TrainConfig
from cotdistill.train.trainer import train_student
from torchrun_helpers import torchrun_or_fail

# Minutes on 2 cores: run by CI after the default suite (-m extended), not in it.
pytestmark = pytest.mark.extended

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {helpers!r})
    from train_helpers import tiny_instances
    from test_distributed import config
    from cotdistill.models.tiny import build_tiny_model, build_tiny_tokenizer
    from cotdistill.train.trainer import train_student

    tokenizer = build_tiny_tokenizer()
    cfg = config(int(sys.argv[2]), num_threads=1)
    train_student(tiny_instances(tokenizer, 4), "tiny", cfg, sys.argv[1], metadata={{}},
                  student=(build_tiny_model(len(tokenizer), seed=0), tokenizer))
    # As `cotdistill` does on success (cli.main.destroy_process_group): no gloo thread is left at exit.
    from cotdistill.cli.main import destroy_process_group
    destroy_process_group()
""")


def _losses(output_dir: Path) -> list[float]:
    meta = json.loads((output_dir / "cotdistill.json").read_text())
    assert meta["finished"]
    return [e["loss"] for e in meta["log_history"] if "loss" in e]


def config(batch_size: int, num_threads: int | None = None) -> TrainConfig:
    return TrainConfig(batch_size=batch_size, max_steps=2, bf16=False, logging_steps=1, group_by_length=False,
                       label_weight=2.0, num_threads=num_threads)


def test_two_process_torchrun_matches_one_process(tiny_tokenizer, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(helpers=str(Path(__file__).parent)))
    torchrun_or_fail(str(script), str(tmp_path / "ddp"), "1")
    train_student(tiny_instances(tiny_tokenizer, 4), "tiny", config(2), tmp_path / "single", metadata={},
                  student=(build_tiny_model(len(tiny_tokenizer), seed=0), tiny_tokenizer))
    ddp, single = _losses(tmp_path / "ddp"), _losses(tmp_path / "single")
    assert len(ddp) == len(single) == 2
    assert ddp == pytest.approx(single, rel=1e-5)
    from safetensors.torch import load_file

    a = load_file(tmp_path / "ddp" / "model.safetensors")
    b = load_file(tmp_path / "single" / "model.safetensors")
    for name in a:
        assert (a[name] - b[name]).abs().max() < 1e-5, name
