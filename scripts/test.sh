#!/usr/bin/env bash
# The tests on a fresh machine: install whatever is missing (scripts/install.sh), then the default suite (tiny
# in-process models, no network, no ../shared needed). Arguments go to pytest, e.g. `-m extended` for the longer
# cases CI runs after it, or `-m slow` for the runs on real packaged models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest -q "$@"
