// An editor on Node's own `net` and `tls` (peers no one here wrote) for `acp-conductor serve` on
// tcp://, tls:// and unix: (NDJSON: one JSON-RPC message per line).
// Usage: node remote_ndjson_client.mjs tcp HOST PORT | tls HOST PORT CA_FILE | unix PATH
// With $ACP_TEST_TOKEN set, the first line is the authentication line (_acp/authenticate).
// Then initialize, session/new and session/prompt "echo node"; prints `ok STOP_REASON TEXT`
// (TEXT JSON-quoted), or `error MESSAGE` (an error answer, or the connection ended first), and
// exits. Gives up after 30 s (`timeout`).
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';

const [kind, a, b, caFile] = process.argv.slice(2);
let socket;
if (kind === 'tcp') socket = net.connect({ host: a, port: Number(b) });
else if (kind === 'unix') socket = net.connect({ path: a });
else if (kind === 'tls') socket = tls.connect({ host: a, port: Number(b), ca: fs.readFileSync(caFile), servername: a });
else {
  console.log(`error unknown kind ${kind}`);
  process.exit(2);
}
setTimeout(() => {
  console.log('timeout');
  process.exit(1);
}, 30000).unref();

const send = (m) => socket.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
const finish = (line) => {
  console.log(line);
  socket.end();
  process.exit(0);
};
let text = '';
let session = null;
let pending = '';

socket.on(kind === 'tls' ? 'secureConnect' : 'connect', () => {
  if (process.env.ACP_TEST_TOKEN) send({ method: '_acp/authenticate', params: { token: process.env.ACP_TEST_TOKEN } });
  send({ id: 'init', method: 'initialize', params: { protocolVersion: 1, clientCapabilities: {} } });
});
socket.on('data', (chunk) => {
  pending += chunk.toString();
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    if (m.method === 'session/update') {
      const u = m.params?.update;
      if (u?.sessionUpdate === 'agent_message_chunk' && u.content?.type === 'text') text += u.content.text;
    } else if (m.method !== undefined) {
      if (m.id !== undefined) send({ id: m.id, error: { code: -32601, message: 'not here' } });
    } else if (m.error) {
      finish(`error ${m.error.message}`);
    } else if (m.id === 'init') {
      send({ id: 'new', method: 'session/new', params: { cwd: '/', mcpServers: [] } });
    } else if (m.id === 'new') {
      session = m.result.sessionId;
      send({ id: 'prompt', method: 'session/prompt', params: { sessionId: session, prompt: [{ type: 'text', text: 'echo node' }] } });
    } else if (m.id === 'prompt') {
      finish(`ok ${m.result.stopReason} ${JSON.stringify(text)}`);
    }
  }
});
socket.on('error', (e) => finish(`error ${e.message}`));
socket.on('close', () => finish('error the connection ended before the turn'));
