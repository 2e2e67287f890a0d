"""Key-token scores under ``torchrun --nproc_per_node 2`` (gloo, CPU): rank 0 alone scores (the group Trainer
will use is started first), every rank gets the scores one process computes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.keytokens import prepare_key_token_extras
from cotdistill.variants import make_variant
from torchrun_helpers import torchrun_or_fail

# Two torchrun processes start in tens of seconds on 2 cores: run by CI after the default suite (-m extended).
pytestmark = pytest.mark.extended

EXAMPLES = [Example(id="e1", question="What warms the rock?", choices={"A": "sun", "B": "ice"}, answer="A"),
            Example(id="e2", question="What cools it?", choices={"A": "sun", "B": "ice"}, answer="B")]
RATIONALES = {"e1": Rationale("e1", "the sun heats the rock"), "e2": Rationale("e2", "ice is cold water")}
VARIANT = {"k": 2, "selector": "occlusion", "scorer": "tiny"}

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_keytokens_distributed import EXAMPLES, RATIONALES, VARIANT
    import cotdistill.keytokens.api as api
    from cotdistill.distributed import process_group
    from cotdistill.models.tiny import build_tiny_tokenizer
    from cotdistill.train.config import TrainConfig
    from cotdistill.train.pipeline import start_process_group
    from cotdistill.variants import make_variant

    out = Path(sys.argv[1])
    start_process_group(TrainConfig(max_steps=1, bf16=False), out / "train", "cpu")
    rank = process_group().get_rank()
    scoring = api.score_rationales

    def counted(*args, **kwargs):
        (out / f"scored-by-{{rank}}").touch()
        return scoring(*args, **kwargs)

    api.score_rationales = counted
    extras = api.prepare_key_token_extras(make_variant("key_tokens_after_label", VARIANT), EXAMPLES, RATIONALES,
                                          build_tiny_tokenizer(), out / "cache", device="cpu")
    (out / f"extras-{{rank}}.json").write_text(json.dumps(extras))
    from cotdistill.cli.main import destroy_process_group
    destroy_process_group()
""")


def test_rank_zero_scores_and_every_rank_gets_the_scores(tmp_path, tiny_tokenizer):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(tests=str(Path(__file__).parent)))
    torchrun_or_fail(str(script), str(tmp_path / "two"))
    assert sorted(p.name for p in (tmp_path / "two").glob("scored-by-*")) == ["scored-by-0"]
    one = prepare_key_token_extras(make_variant("key_tokens_after_label", VARIANT), EXAMPLES, RATIONALES,
                                   tiny_tokenizer, tmp_path / "one-cache", device="cpu")
    expected = json.loads(json.dumps(one))
    for rank in (0, 1):
        assert json.loads((tmp_path / "two" / f"extras-{rank}.json").read_text()) == expected
