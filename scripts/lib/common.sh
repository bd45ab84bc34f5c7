# shellcheck shell=bash disable=SC2154  # script_name is set by the sourcing script
# Shared by the scripts (sourced, not run): messages prefixed with the script's name, and
# running a command as root. The caller sets script_name first.

log() { printf '%s: %s\n' "$script_name" "$*" >&2; }

die() {
  printf '%s: error: %s\n' "$script_name" "$*" >&2
  exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# Benchmarks measure each tool at its best: an OPENBLAS_CORETYPE in the environment (some
# machines set one machine-wide, e.g. Haswell on an AVX-512 EPYC) would hold mnistnet and the
# reference to those kernels, so it is dropped, and said; MNISTNET_BENCH_KEEP_CORETYPE=1 keeps it.
drop_openblas_coretype() {
  if [[ -n ${OPENBLAS_CORETYPE:-} && ${MNISTNET_BENCH_KEEP_CORETYPE:-0} != 1 ]]; then
    log "not using OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE from the environment: each tool picks its kernels for this CPU (MNISTNET_BENCH_KEEP_CORETYPE=1 keeps it)"
    unset OPENBLAS_CORETYPE
  fi
}
