"""The local teacher runs on its configured device; a device that is not there fails before the model loads."""

from __future__ import annotations

import pytest
import torch

from cotdistill.errors import ConfigError
from cotdistill.teacher import LocalBackend
from cotdistill.teacher.config import TeacherConfig


@pytest.fixture()
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_the_configured_device_reaches_the_backend(cpu_only):
    assert LocalBackend.from_config(TeacherConfig(model="tiny", device="cpu")).device == torch.device("cpu")
    assert LocalBackend.from_config(TeacherConfig(model="tiny")).device == torch.device("cpu")  # auto, here


def test_a_missing_device_is_an_error_naming_the_field(cpu_only):
    with pytest.raises(ConfigError, match="^field 'teacher.device': 'cuda' requested but torch.cuda.is_available"):
        LocalBackend.from_config(TeacherConfig(model="tiny", device="cuda"))
