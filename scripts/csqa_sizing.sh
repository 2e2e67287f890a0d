#!/usr/bin/env bash
# Sizing check for the CommonsenseQA study: is label_only clearly above chance (20%) with SmolLM2-135M, 2000
# training questions, 1 epoch, choice-text labels? And cot_after_label with the PaLM-540B rationales beside it.
# Usage: scripts/csqa_sizing.sh [OUT]   (default runs/csqa-sizing; finished steps are skipped on rerun)
set -euo pipefail
. "$(dirname "$0")/lib/train_eval.sh"
OUT=${1:-runs/csqa-sizing}
for variant in label_only cot_after_label; do
  dir="$OUT/$variant"
  train_then_eval "$dir" configs/local/csqa_sizing/train.yaml "$variant" "$dir/eval/label_first/metrics.json" \
    "$dir/eval/label_first" --task commonsense_qa --task-path ../shared/data/commonsenseqa --split validation \
    --mode label_first --config configs/local/csqa_sizing/eval.yaml
done
python scripts/summarize_evals.py "$OUT"
