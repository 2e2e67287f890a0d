#!/usr/bin/env bash
# The pipeline's GPU smoke run: every stage once on real-shaped random-weight students (SmolLM2-135M and
# Gemma-3-270M architectures), printing each stage's device, seconds and peak memory (scripts/gpu_smoke.py).
# Under 5 minutes on one GPU; on 2+ GPUs it also trains on 2 ranks with torchrun.
#   bash scripts/gpu_smoke.sh [OUT_DIR]          (default: $OUT, else ./gpu-smoke)
# A lent GPU machine reaches no network: it uses the torch it has, and the packages cotdistill needs beyond it
# are installed from a carried wheel folder when one exists (wheels/, made here with
#   pip download --only-binary :all: -d wheels transformers accelerate peft ...   -- see docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-${OUT:-gpu-smoke}}
mkdir -p "$OUT_DIR"
if [ -d wheels ]; then
  python -m pip install -q --no-index --find-links wheels --no-deps wheels/*.whl
fi
python -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1 || export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee "$OUT_DIR/gpus.txt" || true
for shape in smollm2 gemma3; do
  python scripts/gpu_smoke.py --shape "$shape" --out "$OUT_DIR/gpu_smoke_$shape.json"
done
