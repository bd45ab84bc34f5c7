#!/usr/bin/env bash
# mnistnet's inference beside ONNX Runtime's on the same exported model, same threads: batch
# 1000 images/s and batch-1 latency, alternating the two tools for several rounds; prints the
# medians. Each model is trained for a few steps (so batch norm has real statistics), saved,
# exported with `mnistnet export`, then timed by `mnistnet bench --weights` and by ONNX Runtime
# (npm onnxruntime-node, tests/onnx/ort_time.js; installed into ~/.cache/mnistnet-ort, or
# $MNISTNET_ORT_DIR, as scripts/test.sh does).
#
# Usage: scripts/bench_onnx.sh [--rounds N] [--threads T] [--models "conv_bn conv ..."]
# mnistnet's batch-1 figures are bench's mean and median over a second of single-image
# inference passes, each pass timed on its own (as ort_time.js times ONNX Runtime's).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
script_name=bench_onnx
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"
drop_openblas_coretype
build=${MNISTNET_BUILD_DIR:-$root/build}
ort_dir=${MNISTNET_ORT_DIR:-$HOME/.cache/mnistnet-ort}
rounds=3
threads=2
models="conv_bn"
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    *) echo "bench_onnx.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
bash "$root/scripts/setup.sh" >/dev/null
bash "$root/scripts/fetch_data.sh" mnist >/dev/null
if [[ ! -f $ort_dir/node_modules/onnxruntime-node/package.json ]]; then
  mkdir -p "$ort_dir"
  (cd "$ort_dir" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
    npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ort() { NODE_PATH=$ort_dir/node_modules node "$root/tests/onnx/ort_time.js" "$@"; }

printf '%-10s %14s %14s %7s   %16s %16s\n' model "mnistnet img/s" "ORT img/s" ratio \
  "mnistnet b1 ms (med)" "ORT b1 ms (med)"
for model in $models; do
  config=$root/configs/$model.json
  "$build/mnistnet" train --config "$config" --set training.epochs=1 \
    --set training.steps_per_epoch=20 --run-dir "$work/$model" -q
  "$build/mnistnet" export --model "$work/$model/model.mnn" --out "$work/$model.onnx" -q
  bench=("$build/mnistnet" bench --config "$config" --weights "$work/$model/model.mnn"
    --threads "$threads" --json)
  : >"$work/m1000" && : >"$work/o1000" && : >"$work/m1" && : >"$work/m1med" && : >"$work/o1" &&
    : >"$work/o1med"
  for ((r = 0; r < rounds; ++r)); do
    "${bench[@]}" --steps 60 --warmup 5 --infer-batch 1000 | jq .infer_images_per_sec >>"$work/m1000"
    ort "$work/$model.onnx" 1,28,28 1000 5 "$threads" | jq .images_per_sec >>"$work/o1000"
    "${bench[@]}" --set training.batch_size=1 --steps 1 --warmup 1 --infer-batch 1 >"$work/m1.json"
    jq .infer_mean_ms "$work/m1.json" >>"$work/m1" && jq .infer_median_ms "$work/m1.json" >>"$work/m1med"
    ort "$work/$model.onnx" 1,28,28 1 200 "$threads" >"$work/o1.json"
    jq .mean_ms "$work/o1.json" >>"$work/o1" && jq .median_ms "$work/o1.json" >>"$work/o1med"
    printf 'round %d: mnistnet %s / ORT %s img/s, batch 1: mnistnet %s / ORT %s ms\n' "$r" \
      "$(tail -1 "$work/m1000")" "$(tail -1 "$work/o1000")" "$(tail -1 "$work/m1")" \
      "$(tail -1 "$work/o1")" >&2
  done
  m1000=$(median <"$work/m1000") o1000=$(median <"$work/o1000")
  m1=$(median <"$work/m1") m1med=$(median <"$work/m1med")
  o1=$(median <"$work/o1") o1med=$(median <"$work/o1med")
  printf '%-10s %14.0f %14.0f %6.2fx   %9.3f (%.3f) %9.3f (%.3f)\n' "$model" "$m1000" "$o1000" \
    "$(awk -v a="$m1000" -v b="$o1000" 'BEGIN {print a / b}')" "$m1" "$m1med" "$o1" "$o1med"
done
printf 'threads %s, medians of %s alternating rounds; batch-1 figures are mean (median) ms per single-image pass\n' \
  "$threads" "$rounds"
