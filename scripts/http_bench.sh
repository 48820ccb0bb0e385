#!/usr/bin/env bash
# HTTP/1.1 hello-world under wrk: hyper on magpie (examples/http_server.rs) against the
# same service on tokio (benches/src/bin/http_server_tokio.rs), run in alternation.
#
#   bash scripts/http_bench.sh            # 3 rounds of 10 s each per runtime
#   ROUNDS=1 DURATION=3s bash scripts/http_bench.sh   # a quick look
#   NO_WRITE=1 bash scripts/http_bench.sh # print only, leave docs/benchmarks.md alone
#   bash scripts/http_bench.sh --tls      # examples/https_server vs https_server_tokio (rustls)
#   bash scripts/http_bench.sh --axum     # examples/axum_server vs the same Router on axum::serve
#   bash scripts/http_bench.sh --compat   # http_server plain vs with enable_tokio_compat()
#
# Both servers run side by side on loopback (ports $MAGPIE_PORT and $TOKIO_PORT); each
# round loads one, then the other, the order rotating every round so drift on a shared
# machine lands on both alike. Prints the median requests/s and the median p50/p90/p99
# latency per runtime and the ratio, and rewrites the section between the
# `http_bench:begin`/`http_bench:end` markers in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-1}
MAGPIE_PORT=${MAGPIE_PORT:-3000}
TOKIO_PORT=${TOKIO_PORT:-3001}
PATH_=${URL_PATH:-/}
MODE=${1:-}
case "$MODE" in
  "") A=magpie B=tokio SCHEME=http SECTION=http_bench ;;
  --tls) A=magpie B=tokio SCHEME=https SECTION=http_bench_tls ;;
  --axum) A=magpie B=tokio SCHEME=http SECTION=http_bench_axum ;;
  --compat) A=magpie B=magpie-compat SCHEME=http SECTION=http_bench_compat ;;
  *) echo "usage: $0 [--tls|--axum|--compat]" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
  apt-get update
  apt-get install -y wrk
fi

target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
case "$MODE" in
  "")
    cargo build --release --features hyper --example http_server
    cargo build --release -p magpie-benches --bin http_server_tokio
    A_CMD=("$target/release/examples/http_server"); B_CMD=("$target/release/http_server_tokio") ;;
  --tls)
    cargo build --release --features tls --example https_server
    cargo build --release -p magpie-benches --features tls --bin https_server_tokio
    A_CMD=("$target/release/examples/https_server"); B_CMD=("$target/release/https_server_tokio") ;;
  --axum)
    cargo build --release --features axum,tokio-compat --example axum_server
    cargo build --release -p magpie-benches --features axum --bin axum_server_tokio
    A_CMD=("$target/release/examples/axum_server"); B_CMD=("$target/release/axum_server_tokio") ;;
  --compat)
    cargo build --release --features hyper,tokio-compat --example http_server
    A_CMD=("$target/release/examples/http_server")
    B_CMD=(env MAGPIE_TOKIO_COMPAT=1 "$target/release/examples/http_server") ;;
esac

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"${A_CMD[@]}" --port "$MAGPIE_PORT" >/dev/null &
pids+=($!)
"${B_CMD[@]}" --port "$TOKIO_PORT" >/dev/null &
pids+=($!)
for port in "$MAGPIE_PORT" "$TOKIO_PORT"; do
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

cmd="wrk -t$THREADS -c$CONNS -d$DURATION --latency $SCHEME://127.0.0.1:PORT$PATH_"
out=$(mktemp -d)
run() { # name port round
  echo "round $3: $1"
  wrk "-t$THREADS" "-c$CONNS" "-d$DURATION" --latency "$SCHEME://127.0.0.1:$2$PATH_" >"$out/$1.$3"
  grep -E 'Requests/sec|Non-2xx|Socket errors' "$out/$1.$3" | sed 's/^/    /'
}
for round in $(seq "$ROUNDS"); do
  if (( round % 2 )); then
    run "$A" "$MAGPIE_PORT" "$round"; run "$B" "$TOKIO_PORT" "$round"
  else
    run "$B" "$TOKIO_PORT" "$round"; run "$A" "$MAGPIE_PORT" "$round"
  fi
done

NO_WRITE=${NO_WRITE:-} CMD="$cmd" ROUNDS="$ROUNDS" A="$A" B="$B" SECTION="$SECTION" MODE="${MODE:-plain}" python3 - "$out" <<'PY'
import datetime, glob, os, re, statistics, subprocess, sys

out = sys.argv[1]

def ms(v):
    num, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()
    return float(num) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

def parse(path):
    text = open(path).read()
    if "Non-2xx" in text or "Socket errors" in text:
        sys.exit(f"{path}: wrk saw errors:\n{text}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {p: ms(re.search(rf"^\s+{p}%\s+(\S+)", text, re.M).group(1)) for p in (50, 90, 99)}
    return rps, lat

rows = {}
A, B, SECTION = os.environ["A"], os.environ["B"], os.environ["SECTION"]
for name in (A, B):
    runs = [parse(p) for p in sorted(glob.glob(f"{out}/{name}.*"))]
    rows[name] = (
        statistics.median(r for r, _ in runs),
        {p: statistics.median(l[p] for _, l in runs) for p in (50, 90, 99)},
        (min(r for r, _ in runs), max(r for r, _ in runs)),
    )

ratio = rows[A][0] / rows[B][0]
lines = [
    "| runtime | requests/s (median) | min–max | p50 | p90 | p99 |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
]
for name, (rps, lat, (lo, hi)) in rows.items():
    lines.append(
        f"| {name} | {rps:,.0f} | {lo:,.0f}–{hi:,.0f} | {lat[50]:.2f} ms | {lat[90]:.2f} ms | {lat[99]:.2f} ms |"
    )
table = "\n".join(lines)
print()
print(table)
print(f"\n{A} / {B} requests/s: {ratio:.2f}")

if os.environ.get("NO_WRITE"):
    sys.exit(0)
cpu = next(
    (l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
    "unknown CPU",
)
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
load = open("/proc/loadavg").read().split()[0]
section = f"""<!-- {SECTION}:begin (written by scripts/http_bench.sh; edits here are overwritten) -->
Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC ({os.environ['MODE']} mode) on {nproc} cores ({cpu}),
load average {load} when it finished; {os.environ['ROUNDS']} alternating rounds per runtime of
`{os.environ['CMD']}` (medians over the rounds).

{table}

{A} / {B} requests/s: **{ratio:.2f}**
<!-- {SECTION}:end -->"""
doc = "docs/benchmarks.md"
text = open(doc).read()
begin, end = f"<!-- {SECTION}:begin", f"<!-- {SECTION}:end -->"
if begin in text:
    i = text.index(begin)
    j = text.index(end) + len(end)
    text = text[:i] + section + text[j:]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(doc, "w").write(text)
print(f"updated {doc}")
PY
