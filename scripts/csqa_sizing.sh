#!/usr/bin/env bash
# Sizing check for the CommonsenseQA study: is label_only clearly above chance (20%) with SmolLM2-135M, 2000
# training questions, 1 epoch, choice-text labels? And cot_after_label with the PaLM-540B rationales beside it.
# Usage: scripts/csqa_sizing.sh [OUT]   (default runs/csqa-sizing; finished steps are skipped on rerun)
set -euo pipefail
OUT=${1:-runs/csqa-sizing}
for variant in label_only cot_after_label; do
  dir="$OUT/$variant"
  start=$(date +%s)
  if [ ! -f "$dir/student/cotdistill.json" ] || ! grep -q '"finished": true' "$dir/student/cotdistill.json"; then
    cotdistill train --config configs/local/csqa_sizing/train.yaml --variant "$variant" --output "$dir/student"
  fi
  trained=$(date +%s)
  if [ ! -f "$dir/eval/label_first/metrics.json" ]; then
    cotdistill eval --student "$dir/student" --task commonsense_qa --task-path ../shared/data/commonsenseqa \
      --split validation --mode label_first --config configs/local/csqa_sizing/eval.yaml --output "$dir/eval/label_first"
  fi
  done_at=$(date +%s)
  printf '{"variant": "%s", "train_seconds": %d, "eval_seconds": %d}\n' "$variant" $((trained - start)) \
    $((done_at - trained)) > "$dir/wall_times.json"
done
python scripts/summarize_evals.py "$OUT"
