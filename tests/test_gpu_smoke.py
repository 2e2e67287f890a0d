"""scripts/gpu_smoke.py, the prepared GPU check, runs end to end on the CPU with the tiny shape (as CI runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.extended
def test_the_smoke_run_reports_every_stage(tmp_path):
    out = tmp_path / "smoke.json"
    completed = subprocess.run([sys.executable, str(REPO / "scripts" / "gpu_smoke.py"), "--shape", "tiny", "--steps",
                                "3", "--questions", "24", "--out", str(out)], capture_output=True, text=True,
                               timeout=900)
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(out.read_text())
    stages = [row["stage"] for row in report["stages"]]
    assert stages == ["teacher (local backend)", "train (1 process)", "eval (label-first + reasoning-first)",
                      "key tokens (gradient x input)", "study (2 workers, 1 directory)"]
    assert all(row["device"] == "cpu" and row["seconds"] > 0 and row["peak_memory_gib"] > 0
               for row in report["stages"])
    assert "total" in completed.stdout
