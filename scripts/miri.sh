#!/usr/bin/env bash
# Runs the crates that contain unsafe code under miri (nightly).
#
# magpie-runtime runs under Tree Borrows with leak checks off: crossbeam-epoch (inside
# crossbeam-deque) is not Stacked-Borrows clean, and its global collector intentionally
# never frees its last garbage bags at exit; every leak miri reported was there. Our own
# leaks are checked by valgrind instead. magpie-sync keeps miri's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${MIRI_TARGET_DIR:-target/miri}"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component add miri rust-src --toolchain nightly >/dev/null
echo "-- miri: magpie-sync"
cargo +nightly miri test -p magpie-sync
echo "-- miri: magpie-runtime"
MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-tree-borrows -Zmiri-ignore-leaks" cargo +nightly miri test -p magpie-runtime
