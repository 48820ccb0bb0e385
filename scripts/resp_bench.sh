#!/usr/bin/env bash
# RESP server benchmark: examples/resp_server on magpie, its tokio twin
# (benches/src/bin/resp_server_tokio.rs, the same protocol/store code) and a real
# redis-server, each driven by redis-benchmark on loopback, in alternation.
#
#   bash scripts/resp_bench.sh              # full run; writes docs/benchmarks.md
#   ROUNDS=2 NO_WRITE=1 bash scripts/resp_bench.sh   # quick look, docs untouched
#
# Per round and server (the order rotates each round, so drift in a shared machine's
# speed lands on every server alike):
#   redis-benchmark -p PORT -t set,get -n $N -c 50 -q --csv          (one request per RTT)
#   redis-benchmark -p PORT -t set,get -n $PN -c 50 -P 16 -q --csv   (pipelined)
# It prints the median req/s per server and test, the magpie/tokio and magpie/redis
# ratios, and writes them between the resp_bench markers in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
N=${N:-200000}
PN=${PN:-1000000}
CLIENTS=${CLIENTS:-50}
MAGPIE_PORT=${MAGPIE_PORT:-16379}
TOKIO_PORT=${TOKIO_PORT:-16380}
REDIS_PORT=${REDIS_PORT:-16381}
DOC=docs/benchmarks.md

if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then
  apt-get update
  apt-get install -y redis-tools redis-server
fi

cargo build --release --example resp_server
cargo build --release -p magpie-benches --bin resp_server_tokio
# Ask cargo where the binaries went: CARGO_TARGET_DIR (or a config's target-dir) may move them.
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$target/release/examples/resp_server" --port "$MAGPIE_PORT" >"$work/magpie.log" 2>&1 &
pids+=($!)
"$target/release/resp_server_tokio" --port "$TOKIO_PORT" >"$work/tokio.log" 2>&1 &
pids+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  >"$work/redis.log" 2>&1 &
pids+=($!)

declare -A PORT=([magpie]=$MAGPIE_PORT [tokio]=$TOKIO_PORT [redis]=$REDIS_PORT)
SERVERS=(magpie tokio redis)
for s in "${SERVERS[@]}"; do
  for _ in $(seq 100); do
    [ "$(redis-cli -p "${PORT[$s]}" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  [ "$(redis-cli -p "${PORT[$s]}" ping)" = PONG ] || { echo "$s did not start" >&2; exit 1; }
done

# bench SERVER MODE ARGS...: appends "server mode test rps" lines to $work/results.
bench() {
  local server=$1 mode=$2
  shift 2
  redis-benchmark -p "${PORT[$server]}" -t set,get -c "$CLIENTS" -q --csv "$@" 2>"$work/err" |
    tr -d '\r"' | awk -F, -v s="$server" -v m="$mode" '$1=="SET"||$1=="GET" {print s, m, $1, $2}' \
    >>"$work/results"
  if grep -qi "could not fetch\|error" "$work/err"; then cat "$work/err" >&2; fi
}

echo "warm-up"
for s in "${SERVERS[@]}"; do
  redis-benchmark -p "${PORT[$s]}" -t set,get -n 20000 -c "$CLIENTS" -q >/dev/null
done

: >"$work/results"
for r in $(seq 0 $((ROUNDS - 1))); do
  order=()
  for i in 0 1 2; do order+=("${SERVERS[$(((r + i) % 3))]}"); done
  echo "round $((r + 1))/$ROUNDS: ${order[*]}"
  for s in "${order[@]}"; do
    bench "$s" plain -n "$N"
    bench "$s" pipelined -n "$PN" -P 16
  done
done

# median SERVER MODE TEST
median() {
  awk -v s="$1" -v m="$2" -v t="$3" '$1==s && $2==m && $3==t {print $4}' "$work/results" |
    sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
kfmt() { awk -v a="$1" 'BEGIN {printf "%.1fk", a/1000}'; }

table="| test | magpie req/s | tokio req/s | redis-server req/s | magpie/tokio | magpie/redis |
| --- | ---: | ---: | ---: | ---: | ---: |"
for mode in plain pipelined; do
  for t in SET GET; do
    m=$(median magpie "$mode" "$t")
    k=$(median tokio "$mode" "$t")
    d=$(median redis "$mode" "$t")
    label="$t"
    [ "$mode" = pipelined ] && label="$t -P 16"
    table+="
| $label | $(kfmt "$m") | $(kfmt "$k") | $(kfmt "$d") | $(ratio "$m" "$k")x | $(ratio "$m" "$d")x |"
  done
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
machine="$(nproc) CPUs ($cpu), $(uname -sr), $(redis-server --version | cut -d' ' -f1-3)"
section="<!-- resp_bench:begin (written by scripts/resp_bench.sh; edits here are overwritten) -->
Run $(date -u '+%Y-%m-%d %H:%M UTC') on $machine; $ROUNDS rounds, rotating order, medians.
Each server runs with its defaults (magpie and tokio: one worker per CPU); redis-benchmark
shares the machine with it. Command per server and round:
\`redis-benchmark -p PORT -t set,get -n $N -c $CLIENTS -q --csv\`, then the same with
\`-n $PN -P 16\`.

$table
<!-- resp_bench:end -->"

echo
echo "$table"
echo
echo "all runs (server mode test req/s):"
sort "$work/results" | tr '\n' ';' | sed 's/;/; /g'
echo

if [ -n "${NO_WRITE:-}" ]; then
  exit 0
fi
if grep -q '<!-- resp_bench:begin' "$DOC"; then
  SECTION="$section" awk '
    /<!-- resp_bench:begin/ {print ENVIRON["SECTION"]; skip=1; next}
    /<!-- resp_bench:end -->/ {skip=0; next}
    !skip {print}' "$DOC" >"$work/doc"
else
  { cat "$DOC"; printf '\n## RESP server: magpie vs tokio vs redis-server\n\n%s\n' "$section"; } >"$work/doc"
fi
cp "$work/doc" "$DOC"
echo "wrote $DOC"
