#!/usr/bin/env bash
# The main job on a fresh machine: install whatever is missing (scripts/install.sh), then `cotdistill demo`
# (sized to a 15-minute budget by default; arguments are passed on, e.g. --budget 30m or -o DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/cotdistill demo "$@"
