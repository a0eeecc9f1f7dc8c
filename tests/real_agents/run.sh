#!/bin/sh
# Runs one real-agent test case with node (CTest: skipped, exit 77, when node is missing).
#   run.sh AGENT CASE
command -v node >/dev/null 2>&1 || { echo "SKIPPED: node is not installed"; exit 77; }
exec node "$(dirname "$0")/real_agent_test.mjs" "$@"
