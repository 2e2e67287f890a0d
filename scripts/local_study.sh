#!/usr/bin/env bash
# The reproduction study of docs/results.md, in the order it was run on the 2-core machine: the sizing check
# (label_only, one seed, every task x student), then the slices of configs/local/study.yaml, one task x student
# at a time, all into one output directory (cells are shared between the configs and resume one by one).
# Usage: scripts/local_study.sh [OUT] [SLICE...]   (default runs/local; a SLICE is TASK/STUDENT, e.g.
#        OpenBookQA/SmolLM2-135M; with none given, every slice of the grid runs -- many hours on a CPU)
set -euo pipefail
OUT=${1:-runs/local}
shift || true
cotdistill study configs/local/sizing.yaml -o "$OUT"
if [ $# -eq 0 ]; then
  cotdistill study configs/local/study.yaml -o "$OUT"
fi
for slice in "$@"; do
  cotdistill study configs/local/study.yaml -o "$OUT" --only "task=${slice%%/*}" --only "student=${slice#*/}"
done
