"""A study under ``torchrun --nproc_per_node 2`` (gloo, CPU): the ranks agree on every cell (rank 0 claims it),
train it together, share its evaluation, and every cell is finished once."""

from __future__ import annotations

import json

import pytest

from cotdistill.study import layout
from torchrun_helpers import torchrun_or_fail

# Minutes on 2 cores: run by CI after the default suite (-m extended), not in it.
pytestmark = pytest.mark.extended


def test_a_two_rank_study_finishes_every_cell_once(tiny_study_yaml, tmp_path):
    path = tiny_study_yaml({"variants": [{"name": "label_only"}, {"name": "cot_before_label"}]})
    out = tmp_path / "out"
    torchrun_or_fail("-m", "cotdistill.cli.main", "study", str(path), "-o", str(out), "--no-report", timeout=600)
    cells = [p for p in (out / "cells").iterdir()]
    assert len(cells) == 3 and all(layout.is_finished(p) for p in cells)
    for cell in cells:
        manifest = json.loads((cell / layout.MANIFEST_FILE).read_text())
        assert len(manifest["attempts"]) == 1
    # cot_before_label was read in both modes, its predictions written once by rank 0
    assert len(list(out.glob("cells/*/eval/reasoning_first/predictions.jsonl"))) == 1
    assert not list((out / "leases").glob("*.json"))
