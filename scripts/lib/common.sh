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
