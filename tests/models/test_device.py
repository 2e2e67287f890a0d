"""The device setting: auto picks CUDA, then MPS, then the CPU; a device that is not there is a one-line error naming
the field; models move once; bf16 autocast only where the device computes bf16 natively; training's mapping."""

from __future__ import annotations

import pytest
import torch

from cotdistill import hardware
from cotdistill.errors import ConfigError
from cotdistill.models import StudentConfig, load_student
from cotdistill.models.device import (
    bf16_autocast,
    place_model,
    resolve_device,
    training_device_arguments,
)


@pytest.fixture()
def cpu_only(monkeypatch):
    """This machine as it is (no CUDA, no MPS), whatever machine runs the test."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_auto_is_the_cpu_here(cpu_only):
    assert resolve_device("auto", field="eval.device") == torch.device("cpu")
    assert resolve_device("cpu", field="eval.device") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto", field="device") == torch.device("mps")
    assert resolve_device("mps", field="device") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("auto", field="device") == torch.device("cuda")
    assert resolve_device("cuda:1", field="device") == torch.device("cuda", 1)


@pytest.mark.parametrize(("setting", "probe"), [
    ("cuda", "torch.cuda.is_available() is False"),
    ("cuda:0", "torch.cuda.is_available() is False"),
    ("mps", "torch.backends.mps.is_available() is False"),
])
def test_a_device_that_is_not_there_is_a_one_line_error_naming_the_field(cpu_only, setting, probe):
    with pytest.raises(ConfigError) as err:
        resolve_device(setting, field="eval.device")
    message = str(err.value)
    assert "\n" not in message
    assert message == f"field 'eval.device': '{setting}' requested but {probe}"


def test_a_gpu_index_past_the_last_gpu_and_an_unknown_setting_are_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match="'cuda:1' requested but torch.cuda.device_count\\(\\) is 1"):
        resolve_device("cuda:1", field="device")
    with pytest.raises(ConfigError, match="field 'device': unknown device 'gpu'"):
        resolve_device("gpu", field="device")


class _RecordingModel(torch.nn.Linear):
    """A module whose moves are recorded (and not done: the fake devices are not there)."""

    def __init__(self):
        super().__init__(2, 2)
        self.moves: list[torch.device] = []

    def to(self, device):
        self.moves.append(device)
        return self


def test_a_model_is_moved_only_when_it_is_elsewhere():
    model = _RecordingModel()
    assert place_model(model, torch.device("cpu")) is model and model.moves == []
    assert place_model(model, None) is model and model.moves == []
    place_model(model, torch.device("cuda"))
    assert model.moves == [torch.device("cuda")]


def test_loading_a_student_places_it_on_the_device(cpu_only):
    model, _ = load_student(StudentConfig(model="tiny"), device="cpu")
    assert next(model.parameters()).device == torch.device("cpu")
    with pytest.raises(ConfigError, match="field 'device': 'cuda' requested"):
        load_student(StudentConfig(model="tiny"), device="cuda")


def test_bf16_autocast_follows_the_hardware_decision(monkeypatch):
    for fast in (False, True):
        monkeypatch.setattr(hardware, "cpu_bf16_fast", lambda fast=fast: fast)
        assert bf16_autocast(torch.device("cpu")) is fast
    assert bf16_autocast(torch.device("mps")) is False
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for supported in (False, True):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda supported=supported: supported)
        assert bf16_autocast(torch.device("cuda")) is supported


def test_training_maps_cpu_to_use_cpu_and_refuses_a_missing_or_pinned_gpu(cpu_only, monkeypatch):
    assert training_device_arguments("cpu", field="train.device") == {"use_cpu": True}
    assert training_device_arguments("auto", field="train.device") == {}
    with pytest.raises(ConfigError, match="field 'train.device': 'cuda' requested but"):
        training_device_arguments("cuda", field="train.device")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert training_device_arguments("cuda", field="train.device") == {}
    with pytest.raises(ConfigError, match="CUDA_VISIBLE_DEVICES"):
        training_device_arguments("cuda:1", field="train.device")
