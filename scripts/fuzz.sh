#!/usr/bin/env bash
# Fuzz mnistnet's input parsers with libFuzzer (clang, ASan + UBSan): the config parser, the IDX
# reader, the model-file loader, the image decoder + digit preprocessor and the serve request parser (tests/fuzz/).
#
#   scripts/fuzz.sh [--seconds N] [target...]     targets: config idx model_file checkpoint image csv npz serve_request (default: all)
#
# Installs clang and libFuzzer when missing, builds the targets in build-fuzz, then runs each for N
# seconds (default 600), one after another, on its committed seed corpus tests/fuzz/corpus/<target>/
# plus a scratch corpus outside git (build-fuzz/corpus/<target>/, where new inputs go and which the
# next run starts from). Prints executions per second and the corpus size per target, and exits 1
# when any target reported a crash, a leak, a timeout, running out of memory or a UBSan finding;
# the input that did it is saved under build-fuzz/artifacts/<target>/.
#
# Environment:
#   MNISTNET_FUZZ_BUILD_DIR  build directory (default: <repo>/build-fuzz)
#   MNISTNET_FUZZ_ARGS       extra libFuzzer flags, split on whitespace (e.g. -max_len=65536)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${MNISTNET_FUZZ_BUILD_DIR:-$root/build-fuzz}
all_targets=(config idx model_file checkpoint image csv npz serve_request)

script_name=fuzz
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"

seconds=600
targets=()
while (($#)); do
  case $1 in
    --seconds)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a positive whole number, got '${2:-}'"
      seconds=$2
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option $1 (usage: scripts/fuzz.sh [--seconds N] [target...])" ;;
    *)
      [[ " ${all_targets[*]} " == *" $1 "* ]] || die "unknown target '$1' (targets: ${all_targets[*]})"
      targets+=("$1")
      shift
      ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

# libFuzzer ships in Debian's libclang-rt-*-dev (pulled in by libclang-rt-dev).
fuzzer_links() {
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
    clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o /dev/null >/dev/null 2>&1
}
extra_packages=""
command -v clang++ >/dev/null 2>&1 || extra_packages="clang libclang-rt-dev"
if [[ -z $extra_packages ]] && ! fuzzer_links; then extra_packages="libclang-rt-dev"; fi

binaries=()
for t in "${targets[@]}"; do binaries+=("fuzz_$t"); done
MNISTNET_BUILD_DIR=$build MNISTNET_EXTRA_PACKAGES=$extra_packages MNISTNET_BUILD_TARGETS="${binaries[*]}" \
  MNISTNET_CMAKE_ARGS="-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMNISTNET_FUZZ=ON -DMNISTNET_NATIVE=OFF" \
  bash "$root/scripts/setup.sh"
fuzzer_links || die "clang++ cannot link -fsanitize=fuzzer (is libclang-rt-dev installed?)"

extra_args=()
if [[ -n ${MNISTNET_FUZZ_ARGS:-} ]]; then
  read -r -a extra_args <<<"$MNISTNET_FUZZ_ARGS"
fi

# Every finding ends the run with a non-zero exit: UBSan halts at the first report, ASan checks
# for leaks at each input's end, and libFuzzer's own findings (crash, timeout, OOM) exit too.
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=0

failed=()
summary=()
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  scratch=$build/corpus/$t
  artifacts=$build/artifacts/$t
  logfile=$build/fuzz-$t.log
  mkdir -p "$scratch" "$artifacts"
  dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=("-dict=$root/tests/fuzz/$t.dict")
  log "$t: fuzzing for $seconds s (log: $logfile)"
  rc=0
  # New inputs go to the first directory (scratch); the committed seeds are only read.
  nice -n 10 "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -error_exitcode=77 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "${dict[@]}" "${extra_args[@]}" "$scratch" "$seeds" >"$logfile" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logfile" | tail -1)
  peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$logfile" | tail -1)
  corpus=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$logfile" | tail -1 | sed 's/corp: //')
  line="$t: ${seconds} s, ${execs:-?} runs, ${rate:-?} exec/s, corpus ${corpus:-?} (inputs/bytes), peak RSS ${peak:-?} MB"
  if ((rc != 0)); then
    failed+=("$t")
    line+=": FAILED (exit $rc)"
    log "$t: libFuzzer exited $rc; the report:"
    grep -E -A 30 '^==[0-9]+==ERROR|runtime error|SUMMARY|deadly signal|ERROR: libFuzzer' "$logfile" | head -60 >&2 || tail -40 "$logfile" >&2
    log "$t: reproduce with: $build/tests/fuzz/fuzz_$t $artifacts/<crash-file>"
  else
    line+=": ok"
  fi
  summary+=("$line")
done

for line in "${summary[@]}"; do printf 'fuzz: %s\n' "$line"; done
if ((${#failed[@]})); then
  die "findings in: ${failed[*]} (inputs in $build/artifacts/)"
fi
