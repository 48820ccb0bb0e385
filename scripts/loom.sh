#!/usr/bin/env bash
# Runs every loom model in the workspace (tests whose names contain "loom").
#   LOOM_MAX_PREEMPTIONS (default 2 here; raise it for a deeper, slower search)
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
# A separate target dir: --cfg loom rebuilds everything, and must not evict normal builds.
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
for crate in magpie-sync magpie-runtime; do
  echo "-- loom: $crate (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS)"
  cargo test -p "$crate" --release --lib --tests -- loom
done
