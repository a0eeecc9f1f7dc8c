#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

The seeds are small, realistic inputs: ACP messages, envelopes, component strings and router
scripts. Run it after changing a seed; the files are committed. fuzz.sh never writes here.
"""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def msg(**kw):
    return json.dumps({"jsonrpc": "2.0", **kw}, separators=(",", ":"))


INIT = msg(id=0, method="initialize", params={"protocolVersion": 1, "clientCapabilities": {
    "fs": {"readTextFile": True, "writeTextFile": True}, "terminal": True}, "clientInfo": {"name": "zed", "version": "0.1"}})
NEW = msg(id=1, method="session/new", params={"cwd": "/home/u/project", "mcpServers": []})
PROMPT = msg(id=2, method="session/prompt", params={"sessionId": "s1", "prompt": [
    {"type": "text", "text": "echo hello"},
    {"type": "resource_link", "uri": "file:///a.txt", "name": "a.txt"},
    {"type": "resource", "resource": {"uri": "file:///b.txt", "text": "b", "mimeType": "text/plain"}},
    {"type": "image", "data": "aGk=", "mimeType": "image/png"}], "_meta": {"trace": "x"}})
CANCEL = msg(method="session/cancel", params={"sessionId": "s1"})
CANCEL_REQ = msg(method="$/cancel_request", params={"requestId": 2})
UPDATE = msg(method="session/update", params={"sessionId": "s1", "update": {
    "sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "hi"}, "_meta": {"seq": 1}}})
TOOL = msg(method="session/update", params={"sessionId": "s1", "update": {
    "sessionUpdate": "tool_call", "toolCallId": "t1", "title": "Read", "kind": "read", "status": "pending",
    "locations": [{"path": "/a", "line": 3}], "content": [{"type": "diff", "path": "/a", "oldText": None, "newText": "x"}]}})
PLAN = msg(method="session/update", params={"sessionId": "s1", "update": {
    "sessionUpdate": "plan", "entries": [{"content": "do", "priority": "high", "status": "pending"}]}})
PERM = msg(id=5, method="session/request_permission", params={"sessionId": "s1", "toolCall": {"toolCallId": "t1"},
    "options": [{"optionId": "a", "name": "Allow", "kind": "allow_once"}]})
PERM_RESULT = msg(id=5, result={"outcome": {"outcome": "selected", "optionId": "a"}})
READ = msg(id=6, method="fs/read_text_file", params={"sessionId": "s1", "path": "/a", "line": 1, "limit": 10})
TERM = msg(id=7, method="terminal/create", params={"sessionId": "s1", "command": "ls", "args": ["-l"],
    "env": [{"name": "A", "value": "b"}], "outputByteLimit": 1000})
INIT_RESULT = msg(id=0, result={"protocolVersion": 1, "agentCapabilities": {"loadSession": True,
    "promptCapabilities": {"image": True}}, "authMethods": [{"id": "x", "name": "X"}]})
NEW_RESULT = msg(id=1, result={"sessionId": "s1", "modes": {"currentModeId": "a", "availableModes": [
    {"id": "a", "name": "Ask"}]}, "configOptions": []})
PROMPT_RESULT = msg(id=2, result={"stopReason": "end_turn"})
ERROR = msg(id=3, error={"code": -32603, "message": "boom", "data": {"reason": "component_exited"}})
SUCC_REQ = msg(id="c-17", method="_proxy/successor", params={"method": "session/prompt", "params": {
    "sessionId": "s1", "prompt": [{"type": "text", "text": "x"}]}, "_meta": {"k": 1}})
SUCC_NOTE = msg(method="_proxy/successor", params={"method": "session/update", "params": {"sessionId": "s1",
    "update": {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": ">"}}}})
SUCC_NULL = msg(id=9, method="proxy/successor", params={"method": "session/cancel", "params": None, "meta": {}})
LEGACY = msg(id=4, method="_proxy/successor/request", params={"method": "initialize", "params": {"protocolVersion": 1}})
PROXY_INIT = msg(id=0, method="_proxy/initialize", params={"protocolVersion": 1, "clientCapabilities": {}})

MESSAGES = [INIT, NEW, PROMPT, CANCEL, CANCEL_REQ, UPDATE, TOOL, PLAN, PERM, PERM_RESULT, READ, TERM,
            INIT_RESULT, NEW_RESULT, PROMPT_RESULT, ERROR, SUCC_REQ, SUCC_NOTE, SUCC_NULL, LEGACY, PROXY_INIT]


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # line decoder: limit byte, 8 chunk-plan bytes, stream
    stream = "\n".join([INIT, "", "  \r", NEW + "\r", "Content-Length: 12", PROMPT]) + "\n" + UPDATE
    write("fuzz_line_decoder", "chain_small_limit", bytes([60, 1, 0x82, 0x43, 5, 0xff, 2, 0x40, 9]) + stream.encode())
    write("fuzz_line_decoder", "chain_default_limit", bytes([250, 0x8f, 0xc1, 3, 4, 5, 6, 7, 8]) + stream.encode())
    write("fuzz_line_decoder", "long_blank", bytes([4, 1, 1, 1, 1, 1, 1, 1, 1]) + b"          \n\r\nab\r\r\n")

    # jsonrpc: lines of messages, batches, garbage
    write("fuzz_jsonrpc", "messages", "\n".join(MESSAGES))
    write("fuzz_jsonrpc", "batch", "[" + ",".join([INIT, CANCEL, ERROR]) + "]\n[]\n[1]")
    write("fuzz_jsonrpc", "garbage", 'Starting agent v1.2...\n{"jsonrpc":"2.0","id":1.5,"method":"x"}\n'
          '{"jsonrpc":"1.0","id":3}\n{"id":"a","result":{},"error":{}}\n\xff\xfe{"\xc3(\n')
    write("fuzz_jsonrpc", "ids", "\n".join([msg(id="1", method="m"), msg(id=None, method="m"),
                                           msg(id=18446744073709551615, result=None), msg(id=-9223372036854775808, result={})]))

    # envelope: mode byte, then JSON
    for i, (mode, j) in enumerate([(0, SUCC_REQ), (0, SUCC_NOTE), (0, SUCC_NULL), (0, LEGACY),
                                   (1, '{"method":"session/new","params":{"cwd":"/"},"_meta":{"a":[1]}}'),
                                   (0x40, '{"method":"x","params":[1,2],"meta":null}'),
                                   (3, '{"method":5}'), (5, '{"method":"m","params":"s"}')]):
        write("fuzz_envelope", f"seed{i}", bytes([mode]) + j.encode())

    # typed: whole messages and bare params/results
    for i, m in enumerate(MESSAGES):
        write("fuzz_typed", f"msg{i}", m)
    write("fuzz_typed", "params_prompt", json.dumps(json.loads(PROMPT)["params"]))
    write("fuzz_typed", "elicitation", msg(id=8, method="elicitation/create", params={
        "sessionId": "s1", "message": "Pick", "requestedSchema": {"type": "object", "properties": {
            "color": {"type": "string", "enum": ["r", "g"]}, "n": {"type": "number", "minimum": 1.5}}}}))
    write("fuzz_typed", "numbers", msg(id=1, result={"stopReason": "end_turn", "usage": {"inputTokens": 1.0,
        "outputTokens": 2, "x": 1e300}, "unknown": None}))

    # json_scan: depth-limit byte (limit = 1 + byte % 70), then one line; lines in the common shape
    # (the text form), lines it leaves to the DOM, envelopes, and edge cases of the scanner
    deep = "[" * 64 + "1" + "]" * 64
    for name, limit, line in [
            ("init", 63, INIT), ("prompt", 63, PROMPT), ("update", 63, UPDATE), ("tool_call", 20, TOOL),
            ("perm_result", 63, PERM_RESULT), ("new_result", 5, NEW_RESULT), ("error", 63, ERROR),
            ("succ_req_meta", 63, SUCC_REQ), ("succ_note", 63, SUCC_NOTE), ("succ_null_meta", 63, SUCC_NULL),
            ("legacy", 63, LEGACY),
            ("succ_plain", 63, msg(id=3, method="_proxy/successor", params={"method": "session/cancel", "params": [1]})),
            ("succ_bad", 63, msg(id=3, method="_proxy/successor", params={"method": 5, "params": "x"})),
            ("reordered_ws", 63, ' { "params" : [ ] , "method" : "m" , "id" : -7 , "jsonrpc" : "2.0" } '),
            ("ids", 63, '{"jsonrpc":"2.0","id":-0,"result":{}}'),
            ("uint64_id", 63, '{"jsonrpc":"2.0","id":18446744073709551615,"method":"m","params":null}'),
            ("escaped", 63, '{"jsonrpc":"2.0","id":"a\\"b","method":"session\\/prompt","params":{"k\\u0041":1}}'),
            ("numbers", 63, '{"jsonrpc":"2.0","id":1,"result":[1E999,-0,1e-999,0.5e+10,18446744073709551616,1e1000,-0.0]}'),
            ("strings", 63, '{"jsonrpc":"2.0","method":"session/update","params":{"t":"é€😀\\u00e9\\n\\"\\\\/",'
                            '"s":"\\uD83D\\uDE00","long":"0123456789abcdef\\t0123456789abcdef"}}'),
            ("deep_at_limit", 63, deep), ("deep_over_limit", 63, "[" + deep + "]"), ("deep_small_limit", 2, "[[{}]]"),
            ("utf8_edges", 63, b'{"jsonrpc":"2.0","method":"m","params":["\xc2\x80\xdf\xbf","\xe0\xa0\x80","\xed\x9f\xbf",'
                               b'"\xee\x80\x80","\xf0\x90\x80\x80","\xf4\x8f\xbf\xbf","\x7f"]}'),
            ("bad_utf8", 63, b'{"jsonrpc":"2.0","method":"m","params":{"a":"\xed\xa0\x80","b":"\xc3\x28"}}'),
            ("long_decimal", 63, '{"method":"m","params":[18446666666666.6151,0e309],"jsonrpc":"2.0"}'),
            ("batch", 63, "[" + ",".join([INIT, CANCEL]) + "]")]:
        write("fuzz_json_scan", name, bytes([limit]) + (line if isinstance(line, bytes) else line.encode()))

    # component strings
    for i, c in enumerate(["acp-arrow-proxy", "FOO=bar 'my proxy' --flag \"a b\" c\\ d",
                           "/usr/bin/node ./agent.js --x=\"$HOME\"", "A=1 B='2 3' C=\"\\$x\" cmd",
                           '{"command":"claude-code-acp","args":["--x"],"env":{"K":"v"},"name":"claude"}',
                           "'unterminated", "cmd \\\n arg", '"a"\'b\'c', "A=b", '{"command":""}']):
        write("fuzz_component", f"seed{i}", c)
    # found by fuzz_component: a JSON key with a newline made a two-line error message
    write("fuzz_component", "error_key_with_newline",
          '{"command":"claude-code-acp","args":["--x"],"\\nv":{"K":"v"},"name":"claude"}')

    # router scripts: config bytes, then records [op][len lo][len hi][bytes]
    def rec(op, text):
        b = text.encode()
        return bytes([op]) + struct.pack("<H", len(b)) + b

    def lines(*ms):
        return "\n".join(ms) + "\n"

    prompt = msg(id=2, method="session/prompt", params={"sessionId": "s1", "prompt": [{"type": "text", "text": "hi"}]})
    # one agent that answers everything; editor initializes, opens a session, prompts
    write("fuzz_router", "agent_answers", bytes([0, 1]) + rec(0x40, lines(INIT)) + rec(0x40, lines(NEW, prompt)))
    # two behaving proxies and a behaving agent
    write("fuzz_router", "chain_proper", bytes([2 | 8, 0x3f]) + rec(0x40, lines(INIT)) + rec(0x40, lines(NEW)) +
          rec(0x40, lines(prompt, CANCEL)) + rec(0x40, lines(CANCEL_REQ)))
    # scripted agent: answers initialize by hand (the conductor's ids on a link start at 1),
    # streams, asks permission
    write("fuzz_router", "scripted_agent", bytes([0, 0]) + rec(0x40, lines(INIT)) +
          rec(0x41, lines(msg(id=1, result={"protocolVersion": 1, "agentCapabilities": {}}))) +
          rec(0x40, lines(prompt)) + rec(0x41, lines(UPDATE, PERM)) + rec(0x40, lines(PERM_RESULT)) +
          rec(0x41, lines(msg(id=2, result={"stopReason": "end_turn"}))))
    # a proxy that refuses _proxy/initialize (older generation retry, then not_a_proxy)
    write("fuzz_router", "refusing_proxy", bytes([1, 2 | (1 << 2)]) + rec(0x40, lines(INIT)) + rec(0x40, lines(NEW)))
    # scripted proxy sending successor envelopes, garbage and an exit mid-turn
    write("fuzz_router", "proxy_envelopes", bytes([1, 1 << 2]) + rec(0x40, lines(INIT)) +
          rec(0x41, lines(msg(id=1, result={}), SUCC_NOTE, SUCC_REQ, "garbage line", "[]")) +
          rec(0x40, lines(prompt)) + rec(0xc2, lines(UPDATE)))
    # an editor request held until a proxy answers `_proxy/initialize`, when the agent exits: the
    # held request must still be answered (docs/PROTOCOL.md §6)
    write("fuzz_router", "held_request_when_agent_exits", bytes([1, 1 << 2]) + rec(0x40, lines(INIT)) +
          rec(0x40, lines(prompt)) + rec(0xc2, ""))
    # proxy mode: the parent sends _proxy/initialize and successor envelopes
    write("fuzz_router", "proxy_mode", bytes([4, 1]) + rec(0x40, lines(PROXY_INIT, SUCC_NOTE)) +
          rec(0x40, lines(SUCC_REQ, NEW)))
    # garbage and split lines from the editor, requests before initialize, a batch
    write("fuzz_router", "editor_garbage", bytes([0, 1]) + rec(0, NEW[:10]) + rec(0x40, NEW[10:] + "\n") +
          rec(0x40, "not json\n[" + INIT + "," + CANCEL + "]\n") + rec(0x40, lines(INIT, NEW)) + rec(0x80, prompt))

    # policy paths: one byte per component (see fuzz_policy_path.cpp for the alphabet)
    names = ["src", "deep", "a.txt", "dlink", "flink", "rel", "dangling", "ddir", "up", "inlink",
             "back", "dot", "loop1", "new", "x", "sub", "secret", "..", "..", "."]
    for name, parts in [("inside", ["src", "deep", "x"]), ("new_then_up_then_link", ["new", "..", "dlink", "x"]),
                        ("missing_up_file_link", ["new", "..", "flink"]), ("inlink_up", ["inlink", "..", "a.txt"]),
                        ("up_link", ["src", "up", "x"]), ("back_chain", ["src", "deep", "back", "sub"]),
                        ("dot_link", ["dot", "dot", "new", "..", "rel"])]:
        write("fuzz_policy_path", name, bytes(names.index(p) for p in parts))
    write("fuzz_policy_path", "double_slash", bytes([0, 240, 1, 240]))

    # MCP bridge HTTP: one client connection; @P path, @T token, @S session (fuzz_mcp_http.cpp)
    auth = "Host: x\r\nAuthorization: Bearer @T\r\n"

    def post(body, headers=""):
        return f"POST @P HTTP/1.1\r\n{auth}{headers}Content-Length: {len(body)}\r\n\r\n{body}"

    session = "Mcp-Session-Id: @S\r\n"
    write("fuzz_mcp_http", "post_request", post(msg(id=2, method="tools/list", params={}), session))
    write("fuzz_mcp_http", "post_notification", post(msg(method="notifications/initialized"), session))
    write("fuzz_mcp_http", "get_stream", f"GET @P HTTP/1.1\r\n{auth}Accept: text/event-stream\r\n{session}\r\n")
    write("fuzz_mcp_http", "pipelined_chunked", post(msg(id=1, method="initialize", params={})) +
          f"POST @P HTTP/1.1\r\n{auth}{session}Transfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n0\r\n\r\n")
    write("fuzz_mcp_http", "delete_unknown",
          f"DELETE @P HTTP/1.1\r\n{auth}Origin: http://localhost:1\r\nMcp-Session-Id: 0000\r\n\r\n")
    write("fuzz_mcp_http", "bad_json", f"POST @P HTTP/1.1\r\nAuthorization: Bearer @T\r\n{session}Content-Length: 5\r\n\r\n" + '{"a":')


if __name__ == "__main__":
    main()
