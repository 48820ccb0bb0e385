#!/usr/bin/env bash
# Runs magpie's tests under ThreadSanitizer and under valgrind memcheck; zero reports required.
#
#   bash scripts/sanitize.sh [--short] [tsan] [valgrind]
#
# With no part named, both run. The default (long) form runs every test binary listed
# below; `--short` (CI) runs a subset at a small stress scale and takes a few minutes.
#
# ThreadSanitizer: `-Zsanitizer=thread` with `-Zbuild-std` (std itself must be
# instrumented, or every lock in it looks like a race), nightly, in target/tsan so the
# normal build is left alone. It covers the stress suite (test binaries `stress` and
# `stress_shutdown`), the facade's runtime and sync tests (binaries `rt` and `sync`, see
# tests/README.md) and the unit tests of magpie-runtime and magpie-sync. Suppressions: scripts/tsan.supp (each one
# justified there).
#
# valgrind memcheck: the debug test binaries of magpie-runtime and magpie-sync, and the
# facade's runtime, sync and stress tests, each run under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1
# Memory that is still reachable at exit (std's and libtest's globals, thread-locals of
# threads still parked) is not an error; definite and indirect leaks are.
#
# Environment:
#   MAGPIE_STRESS_SCALE   size of the stress tests under TSan (1.0 = full). Default:
#                         0.01 with --short, 0.1 otherwise (TSan slows code 5-15x).
#   VALGRIND_STRESS_SCALE the same under valgrind (default 0.005: valgrind runs one thread
#                         at a time and is 20-100x slower, and the stress tests' hang
#                         detectors give each case 60 s; the short form skips them).
#   SANITIZE_TIMEOUT      per-binary hang detector in seconds (default 1200).
#   TSAN_TARGET_DIR       the TSan build's target dir (default target/tsan).
# Logs go to target/sanitize/; the last lines printed are the summary.
# The body is one block, so bash reads it whole before running it (an edit to this file
# during a run does not derail the run).
{
set -euo pipefail
cd "$(dirname "$0")/.."

short=0
parts=()
for arg in "$@"; do
  case "$arg" in
    --short) short=1 ;;
    tsan | valgrind) parts+=("$arg") ;;
    -h | --help)
      sed -n '2,29p' "$0"
      exit 0
      ;;
    *)
      echo "sanitize.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done
[ ${#parts[@]} -eq 0 ] && parts=(tsan valgrind)

if [ "$short" = 1 ]; then
  export MAGPIE_STRESS_SCALE="${MAGPIE_STRESS_SCALE:-0.01}"
else
  export MAGPIE_STRESS_SCALE="${MAGPIE_STRESS_SCALE:-0.1}"
fi
# Symbolizing backtraces of the tests' expected panics is slow under valgrind and
# irrelevant here.
export RUST_BACKTRACE=0
# Per test binary: a hang fails that binary (named in the summary) instead of eating CI's
# time. Short-form binaries take seconds under either tool.
if [ "$short" = 1 ]; then
  timeout_s="${SANITIZE_TIMEOUT:-300}"
else
  timeout_s="${SANITIZE_TIMEOUT:-1200}"
fi
logs=target/sanitize
mkdir -p "$logs"

# The facade's integration tests by area: test binaries (tests/README.md), and per binary
# the libtest filters that pick its modules (none: every test). The short form keeps the
# stress suite and the modules that exercise cross-thread hand-offs the most (wakes, grants
# passed on, shutdown).
stress_tests=(stress stress_shutdown)
declare -A tsan_filters=() valgrind_filters=()
if [ "$short" = 1 ]; then
  tsan_tests=("${stress_tests[@]}" rt sync)
  tsan_filters[rt]="abort:: shutdown:: spawn::"
  tsan_filters[sync]="condition:: mutex:: notify:: queue:: semaphore::"
  valgrind_tests=(rt sync)
  valgrind_filters[rt]="abort:: shutdown::"
  valgrind_filters[sync]="mutex::"
  valgrind_libs=(magpie-sync)
else
  tsan_tests=("${stress_tests[@]}" rt sync)
  valgrind_tests=("${tsan_tests[@]}")
  valgrind_libs=(magpie-sync magpie-runtime)
fi

# A test executable's target name: cargo names it `<target>-<hash>`.
target_of() {
  local name
  name="$(basename "$1")"
  echo "${name%-*}"
}

# `cargo test --no-run --message-format=json` names every test executable it built.
executables() {
  grep -o '"executable":"[^"]*"' | sed 's/^"executable":"//; s/"$//'
}

test_args() {
  local t
  for t in "$@"; do printf -- '--test %s ' "$t"; done
}

# Summary counters, per part.
declare -A binaries=() tests_run=() reports=() failures=()

# Runs one test binary ($2) for part $1 with the prefix command in the remaining args and
# the test arguments in bin_args; the log is $logs/$1-<binary>.log.
bin_args=()
run_binary() {
  local part="$1" bin="$2"
  shift 2
  local name log rc passed
  name="$(basename "$bin")"
  log="$logs/$part-$name.log"
  local start=$SECONDS
  set +e
  timeout "$timeout_s" "$@" "$bin" -q "${bin_args[@]}" >"$log" 2>&1
  rc=$?
  set -e
  # `|| true`: a binary killed by the timeout (or crashed) prints no result line, and
  # grep's failure must not end the script (pipefail + set -e) before it is reported.
  passed="$( (grep -o 'test result: [a-zA-Z]*\. [0-9]* passed' "$log" || true) | awk '{s += $4} END {print s + 0}')"
  binaries[$part]=$((${binaries[$part]:-0} + 1))
  tests_run[$part]=$((${tests_run[$part]:-0} + passed))
  local found=0
  case "$part" in
    tsan) found="$(grep -c 'WARNING: ThreadSanitizer' "$log" || true)" ;;
    valgrind) found="$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)" ;;
  esac
  found="${found:-0}"
  reports[$part]=$((${reports[$part]:-0} + found))
  local verdict=ok
  if [ "$rc" != 0 ] || [ "$found" != 0 ]; then
    verdict="FAILED (exit $rc, $found reports; see $log)"
    failures[$part]=$((${failures[$part]:-0} + 1))
  fi
  printf '  %-48s %4d tests %4ds  %s\n' "$name" "$passed" $((SECONDS - start)) "$verdict"
}

