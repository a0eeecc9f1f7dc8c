// A mock of the three streaming LLM APIs the real agents use, for offline tests:
//   Anthropic Messages  POST /v1/messages (stream or not), /v1/messages/count_tokens
//   OpenAI Responses    POST /v1/responses (SSE), GET /v1/models
//   Gemini              POST /v1beta/models/M:streamGenerateContent?alt=sse, :generateContent,
//                       :countTokens, GET /v1beta/models
// The scenario is chosen by the text of the newest user message:
//   SCENARIO_TOOL <absolute path>  the model calls tools on that file, one per response, until
//                                  each result is back, then answers TOOL_DONE_REPLY. The tools
//                                  are the ones that make each agent ask the editor: Claude Read
//                                  then Bash cp (permission); Codex exec_command cp (permission);
//                                  Gemini read_file then replace (fs/read_text_file, permission,
//                                  fs/write_text_file)
//   SCENARIO_MCP <tool> <json>     when the request offers a tool named <tool>, or ending with
//                                  it after a separator (agents prefix MCP tools: mcp__S__T,
//                                  S__T, mcp_S_T), the model calls it with the JSON arguments,
//                                  then answers "MCP_DONE: <the tool result's text>"; when no
//                                  such tool is offered it answers "MCP_TOOL_MISSING: <the tool
//                                  names it saw>", so that a failure says why
//   SCENARIO_SLOW                  many small text chunks with a delay between them
//   anything else                  one text reply (TEXT_REPLY, unicode on purpose)
// Requests without tools (title generation, summaries, quota checks) get a short plain answer.
// Unknown paths are answered 404 and logged to stderr, so a new side request is visible.
// Built-in modules only.
import http from "node:http";
import fs from "node:fs";

// Emoji, a line separator, quotes, a backslash and control characters: all must reach the editor
// byte-identical, whichever way they travel.
export const TEXT_REPLY =
  'Hello from the mock \u{1F600} "quoted" \\ back\u2028slash\u0007bell\u0001\ttab \u00e9t\u00e9 \u4f60\u597d';
export const TOOL_DONE_REPLY = "I read the file.";
export const MCP_DONE = "MCP_DONE: ";
export const MCP_TOOL_MISSING = "MCP_TOOL_MISSING: ";
export const SLOW_CHUNKS = 120;
export const SLOW_DELAY_MS = 50;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// JSON for an SSE data line: U+2028/U+2029 escaped so that no line-splitting reader breaks it.
function sse_json(value) {
  return JSON.stringify(value).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

// The JSON value at the start of TEXT (an object or array; strings may hold brackets), or
// undefined when there is none.
function leading_json(text) {
  let depth = 0;
  let in_string = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (in_string) {
      if (c === "\\") ++i;
      else if (c === '"') in_string = false;
    } else if (c === '"') in_string = true;
    else if (c === "{" || c === "[") ++depth;
    else if (c === "}" || c === "]") {
      if (--depth === 0) {
        try {
          return JSON.parse(text.slice(0, i + 1));
        } catch {
          return undefined;
        }
      }
    } else if (depth === 0 && !/\s/.test(c)) return undefined;
  }
  return undefined;
}

function scenario_of(text) {
  const tool = /SCENARIO_TOOL (\S+)/.exec(text);
  if (tool) return { kind: "tool", path: tool[1] };
  const mcp = /SCENARIO_MCP (\S+)\s/.exec(text);
  if (mcp) return { kind: "mcp", tool: mcp[1], args: leading_json(text.slice(mcp.index + mcp[0].length)) };
  if (text.includes("SCENARIO_SLOW")) return { kind: "slow" };
  return { kind: "text" };
}

// ---------- SSE writer that stops quietly when the client goes away ----------
class sse_stream {
  constructor(res) {
    this.res = res;
    this.closed = false;
    // The response's "close" also fires when the client goes away mid-stream (a cancelled turn).
    res.on("close", () => (this.closed = true));
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
  }
  event(name, data) {
    if (this.closed) return;
    this.res.write((name ? `event: ${name}\n` : "") + `data: ${sse_json(data)}\n\n`);
  }
  end() {
    if (!this.closed) this.res.end();
  }
}

// The offered tool that S (an mcp scenario) names: its own name, or a name ending with it after
// a separator; undefined when there is none.
function mcp_tool_in(names, tool) {
  return (
    names.find((n) => n === tool) ||
    names.find((n) => n.length > tool.length && n.endsWith(tool) && /[_.:/-]/.test(n[n.length - tool.length - 1]))
  );
}

