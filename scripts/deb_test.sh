#!/usr/bin/env bash
# Builds the .deb (cpack -G DEB in the build directory) and tries it as an installed package:
# unpacked into a scratch root with dpkg-deb -x, its declared Depends checked against the
# machine's package database (each one installed, at a version that satisfies it), every
# shared library the binary needs checked to come from a declared dependency, then the
# unpacked /usr/bin/mnistnet runs --version and a one-epoch dense1 training on MNIST from the
# unpacked /usr/share/mnistnet/configs.
#
# Why not debootstrap + chroot: that downloads a base system (minutes, network, root); the
# scratch root plus the dependency checks test what the package adds (its files and its
# declared dependencies) in seconds, on a bare Debian 12 CI machine too.
#
# Environment: MNISTNET_BUILD_DIR (default <repo>/build), MNISTNET_DATA (see fetch_data.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MNISTNET_BUILD_DIR:-$root/build}
script_name=deb_test
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"

command -v dpkg-shlibdeps >/dev/null || MNISTNET_EXTRA_PACKAGES="dpkg-dev" bash "$root/scripts/setup.sh" >/dev/null
[[ -f $build/CMakeCache.txt ]] || MNISTNET_BUILD_DIR=$build bash "$root/scripts/setup.sh" >/dev/null
# cpack installs what is built (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): build just the binary.
cmake --build "$build" --target mnistnet -j "$(nproc)" >/dev/null

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log" >&2; die "cpack -G DEB failed"; }
deb=$(find "$scratch/out" -maxdepth 1 -name '*.deb' | head -n 1)
[[ -n $deb ]] || die "cpack made no .deb"
log "built $(basename "$deb")"

# Declared dependencies: every group (a | b) needs one installed member satisfying its version.
depends=$(dpkg-deb -f "$deb" Depends)
[[ -n $depends ]] || die "$(basename "$deb") declares no dependencies"
IFS=',' read -r -a groups <<<"$depends"
for group in "${groups[@]}"; do
  ok=0
  IFS='|' read -r -a alternatives <<<"$group"
  for alt in "${alternatives[@]}"; do
    read -r pkg op version <<<"$(sed -E 's/[()]/ /g' <<<"$alt")"
    status=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
    if [[ $status != "install ok installed "* && -z ${op:-} ]]; then
      # A virtual package (libspdlog1.10-fmt9): an installed package that Provides it.
      provider=$(dpkg-query -W -f='${Status}|${Package}|${Provides}\n' 2>/dev/null |
        awk -F'|' -v p="$pkg" '$1 == "install ok installed" && ("," $3 ",") ~ (", ?" p "[ ,(]") && !found {found = $2}
          END {print found}')  # reads to the end: an early exit would SIGPIPE dpkg-query under pipefail
      [[ -n $provider ]] && { ok=1; break; }
    fi
    [[ $status == "install ok installed "* ]] || continue
    if [[ -z ${op:-} ]] || dpkg --compare-versions "${status##* }" "$op" "$version"; then
      ok=1
      break
    fi
  done
  ((ok)) || die "declared dependency not satisfied on this machine: $group"
done
log "Depends: $depends"

tree=$scratch/root
dpkg-deb -x "$deb" "$tree"
binary=$tree/usr/bin/mnistnet
[[ -x $binary ]] || die "the package has no /usr/bin/mnistnet"
# Every library the binary loads must belong to a declared dependency (else the package would
# install but not run on a machine without the build's -dev packages).
# install (a metapackage such as libopenblas0 counts for the packages it depends on).
names() { sed -E 's/\([^)]*\)//g; s/[,|]/ /g' | tr -s ' '; }
declared=" $(names <<<"$depends") "
for pkg in $declared; do
  declared+="$(dpkg-query -W -f='${Depends}' "$pkg" 2>/dev/null | names) "
done
declared=" $(tr -s ' ' <<<"$declared") "
while read -r lib; do
  path=$(ldd "$binary" | awk -v l="$lib" '$1 == l {print $3}')
  [[ -n $path ]] || die "$lib: not found by the loader"
  real=$(readlink -f "$path")
  # Merged /usr: dpkg may know the file as /lib/... rather than /usr/lib/...
  owner=$(dpkg -S "$real" "${real#/usr}" 2>/dev/null | head -n 1 | cut -d: -f1 || true)
  # The owner may be declared by a virtual name it Provides (libspdlog1.10 as libspdlog1.10-fmt9).
  provides=$(dpkg-query -W -f='${Provides}' "$owner" 2>/dev/null | names || true)
  covered=0
  for name in $owner $provides; do [[ $declared == *" $name "* ]] && covered=1; done
  ((covered)) ||
    die "$lib ($real, package ${owner:-none}) is not covered by the declared Depends"
done < <(readelf -d "$binary" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')

"$binary" --version
bash "$root/scripts/fetch_data.sh" mnist >/dev/null
data=${MNISTNET_DATA:-$root/data}/mnist
(cd "$scratch" && "$binary" train --config "$tree/usr/share/mnistnet/configs/dense1.json" \
  --set training.epochs=1 --data "$data" --run-dir "$scratch/run" --quiet)
[[ -f $scratch/run/summary.json ]] || die "the one-epoch training wrote no summary.json"
log "one dense1 epoch from the package: $(tr -d '\n' <"$scratch/run/summary.json" | grep -o '"val_accuracy": *[0-9.]*')"
