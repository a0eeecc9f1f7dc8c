// How to run each real agent against the mock LLM server: its command line, its own HOME and
// configuration files, dummy credentials. Nothing here reaches any network but 127.0.0.1.
import fs from "node:fs";
import path from "node:path";

export const agent_names = ["claude", "codex", "gemini"];

// Returns { name, command, args, env } for AGENT installed under NODE_DIR. HOME is a fresh
// directory under ROOT. The agent's API base URL is MOCK_URL (http://127.0.0.1:PORT); with
// credentials false it gets no key at all (the authentication tests), and must refuse.
// trusted_dirs: project folders the user has trusted (Gemini CLI connects no MCP server in an
// untrusted folder, as `gemini trust` would record it; the other agents need no such step).
export function agent_spec(agent, node_dir, root, mock_url, credentials = true, { trusted_dirs = [] } = {}) {
  const home = path.join(root, `${agent}-home`);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const modules = path.join(node_dir, "node_modules");
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    XDG_STATE_HOME: path.join(home, ".local", "state"),
    NO_COLOR: "1",
  };
  if (agent === "claude") {
    Object.assign(env, {
      // Claude Code refuses to run as root unless IS_SANDBOX is exactly "1".
      IS_SANDBOX: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
    });
    env.ANTHROPIC_BASE_URL = mock_url;
    if (credentials) env.ANTHROPIC_API_KEY = "sk-ant-dummy-for-mock";
    return {
      name: "claude",
      command: process.execPath,
      args: [path.join(modules, "@zed-industries/claude-agent-acp/dist/index.js")],
      env,
    };
  }
  if (agent === "codex") {
    const codex_home = path.join(home, ".codex");
    fs.mkdirSync(codex_home, { recursive: true, mode: 0o700 });
    env.CODEX_HOME = codex_home;
    const config = [
      'model = "gpt-5.4-mini"',
      'approval_policy = "untrusted"',
      // The read-only sandbox needs bubblewrap; the tests run in a temp project anyway.
      'sandbox_mode = "danger-full-access"',
      "check_for_update_on_startup = false",
      // Without credentials: the built-in OpenAI provider, pointed at the mock all the same.
      `openai_base_url = "${mock_url}/v1"`,
    ];
    if (credentials) {
      env.MOCK_LLM_API_KEY = "sk-dummy-for-mock";
      config.push(
        'model_provider = "mock"',
        "",
        "[model_providers.mock]",
        'name = "mock"',
        `base_url = "${mock_url}/v1"`,
        'wire_api = "responses"',
        'env_key = "MOCK_LLM_API_KEY"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
      );
    }
    config.push("", "[analytics]", "enabled = false", "");
    fs.writeFileSync(path.join(codex_home, "config.toml"), config.join("\n"));
    return {
      name: "codex",
      command: path.join(modules, "@zed-industries/codex-acp-linux-x64/bin/codex-acp"),
      args: [],
      env,
    };
  }
  if (agent === "gemini") {
    const settings_dir = path.join(home, ".gemini");
    fs.mkdirSync(settings_dir, { recursive: true, mode: 0o700 });
    const settings = {
      general: { disableAutoUpdate: true, disableUpdateNag: true },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    };
    // Not even the URL without credentials: with a base URL alone Gemini CLI counts itself
    // authenticated (as behind a gateway) and sends unauthenticated requests.
    if (credentials) {
      settings.security = { auth: { selectedType: "gemini-api-key" } };
      Object.assign(env, { GEMINI_API_KEY: "dummy-for-mock", GOOGLE_GEMINI_BASE_URL: mock_url });
    }
    fs.writeFileSync(path.join(settings_dir, "settings.json"), JSON.stringify(settings, null, 2));
    if (trusted_dirs.length)
      fs.writeFileSync(
        path.join(settings_dir, "trustedFolders.json"),
        JSON.stringify(Object.fromEntries(trusted_dirs.map((d) => [d, "TRUST_FOLDER"])), null, 2),
      );
    return {
      name: "gemini",
      command: process.execPath,
      args: [path.join(modules, "@google/gemini-cli/bundle/gemini.js"), "--experimental-acp"],
      env,
    };
  }
  throw new Error(`unknown agent ${agent} (expected one of ${agent_names.join(", ")})`);
}
