"""Resuming picks the newest whole checkpoint; partial ones are kept aside, never deleted."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("state", [None, "", '{"global_step": 4, "log_hist'], ids=["missing", "empty", "cut short"])
def test_partially_written_checkpoints_are_set_aside_not_deleted(tmp_path, state):
    from cotdistill.train.trainer import latest_complete_checkpoint

    whole, partial = tmp_path / "checkpoint-2", tmp_path / "checkpoint-4"
    whole.mkdir()
    (whole / "trainer_state.json").write_text("{}")
    partial.mkdir()
    (partial / "model.safetensors").write_text("half")
    if state is not None:
        # A kill while transformers wrote the checkpoint's last file, in place.
        (partial / "trainer_state.json").write_text(state)
    assert latest_complete_checkpoint(tmp_path) == str(whole)
    assert whole.is_dir() and not partial.exists()
    (moved,) = tmp_path.glob("incomplete-checkpoint-4-*")
    assert (moved / "model.safetensors").read_text() == "half"
