// `acp-conductor --serve` read by Node's own fetch (undici, an HTTP client we did not write):
// the URL on stderr, /events streamed as server-sent events while the chain runs, the JSON array
// form, a 403 without the token, and the end of the stream when the conductor exits.
// usage: node live_view_fetch.mjs ACP_CONDUCTOR ACP_TEST_AGENT
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';

const [conductor, agent] = process.argv.slice(2);
const deadline = setTimeout(() => { console.error('timed out'); process.exit(1); }, 30000);

const child = spawn(conductor, ['--serve', 'agent', agent], { stdio: ['pipe', 'pipe', 'pipe'] });
let stderr = '';
const url = await new Promise((resolve, reject) => {
  child.stderr.on('data', (d) => {
    stderr += d;
    const m = /trace viewer at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32})\n/.exec(stderr);
    if (m) resolve(m[1]);
  });
  child.on('exit', (code) => reject(new Error(`conductor exited (${code}): ${stderr}`)));
});
const base = new URL(url);
const token = base.searchParams.get('token');
let stdout = '';
child.stdout.on('data', (d) => { stdout += d; });
const send = (o) => child.stdin.write(JSON.stringify(o) + '\n');
const until = async (f) => { while (!f()) await new Promise((r) => setTimeout(r, 10)); };

// No token, a wrong one: 403. The page with it: 200 HTML.
assert.equal((await fetch(new URL('/events', base))).status, 403);
assert.equal((await fetch(new URL('/events?token=' + '0'.repeat(32), base))).status, 403);
const page = await fetch(url);
assert.equal(page.status, 200);
assert.match(page.headers.get('content-type'), /text\/html/);
assert.match(await page.text(), /EventSource/); // the viewer's live page

// The stream, opened before anything happens.
const res = await fetch(new URL('/events?token=' + token, base), { headers: { accept: 'text/event-stream' } });
assert.equal(res.status, 200);
assert.match(res.headers.get('content-type'), /text\/event-stream/);
const reader = res.body.getReader();
const decoder = new TextDecoder();
let sse = '';
let ended = false;
const pump = (async () => {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) { ended = true; return; }
    sse += decoder.decode(value, { stream: true });
  }
})();
const events = () => sse.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)));

send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: {} } });
await until(() => stdout.includes('"id":1'));
await until(() => events().some((e) => e.type === 'response' && e.id === 1));
const init = events().find((e) => e.type === 'request' && e.method === 'initialize');
assert.equal(init.from, 'Client');
assert.equal(init.to, 'Agent');
assert.equal(ended, false); // live: the chain still runs

// The polling form sees the same events, as one JSON array.
const arr = await (await fetch(new URL('/events?token=' + token, base))).json();
assert.ok(Array.isArray(arr) && arr.length >= 2);
assert.equal(arr[0].method, 'initialize');

child.stdin.end(); // the editor leaves: the conductor exits and the stream ends
const code = await new Promise((r) => child.on('exit', r));
assert.equal(code, 0);
await pump;
assert.equal(ended, true);
assert.ok(!sse.includes(token));
clearTimeout(deadline);
console.log(`ok: ${events().length} events streamed`);
