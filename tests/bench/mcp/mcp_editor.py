#!/usr/bin/env python3
"""The editor of the MCP tool-call benchmark (tests/bench/run_mcp_benchmarks.sh).

    mcp_editor.py [--direct-server EXE] --server NAME --calls N [--text TEXT] [--timeout S] -- COMMAND...

Starts COMMAND (an ACP agent: `acp-conductor agent … acp-test-agent`), opens a session and sends
the prompt `mcp bench NAME echo N {"text": TEXT}`, then prints one JSON line: the test agent's
figures (`calls`, `p50_us`, `p90_us`, `p99_us`, `mean_us`, `max_us`) or `{"error": …}`.
With --direct-server the editor first starts that MCP server (acp-bench-direct-mcp-server: it
prints its port) and declares it in session/new as `{"type":"http","name":"direct",…}`.
Exit status 0 with figures, 1 otherwise.
"""
import argparse
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time


def reader(stream, q):
    for line in stream:
        q.put(line)
    q.put(None)


class peer:
    def __init__(self, command):
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.q = queue.Queue()
        threading.Thread(target=reader, args=(self.proc.stdout, self.q), daemon=True).start()
        self.next_id = 0

    def send(self, msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def answer_of(self, rid, deadline, chunks):
        """Messages until the answer to `rid`; chunks of agent_message_chunk go to `chunks`."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no answer before the deadline")
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                raise RuntimeError("no answer before the deadline") from None
            if line is None:
                raise RuntimeError(f"the agent ended (exit status {self.proc.wait()})")
            msg = json.loads(line)
            if "method" in msg:
                if "id" in msg:  # no request is expected from the agent: refuse it, visibly
                    self.send({"jsonrpc": "2.0", "id": msg["id"],
                               "error": {"code": -32601, "message": f"the bench editor does not serve {msg['method']}"}})
                    continue
                update = msg.get("params", {}).get("update", {})
                if msg["method"] == "session/update" and update.get("sessionUpdate") == "agent_message_chunk":
                    chunks.append(update.get("content", {}).get("text", ""))
                continue
            if msg.get("id") == rid:
                if "error" in msg:
                    raise RuntimeError(f"request {rid} failed: {json.dumps(msg['error'])}")
                return msg["result"]

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def figures(line):
    """'mcp bench NAME TOOL: calls=N p50_us=…' -> {'calls': N, 'p50_us': …}."""
    head, sep, rest = line.partition(": ")
    if not sep or not head.startswith("mcp bench ") or "calls=" not in rest:
        return None
    return {k: float(v) if k != "calls" else int(v) for k, v in (kv.split("=", 1) for kv in rest.split())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--direct-server")
    ap.add_argument("--server", required=True)
    ap.add_argument("--calls", type=int, required=True)
    ap.add_argument("--text", default="x" * 64)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    direct = agent = None
    try:
        servers = []
        if args.direct_server:
            token = secrets.token_hex(16)
            direct = subprocess.Popen([args.direct_server], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, env={**os.environ, "ACP_BENCH_MCP_TOKEN": token})
            port = direct.stdout.readline().strip()
            if not port.isdigit():
                raise RuntimeError("the direct MCP server did not print its port")
            servers.append({"type": "http", "name": "direct", "url": f"http://127.0.0.1:{port}/mcp",
                            "headers": [{"name": "Authorization", "value": f"Bearer {token}"}]})
        agent = peer(args.command)
        deadline = time.monotonic() + args.timeout
        chunks = []
        agent.answer_of(agent.request("initialize", {
            "protocolVersion": 1,
            "clientCapabilities": {"fs": {"readTextFile": False, "writeTextFile": False}, "terminal": False}}),
            deadline, chunks)
        session = agent.answer_of(agent.request("session/new", {"cwd": os.getcwd(), "mcpServers": servers}),
                                  deadline, chunks)["sessionId"]
        text = f"mcp bench {args.server} echo {args.calls} " + json.dumps({"text": args.text})
        agent.answer_of(agent.request("session/prompt", {
            "sessionId": session, "prompt": [{"type": "text", "text": text}]}), deadline, chunks)
        found = [f for f in map(figures, chunks) if f]
        if not found:
            raise RuntimeError("no figures from the agent: " + " | ".join(chunks))
        print(json.dumps(found[-1]))
        return 0
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        print(json.dumps({"error": str(e)}))
        return 1
    finally:
        if agent:
            agent.close()
        if direct:
            direct.stdin.close()
            try:
                direct.wait(timeout=10)
            except subprocess.TimeoutExpired:
                direct.kill()
                direct.wait()


if __name__ == "__main__":
    sys.exit(main())
