#!/usr/bin/env bash
# Install the build dependencies that are missing (Debian packages) and build mnistnet.
# Idempotent: installed packages are not touched, an existing build dir is not re-configured
# (unless MNISTNET_CMAKE_ARGS is given), and the build itself is incremental.
#
# Environment:
#   MNISTNET_BUILD_DIR   build directory (default: <repo>/build)
#   MNISTNET_CMAKE_ARGS  extra cmake configure arguments, split on whitespace
#   MNISTNET_EXTRA_PACKAGES  more Debian packages to install, split on whitespace (fuzz.sh: clang)
#   MNISTNET_BUILD_TARGETS   build only these targets, split on whitespace (default: all)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MNISTNET_BUILD_DIR:-$root/build}

script_name=setup
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"

packages=(cmake g++ make libcli11-dev nlohmann-json3-dev libopenblas-dev libspdlog-dev catch2 libstb-dev
  zlib1g-dev pkg-config libonnx-dev libprotobuf-dev libzip-dev libcsv-dev libcpp-httplib-dev)
if [[ -n ${MNISTNET_EXTRA_PACKAGES:-} ]]; then
  read -r -a extra_packages <<<"$MNISTNET_EXTRA_PACKAGES"
  packages+=("${extra_packages[@]}")
fi
missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
fi

extra=()
if [[ -n ${MNISTNET_CMAKE_ARGS:-} ]]; then
  read -r -a extra <<<"$MNISTNET_CMAKE_ARGS"
fi
# Configure only once per build dir (a configure that failed half-way left a cache but no build
# system, so that is redone); explicit extra arguments are applied to an existing cache.
if [[ ! -f $build/CMakeCache.txt || ${#extra[@]} -gt 0 ]] ||
  [[ ! -f $build/Makefile && ! -f $build/build.ninja ]]; then
  log "configuring $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" ||
    die "cmake configure failed"
fi
log "building $build"
targets=()
if [[ -n ${MNISTNET_BUILD_TARGETS:-} ]]; then
  read -r -a names <<<"$MNISTNET_BUILD_TARGETS"
  targets=(--target "${names[@]}")
fi
cmake --build "$build" -j "$(nproc)" "${targets[@]}" || die "build failed"
log "done"
