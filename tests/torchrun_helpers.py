"""Two CPU ranks under torchrun (gloo), as the distributed tests start them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_torchrun(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node 2 ARGS``: one thread per rank, offline, output captured. The
    tests directory is on the ranks' path, as it is on pytest's, for scripts that import a test module."""
    path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           *args], env=env, capture_output=True, text=True, timeout=timeout)


def torchrun_or_fail(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """:func:`run_torchrun`, failing the test with the ranks' output when it does not exit 0."""
    run = run_torchrun(*args, timeout=timeout)
    if run.returncode != 0:
        pytest.fail(f"torchrun failed:\n{run.stdout[-2000:]}\n{run.stderr[-6000:]}")
    return run
