// The trace viewer in a real browser: headless Chromium driven by puppeteer-core.
//   node viewer_test.mjs CASE --out DIR
// CASE: chain | hostile | truncated | large | live. The programs' paths come from the environment
// (ACP_VIEWER_CONDUCTOR, _AGENT, _PROMPT, _ARROW, _TIMING; tests/viewer/CMakeLists.txt sets them). Exit 0 pass, 1 fail, 77 skipped (no browser, no packages).
// Every wait has a timeout; a watchdog fails the whole case after 150 s.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.ACP_CHROMIUM || '/usr/bin/chromium';
const args = process.argv.slice(2);
const which = args[0];
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const programs = {
  'acp-conductor': 'ACP_VIEWER_CONDUCTOR', 'acp-test-agent': 'ACP_VIEWER_AGENT', 'acp-prompt': 'ACP_VIEWER_PROMPT',
  'acp-arrow-proxy': 'ACP_VIEWER_ARROW', 'acp-timing-proxy': 'ACP_VIEWER_TIMING',
};
const bin = (name) => {
  const p = process.env[programs[name]];
  if (!p) throw new Error(programs[name] + ' is not set');
  return p;
};
const outDir = opt('--out');

function skip(why) {
  // In CI the browser tests must run (scripts/setup.sh installs chromium): a skip there fails.
  if (process.env.CI) {
    console.error('FAILED: cannot run in CI: ' + why);
    process.exit(1);
  }
  console.log('SKIPPED: ' + why);
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) skip(CHROMIUM + ' is not installed (scripts/setup.sh installs chromium)');
const skipReason = path.join(here, 'skip-reason.txt');
if (fs.existsSync(skipReason)) skip(fs.readFileSync(skipReason, 'utf8').trim());
let puppeteer;
try {
  puppeteer = (await import('puppeteer-core')).default;
} catch (e) {
  skip('puppeteer-core is not installed: ' + e.message);
}

const watchdog = setTimeout(() => {
  console.error('FAIL: the case did not finish within 150 s');
  process.exit(1);
}, 150000);
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}

// Runs a command to its end (with a deadline); resolves {code, stdout, stderr}.
function run(cmd, argv, { timeoutMs = 60000, input } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    p.on('error', reject);
    // A program that exits without reading its input (most do not read it) closes the pipe
    // first: EPIPE on this end is expected, not a failure.
    p.stdin.on('error', () => {});
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input || '');
  });
}

fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync(path.join(outDir, which + '-'));

// A real chain: acp-prompt -> acp-conductor --trace -> arrow, timing proxies -> test agent.
async function chainTrace(prompt) {
  const trace = path.join(work, 'chain.jsons');
  const r = await run(bin('acp-prompt'), ['--timeout', '30', prompt, '--', bin('acp-conductor'), '--trace', trace,
    'agent', bin('acp-arrow-proxy'), bin('acp-timing-proxy'), bin('acp-test-agent')]);
  if (r.code !== 0) throw new Error('the chain failed: ' + r.stderr);
  return trace;
}

async function view(trace, html) {
  const r = await run(bin('acp-conductor'), ['trace', 'view', trace, '-o', html]);
  return r;
}

const lineCount = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length;

// Opens `html` offline: any http(s) request fails and is recorded. Script errors are recorded.
async function open(browser, html, { width = 1400, height = 900 } = {}) {
  const page = await browser.newPage();
  page.setDefaultTimeout(10000);
  await page.setViewport({ width, height });
  const network = [], errors = [];
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    if (/^(https?|wss?):/i.test(req.url())) {
      network.push(req.url());
      req.abort();
    } else {
      req.continue();
    }
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const started = Date.now();
  await page.goto('file://' + html, { waitUntil: 'load', timeout: 30000 });
  await page.waitForFunction(() => document.body.dataset.ready === '1', { timeout: 30000 });
  return { page, network, errors, loadMs: Date.now() - started };
}

const arrows = (page) => page.$$eval('.arrow', (as) => as.length);
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
async function expandAll(page) {
  for (let i = 0; i < 100; i++) {
    const closed = await page.$('.run:not(.open)');
    if (!closed) return;
    await closed.click();
    await settle(page);
  }
}

