#!/usr/bin/env bash
# Screenshot of a study's HTML report in Debian's headless chromium (apt-get install -y chromium):
#   scripts/screenshot_report.sh cotdistill-demo docs/report-screenshot.png
set -euo pipefail
study_dir=$1
png=$2
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
  --hide-scrollbars --window-size=1280,2200 --virtual-time-budget=5000 \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$study_dir")/report/report.html"
