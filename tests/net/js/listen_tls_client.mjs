// Node's `tls` as a client of a tls:// listener (a peer no one here wrote). Usage:
//   node listen_tls_client.mjs HOST PORT CA_FILE [CLIENT_CERT CLIENT_KEY]
// Verifies the server against CA_FILE, then writes the authentication line (token from
// $ACP_TEST_TOKEN, when set) and a prompt-shaped request in one write; prints each line it reads,
// then `closed`. A failure prints `error CODE_OR_MESSAGE` and exits 1.
import tls from 'node:tls';
import fs from 'node:fs';

const [host, port, caFile, certFile, keyFile] = process.argv.slice(2);
const options = { host, port: Number(port), ca: fs.readFileSync(caFile) };
if (certFile) {
  options.cert = fs.readFileSync(certFile);
  options.key = fs.readFileSync(keyFile);
}
const socket = tls.connect(options, () => {
  let out = '';
  if (process.env.ACP_TEST_TOKEN) {
    out += JSON.stringify({ jsonrpc: '2.0', method: '_acp/authenticate', params: { token: process.env.ACP_TEST_TOKEN } }) + '\n';
  }
  out += JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'session/prompt',
    params: { sessionId: 'sess-1', prompt: [{ type: 'text', text: 'hello over tls' }] },
  }) + '\n';
  socket.write(out);
});
let buffered = '';
socket.setEncoding('utf8');
socket.on('data', (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf('\n')) >= 0) {
    console.log(buffered.slice(0, newline));
    buffered = buffered.slice(newline + 1);
    socket.end();
  }
});
socket.on('error', (e) => {
  console.log(`error ${e.code ?? e.message}`);
  process.exit(1);
});
socket.on('close', () => {
  if (buffered) console.log(buffered);
  console.log('closed');
  process.exit(0);
});
