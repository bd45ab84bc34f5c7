#!/usr/bin/env bash
# Trains codelab configs with several seeds and prints the final validation accuracy of each run
# and the median per config: the figures the convolution issue asks for.
# Usage: scripts/accuracy.sh [--seeds "42 1 2"] [--epochs N] CONFIG...   (default: the codelab set)
# Runs land in runs/accuracy/<config>-seed<seed>/; a finished run is not trained again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seeds="42 1 2"
epochs=""
configs=()
while (($#)); do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    *) configs+=("$1"); shift ;;
  esac
done
((${#configs[@]})) || configs=(configs/dense_dropout.json configs/conv.json configs/conv_dropout.json configs/conv_bn.json)

bash "$root/scripts/setup.sh" >/dev/null
bash "$root/scripts/fetch_data.sh" mnist >/dev/null
grep -lq fashion-mnist "${configs[@]/#/$root/}" 2>/dev/null && bash "$root/scripts/fetch_data.sh" fashion-mnist >/dev/null
cd "$root"

printf '%-28s %6s %12s %10s\n' config seed val_accuracy seconds
for config in "${configs[@]}"; do
  name=$(basename "$config" .json)
  accs=()
  for seed in $seeds; do
    run=runs/accuracy/$name-seed$seed
    if [[ ! -f $run/summary.json ]]; then
      args=(--config "$config" --set "seed=$seed" --run-dir "$run" --quiet)
      [[ -z $epochs ]] || args+=(--set "training.epochs=$epochs")
      build/mnistnet train "${args[@]}"
    fi
    acc=$(sed -n 's/^ *"val_accuracy": \([0-9.eE+-]*\).*/\1/p' "$run/summary.json")
    secs=$(sed -n 's/^ *"seconds": \([0-9.eE+-]*\).*/\1/p' "$run/summary.json")
    accs+=("$acc")
    printf '%-28s %6s %12s %10s\n' "$name" "$seed" "$acc" "$secs"
  done
  median=$(printf '%s\n' "${accs[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
  printf '%-28s %6s %12s\n' "$name" median "$median"
done
