"""The key-token scorer and the logit lens run on the device they are given; one that is not there is an error
before any model loads; scores on the CPU are those of the default."""

from __future__ import annotations

import pytest
import torch

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.errors import ConfigError
from cotdistill.keytokens import Scorer, make_selector, score_rationales
from cotdistill.keytokens.analysis import logit_lens_of_student


@pytest.fixture()
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_a_missing_device_fails_before_any_model_loads(cpu_only, tmp_path):
    def must_not_load():
        raise AssertionError("loaded")

    with pytest.raises(ConfigError, match="^field 'scorer.device': 'cuda' requested"):
        Scorer.from_spec("tiny", device="cuda")
    with pytest.raises(ConfigError, match="^field 'scorer.device': 'mps' requested"):
        Scorer(scorer_id="tiny", loader=must_not_load, device="mps")
    with pytest.raises(ConfigError, match="^field 'device': 'cuda' requested"):
        logit_lens_of_student(tmp_path, [], device="cuda")


def test_scores_on_the_cpu_are_those_of_the_default(cpu_only, tiny_model, tiny_tokenizer):
    example = Example(id="q0", question="Which is heavier?", choices={"A": "a rock", "B": "a leaf"}, answer="A")
    rationales = {"q0": Rationale(id="q0", text="A rock has more mass than a leaf.")}
    selector = make_selector("gradient_x_input")
    scores = [score_rationales(selector, [example], rationales,
                               scorer=Scorer(tiny_model, tiny_tokenizer, scorer_id="tiny", **where))["q0"].to_dict()
              for where in ({}, {"device": "cpu"})]
    assert scores[0] == scores[1]
    on_cpu = Scorer.from_spec("tiny", device="cpu")
    assert next(on_cpu.model.parameters()).device == torch.device("cpu")
