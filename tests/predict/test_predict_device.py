"""``Student.load(dir, device=...)``: the student answers on that device; one that is not there is an error."""

from __future__ import annotations

import pytest
import torch
from predict_helpers import question_records

from cotdistill.errors import ConfigError
from cotdistill.predict import Student


def test_answers_on_the_cpu_are_those_of_the_default_and_a_missing_device_is_an_error(trained_student,
                                                                                      monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    on_cpu = Student.load(trained_student, device="cpu")
    assert next(on_cpu.model.parameters()).device == torch.device("cpu")
    assert on_cpu.predict(question_records(3)) == Student.load(trained_student).predict(question_records(3))
    with pytest.raises(ConfigError, match="^field 'device': 'cuda' requested but torch.cuda.is_available"):
        Student.load(trained_student, device="cuda")
