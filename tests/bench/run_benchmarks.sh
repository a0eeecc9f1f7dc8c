#!/usr/bin/env bash
# Chain benchmarks of acp-conductor (docs/PERFORMANCE.md): round trip, streaming, a 50 MiB
# message, start-up and memory, against a raw byte relay of the same process topology (the floor)
# and, when node and the npm packages are available, against @thinkwell/conductor.
#
#   tests/bench/run_benchmarks.sh [--smoke] [--stream-only] [BUILD_DIR]   (BUILD_DIR defaults to ./build)
#
# Environment: ACP_BENCH_RUNS (runs per figure, default 5), ACP_BENCH_NO_NODE=1 (skip the
# TypeScript comparison), ACP_BENCH_TRACE_DIR (where the `--trace` case writes its trace file,
# default BUILD_DIR), ACP_BENCH_TRACE_PAIRS (off/on run pairs of that case, default the runs). Results: BUILD_DIR/bench-results.jsonl (every run) and the table on
# stdout (also BUILD_DIR/bench-results.md). --smoke runs a tiny configuration (the CTest
# bench_chain_smoke test) and checks that every setup works. --stream-only runs only the
# streaming cases (C++ endpoints, and conductor-3 with `--trace` off and on).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
smoke=0 stream_only=0
while [ $# -gt 0 ]; do
  case $1 in
  --smoke) smoke=1; shift ;;
  --stream-only) stream_only=1; shift ;;
  *) break ;;
  esac
done
build=$(cd "${1:-$root/build}" && pwd)

chain=$build/tests/bench/chain
client=$chain/acp-bench-client
agent=$chain/acp-bench-agent
proxy=$chain/acp-bench-proxy
relay=$chain/acp-bench-relay
conductor=$build/conductor/acp-conductor
legacy_exe=$build/tests/interop/acp-interop-legacy-proxy
legacy="$legacy_exe --pass-through"
typed="$proxy --typed"
node_dir=$build/tests/interop/node
for exe in "$client" "$agent" "$proxy" "$relay" "$conductor"; do
  [ -x "$exe" ] || { echo "run_benchmarks.sh: $exe is missing; build first (./scripts/build.sh)" >&2; exit 2; }
done

runs=${ACP_BENCH_RUNS:-5}
turns=1000 updates=10000 stream_turns=10 big=$((50 << 20)) startup_runs=10 ts_runs=3
if [ "$smoke" = 1 ]; then
  runs=1 turns=50 updates=500 stream_turns=1 big=$((1 << 20)) startup_runs=1
fi

out=$build/bench-results.jsonl
: > "$out"

# run BENCH SETUP MODE [client options] -- COMMAND...: one client run, appended to the results.
run() {
  local bench=$1 setup=$2 i line
  shift 2
  for ((i = 0; i < runs_now; ++i)); do
    if ! line=$(timeout 300 "$@" 2>>"$build/bench-stderr.log" | grep "\"mode\"" | tail -n 1); then line=""; fi
    if [ -z "$line" ] || ! printf '%s' "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(1 if "error" in d else 0)' 2>/dev/null; then
      echo "run_benchmarks.sh: $bench/$setup run $i failed: ${line:-no output} (see $build/bench-stderr.log)" >&2
      [ "$smoke" = 1 ] && exit 1
      continue
    fi
    printf '{"bench":"%s","setup":"%s","run":%d,"result":%s}\n' "$bench" "$setup" "$((i + run_offset))" "$line" >> "$out"
  done
}
run_offset=0

: > "$build/bench-stderr.log"
cpp_setups() { # NAME COMMAND... for each topology, C++ agent at the end
  echo "direct|$agent"
  echo "relay-0|$relay hub 0 $agent"
  echo "conductor-0|$conductor agent $agent"
  echo "relay-1|$relay hub 1 $agent"
  echo "conductor-1|$conductor agent $proxy $agent"
  echo "relay-3|$relay hub 3 $agent"
  echo "conductor-3|$conductor agent $proxy $proxy $proxy $agent"
}

