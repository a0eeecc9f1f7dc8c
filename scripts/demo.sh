#!/usr/bin/env bash
# The README's main command: builds everything, then runs a real chain — the acp-prompt client
# drives acp-conductor with example proxies in front of the bundled test agent — and shows the
# reply streamed back through the chain, the Markdown transcript one proxy wrote, and the
# conductor's trace of every routed message. Then a tool call: acp-tools-proxy gives the agent a
# tool over ACP, and the conductor bridges it to the agent over HTTP (as it does for Claude Agent,
# Codex and Gemini CLI, which take MCP servers over HTTP or stdio only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"

conductor=$build/conductor/acp-conductor
agent=$build/examples/test-agent/acp-test-agent
arrow=$build/examples/proxies/arrow/acp-arrow-proxy
transcript=$build/examples/proxies/transcript/acp-transcript-proxy
tools=$build/examples/proxies/tools/acp-tools-proxy
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

cat >"$work/tools.json" <<'JSON'
{"tools": [{"name": "count_lines", "description": "Count the lines of a file",
  "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
  "argv": ["wc", "-l", "{path}"], "timeoutMs": 5000}]}
JSON
call='mcp call tools count_lines {"path":"'"$root/README.md"'"}'
echo
echo "== a tool call: acp-prompt -> acp-conductor -> acp-tools-proxy (a tool from tools.json, over ACP) -> acp-test-agent"
echo "== the agent takes MCP servers over HTTP only, so the conductor bridges; prompt: '$call'"
echo
"$prompt" "$call" -- "$conductor" --trace "$work/tools-trace.jsonl" agent "$tools --config $work/tools.json" "$agent"
echo
echo "== the tool call in the trace (MCP traffic is marked \"protocol\":\"mcp\"; cut to 150 columns):"
grep '"method":"tools/call"' "$work/tools-trace.jsonl" | cut -c1-150
