#!/usr/bin/env bash
# Usage: scripts/train.sh ARGS...   ->   build/mnistnet train ARGS... (run from the repo root)
# Builds if needed (quietly when already built), fetches MNIST, and Fashion-MNIST too when a
# config file among the arguments mentions "fashion-mnist" (or its name starts with fashion_).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MNISTNET_BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$PWD/$build # we cd to the repo root before running it

# Training needs the binary only: the test suite is not built here (scripts/test.sh builds it).
export MNISTNET_BUILD_TARGETS=${MNISTNET_BUILD_TARGETS:-mnistnet}
if [[ -x $build/mnistnet ]]; then
  if ! out=$(bash "$root/scripts/setup.sh" 2>&1); then
    printf '%s\n' "$out" >&2
    exit 1
  fi
else
  bash "$root/scripts/setup.sh" >&2
fi

need_fashion=0
for arg in "$@"; do
  arg=${arg#*=} # --config=FILE
  [[ $arg == *fashion-mnist* || $(basename -- "$arg") == fashion_* ]] && need_fashion=1
  for f in "$arg" "$root/$arg"; do
    if [[ -f $f ]] && grep -q 'fashion-mnist' -- "$f" 2>/dev/null; then
      need_fashion=1
    fi
  done
done

bash "$root/scripts/fetch_data.sh" mnist
((need_fashion == 0)) || bash "$root/scripts/fetch_data.sh" fashion-mnist

cd "$root"
exec "$build/mnistnet" train "$@"
