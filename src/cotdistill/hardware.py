"""What the machine computes fast: the one place that decides whether bf16 pays off on a device.

bf16 only pays on a CPU with a native bf16 matmul path (AVX512-BF16 or AMX tiles); elsewhere oneDNN emulates it and
a bf16 matmul is several times slower than fp32. ``ATEN_CPU_CAPABILITY`` (read by torch at start-up) caps the
instruction sets ATen uses; a cap below ``avx512`` is taken to mean "no bf16 fast path", so
``ATEN_CPU_CAPABILITY=avx2`` reproduces, on any x86 CPU, every choice cotdistill makes on an AVX2-only one.
"""

from __future__ import annotations

import torch

#: ATen capabilities (``torch.backends.cpu.get_cpu_capability()``, upper-cased) with AVX-512 available.
_AVX512_CAPABILITIES = ("AVX512",)


def cpu_capability() -> str:
    """The vector instruction set ATen dispatches to, after ``ATEN_CPU_CAPABILITY`` (e.g. ``AVX2``, ``AVX512``)."""
    return torch.backends.cpu.get_cpu_capability().upper()


def cpu_bf16_fast() -> bool:
    """Whether this CPU has a bf16 matmul fast path (AMX or AVX512-BF16) that ATen is allowed to use."""
    if cpu_capability() not in _AVX512_CAPABILITIES:
        return False
    cpu = torch.cpu
    return bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)()
                or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)())


def bf16_fast(device: torch.device | str = "cpu") -> bool:
    """Whether ``device`` runs bf16 matmuls natively: CUDA with bf16 support, or :func:`cpu_bf16_fast`."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return cpu_bf16_fast()
    return False
