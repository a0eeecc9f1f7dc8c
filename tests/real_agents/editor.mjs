// A minimal ACP editor for the real-agent tests: speaks raw NDJSON to a child process (an agent,
// or acp-conductor running a chain), records every line it receives exactly as received, answers
// the agent's requests (permission: allow; fs/read_text_file and fs/write_text_file: on disk) and
// lets a test send requests and wait for messages. Every wait has a timeout.
import { spawn } from "node:child_process";
import fs from "node:fs";

export class editor {
  // command, args, env (the child's whole environment), cwd. The child gets its own process group.
  constructor(command, args, { env = {}, cwd } = {}) {
    this.child = spawn(command, args, {
      env,
      cwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.pid = this.child.pid;
    this.lines = []; // raw text of every line received, in order
    this.messages = []; // { raw, msg } for every line that parsed
    this.sent = []; // every message sent, as objects
    this.stderr = "";
    this.answered = []; // { method, id } of the agent's requests this editor answered
    this.next_id = 1;
    this.pending = new Map(); // id -> { method, resolve }
    this.waiters = [];
    this.exit = null;
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.#wake();
      }),
    );
    this.child.on("error", (e) => {
      this.stderr += `editor: spawn failed: ${e.message}\n`;
    });
    this.child.stdin.on("error", () => {}); // a closed pipe is seen through exit
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (d) => (this.stderr += d));
    let buffer = "";
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== "") this.#on_line(line);
      }
    });
  }

  #on_line(raw) {
    this.lines.push(raw);
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.#wake();
      return;
    }
    this.messages.push({ raw, msg });
    if (msg.method === undefined && msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        msg.__method = p.method;
        p.resolve(msg);
      }
    } else if (msg.method !== undefined && msg.id !== undefined) {
      this.#answer(msg);
    }
    this.#wake();
  }

  #answer(req) {
    let reply;
    try {
      if (req.method === "session/request_permission") {
        const options = req.params.options || [];
        const pick =
          options.find((o) => o.kind === "allow_once") || options.find((o) => o.kind === "allow_always") || options[0];
        reply = { result: { outcome: pick ? { outcome: "selected", optionId: pick.optionId } : { outcome: "cancelled" } } };
      } else if (req.method === "fs/read_text_file") {
        let content = fs.readFileSync(req.params.path, "utf8");
        if (req.params.line || req.params.limit) {
          const lines = content.split("\n");
          const start = Math.max(0, (req.params.line || 1) - 1);
          content = lines.slice(start, req.params.limit ? start + req.params.limit : undefined).join("\n");
        }
        reply = { result: { content } };
      } else if (req.method === "fs/write_text_file") {
        fs.writeFileSync(req.params.path, req.params.content);
        reply = { result: {} };
      } else {
        reply = { error: { code: -32601, message: `editor: method not found: ${req.method}` } };
      }
    } catch (e) {
      reply = { error: { code: -32603, message: `editor: ${e.message}` } };
    }
    this.answered.push({ method: req.method, id: req.id });
    this.#write({ jsonrpc: "2.0", id: req.id, ...reply });
  }

  #write(msg) {
    this.sent.push(msg);
    if (!this.child.stdin.destroyed && this.child.stdin.writable) this.child.stdin.write(JSON.stringify(msg) + "\n");
  }

  #wake() {
    for (const w of [...this.waiters]) w();
  }

  // Sends a request; resolves with the response message (its method in msg.__method).
  request(method, params, timeout_ms = 60000) {
    const id = this.next_id++;
    let timer;
    const p = new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve });
      timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`no response to ${method} within ${timeout_ms} ms`));
      }, timeout_ms);
      this.exited.then(() =>
        setTimeout(() => {
          if (this.pending.delete(id)) reject(new Error(`process exited before answering ${method}`));
        }, 200),
      );
    });
    p.finally(() => clearTimeout(timer)).catch(() => {});
    this.#write({ jsonrpc: "2.0", id, method, params });
    return p;
  }

  notify(method, params) {
    this.#write({ jsonrpc: "2.0", method, params });
  }

  // Resolves when predicate(this) holds (checked after every received line); rejects on timeout.
  wait_until(predicate, what, timeout_ms = 60000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let ok = false;
        try {
          ok = predicate(this);
        } catch {
          ok = false;
        }
        if (ok || this.exit) {
          cleanup();
          ok ? resolve() : reject(new Error(`process exited while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeout_ms} ms waiting for ${what}`));
      }, timeout_ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  count_updates(kind) {
    return this.messages.filter((m) => m.msg.method === "session/update" && m.msg.params?.update?.sessionUpdate === kind)
      .length;
  }

  close_input() {
    this.child.stdin.end();
  }

  // Waits for the child to exit; resolves with {code, signal} or null after timeout_ms.
  async wait_exit(timeout_ms) {
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(null), timeout_ms)));
    const r = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return r;
  }

  // Ends the child: close its input, wait grace_ms, then SIGKILL its process group.
  async shutdown(grace_ms = 3000) {
    if (this.exit) return this.exit;
    this.close_input();
    const r = await this.wait_exit(grace_ms);
    if (r) return r;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {}
    return await this.wait_exit(5000);
  }
}

// Processes whose environment holds NAME=VALUE (the tests tag every process they start with a
// unique value, inherited by all descendants whatever process group they are in).
export function tagged_processes(name, value) {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let environ;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`);
    } catch {
      continue;
    }
    if (Buffer.concat([Buffer.from([0]), environ]).includes(needle)) {
      let cmd = "";
      try {
        cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      } catch {}
      let state = "";
      try {
        state = fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[0];
      } catch {}
      if (state !== "Z") found.push(`${entry} ${cmd}`);
    }
  }
  return found;
}

// Kills every process tagged NAME=VALUE (cleanup after a failed test).
export function kill_tagged(name, value) {
  for (const p of tagged_processes(name, value)) {
    try {
      process.kill(Number(p.split(" ")[0]), "SIGKILL");
    } catch {}
  }
}
