#!/usr/bin/env bash
# Build (via scripts/setup.sh) and run the test suite with ctest. Exit code is ctest's.
# The unit tests write their own synthetic IDX files, so no MNIST download is needed.
#
# Environment:
#   MNISTNET_BUILD_DIR        build directory (default: <repo>/build)
#   MNISTNET_TEST_SANITIZE=0  skip the second pass: <repo>/build-asan (Debug, ASan+UBSan) and its tests
#   MNISTNET_TEST_PACKAGE=0   skip the .deb check (scripts/deb_test.sh: cpack, unpack, run it)
#   MNISTNET_TEST_FUZZ=1      also a fuzz smoke: each libFuzzer target 10 s (scripts/fuzz.sh; off by default)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MNISTNET_BUILD_DIR:-$root/build}

# curl and python3: the clients of the serve end-to-end test (tests/serve/serve_e2e.py).
MNISTNET_EXTRA_PACKAGES="clang-format curl python3 ${MNISTNET_EXTRA_PACKAGES:-}" bash "$root/scripts/setup.sh"

# Every tracked C++ file is clang-formatted (.clang-format at the root); a difference fails the run.
unformatted=$(cd "$root" && git ls-files '*.cpp' '*.h' | xargs -r clang-format --dry-run 2>&1 |
  grep 'warning:' | cut -d: -f1 | sort -u || true)
if [[ -n $unformatted ]]; then
  printf 'test: clang-format would change these files (git ls-files "*.cpp" "*.h" | xargs clang-format -i):\n%s\n' \
    "$unformatted" >&2
  exit 1
fi
# The report's browser test renders a page in headless Chromium (it is skipped without it).
if ! command -v chromium >/dev/null 2>&1; then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq chromium >/dev/null; } || printf 'test: no chromium; browser test skipped\n' >&2
fi

# The ONNX export tests run the exported models in ONNX Runtime (npm onnxruntime-node, into
# ~/.cache/mnistnet-ort, or $MNISTNET_ORT_DIR) and in
# OpenCV's dnn (python3-opencv for /usr/bin/python3); each is skipped, saying why, without it.
onnx_packages=()
command -v node >/dev/null 2>&1 || onnx_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || onnx_packages+=(npm)
/usr/bin/python3 -c 'import cv2, numpy' >/dev/null 2>&1 || onnx_packages+=(python3-opencv python3-numpy)
if ((${#onnx_packages[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq "${onnx_packages[@]}" >/dev/null; } ||
    printf 'test: could not install %s; those ONNX runtime tests are skipped\n' "${onnx_packages[*]}" >&2
fi
ort_dir=${MNISTNET_ORT_DIR:-$HOME/.cache/mnistnet-ort}
if [[ ! -f $ort_dir/node_modules/onnxruntime-node/package.json ]] && command -v npm >/dev/null 2>&1; then
  # --ignore-scripts: the install script fetches optional GPU parts from a host CI cannot reach;
  # the CPU runtime ships inside the package.
  { mkdir -p "$ort_dir" && (cd "$ort_dir" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
    npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null); } ||
    printf 'test: could not install onnxruntime-node; the ONNX Runtime tests are skipped\n' >&2
fi

# The sweep's Slurm test starts a single-node Slurm (scripts/slurm_local.sh); skipped without it.
bash "$root/scripts/slurm_local.sh" install || printf 'test: no slurm-wlm; the Slurm test is skipped\n' >&2

rc=0
ctest --test-dir "$build" --output-on-failure --no-tests=error -j 2 || rc=$?

# The .deb, unpacked into a scratch root, runs --version and a one-epoch dense1 training.
if [[ ${MNISTNET_TEST_PACKAGE:-1} == 1 ]]; then
  deb_rc=0
  MNISTNET_BUILD_DIR=$build bash "$root/scripts/deb_test.sh" || deb_rc=$?
  ((rc != 0)) || rc=$deb_rc
fi

if [[ ${MNISTNET_TEST_SANITIZE:-1} == 1 ]]; then
  asan=$root/build-asan
  printf 'test: sanitizer build in %s\n' "$asan" >&2
  MNISTNET_BUILD_DIR=$asan \
    MNISTNET_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Debug -DMNISTNET_SANITIZE=ON -DMNISTNET_NATIVE=OFF" \
    bash "$root/scripts/setup.sh"
  asan_rc=0
  ctest --test-dir "$asan" --output-on-failure --no-tests=error -j 2 || asan_rc=$?
  ((rc != 0)) || rc=$asan_rc
fi
if [[ ${MNISTNET_TEST_FUZZ:-0} == 1 ]]; then
  fuzz_rc=0
  bash "$root/scripts/fuzz.sh" --seconds 10 || fuzz_rc=$?
  ((rc != 0)) || rc=$fuzz_rc
fi
exit "$rc"
