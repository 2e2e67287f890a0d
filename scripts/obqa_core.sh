#!/usr/bin/env bash
# The core pipeline's acceptance run (docs/core-obqa.md): SmolLM2-135M (packaged) fine-tuned with `cotdistill
# train` on the 500 OpenBookQA dev questions that have Mistral-7B rationales in ../shared, for label_only,
# cot_before_label and cot_after_label, then `cotdistill eval` on OpenBookQA test (500) in both modes.
# Usage: scripts/obqa_core.sh [OUT]   (default runs/obqa-core; finished steps are skipped on rerun)
set -euo pipefail
OUT=${1:-runs/obqa-core}
mkdir -p "$OUT"
for variant in label_only cot_before_label cot_after_label; do
  dir="$OUT/$variant"
  start=$(date +%s)
  if [ ! -f "$dir/student/cotdistill.json" ] || ! grep -q '"finished": true' "$dir/student/cotdistill.json"; then
    cotdistill train --config configs/local/obqa_core/train.yaml --variant "$variant" --output "$dir/student"
  fi
  trained=$(date +%s)
  if [ ! -f "$dir/eval/reasoning_first/metrics.json" ]; then
    cotdistill eval --student "$dir/student" --task openbookqa --task-path ../shared/data/openbookqa --split test \
      --mode both --config configs/local/obqa_core/eval.yaml --output "$dir/eval"
  fi
  done_at=$(date +%s)
  printf '{"variant": "%s", "train_seconds": %d, "eval_seconds": %d}\n' "$variant" $((trained - start)) \
    $((done_at - trained)) > "$dir/wall_times.json"
done
python scripts/summarize_evals.py "$OUT"