// The model's move in an mcp scenario: NAMES the tools the request offers, RESULTS how many tool
// results came back since the prompt, RESULT_TEXT the newest one's text. Returns { call: {name,
// args} } or { text }, and notes what it saw in state.mcp_seen (the test reports it).
function mcp_plan(state, s, names, results, result_text) {
  const name = mcp_tool_in(names, s.tool);
  state.mcp_seen.push({ offered: names, chosen: name ?? null, results });
  if (s.args === undefined || Array.isArray(s.args)) return { text: "MCP_BAD_SCENARIO: the arguments are not a JSON object" };
  if (results > 0) return { text: MCP_DONE + result_text };
  if (!name) return { text: MCP_TOOL_MISSING + names.join(", ") };
  return { call: { name, args: s.args } };
}

// The text of a tool result in any of the APIs' shapes: a string (maybe JSON of MCP content, maybe
// after Codex's "Wall time: N seconds\nOutput:\n" header, maybe inside Gemini CLI's
// <untrusted_context> element), a list of content blocks
// ({type:"text"|"input_text"|"output_text", text}), an MCP CallToolResult ({content: [...]}),
// Gemini's {output} or {content}; anything else as JSON.
function result_text(value) {
  if (typeof value === "string") {
    const t = value
      .replace(/^Wall time: [^\n]*\nOutput:\n/, "")
      .replace(/^\s*<untrusted_context>\n?([\s\S]*?)\n?<\/untrusted_context>\s*$/, "$1")
      .trim();
    if (t.startsWith("[") || t.startsWith("{")) {
      try {
        const parsed = JSON.parse(t);
        if (typeof parsed === "object" && parsed !== null) return result_text(parsed);
      } catch {}
    }
    return t;
  }
  if (Array.isArray(value)) return value.map((b) => (typeof b === "string" ? b : typeof b?.text === "string" ? b.text : result_text(b))).join("");
  if (value && typeof value === "object") {
    if ("content" in value) return result_text(value.content);
    if ("output" in value) return result_text(value.output);
    if (typeof value.text === "string") return value.text;
  }
  return JSON.stringify(value);
}

function slow_pieces() {
  const pieces = [];
  for (let i = 0; i < SLOW_CHUNKS; ++i) pieces.push(`chunk ${i}. `);
  return pieces;
}

// ---------- Anthropic Messages ----------
// The newest user text and how many tool results came back since it.
function anthropic_last_user(body) {
  let text = "";
  let tool_results = 0;
  let last_result = "";
  for (const message of body.messages || []) {
    if (message.role !== "user") continue;
    const blocks = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content || [];
    const texts = blocks.filter((b) => b.type === "text" && !b.text.startsWith("<system-reminder>"));
    const results = blocks.filter((b) => b.type === "tool_result");
    if (results.length) {
      ++tool_results;
      last_result = result_text(results[results.length - 1].content ?? "");
    } else if (texts.length) {
      text = texts.map((b) => b.text).join("\n");
      tool_results = 0;
    }
  }
  return { text, tool_results, last_result };
}

