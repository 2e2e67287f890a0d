"""bf16 detection: one place, and ATEN_CPU_CAPABILITY below avx512 means no bf16 fast path on any CPU."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from cotdistill import hardware


def test_a_capability_below_avx512_has_no_bf16_fast_path(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    for capability, fast in (("AVX2", False), ("DEFAULT", False), ("AVX512", True)):
        monkeypatch.setattr(hardware, "cpu_capability", lambda c=capability: c)
        assert hardware.cpu_bf16_fast() is fast, capability
        assert hardware.bf16_fast("cpu") is fast


def test_avx512_without_bf16_instructions_is_not_fast(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not hardware.cpu_bf16_fast()


def test_aten_cpu_capability_is_honoured_by_training_and_evaluation():
    code = ("from cotdistill import hardware; from cotdistill.train.trainer import bf16_supported; "
            "from cotdistill.train.config import TrainConfig; from cotdistill.train.trainer import resolve_bf16; "
            "print(hardware.cpu_capability(), hardware.bf16_fast('cpu'), bf16_supported(), resolve_bf16(TrainConfig()))")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["AVX2", "False", "False", "False"]