run_tsan() {
  local target=x86_64-unknown-linux-gnu
  echo "-- ThreadSanitizer (MAGPIE_STRESS_SCALE=$MAGPIE_STRESS_SCALE)"
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  rustup component add rust-src --toolchain nightly >/dev/null 2>&1
  local bins
  # shellcheck disable=SC2046
  bins="$(RUSTFLAGS="${RUSTFLAGS:-} -Zsanitizer=thread" CARGO_TARGET_DIR="${TSAN_TARGET_DIR:-target/tsan}" \
    cargo +nightly test -Zbuild-std --target "$target" --no-run --message-format=json \
    -p magpie $(test_args "${tsan_tests[@]}") 2>"$logs/tsan-build.log" | executables)"
  if [ "$short" = 0 ]; then
    bins="$bins
$(RUSTFLAGS="${RUSTFLAGS:-} -Zsanitizer=thread" CARGO_TARGET_DIR="${TSAN_TARGET_DIR:-target/tsan}" \
      cargo +nightly test -Zbuild-std --target "$target" --no-run --message-format=json \
      -p magpie-sync -p magpie-runtime --lib 2>>"$logs/tsan-build.log" | executables)"
  fi
  # halt_on_error=0: one run reports every race; exitcode 66 makes any report fail the run.
  local opts="suppressions=$PWD/scripts/tsan.supp halt_on_error=0 exitcode=66 second_deadlock_stack=1"
  local bin
  for bin in $bins; do
    # shellcheck disable=SC2206 # the filters are words on purpose
    bin_args=(${tsan_filters[$(target_of "$bin")]:-})
    run_binary tsan "$bin" env TSAN_OPTIONS="$opts ${TSAN_OPTIONS:-}"
  done
}

run_valgrind() {
  local MAGPIE_STRESS_SCALE="${VALGRIND_STRESS_SCALE:-0.005}"
  export MAGPIE_STRESS_SCALE
  echo "-- valgrind memcheck (MAGPIE_STRESS_SCALE=$MAGPIE_STRESS_SCALE)"
  command -v valgrind >/dev/null || (apt-get update && apt-get install -y valgrind)
  local bins
  # shellcheck disable=SC2046
  bins="$(cargo test --no-run --message-format=json $(printf -- '-p %s ' "${valgrind_libs[@]}") \
    --lib 2>"$logs/valgrind-build.log" | executables)
$(cargo test --no-run --message-format=json -p magpie $(test_args "${valgrind_tests[@]}") \
    2>>"$logs/valgrind-build.log" | executables)"
  local vg=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=1 --num-callers=40 --fair-sched=yes)
  [ -f scripts/valgrind.supp ] && vg+=(--suppressions=scripts/valgrind.supp)
  local bin
  local t
  for bin in $bins; do
    t="$(target_of "$bin")"
    # shellcheck disable=SC2206 # the filters are words on purpose
    bin_args=(${valgrind_filters[$t]:-})
    case "$t" in
      # One stress test at a time: valgrind serializes every thread anyway, and two
      # stress tests sharing its one lane slow each other past their 60 s hang detectors
      # (the faults module: 7 s and 45 s alone, both over 60 s together).
      stress | stress_shutdown) bin_args+=(--test-threads=1) ;;
    esac
    run_binary valgrind "$bin" "${vg[@]}"
  done
}

total_start=$SECONDS
for part in "${parts[@]}"; do
  "run_$part"
done

echo
echo "== sanitize.sh summary ($([ "$short" = 1 ] && echo short || echo long) form, $((SECONDS - total_start)) s)"
status=0
for part in "${parts[@]}"; do
  what=reports
  [ "$part" = tsan ] && what="races/reports"
  [ "$part" = valgrind ] && what="errors (incl. definite/indirect leaks)"
  printf '  %-9s %3d binaries, %5d tests run, %d %s, %d failed binaries\n' "$part" \
    "${binaries[$part]:-0}" "${tests_run[$part]:-0}" "${reports[$part]:-0}" "$what" \
    "${failures[$part]:-0}"
  if [ "${failures[$part]:-0}" != 0 ] || [ "${binaries[$part]:-0}" = 0 ]; then status=1; fi
done
exit $status
exit
}
