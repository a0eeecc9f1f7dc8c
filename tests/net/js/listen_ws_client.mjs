// A WebSocket client written with the `ws` package (a peer no one here wrote) for the listener's
// tests. Usage: node listen_ws_client.mjs URL COUNT [CA_FILE]
// Sends `Authorization: Bearer $ACP_TEST_TOKEN` when that variable is set (the token never goes
// on a command line), then COUNT prompt-shaped requests, one per text frame; prints each frame it
// receives as one line, then `closed CODE`. A refused upgrade prints `refused STATUS`; a failure
// prints `error MESSAGE` and exits 1.
import WebSocket from 'ws';
import fs from 'node:fs';

const [url, countText, caFile] = process.argv.slice(2);
const count = Number(countText ?? '1');
const options = { headers: {}, handshakeTimeout: 10000 };
if (process.env.ACP_TEST_TOKEN) options.headers.Authorization = `Bearer ${process.env.ACP_TEST_TOKEN}`;
if (caFile) options.ca = fs.readFileSync(caFile);

const ws = new WebSocket(url, options);
let received = 0;
ws.on('unexpected-response', (_request, response) => {
  console.log(`refused ${response.statusCode}`);
  process.exit(0);
});
ws.on('error', (e) => {
  console.log(`error ${e.message}`);
  process.exit(1);
});
ws.on('open', () => {
  for (let i = 1; i <= count; ++i) {
    ws.send(JSON.stringify({
      jsonrpc: '2.0',
      id: i,
      method: 'session/prompt',
      params: { sessionId: 'sess-1', prompt: [{ type: 'text', text: `hello ${i}` }] },
    }));
  }
});
ws.on('message', (data, isBinary) => {
  console.log(isBinary ? 'binary frame' : data.toString());
  if (++received === count) ws.close(1000);
});
ws.on('close', (code) => {
  console.log(`closed ${code}`);
  process.exit(0);
});
