#!/usr/bin/env bash
# Issue 22's experiments on CommonsenseQA (docs/results.md), run so that a grid spread over many short sessions
# (or machines) loses at most the cell that was running when one ended. It restores the cells the experiment shares
# with the published study (docs/results/local-study) and the experiment's own published cells
# (docs/results/csqa-EXPERIMENT), runs the missing cells that the selections pick with --drop-weights, and each
# time a cell finishes rewrites the report and the published copy in docs/results/csqa-EXPERIMENT -- commit that
# folder to keep it. The report of an unfinished grid says how many of its cells it covers.
# Usage: [OUT=DIR] scripts/csqa_experiments.sh EXPERIMENT [KEY=VALUE ...]
#   EXPERIMENT: content (c, configs/local/csqa_rationale_content.yaml), loss_share (a), more_data (b)
#   KEY=VALUE:  passed as `--only KEY=VALUE` (task, student, variant, seed), e.g. student=SmolLM2-135M
#   OUT:        the study's output directory (default runs/csqa-EXPERIMENT)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  content) config=configs/local/csqa_rationale_content.yaml ;;
  loss_share) config=configs/local/csqa_loss_share.yaml ;;
  more_data) config=configs/local/csqa_more_data.yaml ;;
  *) echo "usage: [OUT=DIR] scripts/csqa_experiments.sh content|loss_share|more_data [KEY=VALUE ...]" >&2
     exit 2 ;;
esac
published=docs/results/csqa-${1//_/-}
out=${OUT:-runs/csqa-${1//_/-}}
shift
only=()
for selection in "$@"; do only+=(--only "$selection"); done

python scripts/restore_results.py docs/results/local-study "$out" --config "$config"
if [ -f "$published/results.csv" ]; then
  python scripts/restore_results.py "$published" "$out" --config "$config"
fi

finished() { find "$out/cells" -mindepth 2 -maxdepth 2 -name DONE | wc -l; }
publish() {
  cotdistill report "$out" >/dev/null && python scripts/publish_results.py "$out" "$published" --overwrite \
    && echo "published $(finished) finished cells of $out to $published (commit it to keep them)"
}

cotdistill study "$config" -o "$out" "${only[@]}" --drop-weights --no-report &
study=$!
trap 'kill "$study" 2>/dev/null' INT TERM
seen=$(finished)
while kill -0 "$study" 2>/dev/null; do
  sleep 60
  now=$(finished)
  if [ "$now" -gt "$seen" ]; then
    publish || echo "publishing failed; the study goes on and the next finished cell retries" >&2
    seen=$now
  fi
done
status=0
wait "$study" || status=$?
if [ "$(finished)" -gt "$seen" ]; then
  publish
fi
exit "$status"