async function caseChain(browser) {
  const trace = await chainTrace('stream 20');
  const html = path.join(work, 'chain.html');
  const v = await view(trace, html);
  check(v.code === 0, 'trace view exits 0: ' + v.stderr.trim());
  const events = lineCount(trace);
  const { page, network, errors } = await open(browser, html, { width: 1400, height: 4000 });
  const lanes = await page.$$eval('.lane-name', (ls) => ls.map((l) => l.textContent));
  check(JSON.stringify(lanes) === JSON.stringify(['Client', 'Proxy(0)', 'Proxy(1)', 'Agent']), 'lanes: ' + lanes.join(', '));
  // The agent streams 20 chunks; each hop passes them on before the turn's answer.
  const runs = await page.$$eval('.run', (rs) => rs.map((r) => r.textContent));
  check(runs.length === 3 && runs.every((r) => /^▸ × 20 updates \(sess-1\)$/.test(r)), 'the streamed updates are collapsed per hop: ' + runs.join(', '));
  await expandAll(page);
  const n = await arrows(page);
  check(n === events, `one arrow per event (${n} arrows, ${events} events)`);
  check((await page.$eval('#status', (s) => s.textContent)) === `showing ${events} of ${events} events`, 'status counts the events');

  // A response joined to its request, with the latency.
  const joined = await page.evaluate(() => {
    const resp = [...document.querySelectorAll('.arrow[data-kind="resp"]')]
      .find((a) => a.textContent.includes('initialize') && a.title === 'Proxy(0) \u2192 Client');
    if (!resp) return null;
    const req = document.querySelector(`.arrow[data-event="${resp.dataset.req}"]`);
    return { label: resp.textContent, latency: resp.dataset.latencyMs, req: req && req.textContent, reqTitle: req && req.title,
      back: req && req.dataset.resp === resp.dataset.event };
  });
  check(joined !== null && /^_proxy\/initialize #1$/.test(joined.req), 'the initialize response points at its request: ' + JSON.stringify(joined));
  check(joined && joined.reqTitle === 'Client \u2192 Proxy(0)' && joined.back, 'request and response are paired both ways');
  check(joined && /\d+(\.\d+)? m?s$/.test(joined.label) && Number(joined.latency) >= 0, 'the response shows its latency: ' + (joined && joined.label));

  // A click shows the message pretty-printed, and its partner.
  await page.click('.arrow[data-kind="resp"]');
  await settle(page);
  const detail = await page.$eval('#detail-json', (p) => p.textContent);
  const parsed = JSON.parse(detail);
  check(detail.includes('\n  "type": "response"') && parsed.type === 'response', 'the detail is pretty JSON');
  check(/^Latency: \d/.test(await page.$eval('#detail-latency', (p) => p.textContent)), 'the detail shows the latency');
  check((await page.$$('.join')).length === 1, 'the pair is joined in the diagram');

  // Filters reduce the arrows.
  await page.select('#f-method', 'session/prompt');
  await settle(page);
  const prompts = await arrows(page);
  check(prompts > 0 && prompts < n, `the method filter keeps the session/prompt messages (${prompts})`);
  const labels = await page.$$eval('.arrow .label', (ls) => ls.map((l) => l.textContent));
  check(labels.every((l) => l.includes('session/prompt')), 'only session/prompt arrows remain');
  await page.select('#f-method', '');
  await page.select('#f-component', 'Agent');
  await settle(page);
  const agentOnly = await page.$$eval('.arrow', (as) => as.every((a) => a.title.includes('Agent')));
  check(agentOnly && (await arrows(page)) < n, 'the component filter keeps the messages to or from Agent');
  await page.select('#f-component', '');
  await page.type('#f-text', 'chunk 7');
  await page.waitForFunction((n) => document.querySelectorAll('.arrow').length < n, { timeout: 5000 }, n);
  check((await arrows(page)) === 3, 'the text filter finds the three hops of "chunk 7"');
  const sessions = await page.$$eval('#f-session option', (os) => os.length);
  check(sessions === 2, 'the session filter lists the one session');

  check(network.length === 0, 'no network request was attempted: ' + network.join(' '));
  check(errors.length === 0, 'no script error: ' + errors.join(' | '));

  // The screenshot (docs/images/trace-viewer.png is a copy of it).
  await page.setViewport({ width: 1400, height: 820 });
  await page.$eval('#f-text', (i) => { i.value = ''; i.dispatchEvent(new Event('input')); });
  await page.waitForFunction((n) => document.querySelectorAll('.arrow').length > 10, { timeout: 5000 });
  for (let i = 0; i < 10 && (await page.$('.run.open')); i++) {
    await page.click('.run.open');
    await settle(page);
  }
  const promptReq = await page.evaluateHandle(() => [...document.querySelectorAll('.arrow[data-kind="req"]')]
    .find((a) => a.textContent.startsWith('session/prompt') && a.title === 'Client \u2192 Proxy(0)'));
  await promptReq.asElement().click();
  await settle(page);
  const shot = path.join(outDir, 'trace-viewer.png');
  await page.screenshot({ path: shot });
  check(fs.statSync(shot).size > 10000, 'screenshot saved: ' + shot);
}

async function caseHostile(browser) {
  const evil = '</script><script>window.pwned=1</script>';
  const img = '<img src=x onerror=window.pwned=2>';
  const lines = [
    { type: 'request', ts: 0.1, protocol: 'acp', from: 'Client', to: 'Agent', id: evil, method: evil, session: img, params: { a: img, b: evil } },
    { type: 'response', ts: 0.2, from: 'Agent', to: 'Client', id: evil, is_error: true, payload: { code: -1, message: img } },
    { type: 'notification', ts: 0.3, protocol: 'acp', from: img, to: 'Client', method: img, params: { text: '<!-- ' + evil } },
    { type: 'constructor', ts: 0.35, from: { toString: 1 }, to: ['Agent'], method: '__proto__', params: JSON.parse('{"__proto__":{"pwned":3}}') },
  ].map((e) => JSON.stringify(e));
  const trace = path.join(work, 'hostile.jsons');
  // Also raw, unescaped forms of the same characters where JSON allows them.
  fs.writeFileSync(trace, lines.join('\n') + '\n{"type":"request","ts":0.4,"from":"Client","to":"Agent","id":1,"method":"x\u2028y</script>","params":null}\n');
  const html = path.join(work, 'hostile.html');
  check((await view(trace, html)).code === 0, 'trace view of the hostile trace exits 0');
  const { page, network, errors } = await open(browser, html);
  const count = await arrows(page);
  for (let i = 0; i < count; i++) {
    const all = await page.$$('.arrow'); // a click redraws the rows: fresh handles each time
    await all[i].click();
    await settle(page);
  }
  await page.select('#f-method', evil);
  await settle(page);
  await page.type('#f-text', 'img');
  await new Promise((r) => setTimeout(r, 300));
  await settle(page);
  check(await page.evaluate(() => window.pwned === undefined && ({}).pwned === undefined), 'window.pwned stays undefined');
  check((await page.$$('img')).length === 0, 'no img element was created');
  check((await page.$$('script')).length === 2, 'no script element was added');
  await page.$eval('#f-text', (i) => { i.value = ''; i.dispatchEvent(new Event('input')); });
  await page.select('#f-method', '');
  await new Promise((r) => setTimeout(r, 300));
  await settle(page);
  const labels = await page.$$eval('.arrow .label', (ls) => ls.map((l) => l.textContent));
  check(labels.some((l) => l.includes(evil)), 'the method is shown as text');
  const laneNames = await page.$$eval('.lane-name', (ls) => ls.map((l) => l.textContent));
  check(laneNames.includes(img), 'a hostile component name is shown as text');
  check(network.length === 0, 'no network request was attempted: ' + network.join(' '));
  check(errors.length === 0, 'no script error: ' + errors.join(' | '));
}

async function caseTruncated(browser) {
  const trace = await chainTrace('echo hello');
  const text = fs.readFileSync(trace, 'utf8');
  const cut = path.join(work, 'cut.jsons');
  const lines = text.split('\n').filter((l) => l);
  // A chain killed mid-write: the last line cut in half, and a garbage line in the middle.
  const last = lines.pop();
  lines.splice(2, 0, 'garbage {');
  fs.writeFileSync(cut, lines.join('\n') + '\n' + last.slice(0, last.length >> 1));
  const html = path.join(work, 'cut.html');
  const v = await view(cut, html);
  check(v.code === 0 && /skipped 2 lines/.test(v.stderr), 'trace view says what it skipped: ' + v.stderr.trim());
  const { page, errors } = await open(browser, html);
  const banner = await page.$eval('#skipped', (s) => (s.hidden ? '' : s.textContent));
  check(banner === 'skipped 2 lines that are not trace events', 'the page says how many lines were skipped: ' + banner);
  check((await arrows(page)) === lines.length - 1, 'the readable events are drawn');
  check(errors.length === 0, 'no script error: ' + errors.join(' | '));
}

function bigTrace(file, count) {
  const out = fs.openSync(file, 'w');
  const hops = ['Client', 'Proxy(0)', 'Proxy(1)', 'Agent'];
  let ts = 0, id = 0, n = 0, buf = [];
  const emit = (e) => {
    ts += 0.0005;
    e.ts = Number(ts.toFixed(6));
    buf.push(JSON.stringify(e));
    n++;
    if (buf.length >= 5000) { fs.writeSync(out, buf.join('\n') + '\n'); buf = []; }
  };
  while (n < count) {
    const rid = id++;
    for (let h = 0; h < 3 && n < count; h++) {
      emit({ type: 'request', protocol: 'acp', from: hops[h], to: hops[h + 1], id: rid, method: 'session/prompt', session: 's' + (rid % 3), params: { sessionId: 's' + (rid % 3), prompt: [{ type: 'text', text: 'turn ' + rid }] } });
    }
    for (let u = 0; u < 5 && n < count; u++) {
      for (let h = 3; h > 0 && n < count; h--) {
        emit({ type: 'notification', protocol: 'acp', from: hops[h], to: hops[h - 1], method: 'session/update', session: 's' + (rid % 3), params: { sessionId: 's' + (rid % 3), update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'chunk ' + u } } } });
      }
    }
    for (let h = 3; h > 0 && n < count; h--) {
      emit({ type: 'response', from: hops[h], to: hops[h - 1], id: rid, is_error: rid % 50 === 0, payload: { stopReason: 'end_turn' } });
    }
  }
  fs.writeSync(out, buf.join('\n') + '\n');
  fs.closeSync(out);
}

