#!/usr/bin/env bash
# A hyperparameter sweep written by hand, on the scripting contract of `mnistnet train`
# (README, "Scripting"): --set for the values, --run-dir for where, -q for silence,
# summary.json for the result, the exit code for what happened. `mnistnet sweep` does all of
# this (and resumes, ranks, plots); this script shows the moving parts.
#
#   scripts/sweep_example.sh loop    # one trial after another
#   scripts/sweep_example.sh xargs   # JOBS trials at a time with xargs -P
#
# Environment: CONFIG (default configs/dense_dropout.json), OUT (default runs/sweep_example),
# EPOCHS (default 2), JOBS (default 2), DATA (a --data directory; default: the usual search),
# MNISTNET (default build/mnistnet).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mnistnet=${MNISTNET:-$root/build/mnistnet}
config=${CONFIG:-$root/configs/dense_dropout.json}
out=${OUT:-runs/sweep_example}
epochs=${EPOCHS:-2}
jobs=${JOBS:-2}
data_args=()
[[ -z ${DATA:-} ]] || data_args=(--data "$DATA")

# The grid: batch size x learning-rate decay. A trial's name says its values.
trials=()
for batch in 64 128; do
  for decay in 0.6 0.75; do
    trials+=("b${batch}_d${decay} training.batch_size=$batch training.lr_schedule.decay_rate=$decay")
  done
done

# One trial: name, then key=value overrides. Prints one line; exit 2 (a user error: a typo in
# a key path, a missing data set) stops everything, a divergence (3) or a crash (1) does not.
run_trial() {
  local name=$1
  shift
  local sets=(--set "training.epochs=$epochs")
  local kv
  for kv in "$@"; do sets+=(--set "$kv"); done
  local dir=$out/$name code=0
  if [[ -e $dir/summary.json ]]; then
    printf '%-16s done already\n' "$name"
    return 0
  fi
  mkdir -p "$dir"  # its stderr goes inside the run directory too
  "$mnistnet" train -q --config "$config" "${sets[@]}" --run-dir "$dir" "${data_args[@]}" 2>"$dir/stderr.log" || code=$?
  case $code in
    0) printf '%-16s val_accuracy %s\n' "$name" "$(sed -n 's/^ *"val_accuracy": \([^,]*\),*$/\1/p' "$dir/summary.json")" ;;
    3) printf '%-16s diverged\n' "$name" ;;
    2) printf '%-16s user error: %s\n' "$name" "$(cat "$dir/stderr.log")" >&2; return 255 ;;  # xargs stops on 255
    *) printf '%-16s failed (exit %d): %s\n' "$name" "$code" "$(tail -1 "$dir/stderr.log")" ;;
  esac
}

mkdir -p "$out"
case ${1:-loop} in
  loop)
    for trial in "${trials[@]}"; do
      # shellcheck disable=SC2086  # the trial line is words on purpose
      run_trial $trial
    done
    ;;
  xargs)
    # N trials at once, each with cores/N threads so they do not fight over the cores
    # (MNISTNET_THREADS sizes mnistnet's thread pool; OpenBLAS runs single-threaded).
    threads=$(($(nproc) / jobs))
    ((threads > 0)) || threads=1
    export MNISTNET_THREADS=$threads
    export mnistnet config out epochs
    export -f run_trial
    data_env=${DATA:-}
    export data_env
    # shellcheck disable=SC2016  # $data_env is expanded by the bash that xargs starts
    trial_command='data_args=(); [[ -z $data_env ]] || data_args=(--data "$data_env"); run_trial "$@"'
    printf '%s\n' "${trials[@]}" | xargs -P "$jobs" -L 1 bash -c "$trial_command" _
    ;;
  *)
    printf 'usage: %s [loop|xargs]\n' "$0" >&2
    exit 2
    ;;
esac

# The leaderboard: every finished trial's final validation accuracy, best first.
printf '\n%-16s %s\n' trial val_accuracy
for summary in "$out"/*/summary.json; do
  [[ -e $summary && ! -L $(dirname "$summary") ]] || continue  # not the `latest` link
  printf '%-16s %s\n' "$(basename "$(dirname "$summary")")" \
    "$(sed -n 's/^ *"val_accuracy": \([^,]*\),*$/\1/p' "$summary")"
done | sort -k2 -gr