const anthropic_usage = { input_tokens: 12, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

async function anthropic_messages(state, req, res, body) {
  const has_tools = Array.isArray(body.tools) && body.tools.length > 0;
  const last = anthropic_last_user(body);
  let plan; // { text } | { tool: {name, input} } | { slow: true }
  if (!has_tools) plan = { text: "Mock title" };
  else {
    const s = scenario_of(last.text);
    // Claude reads files itself (Read asks nobody, nor does a read-only Bash command); a Bash
    // command that writes asks for permission first.
    const steps = s.kind === "tool" ? [{ name: "Read", input: { file_path: s.path } }, { name: "Bash", input: { command: `cp ${s.path} ${s.path}.copy`, description: "Copy the file" } }] : [];
    if (s.kind === "tool" && last.tool_results < steps.length) plan = { tool: steps[last.tool_results] };
    else if (s.kind === "tool") plan = { text: TOOL_DONE_REPLY };
    else if (s.kind === "mcp") {
      const m = mcp_plan(state, s, body.tools.map((t) => t.name).filter(Boolean), last.tool_results, last.last_result);
      plan = m.call ? { tool: { name: m.call.name, input: m.call.args } } : m;
    } else if (s.kind === "slow") plan = { slow: true };
    else plan = { text: TEXT_REPLY };
  }
  const id = `msg_mock_${++state.counter}`;
  const model = body.model || "claude-mock";
  if (!body.stream) {
    const content = plan.tool
      ? [{ type: "tool_use", id: `toolu_mock_${state.counter}`, ...plan.tool }]
      : [{ type: "text", text: plan.text || "ok" }];
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id, type: "message", role: "assistant", model, content,
        stop_reason: plan.tool ? "tool_use" : "end_turn", stop_sequence: null, usage: anthropic_usage,
      }),
    );
    return;
  }
  const out = new sse_stream(res);
  out.event("message_start", {
    type: "message_start",
    message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null,
               usage: { ...anthropic_usage, output_tokens: 1 } },
  });
  if (plan.tool) {
    out.event("content_block_start", {
      type: "content_block_start", index: 0,
      content_block: { type: "tool_use", id: `toolu_mock_${state.counter}`, name: plan.tool.name, input: {} },
    });
    out.event("content_block_delta", {
      type: "content_block_delta", index: 0,
      delta: { type: "input_json_delta", partial_json: JSON.stringify(plan.tool.input) },
    });
  } else {
    out.event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    const pieces = plan.slow ? slow_pieces() : [plan.text];
    for (const piece of pieces) {
      if (plan.slow) await sleep(SLOW_DELAY_MS);
      if (out.closed) return;
      out.event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } });
    }
  }
  out.event("content_block_stop", { type: "content_block_stop", index: 0 });
  out.event("message_delta", {
    type: "message_delta",
    delta: { stop_reason: plan.tool ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: 7 },
  });
  out.event("message_stop", { type: "message_stop" });
  out.end();
}

// ---------- OpenAI Responses ----------
// The newest input item is a tool's output (tool_result), the newest user text (text), how many
// outputs came since it (tool_results) and the newest one's text (last_result).
function responses_last_input(body) {
  const input = Array.isArray(body.input) ? body.input : [];
  const is_output = (item) => typeof item?.type === "string" && item.type.endsWith("_call_output");
  let text = "";
  let tool_results = 0;
  let last_result = "";
  for (const item of input) {
    if (is_output(item)) {
      ++tool_results;
      last_result = result_text(item.output ?? "");
    } else if (item.role === "user") {
      let t = "";
      if (typeof item.content === "string") t = item.content;
      else for (const part of item.content || []) if (typeof part.text === "string") t += part.text + "\n";
      if (t) {
        text = t;
        tool_results = 0;
      }
    }
  }
  return { text, tool_result: is_output(input[input.length - 1]), tool_results, last_result };
}

// The tools a Responses request offers, as { shown, name, namespace }: {name} and {function:
// {name}} by their names; the tools of a namespace ({type: "namespace", name: NS, tools}, as
// Codex offers MCP tools: NS "mcp__SERVER") shown as NS.TOOL, and called as {namespace, name}.
function responses_tools(tools) {
  const out = [];
  for (const t of tools || []) {
    if (t.type === "namespace" && Array.isArray(t.tools))
      for (const inner of t.tools) {
        const name = inner.name || inner.function?.name;
        if (name) out.push({ shown: `${t.name}.${name}`, name, namespace: t.name });
      }
    else if (t.name || t.function?.name) out.push({ shown: t.name || t.function.name, name: t.name || t.function.name });
  }
  return out;
}

function responses_tool_call(body, path) {
  // Codex reads files with its shell tool, and runs a known read-only command like cat without
  // asking: copy the file, which asks for permission first (approval_policy "untrusted").
  const names = (body.tools || []).map((t) => t.name || (t.function && t.function.name)).filter(Boolean);
  const cmd = `cp ${path} ${path}.copy`;
  if (names.includes("exec_command")) return { name: "exec_command", args: { cmd } };
  if (names.includes("shell_command")) return { name: "shell_command", args: { command: cmd } };
  return { name: "shell", args: { command: ["cp", path, `${path}.copy`] } };
}

