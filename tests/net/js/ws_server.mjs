// A WebSocket server made with the `ws` package, for acp::net's client tests.
//   node ws_server.mjs [--cert FILE --key FILE]
// Environment: EXPECTED_TOKEN (when set, an upgrade without `Authorization: Bearer <it>` is
// refused with 401, or 403 for another token; the token is never printed).
// Prints one JSON line per event on stdout: {"port":N} first, then {"event":"connection",
// "path":…, "authorized":bool, "authorization_present":bool}, {"event":"message","binary":bool,
// "bytes":N,"trailing_newline":bool}. Answers an ACP `initialize` request; echoes every other
// text frame as it came.
import { WebSocketServer } from 'ws';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const expected = process.env.EXPECTED_TOKEN;
const report = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const verifyClient = (info, done) => {
  if (expected === undefined) return done(true);
  const header = info.req.headers.authorization;
  if (header === undefined) return done(false, 401, 'Unauthorized');
  if (header !== `Bearer ${expected}`) return done(false, 403, 'Forbidden');
  return done(true);
};

let wss;
let server;
if (option('--cert')) {
  server = createHttps({ cert: readFileSync(option('--cert')), key: readFileSync(option('--key')) });
  wss = new WebSocketServer({ server, verifyClient, maxPayload: 256 * 1024 * 1024 });
  server.listen(0, '127.0.0.1', () => report({ port: server.address().port }));
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient, maxPayload: 256 * 1024 * 1024 });
  wss.on('listening', () => report({ port: wss.address().port }));
}

wss.on('connection', (ws, req) => {
  const header = req.headers.authorization;
  report({
    event: 'connection',
    path: req.url,
    authorization_present: header !== undefined,
    authorized: expected !== undefined && header === `Bearer ${expected}`,
  });
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString('utf8');
    report({ event: 'message', binary: isBinary, bytes: data.length, trailing_newline: text.endsWith('\n') });
    if (isBinary) return;
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    if (msg && msg.method === 'initialize' && msg.id !== undefined) {
      ws.send(JSON.stringify({
        jsonrpc: '2.0',
        id: msg.id,
        result: { protocolVersion: 1, agentCapabilities: {}, authMethods: [], agentInfo: { name: 'ws-package-peer' } },
      }));
      return;
    }
    ws.send(text);
  });
  ws.on('close', (code) => report({ event: 'close', code }));
});
