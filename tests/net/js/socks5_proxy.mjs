// A small SOCKS5 proxy (RFC 1928 CONNECT; user/password RFC 1929), written for acp::net's tests.
//   node socks5_proxy.mjs [--map NAME=ADDRESS]...
// Environment: SOCKS_USER and SOCKS_PASSWORD (when set, only user/password authentication is
// accepted, and only with these; never printed).
// The proxy resolves names itself; --map gives names only it knows (e.g. acp-test.invalid=127.0.0.1),
// so a connection that works proves the name reached the proxy unresolved.
// Prints {"port":N}, then {"event":"request","atyp":1|3|4,"host":…,"port":N} and
// {"event":"auth","ok":bool} per connection.
import { createServer, connect } from 'node:net';

const args = process.argv.slice(2);
const map = new Map();
for (let i = 0; i < args.length; ++i)
  if (args[i] === '--map') {
    const [name, address] = args[++i].split('=');
    map.set(name.toLowerCase(), address);
  }
const user = process.env.SOCKS_USER;
const password = process.env.SOCKS_PASSWORD;
const report = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const server = createServer((client) => {
  let buf = Buffer.alloc(0);
  let state = 'greeting';
  const take = (n) => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (state === 'greeting') {
        if (buf.length < 2 || buf.length < 2 + buf[1]) return;
        const methods = [...take(2 + buf[1]).subarray(2)];
        const want = user !== undefined ? 2 : 0;
        if (!methods.includes(want)) {
          client.end(Buffer.from([5, 0xff]));
          return;
        }
        client.write(Buffer.from([5, want]));
        state = want === 2 ? 'auth' : 'request';
      } else if (state === 'auth') {
        if (buf.length < 2) return;
        const ulen = buf[1];
        if (buf.length < 2 + ulen + 1) return;
        const plen = buf[2 + ulen];
        if (buf.length < 3 + ulen + plen) return;
        const packet = take(3 + ulen + plen);
        const u = packet.subarray(2, 2 + ulen).toString();
        const p = packet.subarray(3 + ulen).toString();
        const ok = u === user && p === password;
        report({ event: 'auth', ok });
        if (!ok) {
          client.end(Buffer.from([1, 1]));
          return;
        }
        client.write(Buffer.from([1, 0]));
        state = 'request';
      } else if (state === 'request') {
        if (buf.length < 5) return;
        const atyp = buf[3];
        const len = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + buf[4] : -1;
        if (len < 0) {
          client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        if (buf.length < 4 + len + 2) return;
        const packet = take(4 + len + 2);
        let host;
        if (atyp === 1) host = [...packet.subarray(4, 8)].join('.');
        else if (atyp === 4) host = packet.subarray(4, 20).toString('hex').match(/.{4}/g).join(':');
        else host = packet.subarray(5, 5 + packet[4]).toString();
        const port = packet.readUInt16BE(4 + len);
        report({ event: 'request', atyp, host, port });
        state = 'connecting';
        client.pause();
        const target = connect({ host: map.get(host.toLowerCase()) ?? host, port }, () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          if (buf.length) target.write(buf);
          client.removeListener('data', onData);
          client.pipe(target);
          target.pipe(client);
          client.resume();
        });
        target.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
        client.on('error', () => target.destroy());
        return;
      } else {
        return;
      }
    }
  };
  client.on('data', onData);
  client.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => report({ port: server.address().port }));
