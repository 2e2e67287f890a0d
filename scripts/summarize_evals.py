"""Print a Markdown table of the runs under a directory written by scripts/obqa_core.sh.

Each run directory holds eval/<mode>/metrics.json and wall_times.json; accuracy is shown with a 95% Wilson
interval over the evaluated questions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from statsmodels.stats.proportion import proportion_confint


def main(root: str) -> None:
    print("| variant | mode | accuracy (95% CI) | n | format compliance | tokens generated | s / answer "
          "| train wall s | eval wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in sorted(p for p in Path(root).iterdir() if (p / "eval").is_dir()):
        walls = json.loads((run / "wall_times.json").read_text()) if (run / "wall_times.json").exists() else {}
        for metrics_file in sorted((run / "eval").glob("*/metrics.json")):
            m = json.loads(metrics_file.read_text())
            n, correct = m["n"], round(m["accuracy"] * m["n"])
            lo, hi = proportion_confint(correct, n, method="wilson")
            compliance = m.get("format_compliance")
            print(f"| {run.name} | {metrics_file.parent.name} | {m['accuracy']:.3f} ({lo:.3f}-{hi:.3f}) | {n} "
                  f"| {'-' if compliance is None else f'{compliance:.3f}'} "
                  f"| {m.get('mean_tokens_generated', 0):.1f} | {m['seconds_per_answer']:.3f} "
                  f"| {walls.get('train_seconds', '-')} | {walls.get('eval_seconds', '-')} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/obqa-core")
