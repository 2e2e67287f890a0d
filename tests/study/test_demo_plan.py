"""Sizing `cotdistill demo` to a time budget: budget parsing, the size chosen for a machine's measured speed, the
plan kept for a rerun, and the report's notes. The calibration itself runs in the slow end-to-end demo test."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cotdistill.cli.study_cmds import demo_config_path
from cotdistill.errors import ConfigError
from cotdistill.study.config import load_study_config
from cotdistill.study.demo import (PLAN_FILE, SIZES, Calibration, DemoPlan, choose_size, describe_plan, parse_budget,
                                   plan_demo, predict_cell_seconds, sized_config)

# Mean training tokens per question of the demo's variants (what instance_tokens_per_question gives on the
# synthetic task with SmolLM2's tokenizer; the exact values do not matter here).
TOKENS = {"label_only": 43.0, "cot_before_label": 69.0, "cot_after_label": 67.0, "shuffled_cot_after_label": 67.0}


def calibration(tokens_per_second: float, *, label_first: float = 0.05, reasoning_first: float = 0.5) -> Calibration:
    return Calibration(cpu="test CPU", cpu_capability="AVX2", bf16=False, threads=2, load_seconds=3.0,
                       train_overhead_seconds=6.0, train_tokens_per_second=tokens_per_second,
                       label_first_seconds_per_question=label_first,
                       reasoning_first_seconds_per_question=reasoning_first, seconds=40.0)


@pytest.fixture(scope="module")
def demo_cfg():
    return load_study_config(demo_config_path())


@pytest.mark.parametrize("text,seconds", [("15m", 900), ("900s", 900), ("900", 900), ("1h", 3600),
                                          ("1h30m", 5400), ("2.5m", 150), (" 10M ", 600)])
def test_budget_parses_durations(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "fast", "15x", "0", "0m", "m"])
def test_a_bad_budget_names_the_flag(text):
    with pytest.raises(ConfigError, match="--budget"):
        parse_budget(text)


def test_a_fast_machine_runs_the_full_demo(demo_cfg):
    plan = choose_size(demo_cfg, calibration(2000.0), TOKENS, budget_seconds=900, elapsed_seconds=60)
    assert plan.size == SIZES[0] and plan.fits and not plan.reductions
    assert len(plan.cell_seconds) == 9  # the untrained student, then four variants x two seeds


def test_a_slow_machine_gets_a_smaller_demo_that_fits(demo_cfg):
    # ~80 tokens/s is fp32 SmolLM2-135M training on a 2-core AVX2 CPU: the full demo takes ~45 min there.
    full = choose_size(demo_cfg, calibration(80.0), TOKENS, budget_seconds=4 * 3600, elapsed_seconds=0)
    assert full.size == SIZES[0] and full.predicted_seconds > 40 * 60
    plan = choose_size(demo_cfg, calibration(80.0), TOKENS, budget_seconds=900, elapsed_seconds=60)
    assert plan.fits and plan.size != SIZES[0]
    assert plan.predicted_seconds <= 900 * 0.9 - 60
    assert any(r.startswith("seeds 2 -> 1") for r in plan.reductions)
    # It is the largest size that fits: the one before it in the ladder does not.
    bigger = SIZES[SIZES.index(plan.size) - 1]
    assert sum(predict_cell_seconds(demo_cfg, bigger, calibration(80.0), TOKENS).values()) > 900 * 0.9 - 60 - 30


def test_more_time_already_spent_means_a_smaller_demo(demo_cfg):
    early = choose_size(demo_cfg, calibration(150.0), TOKENS, budget_seconds=900, elapsed_seconds=30)
    late = choose_size(demo_cfg, calibration(150.0), TOKENS, budget_seconds=900, elapsed_seconds=400)
    assert SIZES.index(late.size) > SIZES.index(early.size)


def test_when_nothing_fits_the_smallest_runs_and_says_so(demo_cfg):
    plan = choose_size(demo_cfg, calibration(5.0), TOKENS, budget_seconds=900, elapsed_seconds=60)
    assert plan.size == SIZES[-1] and not plan.fits
    assert any("exceed the budget" in line for line in plan.notes())
    assert "over the 15m00s budget" in describe_plan(plan)[-1]


def test_the_sized_config_keeps_every_variant_and_the_same_questions(demo_cfg):
    small = sized_config(demo_cfg, SIZES[-1])
    assert [v.name for v in small.variants] == [v.name for v in demo_cfg.variants]
    assert small.seeds == demo_cfg.seeds[:1]
    assert small.tasks[0].train.limit == SIZES[-1].train_questions
    assert small.tasks[0].eval.limit == SIZES[-1].label_first_questions
    assert small.eval.reasoning_first.limit == SIZES[-1].reasoning_first_questions
    assert sized_config(demo_cfg, SIZES[0]).study_hash() == demo_cfg.study_hash()


def test_the_plan_prints_an_eta_per_cell_and_in_all(demo_cfg):
    plan = choose_size(demo_cfg, calibration(80.0), TOKENS, budget_seconds=900, elapsed_seconds=60)
    lines = describe_plan(plan)
    assert lines[-1].startswith("ETA: ~")
    assert sum("seed" in line and "~" in line for line in lines) == len(plan.cell_seconds)


def test_a_rerun_with_the_same_budget_reuses_the_plan(demo_cfg, tmp_path):
    plan = choose_size(demo_cfg, calibration(80.0), TOKENS, budget_seconds=900, elapsed_seconds=60)
    (tmp_path / PLAN_FILE).write_text(json.dumps(plan.to_dict()))
    said = []
    cfg, again = plan_demo(demo_cfg, tmp_path, 900, started=0.0, echo=said.append)
    assert again == plan and "resuming" in said[0]
    assert cfg.seeds == demo_cfg.seeds[:plan.size.seeds]
    assert cfg.notes == plan.notes()
    assert cfg.study_hash() == sized_config(demo_cfg, plan.size).study_hash()  # notes are not the study's identity
    assert DemoPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_notes_say_what_was_sized_down_and_the_precision(demo_cfg):
    plan = choose_size(demo_cfg, calibration(80.0), TOKENS, budget_seconds=900, elapsed_seconds=60)
    text = " ".join(plan.notes())
    assert "fp32 (no bf16 fast path)" in text and "Sized down from the full demo" in text
    bf16 = replace(plan, calibration=replace(plan.calibration, bf16=True))
    assert "bf16 autocast" in " ".join(bf16.notes())


def test_calibration_times_real_steps_and_answers_then_the_sized_demo_runs(demo_cfg, tmp_path):
    """The whole path of `cotdistill demo` on the tiny random student: calibrate, plan, run the sized grid, report."""
    from cotdistill.report import write_report
    from cotdistill.study.runner import run_study

    tiny = demo_cfg.model_copy(update={"students": [demo_cfg.students[0].model_copy(update={"model": "tiny"})]})
    said: list[str] = []
    # A budget too small for anything: the smallest size is chosen, and the plan says it is over budget.
    cfg, plan = plan_demo(tiny, tmp_path, 1.0, started=0.0, echo=said.append)
    c = plan.calibration
    assert c.train_tokens_per_second > 0 and c.label_first_seconds_per_question > 0
    assert c.reasoning_first_seconds_per_question > 0 and c.cpu_capability
    assert plan.size == SIZES[-1] and not plan.fits
    assert said[0].startswith("measuring this machine") and said[-1].startswith("ETA: ~")
    assert (tmp_path / PLAN_FILE).is_file()
    small = cfg.model_copy(update={"tasks": [cfg.tasks[0].model_copy(update={
        "train": cfg.tasks[0].train.model_copy(update={"limit": 16}),
        "eval": cfg.tasks[0].eval.model_copy(update={"limit": 12})})],
        "eval": cfg.eval.model_copy(update={"reasoning_first": cfg.eval.reasoning_first.model_copy(
            update={"limit": 4, "max_new_tokens": 4})})})
    run_study(small, tmp_path, live=False, only={"variant": ["label_only"]}, expected_seconds=plan.cell_seconds)
    report = write_report(tmp_path)
    md = report.markdown.read_text()
    for line in plan.notes():
        assert f"> {line}" in md
