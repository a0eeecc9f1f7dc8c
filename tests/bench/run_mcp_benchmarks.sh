#!/usr/bin/env bash
# MCP tool-call benchmark (docs/PERFORMANCE.md, "MCP tool calls"): the latency of one `tools/call`
# round trip made by acp-test-agent (`mcp bench`) behind `acp-conductor agent
# acp-bench-tools-proxy acp-test-agent`, in four setups:
#   native  the agent advertises mcpCapabilities.acp and calls over mcp/message, through the
#           conductor, to the proxy's MCP server (no bridge)
#   http    the conductor's HTTP bridge (its default for an agent without acp)
#   stdio   the stdio shim (`--mcp-bridge stdio`: acp-mcp-bridge --shim, started by the agent)
#   direct  the baseline: the same agent, same chain, calling acp-bench-direct-mcp-server, a
#           minimal MCP Streamable HTTP server on loopback declared by the editor as type http
# The tool ("echo") answers at once with the same text in every setup; http − direct is what the
# bridge adds. Setups alternate within each run (the order rotates from run to run), so that a
# change in the machine's load hits all alike; the table gives medians over the runs and the
# median of the per-run p50 differences to direct.
#
#   tests/bench/run_mcp_benchmarks.sh [--smoke] [BUILD_DIR]    (BUILD_DIR defaults to ./build)
#
# Builds nothing. Environment: ACP_MCP_BENCH_RUNS (runs per setup, default 5),
# ACP_MCP_BENCH_CALLS (calls per run, default 2000). Results: BUILD_DIR/mcp-bench-results.jsonl
# (every run) and the table on stdout (also BUILD_DIR/mcp-bench-results.md). --smoke: one run of
# 20 calls per setup, fails unless every setup gave figures (the CTest test bench_mcp_smoke).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
smoke=0
if [ "${1:-}" = --smoke ]; then
  smoke=1
  shift
fi
build=$(cd "${1:-$root/build}" && pwd)

conductor=$build/conductor/acp-conductor
shim=$build/mcp-bridge/acp-mcp-bridge
agent=$build/examples/test-agent/acp-test-agent
provider=$build/tests/bench/mcp/acp-bench-tools-proxy
direct=$build/tests/bench/mcp/acp-bench-direct-mcp-server
editor=$root/tests/bench/mcp/mcp_editor.py
for exe in "$conductor" "$shim" "$agent" "$provider" "$direct"; do
  [ -x "$exe" ] || { echo "run_mcp_benchmarks.sh: $exe is missing; build first (./scripts/build.sh)" >&2; exit 2; }
done

runs=${ACP_MCP_BENCH_RUNS:-5}
calls=${ACP_MCP_BENCH_CALLS:-2000}
if [ "$smoke" = 1 ]; then
  runs=1 calls=20
fi
out=$build/mcp-bench-results.jsonl
log=$build/mcp-bench-stderr.log
: > "$out"
: > "$log"

setups=(native http stdio direct)
# one_run SETUP RUN: one editor run, appended to the results; false when it failed.
one_run() {
  local setup=$1 run=$2 line
  local -a cmd=(python3 "$editor" --server tools --calls "$calls")
  case $setup in
  # native and http: the conductor's default (`--mcp-bridge auto`), which leaves an agent with
  # acp alone and bridges over HTTP for one that advertises http.
  native) cmd+=(-- "$conductor" agent "$provider" "$agent --mcp-capabilities acp,http") ;;
  http) cmd+=(-- "$conductor" agent "$provider" "$agent") ;;
  stdio) cmd+=(-- "$conductor" --mcp-bridge stdio --mcp-shim "$shim" agent "$provider" "$agent") ;;
  direct)
    cmd=(python3 "$editor" --direct-server "$direct" --server direct --calls "$calls" --
      "$conductor" agent "$provider" "$agent")
    ;;
  esac
  line=$(timeout 300 "${cmd[@]}" 2>>"$log" | tail -n 1) || true
  if [ -z "$line" ] || ! printf '%s' "$line" | python3 -c 'import json,sys; sys.exit(0 if "p50_us" in json.load(sys.stdin) else 1)' 2>/dev/null; then
    echo "run_mcp_benchmarks.sh: $setup run $run failed: ${line:-no output} (see $log)" >&2
    return 1
  fi
  printf '{"bench":"mcp-call","setup":"%s","run":%d,"calls":%d,"result":%s}\n' "$setup" "$run" "$calls" "$line" >> "$out"
}

echo "== MCP tools/call round trip: $runs runs x $calls calls per setup, alternating" >&2
failed=0
for ((r = 0; r < runs; ++r)); do
  for ((k = 0; k < ${#setups[@]}; ++k)); do
    setup=${setups[(k + r) % ${#setups[@]}]}
    echo "   run $r: $setup" >&2
    one_run "$setup" "$r" || failed=1
  done
done

python3 - "$out" "$runs" "$calls" <<'EOF' | tee "$build/mcp-bench-results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for d in rows:
    by.setdefault(d["setup"], {})[d["run"]] = d["result"]
med = statistics.median
direct = by.get("direct", {})
print(f"MCP tools/call round trip ({sys.argv[2]} runs x {sys.argv[3]} calls per setup, alternating)\n")
print("| setup | p50 µs (median of runs) | p50 spread | p99 µs (median) | p50 − direct µs (median of per-run differences) |")
print("| --- | ---: | --- | ---: | ---: |")
for setup in ["native", "http", "stdio", "direct"]:
    runs = by.get(setup, {})
    if not runs:
        print(f"| {setup} | failed | | | |")
        continue
    p50 = [r["p50_us"] for r in runs.values()]
    p99 = [r["p99_us"] for r in runs.values()]
    diffs = [runs[k]["p50_us"] - direct[k]["p50_us"] for k in runs if k in direct]
    diff = f"{med(diffs):+.1f}" if diffs and setup != "direct" else ("0" if setup == "direct" else "n/a")
    print(f"| {setup} | {med(p50):.1f} | {min(p50):.1f}–{max(p50):.1f} (n={len(p50)}) | {med(p99):.1f} | {diff} |")
EOF
if [ "$smoke" = 1 ]; then
  python3 - "$out" <<'EOF'
import json, sys
seen = {json.loads(l)["setup"] for l in open(sys.argv[1])}
missing = {"native", "http", "stdio", "direct"} - seen
if missing:
    sys.exit(f"smoke: no figures for {sorted(missing)}")
print("smoke: every setup ran")
EOF
fi
exit "$failed"
