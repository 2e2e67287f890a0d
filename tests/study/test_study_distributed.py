"""A study under ``torchrun --nproc_per_node 2`` (gloo, CPU): the ranks agree on every cell (rank 0 claims it),
train it together, share its evaluation, and every cell is finished once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cotdistill.study import layout

# Minutes on 2 cores: run by CI after the default suite (-m extended), not in it.
pytestmark = pytest.mark.extended


def test_a_two_rank_study_finishes_every_cell_once(tiny_study_yaml, tmp_path):
    path = tiny_study_yaml({"variants": [{"name": "label_only"}, {"name": "cot_before_label"}]})
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "cotdistill.cli.main", "study", str(path), "-o", str(out), "--no-report"],
                         env=env, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        pytest.fail(f"torchrun failed:\n{run.stdout[-2000:]}\n{run.stderr[-6000:]}")
    cells = [p for p in (out / "cells").iterdir()]
    assert len(cells) == 3 and all(layout.is_finished(p) for p in cells)
    for cell in cells:
        manifest = json.loads((cell / layout.MANIFEST_FILE).read_text())
        assert len(manifest["attempts"]) == 1
    # cot_before_label was read in both modes, its predictions written once by rank 0
    assert len(list(out.glob("cells/*/eval/reasoning_first/predictions.jsonl"))) == 1
    assert not list((out / "leases").glob("*.json"))