async function openai_responses(state, req, res, body) {
  const n = ++state.counter;
  const last = responses_last_input(body);
  const has_tools = Array.isArray(body.tools) && body.tools.length > 0;
  let plan;
  const s = scenario_of(last.text);
  if (!has_tools) plan = { text: "Mock title" };
  else if (s.kind === "mcp") {
    const offered = responses_tools(body.tools);
    const m = mcp_plan(state, s, offered.map((t) => t.shown), last.tool_results, last.last_result);
    const tool = m.call && offered.find((t) => t.shown === m.call.name);
    plan = m.call ? { tool: { name: tool.name, namespace: tool.namespace, args: m.call.args } } : m;
  } else if (last.tool_result) plan = { text: TOOL_DONE_REPLY };
  else {
    if (s.kind === "tool") plan = { tool: responses_tool_call(body, s.path) };
    else if (s.kind === "slow") plan = { slow: true };
    else plan = { text: TEXT_REPLY };
  }
  const response = { id: `resp_mock_${n}`, object: "response", created_at: 1700000000, status: "in_progress", model: body.model || "gpt-mock", output: [] };
  const out = new sse_stream(res);
  out.event("response.created", { type: "response.created", sequence_number: 0, response });
  let item;
  if (plan.tool) {
    item = { type: "function_call", id: `fc_mock_${n}`, call_id: `call_mock_${n}`, name: plan.tool.name, arguments: JSON.stringify(plan.tool.args), status: "completed" };
    if (plan.tool.namespace) item.namespace = plan.tool.namespace;
    out.event("response.output_item.added", { type: "response.output_item.added", output_index: 0, item: { ...item, arguments: "", status: "in_progress" } });
  } else {
    const item_id = `msg_mock_${n}`;
    out.event("response.output_item.added", {
      type: "response.output_item.added", output_index: 0,
      item: { type: "message", id: item_id, role: "assistant", status: "in_progress", content: [] },
    });
    out.event("response.content_part.added", {
      type: "response.content_part.added", item_id, output_index: 0, content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    const pieces = plan.slow ? slow_pieces() : [plan.text];
    for (const piece of pieces) {
      if (plan.slow) await sleep(SLOW_DELAY_MS);
      if (out.closed) return;
      out.event("response.output_text.delta", { type: "response.output_text.delta", item_id, output_index: 0, content_index: 0, delta: piece });
    }
    const text = pieces.join("");
    out.event("response.output_text.done", { type: "response.output_text.done", item_id, output_index: 0, content_index: 0, text });
    item = { type: "message", id: item_id, role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] };
  }
  out.event("response.output_item.done", { type: "response.output_item.done", output_index: 0, item });
  out.event("response.completed", {
    type: "response.completed",
    response: { ...response, status: "completed", output: [item],
                usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7,
                         output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 19 } },
  });
  out.end();
}

// ---------- Gemini ----------
// The newest user text and how many function responses came back since it.
function gemini_last_user(body) {
  let text = "";
  let tool_results = 0;
  let last_result = "";
  for (const content of body.contents || []) {
    if (content.role !== "user") continue;
    const parts = content.parts || [];
    const results = parts.filter((p) => p.functionResponse);
    if (results.length) {
      ++tool_results;
      last_result = result_text(results[results.length - 1].functionResponse.response ?? "");
    } else if (parts.some((p) => typeof p.text === "string")) {
      text = parts.map((p) => p.text || "").join("\n");
      tool_results = 0;
    }
  }
  return { text, tool_results, last_result };
}

// Gemini's read_file reads the disk itself; its replace tool reads the file through the
// editor (fs/read_text_file), asks for permission and writes it back (fs/write_text_file).
function gemini_tool_steps(path) {
  return [
    { functionCall: { name: "read_file", args: { file_path: path } } },
    {
      functionCall: {
        name: "replace",
        args: { file_path: path, instruction: "Make the word a jam.", old_string: "marmalade", new_string: "marmalade jam" },
      },
    },
  ];
}

// A value that fits a (Gemini-style, upper- or lower-case types) JSON schema: what the agent's
// side requests (routing classifier, next-speaker check) ask for.
function sample_of(schema) {
  if (!schema || typeof schema !== "object") return "mock";
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  switch (String(schema.type || "").toLowerCase()) {
    case "object": {
      const out = {};
      for (const [k, v] of Object.entries(schema.properties || {})) out[k] = sample_of(v);
      if ("next_speaker" in out) out.next_speaker = "user";
      return out;
    }
    case "array":
      return [];
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return false;
    default:
      return "mock";
  }
}

const gemini_usage = { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 };

function gemini_chunk(parts, finish) {
  const candidate = { content: { role: "model", parts }, index: 0 };
  if (finish) candidate.finishReason = "STOP";
  return { candidates: [candidate], usageMetadata: gemini_usage, modelVersion: "gemini-mock" };
}

