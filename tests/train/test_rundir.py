"""Resuming picks the newest whole checkpoint; partial ones are kept aside, never deleted."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("state", [None, "", '{"global_step": 4, "log_hist'], ids=["missing", "empty", "cut short"])
def test_partially_written_checkpoints_are_set_aside_not_deleted(tmp_path, state):
    from cotdistill.train.rundir import latest_complete_checkpoint

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


def test_a_partial_checkpoint_another_rank_already_set_aside_is_skipped(tmp_path, monkeypatch):
    from pathlib import Path

    from cotdistill.train.rundir import latest_complete_checkpoint

    whole, partial = tmp_path / "checkpoint-2", tmp_path / "checkpoint-4"
    whole.mkdir()
    (whole / "trainer_state.json").write_text("{}")
    partial.mkdir()

    rename = Path.rename

    def renamed_by_the_other_rank(self, target):
        rename(self, self.with_name(f"incomplete-{self.name}-other-rank"))
        raise FileNotFoundError(self)

    monkeypatch.setattr(Path, "rename", renamed_by_the_other_rank)
    assert latest_complete_checkpoint(tmp_path) == str(whole)
    assert [p.name for p in tmp_path.glob("incomplete-*")] == ["incomplete-checkpoint-4-other-rank"]
