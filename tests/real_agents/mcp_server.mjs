// A minimal MCP server over Streamable HTTP for the real-agent tests, written by hand with
// node:http (the agents' npm directory has no MCP SDK): POST /mcp takes one JSON-RPC message (or
// a batch) and answers application/json; initialize, notifications/* (202), ping, tools/list,
// tools/call. GET (an SSE stream for server-initiated messages) gets 405, as the transport
// allows. Every request must carry "Authorization: Bearer TOKEN" (proof that the agent passed
// the headers declared in session/new); without it: 401, recorded.
//
// One tool, MARKER_TOOL {word}: returns the text marker_of(word), so that a test can tell the
// tool's output from anything a model or an agent could make up. Every call is recorded.
// Built-in modules only.
import http from "node:http";
import crypto from "node:crypto";

export const MARKER_TOOL = "make_marker";
export const marker_of = (word) => `MARKER-${word}-${[...word].reverse().join("")}-7319`;

const VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const TOOLS = [
  {
    name: MARKER_TOOL,
    description: "Returns the marker string for a word. Call it when asked for a marker.",
    inputSchema: {
      type: "object",
      properties: { word: { type: "string", description: "the word to make a marker of" } },
      required: ["word"],
    },
  },
];

// The answer to one JSON-RPC request (null for a notification).
function answer(state, msg) {
  const reply = (result) => ({ jsonrpc: "2.0", id: msg.id, result });
  const fail = (code, message) => ({ jsonrpc: "2.0", id: msg.id, error: { code, message } });
  if (msg === null || typeof msg !== "object" || msg.jsonrpc !== "2.0" || typeof msg.method !== "string")
    return { jsonrpc: "2.0", id: msg?.id ?? null, error: { code: -32600, message: "mcp_server: invalid request" } };
  if (msg.id === undefined) return null; // notifications/initialized, notifications/cancelled, ...
  switch (msg.method) {
    case "initialize": {
      const asked = msg.params?.protocolVersion;
      state.client = msg.params?.clientInfo ?? null;
      return reply({
        protocolVersion: VERSIONS.includes(asked) ? asked : VERSIONS[1],
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: "acp-real-agents-mcp", version: "1.0.0" },
      });
    }
    case "ping":
      return reply({});
    case "tools/list":
      return reply({ tools: TOOLS });
    case "tools/call": {
      const name = msg.params?.name;
      const args = msg.params?.arguments ?? {};
      state.calls.push({ name, arguments: args });
      if (name !== MARKER_TOOL)
        return reply({ content: [{ type: "text", text: `mcp_server: unknown tool ${name}` }], isError: true });
      if (typeof args.word !== "string")
        return reply({ content: [{ type: "text", text: "mcp_server: arguments.word: expected string" }], isError: true });
      return reply({ content: [{ type: "text", text: marker_of(args.word) }] });
    }
    default:
      return fail(-32601, `mcp_server: method not found: ${msg.method}`);
  }
}

// Starts the server on 127.0.0.1 (any free port) requiring TOKEN. Returns { url, port, token,
// state: { calls, methods, unauthorized, client }, close() }. methods: every JSON-RPC method
// received, in order; unauthorized: "METHOD PATH" of every request refused for its header.
export async function start_mcp_server({ token = crypto.randomBytes(12).toString("hex") } = {}) {
  const state = { calls: [], methods: [], unauthorized: [], client: null, session: crypto.randomUUID() };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const send = (status, body, headers = {}) => {
        const h = { ...headers };
        if (body !== undefined) h["content-type"] = "application/json";
        res.writeHead(status, h);
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      const path = new URL(req.url, "http://mcp").pathname;
      if (req.headers.authorization !== `Bearer ${token}`) {
        state.unauthorized.push(`${req.method} ${path}`);
        return send(401, { error: "mcp_server: missing or wrong bearer token" });
      }
      if (path !== "/mcp") return send(404, { error: `mcp_server: no route for ${path}` });
      if (req.method === "DELETE") return send(200);
      if (req.method !== "POST") return send(405, undefined, { allow: "POST, DELETE" });
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        return send(400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: `mcp_server: ${e.message}` } });
      }
      const batch = Array.isArray(body) ? body : [body];
      for (const m of batch) state.methods.push(m?.method ?? (m?.id !== undefined ? "(response)" : "?"));
      const answers = batch.map((m) => answer(state, m)).filter((a) => a !== null);
      if (answers.length === 0) return send(202);
      const headers = { "mcp-session-id": state.session };
      send(200, Array.isArray(body) ? answers : answers[0], headers);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    token,
    state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// Standalone: node mcp_server.mjs [TOKEN]  (prints the URL and the token, runs until killed).
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await start_mcp_server(process.argv[2] ? { token: process.argv[2] } : {});
  console.log(`${s.url} ${s.token}`);
}
