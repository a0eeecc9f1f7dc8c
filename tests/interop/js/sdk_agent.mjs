// An ACP agent written with the official TypeScript SDK (@agentclientprotocol/sdk), for the
// interop tests and the benchmarks. It speaks ACP on stdin/stdout.
//
//   node sdk_agent.mjs [--init-delay-ms N]
//
// initialize      answers protocolVersion 1; `_meta.received` holds the params' `_meta`. With
//                 --init-delay-ms the answer is delayed (the SDK rejects requests that arrive
//                 before it has answered `initialize`, which the conductor must respect).
// session/new     answers sessionId "ts-sess-N"; `_meta.received` holds the raw params.
// session/prompt  by the first word of the first text block:
//   permission    asks session/request_permission; a chunk "permission: <optionId|cancelled>"
//   read PATH     fs/read_text_file; a chunk "read: <content>" (or "read error: <message>")
//   bench         one chunk "ok" (the benchmarks' round trip)
//   stream N [B]  N chunks of about B bytes (default 150)
//   anything else two chunks "ts-agent: part 1", "ts-agent: <text>"
//   Every turn but bench/stream then sends a chunk whose `_meta` echoes the prompt's `_meta` and
//   its unknown fields, and ends with stopReason end_turn and the same echo in the result's
//   `_meta`. Chunks carry an unknown field `x-agent-extra` that clients must receive untouched.
import * as acp from "@agentclientprotocol/sdk";
import { Readable, Writable } from "node:stream";

const args = process.argv.slice(2);
let initDelayMs = 0;
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--init-delay-ms") initDelayMs = Number(args[++i]);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const raw = (params) => params; // a params parser that keeps unknown fields
const known = new Set(["sessionId", "prompt", "_meta"]);
let sessions = 0;

function chunk(client, sessionId, text, meta) {
  const update = { sessionUpdate: "agent_message_chunk", content: { type: "text", text } };
  if (meta !== undefined) update._meta = meta;
  update["x-agent-extra"] = { kept: true };
  return client.notify("session/update", { sessionId, update });
}

function firstText(prompt) {
  for (const block of prompt ?? []) if (block?.type === "text") return block.text;
  return "";
}

const app = acp
  .agent({ name: "interop-sdk-agent" })
  .onRequest("initialize", raw, async ({ params }) => {
    if (initDelayMs > 0) await sleep(initDelayMs);
    return {
      protocolVersion: 1,
      agentCapabilities: { loadSession: false },
      agentInfo: { name: "interop-sdk-agent", version: "1.0.0" },
      _meta: { received: params?._meta ?? null },
    };
  })
  .onRequest("session/new", raw, ({ params }) => {
    sessions += 1;
    return { sessionId: `ts-sess-${sessions}`, _meta: { received: params } };
  })
  .onRequest("session/prompt", raw, async ({ params, client }) => {
    const sessionId = params.sessionId;
    const text = firstText(params.prompt);
    const [word, ...rest] = text.split(" ");
    if (word === "bench") {
      await chunk(client, sessionId, "ok");
      return { stopReason: "end_turn" };
    }
    if (word === "stream") {
      const n = Number(rest[0] ?? 10);
      const size = Number(rest[1] ?? 150);
      const body = "x".repeat(Math.max(1, size - 110));
      for (let i = 0; i < n; ++i) {
        client.notify("session/update", {
          sessionId,
          update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: body } },
        });
      }
      return { stopReason: "end_turn" };
    }
    if (word === "permission") {
      const answer = await client.request("session/request_permission", {
        sessionId,
        toolCall: { toolCallId: "tc-1", title: "interop tool", kind: "edit", status: "pending" },
        options: [
          { optionId: "allow", name: "Allow", kind: "allow_once" },
          { optionId: "reject", name: "Reject", kind: "reject_once" },
        ],
      });
      const outcome = answer.outcome?.outcome === "selected" ? answer.outcome.optionId : "cancelled";
      await chunk(client, sessionId, `permission: ${outcome}`);
    } else if (word === "read") {
      try {
        const file = await client.request("fs/read_text_file", { sessionId, path: rest.join(" ") });
        await chunk(client, sessionId, `read: ${file.content}`);
      } catch (e) {
        await chunk(client, sessionId, `read error: ${e?.message ?? e}`);
      }
    } else {
      await chunk(client, sessionId, "ts-agent: part 1");
      await chunk(client, sessionId, `ts-agent: ${text}`);
    }
    const unknown = {};
    for (const [k, v] of Object.entries(params)) if (!known.has(k)) unknown[k] = v;
    const echo = { receivedMeta: params._meta ?? null, unknownFields: unknown };
    await chunk(client, sessionId, "echo", echo);
    return { stopReason: "end_turn", _meta: echo };
  })
  .onNotification("session/cancel", () => {});

const stream = acp.ndJsonStream(Writable.toWeb(process.stdout), Readable.toWeb(process.stdin), {
  maxMessageBytes: 256 * 1024 * 1024,
});
const connection = app.connect(stream);
await connection.closed;
process.exit(0);
