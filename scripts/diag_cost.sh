#!/usr/bin/env bash
# What the always-on diagnostics cost (issue 15): the current commit against the same
# commit with the recording hooks compiled out (benches/nodiag.patch: `diag::enter`, the
# holder stores and the per-poll bookkeeping become no-ops; the header keeps its size, so
# only the work is compared, not the memory).
#
#   scripts/diag_cost.sh [ROUNDS]          (default 10; about 20 s per round)
#
# Each round runs every row once per build, the builds' order rotating, each run its own
# process (`profile magpie ROW ITERATIONS 2`, which prints the median iteration): the
# per-process scheduling luck (bimodal on the lock rows) then averages over the rounds
# instead of landing on one build. Prints, per row, each build's median of the rounds'
# medians and the ratio. For instruction counts, run the two `profile` binaries under
# `valgrind --tool=callgrind` (docs/benchmarks.md shows how).
#
# If the patch no longer applies, redo its edits by hand (see its hunks) and
# regenerate it with `git diff > benches/nodiag.patch` in the edited worktree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds="${1:-10}"
work=$(mktemp -d)
git worktree add --detach "$work/nodiag" HEAD >/dev/null
trap 'git -C "$root" worktree remove --force "$work/nodiag"; rm -rf "$work"' EXIT
git -C "$work/nodiag" apply "$root/benches/nodiag.patch"
echo "-- building head and head without the hooks"
cargo build --release -q -p magpie-benches --bin profile
cp target/release/profile "$work/head"
CARGO_TARGET_DIR="$root/target/nodiag" cargo build --release -q -p magpie-benches --bin profile \
  --manifest-path "$work/nodiag/Cargo.toml"
cp target/nodiag/release/profile "$work/off"

rows="spawn_many_local:60 spawn_many_remote_idle:100 spawn_many_remote_busy:60 yield_many:50
ping_pong:400 chained_spawn:1500 fork_join:400 gather_10k:80 mutex_contended:300
semaphore_contended:300 queue_mpmc:30"
builds=(off head)
i=0
for r in $(seq "$rounds"); do
  for ri in $rows; do
    row=${ri%%:*} iters=${ri##*:}
    for k in 0 1; do
      b=${builds[$(((k + i) % 2))]}
      m=$("$work/$b" magpie "$row" "$iters" 2 | sed -n 's/.*median \([0-9.]*\)\(ns\|µs\|ms\|s\) .*/\1 \2/p')
      echo "$row $b $m"
    done
    i=$((i + 1))
  done
  echo "-- round $r of $rounds" >&2
done | awk '
  { f = ($4 == "ns") ? 0.001 : ($4 == "µs") ? 1 : ($4 == "ms") ? 1000 : 1000000
    v[$1, $2, ++n[$1, $2]] = $3 * f; if (!($1 in seen)) { seen[$1]; order[++rows] = $1 } }
  function median(row, b,   c, t, i, j, x) {
    c = n[row, b]; for (i = 1; i <= c; i++) t[i] = v[row, b, i]
    for (i = 2; i <= c; i++) for (j = i; j > 1 && t[j - 1] > t[j]; j--) { x = t[j]; t[j] = t[j - 1]; t[j - 1] = x }
    return (c % 2) ? t[(c + 1) / 2] : (t[c / 2] + t[c / 2 + 1]) / 2 }
  END { print "| workload | hooks off (µs) | head (µs) | head / off |"; print "| --- | ---: | ---: | ---: |"
    for (r = 1; r <= rows; r++) { row = order[r]; a = median(row, "off"); b = median(row, "head")
      printf "| %s | %.0f | %.0f | %.2f |\n", row, a, b, b / a } }'
