// An editor written with the `ws` package (a peer no one here wrote) for the remote-chain tests.
// Usage: node remote_chain_client.mjs URL COUNT [CA_FILE]
// Opens COUNT WebSocket connections at once, with `Authorization: Bearer $ACP_TEST_TOKEN` when
// that variable is set (the token never goes on a command line). On connection i (1..COUNT):
// initialize, session/new, then session/prompt "echo <i>"; its ids carry i, so an answer meant
// for another connection is seen. Prints one line per connection, then `done OK_COUNT`:
//   ok I STOP_REASON TEXT     (TEXT: the agent_message_chunk texts, JSON-quoted)
//   refused I STATUS          (the upgrade was answered with an HTTP status)
//   error I MESSAGE           (anything else, including a foreign id)
// Every connection is closed after its turn; the script exits once all have closed, or after
// 120 s printing `timeout` (exit 1).
import WebSocket from 'ws';
import fs from 'node:fs';

const [url, countText, caFile] = process.argv.slice(2);
const count = Number(countText ?? '1');
const options = { headers: {}, handshakeTimeout: 20000, maxPayload: 128 * 1024 * 1024 };
if (process.env.ACP_TEST_TOKEN) options.headers.Authorization = `Bearer ${process.env.ACP_TEST_TOKEN}`;
if (caFile) options.ca = fs.readFileSync(caFile);

let open = count;
let ok = 0;
const finished = () => {
  if (--open === 0) {
    console.log(`done ${ok}`);
    process.exit(0);
  }
};
setTimeout(() => {
  console.log(`timeout ${open} connection(s) unfinished`);
  process.exit(1);
}, 120000).unref();

function run(i) {
  const ws = new WebSocket(url, options);
  let reported = false;
  let ended = false;
  let text = '';
  const end = () => {
    if (ended) return;
    ended = true;
    finished();
  };
  let session = null;
  const report = (line) => {
    if (reported) return;
    reported = true;
    console.log(line);
  };
  const send = (id, method, params) => ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  ws.on('unexpected-response', (_request, response) => {
    report(`refused ${i} ${response.statusCode}`);
    response.destroy();
    end();
  });
  ws.on('error', (e) => {
    report(`error ${i} ${e.message}`);
    ws.terminate();
  });
  ws.on('open', () => {
    send(`init-${i}`, 'initialize', { protocolVersion: 1, clientCapabilities: {} });
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return report(`error ${i} a binary frame`);
    const m = JSON.parse(data.toString());
    if (m.method === 'session/update') {
      const u = m.params?.update;
      if (m.params?.sessionId !== session) report(`error ${i} an update of another session`);
      if (u?.sessionUpdate === 'agent_message_chunk' && u.content?.type === 'text') text += u.content.text;
      return;
    }
    if (m.method !== undefined) {
      if (m.id !== undefined) ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'not here' } }));
      return;
    }
    if (m.error) {
      report(`error ${i} ${m.id}: ${m.error.message}`);
      ws.close(1000);
      return;
    }
    if (m.id === `init-${i}`) {
      send(`new-${i}`, 'session/new', { cwd: '/', mcpServers: [] });
    } else if (m.id === `new-${i}`) {
      session = m.result.sessionId;
      send(`prompt-${i}`, 'session/prompt', { sessionId: session, prompt: [{ type: 'text', text: `echo ${i}` }] });
    } else if (m.id === `prompt-${i}`) {
      report(`ok ${i} ${m.result.stopReason} ${JSON.stringify(text)}`);
      if (text === `echo: ${i}`) ++ok;
      ws.close(1000);
    } else {
      report(`error ${i} a foreign id ${JSON.stringify(m.id)}`);
      ws.close(1000);
    }
  });
  ws.on('close', () => {
    if (!reported) report(`error ${i} closed before the turn ended`);
    end();
  });
}

for (let i = 1; i <= count; ++i) run(i);
