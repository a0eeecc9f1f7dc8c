// The official MCP TypeScript SDK's Client against a declaration the bridge rewrote
// (BRIDGE_DECL: the JSON of the http or stdio declaration). Prints one JSON line of findings;
// exits 1 with a message when a step fails. Used by tests/mcp/bridge_sdk_test.cpp.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { EmptyResultSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const fail = (what) => {
  console.error(`bridge_client: ${what}`);
  process.exit(1);
};
const decl = JSON.parse(process.env.BRIDGE_DECL ?? "null") ?? fail("BRIDGE_DECL is not set");
let transport;
if (decl.type === "http") {
  const headers = Object.fromEntries(decl.headers.map((h) => [h.name, h.value]));
  transport = new StreamableHTTPClientTransport(new URL(decl.url), { requestInit: { headers } });
} else {
  const env = Object.fromEntries(decl.env.map((e) => [e.name, e.value]));
  transport = new StdioClientTransport({ command: decl.command, args: decl.args, env, stderr: "inherit" });
}
const client = new Client({ name: "bridge-test", version: "1.0.0" });
let listChanged;
const changed = new Promise((resolve) => (listChanged = resolve));
client.setNotificationHandler(ToolListChangedNotificationSchema, () => listChanged(true));

const timer = setTimeout(() => fail("timed out"), 20000);
const out = {};
try {
  await client.connect(transport);
  out.server = client.getServerVersion()?.name;
  out.sessionId = transport.sessionId ?? null;
  const list = await client.listTools();
  out.tools = list.tools.map((t) => t.name).sort();
  const echo = await client.callTool({ name: "echo", arguments: { text: "hello bridge" } });
  out.echo = echo.content[0].text;
  const bad = await client.callTool({ name: "fail", arguments: {} });
  out.failIsError = bad.isError === true;
  out.failText = bad.content[0].text;
  try {
    await client.request({ method: "no/such", params: {} }, EmptyResultSchema);
    out.unknownMethod = "answered";
  } catch (e) {
    out.unknownMethod = e.code ?? String(e);
  }
  const started = Date.now();
  const slow = await Promise.all(
    [300, 300, 300, 300].map((ms, i) => client.callTool({ name: "slow", arguments: { ms, tag: `t${i}` } })),
  );
  out.concurrentMs = Date.now() - started;
  out.slow = slow.map((r) => r.content[0].text);
  await client.callTool({ name: "notify", arguments: {} });
  out.listChanged = await Promise.race([changed, new Promise((r) => setTimeout(() => r(false), 5000))]);
  await client.ping();
  out.ping = true;
  if (transport.terminateSession) await transport.terminateSession();
  await client.close();
} catch (e) {
  fail(`${e?.name ?? "error"}: ${e?.message ?? e}`);
}
clearTimeout(timer);
console.log(JSON.stringify(out));
process.exit(0);
