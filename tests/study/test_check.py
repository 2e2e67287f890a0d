"""``cotdistill study CONFIG --check``: resolves everything, counts cells, estimates cost; trains and writes nothing."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from cotdistill.cli.main import main
from cotdistill.study.check import OFFLINE, OK, STEP_SECONDS, WARNING, check_study, teacher_finding
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import expand_grid, untrained_cells


def test_check_counts_the_cells_estimates_and_writes_nothing(tiny_study_yaml, tmp_path, capsys, monkeypatch):
    path = tiny_study_yaml({"seeds": [0, 1]})
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["study", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    cfg = load_study_config(path)
    assert f"cells: {len(expand_grid(cfg)) + len(untrained_cells(cfg))} (4 trained, 1 evaluated untrained)" in out
    assert "[ok] student tiny" in out and "12 training questions with rationales" in out
    assert "GPU-hours" in out and "estimate:" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_estimate_follows_the_grid(tiny_study_yaml, tmp_path):
    one = check_study(load_study_config(tiny_study_yaml()), scratch=tmp_path)
    two = check_study(load_study_config(tiny_study_yaml({"train": {"epochs": 2, "batch_size": 4}},
                                                        name="longer.yaml")), scratch=tmp_path)
    (a,), (b,) = one.slices, two.slices
    assert a.parameters == b.parameters > 0
    # 12 questions at batch 4: 3 steps per epoch per trained cell, never faster than the measured step floor
    assert a.gpu_seconds >= 2 * 3 * STEP_SECONDS
    assert b.gpu_seconds > a.gpu_seconds
    assert a.weight_bytes == 2 * 4 * a.parameters


def test_a_hub_student_offline_is_reported_not_checked(tiny_study_yaml, tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    path = tiny_study_yaml({"students": [{"model": "some-org/some-model"}]})
    assert main(["study", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert f"[{OFFLINE}] student some-org/some-model" in out and "size unknown: no estimate" in out


def test_a_student_directory_without_a_model_fails_the_check_with_exit_2(tiny_study_yaml, tmp_path, capsys):
    (tmp_path / "empty-model").mkdir()
    path = tiny_study_yaml({"students": [{"model": str(tmp_path / "empty-model")}]})
    assert main(["study", str(path), "--check"]) == 2
    out = capsys.readouterr().out
    assert "[error] student" in out and "empty-model" in out


class _Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 -- the http.server API
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.end_headers()
        self.wfile.write(b'{"data": []}')

    def log_message(self, *args):
        pass


@pytest.fixture()
def models_endpoint():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_the_teacher_endpoint_is_pinged(tiny_study_yaml, models_endpoint):
    def task_with(base_url):
        cfg = load_study_config(tiny_study_yaml({"tasks": [{
            "label": "synthetic", "train": {"name": "synthetic", "split": "train", "limit": 12, "seed": 0},
            "eval": {"name": "synthetic", "split": "test", "limit": 12, "seed": 0},
            "teacher": {"teacher": {"backend": "openai", "base_url": base_url, "model": "m"}}}]},
            name=f"t{len(base_url)}.yaml"))
        return cfg.tasks[0]

    assert teacher_finding(task_with(models_endpoint), 0).status == OK
    closed = models_endpoint.rsplit(":", 1)[0] + ":9/v1"  # the discard port: nothing listens there
    assert teacher_finding(task_with(closed), 0).status == WARNING


@pytest.mark.extended
@pytest.mark.shared
def test_the_local_study_is_checked_on_the_shared_data(shared_data, capsys, monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)
    assert main(["study", "configs/local/study.yaml", "--check"]) == 0
    out = capsys.readouterr().out
    assert "cells: 204 (198 trained, 6 evaluated untrained)" in out
    assert "1525 training questions with rationales, 1221 evaluation questions" in out
    assert "134.5M parameters" in out and "268.1M parameters" in out and "estimate: ~" in out
