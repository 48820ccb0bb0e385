#!/usr/bin/env bash
# The MSRV check that is possible without the 1.85 toolchain (none can be installed
# offline here). Run from the workspace root; exits non-zero on any finding.
#
# What it checks:
#  1. Every crate in the normal and build dependency graph of the published crates
#     (magpie, magpie-runtime, magpie-sync, magpie-combinators, magpie-macros), on Linux,
#     declares a `rust-version` no newer than ours (or none). Dev-dependencies (criterion,
#     proptest, trybuild), loom (cfg(loom) only) and the unpublished crates are not held to it.
#  2. clippy's `incompatible_msrv` lint, which reads `rust-version` from Cargo.toml: a call
#     of a std API stabilised after it is an error. (`cargo clippy -D warnings` in CI also
#     has it on; here it is named explicitly, on the published crates, all targets.)
#
# What it does not catch: language features and syntax newer than the MSRV (let chains,
# new lints' defaults, const-eval changes), std items the lint has no stability data for,
# changed behaviour of older APIs, a dependency whose declared rust-version is wrong or
# missing, and cargo features of the manifest. Only a build with the 1.85 toolchain
# (`cargo +1.85 check --workspace`, where it can be installed) catches those.
set -euo pipefail
msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
[ -n "$msrv" ] || { echo "msrv.sh: no rust-version in Cargo.toml" >&2; exit 2; }
published=(magpie magpie-runtime magpie-sync magpie-combinators magpie-macros)
# `cargo metadata` reads every package of the lock file, for every platform; on a fresh
# machine the earlier steps have downloaded only those built for Linux (bumpalo, say, is
# not), so fetch them all first (the registry is reachable; everything after is offline).
cargo fetch --quiet
pkgs="$(for p in "${published[@]}"; do
  cargo tree --offline -p "$p" -e normal,build --target x86_64-unknown-linux-gnu \
    --prefix none -f '{p}' | awk '{print $1 " " $2}'
done | sort -u)"
cargo metadata --offline --format-version 1 | python3 -c '
import json, sys
msrv = tuple(int(x) for x in sys.argv[1].split("."))
used = {tuple(l.split()) for l in sys.argv[2].splitlines() if l.strip()}
bad = []
for p in json.load(sys.stdin)["packages"]:
    rv = p.get("rust_version")
    if (p["name"], "v" + p["version"]) in used and rv:
        if tuple(int(x) for x in rv.split(".")) > msrv + (0,) * (3 - len(msrv)):
            bad.append("%s %s needs rust %s" % (p["name"], p["version"], rv))
print(f"msrv.sh: {len(used)} crates in the published dependency graph, rust-version {sys.argv[1]}")
for b in bad:
    print("  too new:", b)
sys.exit(1 if bad else 0)
' "$msrv" "$pkgs"
cargo clippy --offline $(printf -- '-p %s ' "${published[@]}") --all-targets -- \
  -D clippy::incompatible_msrv
echo "msrv.sh: ok (rust-version $msrv)"
