"""Evaluation under ``torchrun --nproc_per_node 2`` (gloo, CPU) writes the predictions and metrics one process
writes: each rank evaluates its shard, the records are gathered, rank 0 writes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cotdistill.evaluate import EVAL_MODES
from torchrun_helpers import torchrun_or_fail

# Two torchrun processes start in tens of seconds on 2 cores: run by CI after the default suite (-m extended).
pytestmark = pytest.mark.extended

#: What may differ between runs: timings, and how many processes shared the work.
VARYING = {"seconds", "seconds_per_answer", "processes"}

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {helpers!r})
    from test_eval_distributed import evaluate_both_modes
    from cotdistill.distributed import join_process_group, process_group

    join_process_group(cpu=True)  # as `cotdistill eval` under torchrun does
    assert process_group().get_world_size() == 2
    evaluate_both_modes(sys.argv[1])
    # As `cotdistill` does on success (cli.main.destroy_process_group): no gloo thread is left at exit.
    from cotdistill.cli.main import destroy_process_group
    destroy_process_group()
""")


def evaluate_both_modes(out_dir: str) -> None:
    """A fixed random tiny student evaluated in both modes; the first process writes ``<out_dir>/<mode>``."""
    from eval_helpers import make_examples

    from cotdistill.evaluate import EvalConfig, evaluate_student, write_eval_result
    from cotdistill.evaluate.sharding import process_shard
    from cotdistill.models.tiny import build_tiny_model, build_tiny_tokenizer
    from cotdistill.prompting import PromptFormat
    from cotdistill.variants import make_variant

    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(len(tokenizer), seed=0)
    examples = make_examples(7)
    for mode, variant in (("label_first", "label_only"), ("reasoning_first", "cot_before_label")):
        result = evaluate_student(model, tokenizer, examples, variant=make_variant(variant),
                                  prompt_format=PromptFormat(label_style="text"),
                                  config=EvalConfig(mode=mode, batch_size=2, max_new_tokens=6, dtype="fp32",
                                                    device="cpu"))
        if process_shard().rank == 0:
            write_eval_result(result, Path(out_dir) / mode)


def _results(directory: Path) -> tuple[str, dict]:
    metrics = json.loads((directory / "metrics.json").read_text())
    metrics["run"] = {k: v for k, v in metrics["run"].items() if k not in VARYING}
    return (directory / "predictions.jsonl").read_text(), {k: v for k, v in metrics.items() if k not in VARYING}


def test_two_process_evaluation_writes_what_one_process_writes(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(helpers=str(Path(__file__).parent)))
    torchrun_or_fail(str(script), str(tmp_path / "two"))
    evaluate_both_modes(str(tmp_path / "one"))
    for mode in EVAL_MODES:
        two_predictions, two_metrics = _results(tmp_path / "two" / mode)
        one_predictions, one_metrics = _results(tmp_path / "one" / mode)
        assert two_predictions == one_predictions
        assert two_metrics == one_metrics
        assert len(one_predictions.splitlines()) == 7
        assert json.loads((tmp_path / "two" / mode / "metrics.json").read_text())["run"]["processes"] == 2
