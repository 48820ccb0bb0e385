#!/usr/bin/env bash
# Soak test: the echo server under sustained loopback load, every byte checked, memory
# watched.
#
#   bash scripts/soak.sh [SECONDS] [CONNS]        (defaults: 60 s, 64 connections)
#
# Phase 1 (always), for SECONDS:
#   - examples/echo_server on 127.0.0.1 (a free port);
#   - examples/echo_client in soak mode: CONNS connections streaming random-sized chunks
#     of a position-dependent byte pattern and checking every echoed byte at its offset;
#   - an independent client (Python's blocking sockets, below) on CONNS/16 (at least 2)
#     more connections, comparing the SHA-256 and byte count of what it sent and what came
#     back;
#   - the server's VmRSS (/proc/PID/status) sampled once a second.
# Phase 2, only if examples/http_server.rs exists: `wrk` (apt-installed if missing)
# against `http_server --port N` for min(SECONDS, 30) s with CONNS connections; non-2xx
# responses and socket errors must be 0; the server's RSS is checked the same way.
#
# Memory rule: samples from the first max(5, RUN/6) seconds of a phase of RUN seconds are
# warm-up and ignored.
# The baseline B is the first sample after warm-up; every sample of the last third of
# the run must be <= B * 1.10 + 4 MiB (the slack absorbs allocator noise on small
# heaps). Growth beyond that under a steady load means something accumulates.
#
# Fails (exit 1) on: a failed connection, a corrupted or lost byte, a server that died,
# or RSS over the rule. Logs: target/soak/.
# The body is one block, so bash reads it whole before running it (an edit to this file
# during a run does not derail the run).
{
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-60}"
conns="${2:-64}"
logs=target/soak
mkdir -p "$logs"
py_conns=$((conns / 16))
[ "$py_conns" -lt 2 ] && py_conns=2
warmup=$((duration / 6))
[ "$warmup" -lt 5 ] && warmup=5
if [ "$duration" -le $((warmup + 3)) ]; then
  echo "soak.sh: SECONDS must exceed the warm-up ($warmup s) by a few seconds" >&2
  exit 2
fi

command -v python3 >/dev/null || (apt-get update && apt-get install -y python3)
have_http=0
[ -f examples/http_server.rs ] && have_http=1
examples=(--example echo_server --example echo_client)
# http_server is an example with required-features = ["hyper"] (Cargo.toml).
[ "$have_http" = 1 ] && examples+=(--features hyper --example http_server)
cargo build --release "${examples[@]}"
bin=target/release/examples

violations=()
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Samples VmRSS (KiB) of PID $1 about once a second into file $2 (lines: "seconds KiB")
# until the process exits or the sampler is killed.
sample_rss() {
  local pid="$1" out="$2" start=$SECONDS kb
  : >"$out"
  while kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" && [ -n "$kb" ]; do
    echo "$((SECONDS - start)) $kb" >>"$out"
    sleep 1
  done
}

# Applies the memory rule to the samples in $2 (label $1) of a run of $3 seconds; prints
# the figures and records a violation.
check_rss() {
  local label="$1" file="$2" run="$3" verdict warm
  warm=$((run / 6 < 5 ? 5 : run / 6))
  verdict="$(awk -v warm="$warm" -v run="$run" '
    $1 >= warm && base == "" { base = $2 }
    $1 >= warm { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
    $1 >= run * 2 / 3 { if ($2 > lastmax) lastmax = $2; n++ }
    END {
      if (base == "" || n == 0) { print "NO-SAMPLES"; exit }
      limit = base * 1.10 + 4096
      printf "%s baseline=%d KiB min=%d KiB max=%d KiB last-third-max=%d KiB limit=%d KiB\n",
        (lastmax <= limit ? "flat" : "GROWING"), base, min, max, lastmax, limit
    }' "$file")"
  echo "  $label RSS after warm-up: $verdict"
  case "$verdict" in
    flat*) ;;
    *) violations+=("$label RSS: $verdict") ;;
  esac
}

# Starts a server ($@) in the background with its output in $logs/$name.log; sets
# server_pid.
start_server() {
  local name="$1"
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
}

