// An NDJSON server over Node's `tls`, for acp::net's client tests.
//   node tls_server.mjs --cert FILE --key FILE [--client-ca FILE]
// Environment: EXPECTED_TOKEN (when set, the first line must be the authentication line with it;
// the token is never printed).
// Prints {"port":N}, then {"event":"connection","authorized_client":bool,"client_cn":…},
// {"event":"first_line","is_authentication":bool,"token_matches":bool}, {"event":"end"}. Echoes
// every line after the authentication line; after the client's end it writes one last line
// {"jsonrpc":"2.0","method":"bye"} and ends (a half-closed client still reads it).
import { createServer } from 'node:tls';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const expected = process.env.EXPECTED_TOKEN;
const report = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const options = { cert: readFileSync(option('--cert')), key: readFileSync(option('--key')), allowHalfOpen: true };
if (option('--client-ca')) {
  options.ca = readFileSync(option('--client-ca'));
  options.requestCert = true;
  options.rejectUnauthorized = true;
}

const server = createServer(options, (socket) => {
  const peer = socket.getPeerCertificate();
  report({ event: 'connection', authorized_client: socket.authorized, client_cn: peer && peer.subject ? peer.subject.CN : null });
  let buffered = '';
  let first = true;
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (first) {
        first = false;
        let auth = false;
        let matches = false;
        try {
          const m = JSON.parse(line);
          auth = m.method === '_acp/authenticate';
          matches = auth && expected !== undefined && m.params && m.params.token === expected;
        } catch {}
        report({ event: 'first_line', is_authentication: auth, token_matches: matches });
        if (auth) continue;
      }
      socket.write(line + '\n');
    }
  });
  socket.on('end', () => {
    report({ event: 'end' });
    socket.end('{"jsonrpc":"2.0","method":"bye"}\n');
  });
  socket.on('error', (e) => report({ event: 'error', message: e.message }));
});
server.on('tlsClientError', (e) => report({ event: 'tls_client_error', message: e.message }));
server.listen(0, '127.0.0.1', () => report({ port: server.address().port }));
