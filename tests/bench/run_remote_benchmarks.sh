#!/usr/bin/env bash
# Remote chain benchmarks (issue 13): the same two-router topology over stdio pipes and over the
# network, measured side by side in one run.
#
#   pipes:    acp-bench-client … -- acp-conductor agent "acp-conductor agent acp-bench-agent"
#   unix|ws|tls: acp-conductor serve --listen URL agent acp-bench-agent   (in the background)
#             acp-bench-client … -- acp-conductor agent URL
#
#   tests/bench/run_remote_benchmarks.sh [--smoke] [BUILD_DIR]   (BUILD_DIR defaults to ./build)
#
# Each run measures the round trip (sequential session/prompt turns, one update each: p50) and
# streaming (agent_message_chunk updates of 150 bytes: updates/s) on every setup in turn, so a
# change in the machine's load hits all setups alike. Environment: ACP_BENCH_RUNS (runs per
# setup, default 5). Results: BUILD_DIR/remote-bench-results.jsonl (every run) and the table
# (medians of the runs, each as a ratio to pipes) on stdout and in BUILD_DIR/remote-bench-results.md.
# The issue's target: WebSocket streaming at least 0.70 of pipes. --smoke runs tiny sizes once
# (the CTest bench_remote_smoke test) and checks that every setup produced both figures.
# The TLS setup uses a CA and server certificate made here with the `openssl` CLI.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
smoke=0
if [ "${1:-}" = --smoke ]; then
  smoke=1
  shift
fi
build=$(cd "${1:-$root/build}" && pwd)

client=$build/tests/bench/chain/acp-bench-client
agent=$build/tests/bench/chain/acp-bench-agent
conductor=$build/conductor/acp-conductor
for exe in "$client" "$agent" "$conductor"; do
  [ -x "$exe" ] || { echo "run_remote_benchmarks.sh: $exe is missing; build acp-conductor acp-bench-client acp-bench-agent first" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "run_remote_benchmarks.sh: openssl is not installed (needed for tls://)" >&2; exit 77; }

runs=${ACP_BENCH_RUNS:-5} turns=1000 updates=10000 stream_turns=10
if [ "$smoke" = 1 ]; then
  runs=1 turns=50 updates=500 stream_turns=1
fi

out=$build/remote-bench-results.jsonl
md=$build/remote-bench-results.md
errlog=$build/remote-bench-stderr.log
: > "$out"
: > "$errlog"
work=$(mktemp -d "${TMPDIR:-/tmp}/acp-remote-bench-XXXXXX")
server_pids=()
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- a CA and a server certificate for 127.0.0.1 ----
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$work/server.ext"
{
  # shellcheck disable=SC2086
  openssl req -x509 $key -days 2 -subj /CN=acp-bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" &&
    # shellcheck disable=SC2086
    openssl req -new $key -subj /CN=localhost -keyout "$work/server.key" -out "$work/server.csr" &&
    openssl x509 -req -days 2 -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
      -extfile "$work/server.ext" -out "$work/server.pem"
} > "$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; echo "run_remote_benchmarks.sh: certificate generation failed" >&2; exit 1; }

# ---- the servers: one per network setup, for the whole run ----
declare -A url
# start_server NAME LISTEN [serve options...]: starts it, reads its address from `serving on URL`.
start_server() {
  local name=$1 listen=$2 log=$work/serve-$1.log i
  shift 2
  "$conductor" serve --listen "$listen" "$@" agent "$agent" 2> "$log" &
  server_pids+=("$!")
  for ((i = 0; i < 500; ++i)); do
    if grep -q 'serving on ' "$log"; then
      url[$name]=$(sed -n 's/.*serving on \([^ ]*\).*/\1/p' "$log" | head -n 1)
      return 0
    fi
    kill -0 "$!" 2>/dev/null || break
    sleep 0.02
  done
  echo "run_remote_benchmarks.sh: serve --listen $listen did not start:" >&2
  cat "$log" >&2
  exit 1
}
start_server unix "unix:$work/chain.sock"
start_server ws "ws://127.0.0.1:0"
start_server tls "tls://127.0.0.1:0" --tls-cert "$work/server.pem" --tls-key "$work/server.key"
setups=(pipes unix ws tls)

# command SETUP: the command acp-bench-client runs (one word per line).
command_of() {
  case $1 in
  pipes) printf '%s\n' "$conductor" agent "$conductor agent $agent" ;;
  tls) printf '%s\n' "$conductor" --ca-file "$work/ca.pem" agent "${url[tls]}" ;;
  *) printf '%s\n' "$conductor" agent "${url[$1]}" ;;
  esac
}

