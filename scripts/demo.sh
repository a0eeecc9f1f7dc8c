#!/usr/bin/env bash
# The README's main command: builds everything, then runs a real chain — the acp-prompt client
# drives acp-conductor with two example proxies in front of the bundled test agent — and shows
# the reply streamed back through the chain, plus the trace of every routed message.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"

bin() { echo "$build/$1"; }
conductor=$(bin conductor/acp-conductor)
agent=$(bin examples/test-agent/acp-test-agent)
arrow=$(bin examples/proxies/arrow/acp-arrow-proxy)
prompt=$(bin examples/acp-prompt/acp-prompt)
trace=$(mktemp /tmp/acp-demo-trace.XXXXXX.jsonl)

echo "== chain: acp-prompt -> acp-conductor -> arrow proxy -> arrow proxy -> acp-test-agent"
echo "== prompt: \"echo Hello through the chain\""
echo
"$prompt" "echo Hello through the chain" -- \
  "$conductor" --trace "$trace" agent "$arrow" "$arrow" "$agent"
echo
echo "== each arrow proxy prefixed '>' to the agent's text; the conductor traced $(wc -l <"$trace") routed messages:"
cut -c1-160 "$trace"
rm -f "$trace"
