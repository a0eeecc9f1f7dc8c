// An MCP server built with the official MCP TypeScript SDK, for acp-test-agent's MCP client
// (tests/mcp/agent_mcp_sdk_test.cpp). Tools: add {a,b} -> "sum: N", echo {text} -> "echo: TEXT",
// fail -> an isError result "failed on purpose", whoami -> "token: T, protocol: V" (T: the
// X-Test-Token header over HTTP, the AGENT_TEST_TOKEN variable over stdio; V: the
// MCP-Protocol-Version header over HTTP, "stdio" otherwise).
//   node agent_mcp_server.mjs stdio          StdioServerTransport
//   node agent_mcp_server.mjs http [--json]  StreamableHTTPServerTransport (SSE answers; JSON
//                                            bodies with --json) on 127.0.0.1; prints "port N",
//                                            then "closed SESSION" when a session ends (DELETE)
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const mode = process.argv[2];
const json = process.argv.includes('--json');

function make_server() {
  const server = new McpServer({ name: 'agent-test-server', version: '1.0.0' });
  server.registerTool('add', { description: 'adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: `sum: ${a + b}` }] }));
  server.registerTool('echo', { description: 'says it back', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));
  server.registerTool('fail', { description: 'always fails' },
    async () => ({ isError: true, content: [{ type: 'text', text: 'failed on purpose' }] }));
  server.registerTool('whoami', { description: 'what the call came with' }, async (extra) => {
    const headers = extra.requestInfo?.headers ?? {};
    const token = mode === 'stdio' ? (process.env.AGENT_TEST_TOKEN ?? 'none') : (headers['x-test-token'] ?? 'none');
    const protocol = mode === 'stdio' ? 'stdio' : (headers['mcp-protocol-version'] ?? 'none');
    return { content: [{ type: 'text', text: `token: ${token}, protocol: ${protocol}` }] };
  });
  return server;
}

function read_body(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

if (mode === 'stdio') {
  await make_server().connect(new StdioServerTransport());
} else if (mode === 'http') {
  const sessions = new Map();
  const server = http.createServer(async (req, res) => {
    try {
      const sid = req.headers['mcp-session-id'];
      const body = req.method === 'POST' ? JSON.parse(await read_body(req)) : undefined;
      let transport = sid ? sessions.get(sid) : undefined;
      if (!transport) {
        if (req.method !== 'POST' || sid || !isInitializeRequest(body)) {
          res.writeHead(sid ? 404 : 400, { 'Content-Type': 'text/plain' }).end(sid ? 'unknown session' : 'no session');
          return;
        }
        const t = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: json,
          onsessioninitialized: (id) => sessions.set(id, t),
        });
        t.onclose = () => {
          if (t.sessionId && sessions.delete(t.sessionId)) console.log(`closed ${t.sessionId}`);
        };
        await make_server().connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res, body);
    } catch (e) {
      console.error(e);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(e));
    }
  });
  server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
} else {
  console.error('usage: agent_mcp_server.mjs stdio | http [--json]');
  process.exit(2);
}