# Every setup once per round, rounds repeated: a drift in the machine's speed (a shared VM's
# varies by tens of percent over minutes) hits every setup alike, so ratios within a run hold.
# Components with arguments are one argument each (the conductor splits them): conductor-3T is
# the same chain with the SDK's typed handlers at work (each proxy decodes every
# `session/update`, edits its agent_message_chunk and sends it on re-encoded); conductor-3L has
# the older-generation raw proxy (C++, SDK raw connection).
echo "== C++ endpoints (runs: $runs, interleaved)" >&2
runs_now=1
for ((k = 0; k < runs; ++k)); do
  run_offset=$k
  echo "   round $((k + 1)) of $runs: rtt + stream, every setup" >&2
  while IFS='|' read -r name cmd; do
    # shellcheck disable=SC2086
    [ "$stream_only" = 1 ] || run rtt "$name" "$client" rtt --turns "$turns" -- $cmd
    # shellcheck disable=SC2086
    run stream "$name" "$client" stream --turns "$stream_turns" --updates "$updates" --size 150 -- $cmd
  done < <(cpp_setups)
  for name in conductor-3T conductor-3L; do
    if [ "$name" = conductor-3T ]; then p=$typed; else p=$legacy; fi
    [ "$name" = conductor-3T ] || [ -x "$legacy_exe" ] || continue
    [ "$stream_only" = 1 ] || run rtt "$name" "$client" rtt --turns "$turns" -- "$conductor" agent "$p" "$p" "$p" "$agent"
    run stream "$name" "$client" stream --turns "$stream_turns" --updates "$updates" --size 150 -- \
      "$conductor" agent "$p" "$p" "$p" "$agent"
  done
done
run_offset=0
runs_now=$runs

# The cost of `--trace FILE`: conductor-3 streaming with the trace off and on, in alternating runs
# (so that a change in the machine's load hits both alike). After each traced run the file's
# events and the events it says were dropped (`"type":"dropped"` markers) are recorded too.
trace_file=${ACP_BENCH_TRACE_DIR:-$build}/bench-trace.jsonl
echo "   stream with --trace off/on (alternating): conductor-3" >&2
runs_now=1
trace_pairs=${ACP_BENCH_TRACE_PAIRS:-$runs}
[ "$smoke" = 1 ] && trace_pairs=1
for ((k = 0; k < trace_pairs; ++k)); do
  run_offset=$k
  run stream trace-off-3 "$client" stream --turns "$stream_turns" --updates "$updates" --size 150 -- \
    "$conductor" agent "$proxy" "$proxy" "$proxy" "$agent"
  rm -f "$trace_file"
  run stream trace-on-3 "$client" stream --turns "$stream_turns" --updates "$updates" --size 150 -- \
    "$conductor" --trace "$trace_file" agent "$proxy" "$proxy" "$proxy" "$agent"
  [ ! -f "$trace_file" ] || python3 - "$trace_file" "$k" >> "$out" <<'EOF'
import json, os, sys
events = dropped = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("type") == "dropped":
        dropped += d["count"]
    else:
        events += 1
r = {"events": events, "dropped": dropped, "bytes": os.path.getsize(sys.argv[1])}
print(json.dumps({"bench": "trace-file", "setup": "trace-on-3", "run": int(sys.argv[2]), "result": r}))
EOF
done
rm -f "$trace_file"
run_offset=0
runs_now=$runs

if [ "$stream_only" = 0 ]; then
  echo "   50 MiB fs/read_text_file result (interleaved), start-up, idle" >&2
  runs_now=1
  for ((k = 0; k < runs; ++k)); do
    run_offset=$k
    run bigfile relay-3 "$client" bigfile --bytes "$big" -- "$relay" hub 3 "$agent"
    run bigfile conductor-3 "$client" bigfile --bytes "$big" -- "$conductor" agent "$proxy" "$proxy" "$proxy" "$agent"
    [ ! -x "$legacy_exe" ] || run bigfile conductor-3L "$client" bigfile --bytes "$big" -- "$conductor" agent "$legacy" "$legacy" "$legacy" "$agent"
  done
  run_offset=0
  runs_now=$runs
  runs_now=$startup_runs
  run startup direct "$client" startup -- "$agent"
  run startup relay-3 "$client" startup -- "$relay" hub 3 "$agent"
  run startup conductor-3 "$client" startup -- "$conductor" agent "$proxy" "$proxy" "$proxy" "$agent"
  runs_now=$runs
  run idle conductor-3 "$client" idle -- "$conductor" agent "$proxy" "$proxy" "$proxy" "$agent"
fi

