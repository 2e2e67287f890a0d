"""`cotdistill demo` end to end on the packaged SmolLM2-135M (slow: minutes on CPU; opt in with -m slow)."""

from __future__ import annotations

import re
import time

import pytest

from cotdistill.cli.main import main


@pytest.mark.slow
def test_demo_writes_a_report_with_all_four_variants(tmp_path, capsys):
    out = tmp_path / "demo"
    started = time.monotonic()
    assert main(["demo", "-o", str(out)]) == 0
    minutes = (time.monotonic() - started) / 60
    printed = capsys.readouterr().out
    assert str(out / "report" / "report.html") in printed
    md = (out / "report" / "report.md").read_text()
    for variant in ("label_only", "cot_before_label", "cot_after_label", "shuffled_cot_after_label"):
        assert re.search(rf"^\| {variant} \| \d+\.\d ± \d+\.\d", md, re.MULTILINE), variant
    assert (out / "report" / "accuracy.png").stat().st_size > 10_000
    print(f"demo took {minutes:.1f} min")