async function caseLarge(browser) {
  const trace = path.join(work, 'big.jsons');
  bigTrace(trace, 100000);
  const html = path.join(work, 'big.html');
  check((await view(trace, html)).code === 0, 'trace view of 100,000 events exits 0');
  const { page, errors, loadMs } = await open(browser, html);
  check(loadMs < 5000, `the page is ready in ${loadMs} ms (< 5000)`);
  const status = await page.$eval('#status', (s) => s.textContent);
  check(status === 'showing 100,000 of 100,000 events', 'all events are loaded: ' + status);
  const domRows = await page.$$eval('.row', (r) => r.length);
  check(domRows < 200, `only the visible rows exist (${domRows})`);
  // Scroll through in steps; each step draws its rows within a frame or two.
  const t0 = Date.now();
  const steps = await page.evaluate(async () => {
    const s = document.getElementById('scroller');
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    let drawn = 0;
    for (let k = 1; k <= 40; k++) {
      s.scrollTop = (s.scrollHeight - s.clientHeight) * k / 40;
      await frame();
      const want = Math.floor(s.scrollTop / 22);
      if (document.querySelector(`.row[data-row="${want + 5}"]`)) drawn++;
    }
    return drawn;
  });
  const scrollMs = Date.now() - t0;
  check(steps >= 39, `rows are drawn where the view scrolls to (${steps} of 40 steps)`);
  check(scrollMs < 4000, `40 scroll steps took ${scrollMs} ms`);
  await page.select('#f-session', 's1');
  await settle(page);
  const filtered = await page.$eval('#status', (s) => s.textContent);
  check(/^showing 3\d,\d{3} of 100,000 events$/.test(filtered), 'a session filter over 100,000 events: ' + filtered);
  check(errors.length === 0, 'no script error: ' + errors.join(' | '));
}

