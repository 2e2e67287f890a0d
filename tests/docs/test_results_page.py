"""docs/results.md must show the tables scripts/results_tables.py prints from the published report.

The results page quotes accuracy, paired differences and Holm-adjusted p-values; they are generated from
docs/results/local-study/*.csv, never retyped. When the study is republished (more cells, so new Holm adjustments)
and the page is not regenerated, this fails and names the stale row.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "results" / "local-study"
RESULTS_PAGE = ROOT / "docs" / "results.md"

# The slices the page tabulates; the sizing-only slice (QuaRel) is cited in prose.
SLICES = [("OpenBookQA", "SmolLM2-135M"), ("OpenBookQA", "Gemma-3-270M"), ("CommonsenseQA", "SmolLM2-135M"),
          ("CommonsenseQA", "Gemma-3-270M")]


def printed_table_rows(task: str, student: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "results_tables.py"), str(PUBLISHED), task, student],
        capture_output=True, text=True, check=True,
    )
    return [line for line in completed.stdout.splitlines() if line.startswith("| ") and "---" not in line]


@pytest.mark.parametrize(("task", "student"), SLICES)
def test_results_page_quotes_the_published_tables(task: str, student: str) -> None:
    rows = printed_table_rows(task, student)
    assert len(rows) > 10, "the published report lost this slice"
    page = RESULTS_PAGE.read_text().splitlines()
    stale = [row for row in rows if row not in page]
    assert not stale, f"docs/results.md is out of date for {task} x {student}; regenerate with " \
                      f"scripts/results_tables.py. Missing rows:\n" + "\n".join(stale)
