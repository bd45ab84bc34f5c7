#!/usr/bin/env bash
# Training and inference speed of mnistnet against the PyTorch reference on the codelab configs,
# measured in the same run on the same machine, alternating the two, several rounds; prints the
# medians, mnistnet's GFLOP/s as a share of this machine's SGEMM peak, and the peak memory (RSS)
# of a conv_bn (and resnet) training run of each. The CPU model and the OpenBLAS core mnistnet runs come first.
#
# Usage: scripts/bench.sh [--rounds N] [--steps N] [--dense-steps N] [--rss-epochs N] [--models "dense2 conv_bn ..."]
# (--steps for the convolutional models, --dense-steps for the dense ones; both tools run the same.)
# The reference is ../shared/bench/run_torch.sh (or $MNISTNET_TORCH_BENCH); it installs Debian's
# python3-torch when missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
script_name=bench
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"
drop_openblas_coretype
build=${MNISTNET_BUILD_DIR:-$root/build}
torch_bench=${MNISTNET_TORCH_BENCH:-$root/../shared/bench/run_torch.sh}
rounds=3
steps=150
dense_steps=1500  # a dense step is about 1 ms: 150 of them time the warm-up more than the model
rss_epochs=1
models="dense1 dense2 dense_dropout conv conv_dropout conv_bn"
# The residual model comes with configs/resnet.json (the reference has --model resnet).
[[ -f $root/configs/resnet.json ]] && models+=" resnet"
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --dense-steps) dense_steps=$2; shift 2 ;;
    --rss-epochs) rss_epochs=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

need=()
command -v jq >/dev/null || need+=(jq)
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
bash "$root/scripts/setup.sh" >/dev/null
bash "$root/scripts/fetch_data.sh" mnist >/dev/null
[[ -x $torch_bench ]] || { echo "bench.sh: no PyTorch reference at $torch_bench" >&2; exit 2; }
cd "$root"

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# The peak is the best of three measurements: on a shared machine one can land on a busy moment.
peak=$(for _ in 1 2 3; do "$build/mnistnet" bench --config configs/dense1.json --steps 1 --warmup 0 --peak --json | jq .peak_gflops; done | sort -g | tail -n 1)
# The CPU, the OpenBLAS core and the engine's kernels, as `mnistnet --version` says them.
"$build/mnistnet" --version | tail -n +2
echo "SGEMM peak of this machine: $(printf '%.1f' "$peak") GFLOP/s"

for round in $(seq "$rounds"); do
  for model in $models; do
    echo "round $round/$rounds: $model" >&2
    n=$steps
    [[ $model == dense* ]] && n=$dense_steps
    "$build/mnistnet" bench --config "configs/$model.json" --steps "$n" --json >"$results/ours-$model-$round.json"
    "$torch_bench" --model "$model" --bench-steps "$n" 2>/dev/null | tail -n 1 >"$results/torch-$model-$round.json"
    printf '  mnistnet %.1f img/s, pytorch %.1f img/s\n' "$(jq .train_images_per_sec "$results/ours-$model-$round.json")" \
      "$(jq .images_per_sec "$results/torch-$model-$round.json")" >&2
  done
  "$torch_bench" --model conv_bn --bench-steps 20 --bench-infer 2>/dev/null | tail -n 1 >"$results/torch-infer-$round.json"
done

printf '\n%-15s %12s %12s %7s %9s %7s\n' model "mnistnet/s" "pytorch/s" ratio "GFLOP/s" "%peak"
for model in $models; do
  ours=$(cat "$results"/ours-"$model"-*.json | jq .train_images_per_sec | median)
  theirs=$(cat "$results"/torch-"$model"-*.json | jq .images_per_sec | median)
  gflops=$(cat "$results"/ours-"$model"-*.json | jq .gflops | median)
  awk -v m="$model" -v a="$ours" -v b="$theirs" -v g="$gflops" -v p="$peak" \
    'BEGIN {printf "%-15s %12.1f %12.1f %7.2f %9.1f %6.1f%%\n", m, a, b, a / b, g, 100 * g / p}'
done
# Inference: conv_bn only.
if [[ " $models " == *" conv_bn "* ]]; then
  ours=$(cat "$results"/ours-conv_bn-*.json | jq .infer_images_per_sec | median)
  theirs=$(cat "$results"/torch-infer-*.json | jq .images_per_sec | median)
  awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%-15s %12.1f %12.1f %7.2f   (inference, batch 1000)\n", "conv_bn", a, b, a / b}'
fi

# Peak memory and epoch time of a whole training run: conv_bn, and resnet when it is benchmarked.
for m in conv_bn resnet; do
  [[ " $models " == *" $m "* ]] || continue
  echo "peak RSS and seconds of a $rss_epochs-epoch $m training run:" >&2
  rss_ours=$( { /usr/bin/time -f %M "$build/mnistnet" train --config "configs/$m.json" --quiet \
    --set "training.epochs=$rss_epochs" --run-dir "$results/rss-run-$m" >/dev/null; } 2>&1 | tail -n 1)
  rss_torch=$( { /usr/bin/time -f %M "$torch_bench" --model "$m" --data-dir data/mnist \
    --epochs "$rss_epochs" >"$results/torch-epochs-$m.txt"; } 2>&1 | tail -n 1)
  awk -v m="$m" -v a="$rss_ours" -v b="$rss_torch" 'BEGIN {printf "%-15s %9.0f MiB %9.0f MiB %7.2f   (peak RSS, training)\n", m, a / 1024, b / 1024, a / b}'
  # Training seconds per epoch (without the validation pass), from each tool's own log.
  secs_ours=$(awk -F, 'NR > 1 {s += $7; n++} END {print s / n}' "$results/rss-run-$m/metrics.csv")
  secs_torch=$(tail -n 1 "$results/torch-epochs-$m.txt" | jq ".train_seconds / $rss_epochs")
  awk -v m="$m" -v a="$secs_ours" -v b="$secs_torch" 'BEGIN {printf "%-15s %11.1f s %11.1f s %7.2f   (seconds per epoch; speed ratio %.2f)\n", m, a, b, a / b, b / a}'
done
