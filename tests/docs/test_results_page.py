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

# Minutes on 2 cores: run by CI after the default suite (-m extended), not in it.
pytestmark = pytest.mark.extended

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "results" / "local-study"
RESULTS_PAGE = ROOT / "docs" / "results.md"

# The slices the page tabulates, by published study: the grids (their sections are rewritten by --page) and issue
# 22's experiments (tabulated in sections of their own); the sizing-only slice (QuaRel) is cited in prose.
SLICES = [("local-study", "OpenBookQA", "SmolLM2-135M"), ("local-study", "OpenBookQA", "Gemma-3-270M"),
          ("local-study", "CommonsenseQA", "SmolLM2-135M"), ("local-study", "CommonsenseQA", "Gemma-3-270M"),
          ("csqa-loss-share", "CommonsenseQA", "SmolLM2-135M"),
          ("csqa-loss-share", "CommonsenseQA", "Gemma-3-270M"), ("csqa-content", "CommonsenseQA", "SmolLM2-135M"),
          ("csqa-content", "CommonsenseQA", "Gemma-3-270M"), ("csqa-more-data", "CommonsenseQA (499)", "SmolLM2-135M"),
          ("csqa-more-data", "CommonsenseQA", "SmolLM2-135M")]


def printed_table_rows(study: str, task: str, student: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "results_tables.py"), str(PUBLISHED.parent / study), task, student],
        capture_output=True, text=True, check=True,
    )
    return [line for line in completed.stdout.splitlines() if line.startswith("| ") and "---" not in line]


@pytest.mark.parametrize(("study", "task", "student"), SLICES)
def test_results_page_quotes_the_published_tables(study: str, task: str, student: str) -> None:
    rows = printed_table_rows(study, task, student)
    assert len(rows) > 10, "the published report lost this slice"
    page = RESULTS_PAGE.read_text().splitlines()
    stale = [row for row in rows if row not in page]
    assert not stale, f"docs/results.md is out of date for {study}, {task} x {student}; paste the output of " \
                      f"`python scripts/results_tables.py docs/results/{study} {task} {student}` (the grids: " \
                      f"`--page docs/results.md`). Missing rows:\n" + "\n".join(stale)


def test_page_mode_rewrites_stale_tables_and_keeps_the_prose(tmp_path):
    page = tmp_path / "results.md"
    fresh = RESULTS_PAGE.read_text()
    # Make one table row of each kind stale in the CommonsenseQA x SmolLM2-135M section.
    section_start = fresh.index("## CommonsenseQA, SmolLM2-135M:")
    stale_rows = [next(line for line in fresh[section_start:].splitlines() if line.startswith(prefix))
                  for prefix in ("| label_only | label-first | 3 |", "| 2 |", "| label_only | label-first | 4")]
    stale = fresh
    for row in stale_rows:
        stale = stale.replace(row, row.replace("| ", "| stale ", 1), 1)
    assert stale != fresh
    page.write_text(stale)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "results_tables.py"), str(PUBLISHED), "--page", str(page)],
                   check=True, capture_output=True, text=True)
    assert page.read_text() == fresh


def test_results_page_quotes_the_published_wall_times():
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "study_times.py"), str(PUBLISHED)],
                               capture_output=True, text=True, check=True)
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[-1].startswith("| all |") and len(rows) > 5
    page = RESULTS_PAGE.read_text().splitlines()
    stale = [row for row in rows if row not in page]
    assert not stale, "docs/results.md's wall-time table is out of date; paste the output of `python " \
                      "scripts/study_times.py docs/results/local-study`. Missing rows:\n" + "\n".join(stale)


# Cells the page compares one to one (the same cell trained in bf16 and in fp32, beside another seed).
COMPARED_CELLS = [
    ("docs/results/csqa-content:aba65200b429e7cf", "docs/results/csqa-content-zen3-fp32:aba65200b429e7cf",
     "docs/results/csqa-content-zen3-fp32:47e2cd49133bf921"),
]


@pytest.mark.parametrize("cells", COMPARED_CELLS)
def test_results_page_quotes_the_cell_comparisons(cells):
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_cells.py"), *cells], cwd=ROOT,
                               capture_output=True, text=True, check=True)
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 2 + len(cells) + len(cells) * (len(cells) - 1) // 2
    page = RESULTS_PAGE.read_text().splitlines()
    stale = [row for row in rows if row not in page]
    assert not stale, "docs/results.md's cell comparison is out of date; paste the output of `python " \
                      f"scripts/compare_cells.py {' '.join(cells)}`. Missing rows:\n" + "\n".join(stale)
