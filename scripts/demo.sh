#!/usr/bin/env bash
# The README's main command: builds everything, then runs a real chain — the acp-prompt client
# drives acp-conductor with example proxies in front of the bundled test agent — and shows the
# reply streamed back through the chain, the Markdown transcript one proxy wrote, and the
# conductor's trace of every routed message.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"

conductor=$build/conductor/acp-conductor
agent=$build/examples/test-agent/acp-test-agent
arrow=$build/examples/proxies/arrow/acp-arrow-proxy
transcript=$build/examples/proxies/transcript/acp-transcript-proxy
prompt=$build/examples/acp-prompt/acp-prompt
work=$(mktemp -d /tmp/acp-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo
echo "== chain: acp-prompt -> acp-conductor -> transcript proxy -> arrow proxy -> arrow proxy -> acp-test-agent"
echo "== prompt: \"echo Hello through the chain\""
echo
"$prompt" "echo Hello through the chain" -- \
  "$conductor" --trace "$work/trace.jsonl" agent "$transcript --dir $work/transcripts" "$arrow" "$arrow" "$agent"
echo
echo "== each arrow proxy prefixed '>' to the agent's text. The transcript proxy wrote:"
echo
cat "$work"/transcripts/*.md
echo
echo "== the conductor traced $(wc -l <"$work/trace.jsonl") routed messages (first 6, cut to 150 columns):"
head -n 6 "$work/trace.jsonl" | cut -c1-150
