# Sourced by the acceptance scripts: train one variant with `cotdistill train`, evaluate it with `cotdistill eval`,
# skip whichever step already finished, and record both wall times in DIR/wall_times.json (only when a step ran,
# so rerunning a finished run keeps the times it measured).
# train_then_eval DIR TRAIN_CONFIG VARIANT EVAL_METRICS EVAL_OUTPUT EVAL_ARG...
#   EVAL_METRICS: the metrics.json whose presence means the evaluation finished; EVAL_ARG: `cotdistill eval` flags
#   other than --student and --output.
train_then_eval() {
  local dir=$1 config=$2 variant=$3 metrics=$4 eval_out=$5
  shift 5
  local start trained done_at ran=0
  start=$(date +%s)
  if [ ! -f "$dir/student/cotdistill.json" ] || ! grep -q '"finished": true' "$dir/student/cotdistill.json"; then
    cotdistill train --config "$config" --variant "$variant" --output "$dir/student"
    ran=1
  fi
  trained=$(date +%s)
  if [ ! -f "$metrics" ]; then
    cotdistill eval --student "$dir/student" --output "$eval_out" "$@"
    ran=1
  fi
  done_at=$(date +%s)
  [ "$ran" = 1 ] || return 0
  printf '{"variant": "%s", "train_seconds": %d, "eval_seconds": %d}\n' "$variant" $((trained - start)) \
    $((done_at - trained)) > "$dir/wall_times.json"
}