# run BENCH SETUP RUN [client options]: one client run, appended to the results.
run() {
  local bench=$1 setup=$2 k=$3 line
  shift 3
  local cmd=()
  mapfile -t cmd < <(command_of "$setup")
  if ! line=$(timeout 300 "$client" "$bench" "$@" -- "${cmd[@]}" 2>>"$errlog" | grep '"mode"' | tail -n 1); then line=""; fi
  if [ -z "$line" ] || ! printf '%s' "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(1 if "error" in d else 0)' 2>/dev/null; then
    echo "run_remote_benchmarks.sh: $bench/$setup run $k failed: ${line:-no output} (see $errlog)" >&2
    [ "$smoke" = 1 ] && exit 1
    return 0
  fi
  printf '{"bench":"%s","setup":"%s","run":%d,"result":%s}\n' "$bench" "$setup" "$k" "$line" >> "$out"
}

echo "== remote chains: pipes vs unix:, ws://, tls:// (runs: $runs, alternating setups)" >&2
for ((k = 0; k < runs; ++k)); do
  for setup in "${setups[@]}"; do
    echo "   run $((k + 1))/$runs: $setup" >&2
    run rtt "$setup" "$k" --turns "$turns"
    run stream "$setup" "$k" --turns "$stream_turns" --updates "$updates" --size 150
  done
done

python3 - "$out" "$runs" "$turns" "$updates" "$stream_turns" <<'EOF' | tee "$md"
import json, statistics, sys
from collections import defaultdict
path, runs, turns, updates, stream_turns = sys.argv[1], *map(int, sys.argv[2:])
res = defaultdict(list)
for line in open(path):
    d = json.loads(line)
    res[(d["bench"], d["setup"])].append(d["result"])

def med(bench, setup, key):
    v = [r[key] for r in res.get((bench, setup), []) if key in r]
    return (statistics.median(v), min(v), max(v), len(v)) if v else None

def fmt(x, digits=0):
    return "n/a" if x is None else f"{x:,.{digits}f}"

names = {"pipes": "pipes (conductor → conductor → agent)", "unix": "unix: (connect → serve → agent)",
         "ws": "ws://127.0.0.1 (connect → serve → agent)", "tls": "tls://127.0.0.1 (connect → serve → agent)"}
base_rtt = med("rtt", "pipes", "p50_us")
base_stream = med("stream", "pipes", "updates_per_s")
print(f"### Remote chains vs pipes: two routers, C++ bench client and agent ({runs} alternating runs per setup)\n")
print(f"Round trip: {turns:,} sequential `session/prompt` turns, one update each (p50, median of the runs). "
      f"Streaming: {stream_turns} turn(s) of {updates:,} `agent_message_chunk` updates of 150 bytes (updates/s, "
      "median of the runs). Ratios are to pipes.\n")
print("| setup | round trip p50 µs | p50 spread | p50 ÷ pipes | streaming updates/s | updates/s spread | updates/s ÷ pipes |")
print("| --- | ---: | --- | ---: | ---: | --- | ---: |")
for s in ["pipes", "unix", "ws", "tls"]:
    r, st = med("rtt", s, "p50_us"), med("stream", s, "updates_per_s")
    rr = r[0] / base_rtt[0] if r and base_rtt else None
    sr = st[0] / base_stream[0] if st and base_stream else None
    spread = lambda m, d: "n/a" if m is None else f"{fmt(m[1], d)}–{fmt(m[2], d)} (n={m[3]})"
    print(f"| {names[s]} | {fmt(r and r[0], 1)} | {spread(r, 1)} | {fmt(rr, 2)} | {fmt(st and st[0])} | "
          f"{spread(st, 0)} | {fmt(sr, 2)} |")
ws = med("stream", "ws", "updates_per_s")
if ws and base_stream:
    ratio = ws[0] / base_stream[0]
    print(f"\nTarget (issue 13): WebSocket streaming ≥ 0.70 of pipes: {ratio:.2f} — {'met' if ratio >= 0.70 else 'MISSED'}.")
EOF

if [ "$smoke" = 1 ]; then
  python3 - "$out" <<'EOF'
import json, sys
seen = {(d["bench"], d["setup"]) for d in map(json.loads, open(sys.argv[1]))}
need = {(b, s) for b in ["rtt", "stream"] for s in ["pipes", "unix", "ws", "tls"]}
missing = need - seen
if missing:
    sys.exit(f"smoke: missing results for {sorted(missing)}")
print("smoke: every setup ran")
EOF
fi
