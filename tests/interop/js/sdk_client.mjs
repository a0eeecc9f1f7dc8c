// An ACP client written with the official TypeScript SDK (@agentclientprotocol/sdk), for the
// interop tests and the benchmarks. It starts the agent command, runs initialize, session/new
// and prompts, and prints JSON lines on stdout:
//
//   {"type":"recv","message":{…}}          every message received from the agent, raw
//   {"type":"initialize","result":{…}}     {"type":"session","result":{…}}
//   {"type":"prompt","result":{…}}         {"type":"error","where":…,"error":{…}}
//   {"type":"bench",…}                     (bench modes) timings
//   {"type":"done"}                        last line on success
//
//   node sdk_client.mjs [options] -- AGENT_COMMAND [ARGS...]
//     --prompt TEXT          the prompt text (default "hello")
//     --prompt-meta JSON     `_meta` of the session/prompt params
//     --prompt-extra JSON    an object whose fields are added to the session/prompt params
//     --permission allow|reject|cancel   how to answer session/request_permission (allow)
//     --bench-turns N        N sequential prompts "bench"; prints latency percentiles
//     --bench-stream N       one prompt "stream N"; prints updates per second (repeat --turns T)
//     --turns T              turns for --bench-stream (default 1)
// fs/read_text_file is served from the local file system.
import * as acp from "@agentclientprotocol/sdk";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
if (sep < 0 || sep + 1 >= argv.length) {
  process.stderr.write("usage: sdk_client.mjs [options] -- AGENT_COMMAND [ARGS...]\n");
  process.exit(2);
}
const command = argv.slice(sep + 1);
const opts = { prompt: "hello", permission: "allow", turns: 1 };
for (let i = 0; i < sep; ++i) {
  const a = argv[i];
  const v = () => argv[++i];
  if (a === "--prompt") opts.prompt = v();
  else if (a === "--prompt-meta") opts.promptMeta = JSON.parse(v());
  else if (a === "--prompt-extra") opts.promptExtra = JSON.parse(v());
  else if (a === "--permission") opts.permission = v();
  else if (a === "--bench-turns") opts.benchTurns = Number(v());
  else if (a === "--bench-stream") opts.benchStream = Number(v());
  else if (a === "--turns") opts.turns = Number(v());
  else {
    process.stderr.write(`sdk_client.mjs: unknown option ${a}\n`);
    process.exit(2);
  }
}
const bench = opts.benchTurns !== undefined || opts.benchStream !== undefined;
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
child.on("error", (e) => {
  print({ type: "error", where: "spawn", error: { message: String(e) } });
  process.exit(1);
});

let updates = 0;
const tap = new TransformStream({
  transform(message, controller) {
    if (!bench) print({ type: "recv", message });
    controller.enqueue(message);
  },
});
const base = acp.ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout), {
  maxMessageBytes: 256 * 1024 * 1024,
});
const stream = { writable: base.writable, readable: base.readable.pipeThrough(tap) };

const app = acp
  .client({ name: "interop-sdk-client" })
  .onNotification("session/update", (p) => p, () => {
    updates += 1;
  })
  .onRequest("session/request_permission", ({ params }) => {
    if (opts.permission === "cancel") return { outcome: { outcome: "cancelled" } };
    const kind = opts.permission === "reject" ? "reject_once" : "allow_once";
    const option = params.options.find((o) => o.kind === kind) ?? params.options[0];
    return { outcome: { outcome: "selected", optionId: option.optionId } };
  })
  .onRequest("fs/read_text_file", ({ params }) => ({ content: readFileSync(params.path, "utf8") }));

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

let ok = true;
try {
  await app.connectWith(stream, async (agent) => {
    const init = await agent.request("initialize", {
      protocolVersion: 1,
      clientCapabilities: { fs: { readTextFile: true, writeTextFile: false }, terminal: false },
      clientInfo: { name: "interop-sdk-client", version: "1.0.0" },
    });
    print({ type: "initialize", result: init });
    const session = await agent.request("session/new", { cwd: process.cwd(), mcpServers: [] });
    print({ type: "session", result: session });
    const prompt = (text) => {
      const params = { sessionId: session.sessionId, prompt: [{ type: "text", text }] };
      if (opts.promptMeta !== undefined) params._meta = opts.promptMeta;
      Object.assign(params, opts.promptExtra ?? {});
      return agent.request("session/prompt", params);
    };
    if (opts.benchTurns !== undefined) {
      const lat = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < opts.benchTurns; ++i) {
        const s = process.hrtime.bigint();
        await prompt("bench");
        lat.push(Number(process.hrtime.bigint() - s) / 1000);
      }
      const total = Number(process.hrtime.bigint() - t0) / 1e9;
      lat.sort((a, b) => a - b);
      print({ type: "bench", mode: "rtt", turns: opts.benchTurns, p50_us: percentile(lat, 50),
              p99_us: percentile(lat, 99), total_s: total, updates });
    } else if (opts.benchStream !== undefined) {
      const rates = [];
      for (let t = 0; t < opts.turns; ++t) {
        const before = updates;
        const s = process.hrtime.bigint();
        await prompt(`stream ${opts.benchStream} 150`);
        const secs = Number(process.hrtime.bigint() - s) / 1e9;
        rates.push((updates - before) / secs);
      }
      rates.sort((a, b) => a - b);
      print({ type: "bench", mode: "stream", updates_per_turn: opts.benchStream, turns: opts.turns,
              updates_per_s: percentile(rates, 50), updates });
    } else {
      const result = await prompt(opts.prompt);
      print({ type: "prompt", result });
    }
  });
} catch (e) {
  ok = false;
  print({ type: "error", where: "session", error: { message: String(e?.message ?? e), code: e?.code, data: e?.data } });
}
child.stdin.end();
const exited = child.exitCode !== null || child.signalCode !== null
  ? Promise.resolve()
  : new Promise((resolve) => child.once("exit", resolve));
const timer = setTimeout(() => child.kill("SIGTERM"), 5000);
await exited;
clearTimeout(timer);
if (ok) print({ type: "done" });
process.exit(ok ? 0 : 1);
