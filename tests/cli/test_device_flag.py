"""``--device`` on every command that runs a model: a device that is not there is one line and exit 2, before any
model or data is loaded (this machine has no CUDA and no MPS)."""

from __future__ import annotations

import pytest
import torch

from cotdistill.cli.main import main

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


STUDY = """
tasks: [{train: {name: synthetic, limit: 8}, eval: {name: synthetic, split: test, limit: 8},
         reference_rationales: true}]
students: [{model: tiny}]
variants: [{name: label_only}]
"""


def _commands(tmp_path):
    student, out = str(tmp_path / "no-student"), str(tmp_path / "out")
    cell = tmp_path / "cell"
    (tmp_path / "study.yaml").write_text(STUDY)
    return {
        "train": ["train", "--task", "synthetic", "--student", "tiny", "--variant", "label_only", "-o", out],
        "eval": ["eval", "--student", student, "--task", "synthetic", "-o", out],
        "teach": ["teach", "--task", "synthetic", "--backend", "local", "--teacher", "tiny", "-o", out],
        "keytokens": ["keytokens", "--task", "synthetic", "--rationales", str(tmp_path / "r.jsonl"), "-o", out],
        "logit-lens": ["analyze", "logit-lens", "--student", student, "--task", "synthetic", "-o", out],
        "predict": ["predict", "--student", student, "--input", str(tmp_path / "q.jsonl")],
        "study": ["study", str(tmp_path / "study.yaml"), "-o", out],
        "reproduce": ["reproduce", str(cell), "-o", out],
    }


@pytest.mark.parametrize("command", ["train", "eval", "teach", "keytokens", "logit-lens", "predict", "study",
                                     "reproduce"])
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_a_missing_device_is_one_line_and_exit_2(command, device, tmp_path, capsys):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    argv = _commands(tmp_path)[command] + ["--device", device]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"'{device}' requested" in err, err
    assert not (tmp_path / "out").exists()