// A chain with --serve, driven line by line: the page must show events as they happen.
function startLiveChain() {
  const p = spawn(bin('acp-conductor'), ['--serve', 'agent', bin('acp-arrow-proxy'), bin('acp-timing-proxy'), bin('acp-test-agent')],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = new Map();
  let out = '', err = '', nextId = 1;
  p.stdout.on('data', (d) => {
    out += d;
    for (let nl; (nl = out.indexOf('\n')) >= 0;) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      let m;
      try { m = JSON.parse(line); } catch { continue; }
      if (m.id !== undefined && waiting.has(m.id) && !m.method) {
        waiting.get(m.id)(m);
        waiting.delete(m.id);
      }
    }
  });
  const url = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no viewer URL on stderr within 15 s: ' + err)), 15000);
    p.stderr.on('data', (d) => {
      err += d;
      const m = /trace viewer at (http:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
  });
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = nextId++;
    const t = setTimeout(() => reject(new Error(method + ' got no answer within 20 s')), 20000);
    waiting.set(id, (m) => { clearTimeout(t); resolve(m); });
    p.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
  });
  const stop = () => new Promise((resolve) => {
    const t = setTimeout(() => { p.kill('SIGKILL'); resolve(-1); }, 10000);
    p.on('close', (code) => { clearTimeout(t); resolve(code); });
    p.stdin.end();
  });
  return { url, request, stop, process: p };
}