async function gemini_generate(state, req, res, body, stream) {
  ++state.counter;
  const has_tools = Array.isArray(body.tools) && body.tools.some((t) => (t.functionDeclarations || []).length > 0);
  const json_wanted = body.generationConfig && body.generationConfig.responseMimeType === "application/json";
  const last = gemini_last_user(body);
  let plan;
  const schema = body.generationConfig?.responseJsonSchema || body.generationConfig?.responseSchema;
  if (json_wanted) plan = { text: JSON.stringify(sample_of(schema || { type: "object", properties: { next_speaker: {} } })) };
  else if (!has_tools) plan = { text: "Mock title" };
  else {
    const s = scenario_of(last.text);
    const steps = s.kind === "tool" ? gemini_tool_steps(s.path) : [];
    if (s.kind === "tool" && last.tool_results < steps.length) plan = { tool: steps[last.tool_results] };
    else if (s.kind === "tool") plan = { text: TOOL_DONE_REPLY };
    else if (s.kind === "mcp") {
      const names = body.tools.flatMap((t) => (t.functionDeclarations || []).map((f) => f.name)).filter(Boolean);
      const m = mcp_plan(state, s, names, last.tool_results, last.last_result);
      plan = m.call ? { tool: { functionCall: { name: m.call.name, args: m.call.args } } } : m;
    } else if (s.kind === "slow") plan = { slow: true };
    else plan = { text: TEXT_REPLY };
  }
  if (!stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(gemini_chunk(plan.tool ? [plan.tool] : [{ text: plan.text || "ok" }], true)));
    return;
  }
  const out = new sse_stream(res);
  if (plan.tool) out.event(null, gemini_chunk([plan.tool], true));
  else {
    const pieces = plan.slow ? slow_pieces() : [plan.text];
    for (let i = 0; i < pieces.length; ++i) {
      if (plan.slow) await sleep(SLOW_DELAY_MS);
      if (out.closed) return;
      out.event(null, gemini_chunk([{ text: pieces[i] }], i === pieces.length - 1));
    }
  }
  out.end();
}

// ---------- server ----------
function send_json(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

// Starts the server on 127.0.0.1 (port 0: any free port). Returns { url, port, close(), log }.
// log_file: when set, every request (method, path, body) is appended to it as one JSON line.
export async function start_mock_llm({ port = 0, log_file } = {}) {
  const state = { counter: 0, requests: [], mcp_seen: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = {};
      }
      const url = new URL(req.url, "http://mock");
      const path = url.pathname;
      state.requests.push({ method: req.method, path });
      if (log_file) fs.appendFileSync(log_file, JSON.stringify({ method: req.method, url: req.url, body }) + "\n");
      try {
        if (req.method === "POST" && /\/v1\/messages$/.test(path)) return await anthropic_messages(state, req, res, body);
        if (req.method === "POST" && /\/v1\/messages\/count_tokens$/.test(path)) return send_json(res, 200, { input_tokens: 12 });
        if (req.method === "POST" && /\/responses$/.test(path)) return await openai_responses(state, req, res, body);
        if (req.method === "GET" && /\/models$/.test(path) && !path.includes("v1beta"))
          return send_json(res, 200, { object: "list", data: [{ id: "gpt-mock", object: "model", owned_by: "mock" }], models: [] });
        let m = /\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/.exec(path);
        if (req.method === "POST" && m) {
          if (m[2] === "countTokens") return send_json(res, 200, { totalTokens: 12 });
          return await gemini_generate(state, req, res, body, m[2] === "streamGenerateContent");
        }
        if (req.method === "GET" && /\/v1beta\/models$/.test(path)) return send_json(res, 200, { models: [] });
        // Claude Code checks that the API host answers before its first request.
        if (req.method === "HEAD" && path === "/") return res.writeHead(200).end();
      } catch (e) {
        process.stderr.write(`mock_llm: error answering ${req.method} ${req.url}: ${e.stack}\n`);
        if (!res.headersSent) send_json(res, 500, { error: { message: String(e) } });
        return;
      }
      process.stderr.write(`mock_llm: unknown request ${req.method} ${req.url}\n`);
      send_json(res, 404, { error: { type: "not_found", message: `mock_llm: no route for ${req.method} ${path}` } });
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = server.address().port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    requests: state.requests,
    mcp_seen: state.mcp_seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// Standalone: node mock_llm.mjs [PORT] [LOGFILE]  (prints the URL, runs until killed).
if (import.meta.url === `file://${process.argv[1]}`) {
  const mock = await start_mock_llm({ port: Number(process.argv[2] || 0), log_file: process.argv[3] });
  console.log(mock.url);
}