# Waits until 127.0.0.1:$1 accepts connections (at most 30 s).
wait_port() {
  local i
  for i in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The independent client: blocking sockets, a writer and a reader thread per connection,
# SHA-256 of what was sent against SHA-256 of what came back.
python_client() {
  python3 - "$@" <<'PY'
import hashlib, random, socket, sys, threading, time

def connection(addr, seconds, seed, result):
    rng = random.Random(seed)
    source = rng.randbytes(1 << 20)
    sent_hash, echo_hash = hashlib.sha256(), hashlib.sha256()
    result.update(sent=0, echoed=0, errors=[])
    sock = socket.create_connection(addr, timeout=seconds + 60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def writer():
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                n = rng.randint(1, 16 * 1024)
                start = rng.randrange(0, len(source) - n)
                chunk = source[start:start + n]
                sock.sendall(chunk)
                sent_hash.update(chunk)
                result["sent"] += n
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            result["errors"].append(f"write: {e}")

    def reader():
        try:
            while data := sock.recv(65536):
                echo_hash.update(data)
                result["echoed"] += len(data)
        except OSError as e:
            result["errors"].append(f"read: {e}")

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads: t.start()
    for t in threads: t.join()
    sock.close()
    result["mismatched"] = (result["sent"] != result["echoed"]
                            or sent_hash.digest() != echo_hash.digest())

def guarded(addr, seconds, i, result):
    try:
        connection(addr, seconds, 1000 + i, result)
    except OSError as e:
        result.setdefault("errors", []).append(f"connect: {e}")

host, port = sys.argv[1].rsplit(":", 1)
conns, seconds = int(sys.argv[2]), float(sys.argv[3])
results = [{} for _ in range(conns)]
threads = [threading.Thread(target=guarded, args=((host, int(port)), seconds, i, results[i]))
           for i in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
for i, r in enumerate(results):
    for e in r.get("errors", []):
        print(f"python connection {i}: {e}", file=sys.stderr)
failed = sum(1 for r in results if r.get("errors") or "mismatched" not in r)
mismatched = sum(1 for r in results if r.get("mismatched"))
sent = sum(r.get("sent", 0) for r in results)
echoed = sum(r.get("echoed", 0) for r in results)
print(f"PYSOAK connections={conns} failed={failed} sent={sent} echoed={echoed} "
      f"mismatched={mismatched}")
sys.exit(1 if failed or mismatched else 0)
PY
}

# field NAME LINE: the value of NAME=value in LINE.
field() {
  sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2"
}

echo "== soak: echo server, $duration s, $conns + $py_conns connections (warm-up $warmup s)"
start_server echo_server "$bin/echo_server" 127.0.0.1:0
for _ in $(seq 1 300); do
  grep -q 'listening on' "$logs/echo_server.log" && break
  sleep 0.1
done
addr="$(sed -n 's/.*listening on \(.*\)$/\1/p' "$logs/echo_server.log")"
[ -n "$addr" ] || { echo "echo_server did not start; see $logs/echo_server.log" >&2; exit 1; }
echo_pid=$server_pid
sample_rss "$echo_pid" "$logs/echo_rss.txt" &
sampler=$!
pids+=("$sampler")

set +e
"$bin/echo_client" soak "$addr" "$conns" "$duration" >"$logs/echo_client.log" 2>&1 &
client=$!
python_client "$addr" "$py_conns" "$duration" >"$logs/python_client.log" 2>&1
py_rc=$?
wait "$client"
client_rc=$?
set -e
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true

alive=yes
kill -0 "$echo_pid" 2>/dev/null || alive=no
kill "$echo_pid" 2>/dev/null || true
wait "$echo_pid" 2>/dev/null || true

soak_line="$(grep '^SOAK ' "$logs/echo_client.log" || true)"
py_line="$(grep '^PYSOAK ' "$logs/python_client.log" || true)"
sent=$(field sent "$soak_line")
verified=$(field verified "$soak_line")
corrupted=$(field corrupted "$soak_line")
lost=$(field lost "$soak_line")
failed=$(field failed "$soak_line")
py_sent=$(field sent "$py_line")
py_echoed=$(field echoed "$py_line")
py_failed=$(field failed "$py_line")
py_mismatched=$(field mismatched "$py_line")
if [ -z "$soak_line" ] || [ -z "$py_line" ]; then
  violations+=("a client did not report (exit $client_rc / $py_rc; see $logs/)")
  sent=${sent:-0} verified=${verified:-0} corrupted=${corrupted:-0} lost=${lost:-0}
  failed=${failed:-$conns} py_sent=${py_sent:-0} py_echoed=${py_echoed:-0}
  py_failed=${py_failed:-$py_conns} py_mismatched=${py_mismatched:-0}
fi
[ "$client_rc" = 0 ] || violations+=("echo_client exited $client_rc")
[ "$py_rc" = 0 ] || violations+=("python client exited $py_rc")
[ "$alive" = yes ] || violations+=("echo_server died during the run")
server_errors="$(grep -c 'failed' "$logs/echo_server.log" || true)"
[ "$server_errors" = 0 ] || violations+=("echo_server logged $server_errors errors")

echo "  duration:            $duration s"
echo "  connections:         $conns (echo_client) + $py_conns (python)"
echo "  bytes echoed:        $((verified + py_echoed)) ($verified verified byte by byte, $py_echoed by SHA-256)"
echo "  bytes lost:          $((lost + py_sent - (py_echoed < py_sent ? py_echoed : py_sent)))"
echo "  bytes corrupted:     $corrupted (+ $py_mismatched python connections mismatched)"
echo "  failed connections:  $((failed + py_failed))"
echo "  server errors:       $server_errors, server alive at the end: $alive"
check_rss echo_server "$logs/echo_rss.txt" "$duration"

if [ "$have_http" = 1 ]; then
  wrk_secs=$((duration < 30 ? duration : 30))
  [ "$wrk_secs" -ge 10 ] || wrk_secs=10
  echo "== soak: http_server under wrk, $wrk_secs s, $conns connections"
  command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
  port="$(free_port)"
  start_server http_server "$bin/http_server" --port "$port"
  http_pid=$server_pid
  wait_port "$port" || { echo "http_server did not listen on $port" >&2; exit 1; }
  sample_rss "$http_pid" "$logs/http_rss.txt" &
  sampler=$!
  pids+=("$sampler")
  set +e
  wrk -t 2 -c "$conns" -d "${wrk_secs}s" "http://127.0.0.1:$port/" >"$logs/wrk.log" 2>&1
  wrk_rc=$?
  set -e
  kill "$sampler" 2>/dev/null || true
  kill -0 "$http_pid" 2>/dev/null || violations+=("http_server died during the run")
  kill "$http_pid" 2>/dev/null || true
  requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$logs/wrk.log")"
  non2xx="$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$logs/wrk.log")"
  sockerr="$(sed -n 's/.*Socket errors: *\(.*\)$/\1/p' "$logs/wrk.log")"
  echo "  requests:            ${requests:-?} ($(grep 'Requests/sec' "$logs/wrk.log" | tr -s ' '))"
  echo "  non-2xx responses:   ${non2xx:-0}"
  echo "  socket errors:       ${sockerr:-none}"
  [ "$wrk_rc" = 0 ] && [ -n "$requests" ] || violations+=("wrk failed (exit $wrk_rc; see $logs/wrk.log)")
  [ "${non2xx:-0}" = 0 ] || violations+=("wrk: $non2xx non-2xx responses")
  [ -z "$sockerr" ] || violations+=("wrk: socket errors $sockerr")
  check_rss http_server "$logs/http_rss.txt" "$wrk_secs"
fi

[ "$sent" -gt 0 ] || violations+=("echo_client sent nothing")
[ "$failed" = 0 ] && [ "$corrupted" = 0 ] && [ "$lost" = 0 ] ||
  violations+=("echo_client: failed=$failed corrupted=$corrupted lost=$lost")
[ "$py_failed" = 0 ] && [ "$py_mismatched" = 0 ] ||
  violations+=("python client: failed=$py_failed mismatched=$py_mismatched")

if [ ${#violations[@]} -gt 0 ]; then
  echo "== soak FAILED:"
  printf '  - %s\n' "${violations[@]}"
  exit 1
fi
echo "== soak passed"
exit
}