async function caseLive(browser) {
  const chain = startLiveChain();
  try {
    const url = await chain.url;
    check(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32,}$/.test(url), 'the viewer URL is on loopback with a token');
    await chain.request('initialize', { protocolVersion: 1, clientCapabilities: {} });
    const created = await chain.request('session/new', { cwd: work, mcpServers: [] });
    const sessionId = created.result && created.result.sessionId;
    check(typeof sessionId === 'string', 'session/new answered');
    const page = await browser.newPage();
    page.setDefaultTimeout(10000);
    await page.setViewport({ width: 1400, height: 360 }); // short: the rows overflow, the view must follow
    const errors = [], foreign = [];
    const origin = new URL(url).origin;
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (!req.url().startsWith(origin + '/')) { foreign.push(req.url()); req.abort(); } else req.continue();
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    // The history: initialize and session/new on each of the 3 hops, both ways.
    await page.waitForFunction(() => document.querySelectorAll('.arrow').length >= 12, { timeout: 15000 });
    const before = await arrows(page);
    check(await page.$eval('#live', (s) => !s.hidden && s.textContent === 'live'), 'the page says it is live');
    // Events while the chain runs: a turn streamed after the page opened.
    const turn = chain.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'stream 30' }] });
    // 30 chunks on each of the 3 hops, each hop's run collapsed.
    await page.waitForFunction(() => [...document.querySelectorAll('.run')].filter((r) => /× 30 updates/.test(r.textContent)).length === 3,
      { timeout: 15000 });
    const answer = await turn;
    check(answer.result && answer.result.stopReason === 'end_turn', 'the turn ended');
    await page.waitForFunction((b) => document.querySelectorAll('.arrow').length >= b + 6, { timeout: 15000 }, before);
    const status = await page.$eval('#status', (s) => s.textContent);
    check(/^showing (\d+) of \1 events$/.test(status) && Number(/\d+/.exec(status)[0]) >= before + 96, 'the new events arrived: ' + status);
    const following = await page.$eval('#scroller', (s) => s.scrollTop + s.clientHeight >= s.scrollHeight - 44);
    check(following && (await page.$eval('#scroller', (s) => s.scrollTop > 0)), 'the view follows the tail');
    // Scrolled up by the user: new events arrive, the view stays where it is.
    await page.$eval('#scroller', (s) => { s.scrollTop = 0; });
    await settle(page);
    const shown = await page.$eval('#status', (s) => s.textContent);
    const echo = await chain.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'echo again' }] });
    check(echo.result && echo.result.stopReason === 'end_turn', 'a second turn ended');
    await page.waitForFunction((old) => document.getElementById('status').textContent !== old, { timeout: 15000 }, shown);
    await settle(page);
    check(await page.$eval('#scroller', (s) => s.scrollTop === 0), 'a user who scrolled up is not moved');
    check(foreign.length === 0, 'nothing fetched from elsewhere: ' + foreign.join(' '));
    check(errors.length === 0, 'no script error: ' + errors.join(' | '));
    await page.screenshot({ path: path.join(outDir, 'trace-viewer-live.png') });
    const code = await chain.stop();
    check(code === 0, 'the conductor exits 0 when its input closes (' + code + ')');
    await page.waitForFunction(() => /^live: disconnected/.test(document.getElementById('live').textContent), { timeout: 10000 });
    check((await page.$eval('#status', (s) => s.textContent)) !== 'showing 0 of 0 events', 'the page keeps the events after the chain ended');
    await page.close();
  } finally {
    if (chain.process.exitCode === null) await chain.stop();
  }
}

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  timeout: 30000,
});
try {
  const cases = { chain: caseChain, hostile: caseHostile, truncated: caseTruncated, large: caseLarge, live: caseLive };
  if (!cases[which]) throw new Error('unknown case ' + which);
  await cases[which](browser);
} catch (e) {
  console.error('FAIL: ' + (e.stack || e));
  failures++;
} finally {
  await browser.close();
  clearTimeout(watchdog);
}
if (failures === 0) fs.rmSync(work, { recursive: true, force: true });
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
