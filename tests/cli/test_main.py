"""The console entry point: under torchrun a successful command leaves no process group behind."""

from __future__ import annotations

import torch.distributed as dist

from cotdistill.cli.main import main


def test_a_successful_command_destroys_the_process_group(tmp_path):
    # A one-process gloo group stands in for a torchrun rank.
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert main(["variants", "list"]) == 0
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_a_failed_command_leaves_the_process_group_to_the_caller(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert main(["report", str(tmp_path / "not-a-study")]) == 2
        assert dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
