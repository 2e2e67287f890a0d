"""Where a stage runs its model, and in which precision: the one device setting every stage honours.

A device setting is ``auto`` (CUDA if there is one, then Apple's MPS, then the CPU) or an explicit ``cpu``,
``cuda``, ``cuda:N`` or ``mps``. :func:`resolve_device` turns it into a ``torch.device``; a device that is not
there is a :class:`~cotdistill.errors.ConfigError` naming the config field, so the CLI prints one line and exits 2.
Loaders move a model once with :func:`place_model`; batches are then created on the model's device.

Precision follows the device (:func:`bf16_autocast`): weights stay fp32 (the master copy) and matmuls run under
bf16 autocast where the device computes bf16 natively -- CUDA with bf16 support, or a CPU that
:mod:`cotdistill.hardware` finds fast in bf16. Training maps the setting onto ``TrainingArguments`` with
:func:`training_device_arguments`: Trainer (accelerate) places the model itself.

torch is imported inside the functions, so configs can name :data:`DeviceSetting` without importing it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator

from cotdistill.errors import ConfigError

if TYPE_CHECKING:
    import torch

_DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:[0-9]+)?)$"

#: What a ``device`` field's description says, after the stage's own words.
DEVICE_HELP = ("'auto' (CUDA if available, then MPS, then CPU), 'cpu', 'cuda', 'cuda:N' or 'mps'; a device that "
               "is not there is an error.")


def _known_setting(setting: str) -> str:
    if not re.match(_DEVICE_PATTERN, setting):
        raise ValueError(f"unknown device '{setting}' (known: auto, cpu, cuda, cuda:N, mps)")
    return setting


#: The type of every ``device`` config field: a known setting (whether the device is there is checked when it is
#: resolved, so a config written for a GPU machine still reads on a laptop).
DeviceSetting = Annotated[str, AfterValidator(_known_setting)]


def resolve_device(setting: str, *, field: str) -> torch.device:
    """The ``torch.device`` a device setting names; one that is not there is a ConfigError naming ``field``."""
    import torch

    try:
        _known_setting(setting)
    except ValueError as err:
        raise ConfigError(str(err), field=field) from None
    mps_available = torch.backends.mps.is_available()
    if setting == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_available else "cpu")
    device = torch.device(setting)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"'{setting}' requested but torch.cuda.is_available() is False", field=field)
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigError(f"'{setting}' requested but torch.cuda.device_count() is {count}", field=field)
    if device.type == "mps" and not mps_available:
        raise ConfigError(f"'{setting}' requested but torch.backends.mps.is_available() is False", field=field)
    return device


def as_device(device: torch.device | str | None, *, field: str = "device") -> torch.device | None:
    """A loader's ``device`` argument as a ``torch.device``: a setting is resolved; ``None`` stays ``None``."""
    return resolve_device(device, field=field) if isinstance(device, str) else device


def model_device(model: Any) -> torch.device:
    """The device of a model's (first) parameters."""
    return next(model.parameters()).device


def same_device(a: torch.device, b: torch.device) -> bool:
    """Whether two devices are one: ``cuda`` (no index) is the current CUDA device."""
    import torch

    if a.type != b.type:
        return False
    if a.index == b.index or a.type != "cuda":
        return True
    current = torch.cuda.current_device()
    return (current if a.index is None else a.index) == (current if b.index is None else b.index)


def place_model(model: Any, device: torch.device | None) -> Any:
    """``model`` on ``device``, moved (in place) only when it is elsewhere; ``None`` leaves it where it is."""
    if device is None or same_device(model_device(model), device):
        return model
    return model.to(device)


def bf16_autocast(device: torch.device) -> bool:
    """Whether a model with fp32 weights runs under bf16 autocast on ``device``: where the device computes bf16
    natively (CUDA with bf16 support; a CPU with a bf16 fast path). MPS and slow CPUs stay in fp32."""
    from cotdistill.hardware import bf16_fast

    return bf16_fast(device)


def training_device_arguments(setting: str, *, field: str) -> dict[str, Any]:
    """``TrainingArguments`` keywords for a device setting: Trainer (accelerate) picks CUDA, then MPS, then the
    CPU by itself, so only ``cpu`` needs saying (``use_cpu=True``). A device that is not there is the same error
    as everywhere; ``cuda:N`` is refused, since Trainer takes its GPU from ``CUDA_VISIBLE_DEVICES`` / the rank."""
    device = resolve_device(setting, field=field)
    if device.type == "cuda" and device.index is not None:
        raise ConfigError(f"training cannot be pinned to '{setting}'; use 'cuda' and choose the GPU with "
                          "CUDA_VISIBLE_DEVICES (or torchrun's ranks)", field=field)
    if setting == "cpu":
        return {"use_cpu": True}
    return {}