# ---- the TypeScript comparison ----------------------------------------------------------------
ts_note=""
if [ "$smoke" = 1 ] || [ "${ACP_BENCH_NO_NODE:-0}" = 1 ]; then
  ts_note="TypeScript comparison not run (smoke run or ACP_BENCH_NO_NODE=1)"
elif [ "$stream_only" = 1 ]; then
  ts_note="Only the streaming cases were run (--stream-only)"
elif ! "$root/tests/interop/npm_install.sh" "$node_dir" @agentclientprotocol/sdk@2.4.0 @thinkwell/conductor@0.5.7 >&2; then
  ts_note="TypeScript comparison skipped: $(cat "$node_dir/skip-reason.txt" 2>/dev/null || echo 'npm install failed')"
elif [ ! -x "$legacy_exe" ]; then
  ts_note="TypeScript comparison skipped: $legacy_exe is missing (build the interop tests)"
else
  cp "$root/tests/bench/chain/thinkwell_conductor.mjs" "$node_dir/"
  nodebin=$(command -v node)
  thinkwell="$nodebin $node_dir/thinkwell_conductor.mjs"
  ts_agent="$nodebin $node_dir/sdk_agent.mjs"
  echo "== @thinkwell/conductor comparison (legacy-generation proxies, runs: $runs)" >&2
  # C++ endpoints: the conductors are the only difference. Proxies: the legacy pass-through proxy
  # (thinkwell speaks only the older generation; ours speaks both). conductor-3L's round trip and
  # streaming figures come from the C++ section above.
  run rtt thinkwell-3L "$client" rtt --turns "$turns" -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$agent"
  run stream thinkwell-3L "$client" stream --turns "$stream_turns" --updates "$updates" -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$agent"
  run bigfile thinkwell-3L "$client" bigfile --bytes "$big" -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$agent"
  runs_now=$startup_runs
  run startup thinkwell-3L "$client" startup -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$agent"
  run startup conductor-3L "$client" startup -- "$conductor" agent "$legacy" "$legacy" "$legacy" "$agent"
  runs_now=$runs
  run idle thinkwell-3L "$client" idle -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$agent"
  # TypeScript SDK endpoints (client and agent), same chains.
  echo "== TypeScript SDK endpoints (runs: $ts_runs)" >&2
  runs_now=$ts_runs
  ts_client=("$nodebin" "$node_dir/sdk_client.mjs")
  run ts-rtt direct "${ts_client[@]}" --bench-turns "$turns" -- "$nodebin" "$node_dir/sdk_agent.mjs"
  run ts-rtt conductor-3L "${ts_client[@]}" --bench-turns "$turns" -- "$conductor" agent "$legacy" "$legacy" "$legacy" "$ts_agent"
  run ts-rtt thinkwell-3L "${ts_client[@]}" --bench-turns "$turns" -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$ts_agent"
  run ts-stream direct "${ts_client[@]}" --bench-stream "$updates" --turns 1 -- "$nodebin" "$node_dir/sdk_agent.mjs"
  run ts-stream conductor-3L "${ts_client[@]}" --bench-stream "$updates" --turns 1 -- "$conductor" agent "$legacy" "$legacy" "$legacy" "$ts_agent"
  run ts-stream thinkwell-3L "${ts_client[@]}" --bench-stream "$updates" --turns 1 -- "$nodebin" "$node_dir/thinkwell_conductor.mjs" "$legacy" "$legacy" "$legacy" "$ts_agent"
  runs_now=$runs
fi

python3 "$root/tests/bench/chain/summarize.py" "$out" "$big" "$ts_note" | tee "$build/bench-results.md"
if [ "$smoke" = 1 ]; then
  python3 - "$out" <<'EOF'
import json, sys
seen = {(d["bench"], d["setup"]) for d in map(json.loads, open(sys.argv[1]))}
need = {("rtt", s) for s in ["direct", "relay-0", "conductor-0", "relay-1", "conductor-1", "relay-3", "conductor-3",
                             "conductor-3T"]}
need |= {("stream", "conductor-3T")}
need |= {("bigfile", "conductor-3"), ("startup", "conductor-3"), ("idle", "conductor-3")}
need |= {("stream", "trace-off-3"), ("stream", "trace-on-3"), ("trace-file", "trace-on-3")}
missing = need - seen
if missing:
    sys.exit(f"smoke: missing results for {sorted(missing)}")
print("smoke: every setup ran")
EOF
fi
