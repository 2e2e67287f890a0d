#!/usr/bin/env bash
# The core pipeline's acceptance run (docs/core-obqa.md): SmolLM2-135M (packaged) fine-tuned with `cotdistill
# train` on the 500 OpenBookQA dev questions that have Mistral-7B rationales in ../shared, for label_only,
# cot_before_label and cot_after_label, then `cotdistill eval` on OpenBookQA test (500) in both modes.
# Usage: scripts/obqa_core.sh [OUT]   (default runs/obqa-core; finished steps are skipped on rerun)
set -euo pipefail
. "$(dirname "$0")/lib/train_eval.sh"
OUT=${1:-runs/obqa-core}
mkdir -p "$OUT"
for variant in label_only cot_before_label cot_after_label; do
  dir="$OUT/$variant"
  train_then_eval "$dir" configs/local/obqa_core/train.yaml "$variant" "$dir/eval/reasoning_first/metrics.json" \
    "$dir/eval" --task openbookqa --task-path ../shared/data/openbookqa --split test --mode both \
    --config configs/local/obqa_core/eval.yaml
done
python scripts/summarize_evals.py "$OUT"
