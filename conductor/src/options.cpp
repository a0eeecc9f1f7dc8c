#include <acp/conductor/options.hpp>

#include "network_options.hpp"

#include <acp/net/url.hpp>
#include <acp/version.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <sstream>

namespace acp::conductor {
namespace {

constexpr std::string_view program = "acp-conductor";

early_exit usage_error(const std::string& what) {
  return early_exit{2, std::string(program) + ": " + one_line(what, 1000) + " (try --help)\n", true};
}

// CLI11 messages start with a capital letter; ours are one lower-case line.
std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && !(s.size() > 1 && s[1] >= 'A' && s[1] <= 'Z'))
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::optional<std::uint64_t> parse_number(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return n;
}

std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return {text.substr(0, i), text.substr(i)};
}

std::optional<log_level> parse_log_level(std::string_view s) {
  for (auto l : {log_level::error, log_level::warn, log_level::info, log_level::debug, log_level::trace})
    if (to_string(l) == s) return l;
  return std::nullopt;
}

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

/// One level of a `RUST_LOG`-like filter, a name in any case or 0 (off) to 5 (trace), as a
/// verbosity: -1 for `off`, else the log_level's value; nullopt when unknown.
std::optional<int> filter_level(std::string_view word) {
  std::string lower(word);
  for (auto& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (lower == "off" || lower == "0") return -1;
  if (lower == "warning") lower = "warn";
  constexpr std::array levels{log_level::error, log_level::warn, log_level::info, log_level::debug, log_level::trace};
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (lower == to_string(levels[i]) || lower == std::to_string(i + 1)) return static_cast<int>(levels[i]);
  return std::nullopt;
}

std::optional<stderr_mode> parse_stderr_mode(std::string_view s) {
  for (auto m : {stderr_mode::forward, stderr_mode::tail_only, stderr_mode::discard})
    if (to_string(m) == s) return m;
  return std::nullopt;
}

const char* const footer = R"(Components:
  Each COMPONENT is one argument: a command line split like a shell would (quotes and
  backslashes, leading NAME=value words set environment variables; nothing is expanded and no
  shell runs), a JSON object {"command": ..., "args": [...], "env": {...}, "name": ...} (also the
  older {"type": "stdio", ..., "env": [{"name": ..., "value": ...}]}), or an
  address to connect to instead of a command: tcp://HOST:PORT, unix:/PATH, tls://HOST:PORT,
  ws://HOST:PORT/PATH, wss://HOST:PORT/PATH.

Secrets never go on the command line: the bearer token comes from --token-file or
$ACP_CONDUCTOR_TOKEN, a SOCKS5 password from $ACP_SOCKS5_PASSWORD or $ALL_PROXY.

Examples:
  acp-conductor agent "my-proxy --verbose" "claude-code-acp"
  acp-conductor --trace /tmp/chain.jsons agent "RUST_LOG=debug ./proxy" "./agent"
  acp-conductor proxy "./inner-proxy"
  acp-conductor agent -n my-chain --debug-dir /tmp/acp-debug "./proxy" "./agent"
  acp-conductor serve --listen ws://127.0.0.1:8700 --token-file tok agent claude-agent-acp
  ACP_CONDUCTOR_TOKEN=... acp-conductor connect ws://127.0.0.1:8700

Exit status: 0 on an orderly shutdown, 1 when the chain failed, 2 for a usage error.)";

} // namespace

std::string_view version() noexcept { return ACP_VERSION; }

std::string_view to_string(log_level l) noexcept {
  switch (l) {
  case log_level::error:
    return "error";
  case log_level::warn:
    return "warn";
  case log_level::info:
    return "info";
  case log_level::debug:
    return "debug";
  case log_level::trace:
    return "trace";
  }
  return "info";
}

std::string_view to_string(enum conductor_options::mcp_bridge m) noexcept {
  switch (m) {
  case conductor_options::mcp_bridge::automatic:
    return "auto";
  case conductor_options::mcp_bridge::http:
    return "http";
  case conductor_options::mcp_bridge::stdio:
    return "stdio";
  case conductor_options::mcp_bridge::off:
    return "off";
  }
  return "auto";
}

std::string_view to_string(stderr_mode m) noexcept {
  switch (m) {
  case stderr_mode::forward:
    return "forward";
  case stderr_mode::tail_only:
    return "tail";
  case stderr_mode::discard:
    return "discard";
  case stderr_mode::inherit: // the SDK's; not offered by the conductor
    return "inherit";
  }
  return "forward";
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto [digits, unit] = split_number(text);
  auto n = parse_number(digits);
  if (!n) return std::nullopt;
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "ms")
    factor = 1;
  else if (unit == "s")
    factor = 1000;
  else if (unit == "m" || unit == "min")
    factor = 60'000;
  else
    return std::nullopt;
  constexpr auto max_ms = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (*n > max_ms / factor) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(*n * factor));
}

std::optional<log_level> parse_log_filter(std::string_view text) {
  int most = -1; // the most verbose level named (-1: only `off`)
  bool any = false;
  while (true) {
    const auto comma = text.find(',');
    const auto directive = trim(text.substr(0, comma));
    if (!directive.empty()) {
      // `target=level` (a span filter `target[span{f=v}]=level` too): the level follows the last `=`.
      const auto eq = directive.rfind('=');
      const auto word = eq == std::string_view::npos ? directive : trim(directive.substr(eq + 1));
      const auto level = filter_level(word);
      if (!level) return std::nullopt;
      any = true;
      most = std::max(most, *level);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (!any) return std::nullopt;
  return most < 0 ? log_level::error : static_cast<log_level>(most);
}

std::optional<std::size_t> parse_size(std::string_view text) {
  auto [digits, unit] = split_number(text);
  auto n = parse_number(digits);
  if (!n || *n == 0) return std::nullopt;
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "B")
    factor = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB" || unit == "k" || unit == "kB")
    factor = 1024;
  else if (unit == "M" || unit == "MB" || unit == "MiB")
    factor = 1024 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB")
    factor = 1024 * 1024 * 1024;
  else
    return std::nullopt;
  if (*n > std::numeric_limits<std::size_t>::max() / factor) return std::nullopt;
  return static_cast<std::size_t>(*n * factor);
}

command_line_result parse_command_line(int argc, const char* const* argv) {
  CLI::App app{"Runs a chain of Agent Client Protocol components (proxies, then an agent) and "
               "routes messages between them over stdio.",
               std::string(program)};
  app.footer(footer);
  app.set_version_flag("-V,--version", std::string(program) + " " + std::string(version()));
  app.allow_extras();
  app.require_subcommand(0, 1);
  app.set_help_all_flag("--help-all", "Print the help of every subcommand");

  conductor_options opts;
  std::string log_level_text{to_string(opts.log_level)};
  std::string stderr_text{to_string(opts.stderr_mode)};
  std::string grace_text;
  std::string size_text;
  std::string trace_text;
  std::string bridge_text{to_string(opts.mcp_bridge)};
  app.add_option("-n,--name", opts.name, "Name used in logs and error messages (also after the mode)")
      ->type_name("NAME")
      ->capture_default_str();
  auto* trace_opt = app.add_option("--trace", trace_text,
                                   "Write every message as one JSON event per line to FILE "
                                   "(created with mode 0600)")
                        ->type_name("FILE");
  auto* log_level_opt = app.add_option("--log-level", log_level_text, "error | warn | info | debug | trace")
                            ->type_name("LEVEL")
                            ->capture_default_str();
  std::string log_filter_text;
  auto* log_filter_opt = app.add_option("--log", log_filter_text,
                                        "The reference conductor's spelling of --log-level: a level, or RUST_LOG-like "
                                        "directives (conductor=debug,info); the most verbose level named counts")
                             ->type_name("FILTER");
  bool debug_flag = false;
  app.add_flag("--debug", debug_flag,
               "Log every line each component (and the editor) sent, received and wrote on stderr, "
               "one file per component, in --debug-dir (default: the current directory)");
  std::string debug_dir_text;
  auto* debug_dir_opt = app.add_option("--debug-dir", debug_dir_text,
                                       "Where --debug writes its files (implies --debug; created 0700 when missing)")
                            ->type_name("DIR");
  app.add_option("--stderr", stderr_text,
                 "Components' stderr: forward (prefixed with [name]), tail (kept for error "
                 "messages only) or discard")
      ->type_name("MODE")
      ->capture_default_str();
  app.add_option("--grace-period", grace_text,
                 "How long children get to exit after EOF before SIGTERM (500ms, 2s, or ms)")
      ->type_name("DURATION")
      ->default_str("2s");
  app.add_option("--max-message-size", size_text, "Largest accepted JSON-RPC line (1048576, 512KiB, 64MiB)")
      ->type_name("SIZE")
      ->default_str("64MiB");
  app.add_option("--mcp-bridge", bridge_text,
                 "MCP over ACP for an agent without it: auto (HTTP if the agent has it, else stdio), "
                 "http, stdio or off")
      ->type_name("MODE")
      ->capture_default_str();
  app.add_option("--mcp-shim", opts.mcp_shim,
                 "The acp-mcp-bridge executable a stdio-bridged agent runs (default: the one next to "
                 "acp-conductor, else from PATH)")
      ->type_name("PATH");

  network_texts net;
  add_network_options(app, opts, net);

  std::string live_view_text;
  auto* live_view_opt = app.add_flag("--serve{127.0.0.1:0}", live_view_text,
                                     "Show the trace viewer live over HTTP while the chain runs: --serve on "
                                     "127.0.0.1 and a random port (printed on stderr), --serve=HOST:PORT elsewhere")
                            ->type_name("ADDR");
  std::string live_history_text;
  app.add_option("--serve-history", live_history_text,
                 "Bytes of events --serve keeps for viewers that connect later (oldest dropped first)")
      ->type_name("SIZE")
      ->default_str("64MiB");

  std::vector<std::string> agent_components;
  std::vector<std::string> proxy_components;
  auto add_modes = [&](CLI::App& parent) {
    auto* a = parent.add_subcommand("agent", "Run as an agent: the last COMPONENT is the agent, "
                                             "the others are proxies in order");
    a->add_option("components", agent_components, "Proxies, then the agent")->type_name("COMPONENT");
    a->fallthrough();
    a->allow_extras();
    auto* p = parent.add_subcommand("proxy", "Run as a proxy inside another chain; the "
                                             "COMPONENTs (zero or more) are proxies");
    p->add_option("components", proxy_components, "Proxies, in order")->type_name("COMPONENT");
    p->fallthrough();
    p->allow_extras();
    return std::pair{a, p};
  };
  auto [agent, proxy] = add_modes(app);

  auto* serve = app.add_subcommand("serve", "Serve on --listen URL: each accepted connection gets a chain (and "
                                            "processes) of its own, `agent ...` or `proxy ...` as above");
  serve->add_option("--listen", net.listen, "tcp://HOST:PORT, unix:/PATH, tls://, ws://HOST:PORT/PATH or wss://")
      ->type_name("URL");
  serve->fallthrough();
  serve->require_subcommand(0, 1);
  auto [serve_agent, serve_proxy] = add_modes(*serve);

  std::string connect_url;
  auto* connect = app.add_subcommand("connect", "Connect standard input and output to the chain served at URL "
                                                "(the same as `agent URL`)");
  connect->add_option("url", connect_url, "The chain's address")->type_name("URL");
  connect->fallthrough();
  connect->allow_extras();

  trace_command tc;
  std::string slowest_text;
  auto* trace_tool = app.add_subcommand("trace", "Read a trace file written by --trace: `view` or `stats`");
  trace_tool->require_subcommand(1, 1);
  auto* trace_view = trace_tool->add_subcommand("view", "Write FILE as one self-contained HTML page: a sequence "
                                                        "diagram of the chain (nothing is fetched from the network)");
  trace_view->add_option("file", tc.file, "The trace (- for standard input)")->type_name("FILE")->required();
  trace_view->add_option("-o,--output", tc.output, "The page to write (default: FILE with .html; - for stdout)")
      ->type_name("OUT.html");
  auto* trace_stats = trace_tool->add_subcommand("stats", "Per method and hop: count, bytes, latency p50/p95/p99 "
                                                          "and errors; the slowest requests");
  trace_stats->add_option("file", tc.file, "The trace (- for standard input)")->type_name("FILE")->required();
  trace_stats->add_flag("--json", tc.json, "One JSON document instead of the table");
  trace_stats->add_option("--slowest", slowest_text, "How many of the slowest requests to list")
      ->type_name("N")
      ->default_str("10");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) { // --help, --version
    std::ostringstream out, err;
    const int code = app.exit(e, out, err);
    std::string text = out.str();
    if (text.empty() || text.back() != '\n') text += '\n';
    return early_exit{code, std::move(text), false};
  } catch (const CLI::ParseError& e) {
    return usage_error(lower_first(e.what()));
  }

  // CLI11 reports a `--` separator among the extras; it is not an error.
  std::vector<std::string> extras;
  for (auto* a :
       {&app, static_cast<CLI::App*>(agent), static_cast<CLI::App*>(proxy), serve, static_cast<CLI::App*>(serve_agent),
        static_cast<CLI::App*>(serve_proxy), connect, trace_tool, trace_view, trace_stats})
    for (auto& x : a->remaining())
      if (x != "--") extras.push_back(x);
  if (!extras.empty()) {
    const std::string& first = extras.front();
    if (first.size() > 1 && first[0] == '-') return usage_error("unknown option: " + first);
    return usage_error("unexpected argument: " + first);
  }

  if (trace_tool->parsed()) {
    tc.action = trace_view->parsed() ? trace_command::action::view : trace_command::action::stats;
    if (tc.file.empty()) return usage_error("trace: FILE must not be empty");
    if (!slowest_text.empty()) {
      std::uint64_t n = 0;
      const auto* end = slowest_text.data() + slowest_text.size();
      if (auto [p, ec] = std::from_chars(slowest_text.data(), end, n); ec != std::errc{} || p != end)
        return usage_error("--slowest: invalid number `" + one_line(slowest_text, 40) + "`");
      tc.slowest = static_cast<std::size_t>(n);
    }
    return tc;
  }

  std::vector<std::string>* texts = nullptr;
  if (serve->parsed() && !serve_agent->parsed() && !serve_proxy->parsed())
    return usage_error("serve: expected `agent COMPONENT...` or `proxy [COMPONENT...]` after the options");
  if (agent->parsed() || serve_agent->parsed()) {
    opts.mode = conductor_options::mode::agent;
    texts = &agent_components;
    if (agent_components.empty())
      return usage_error("agent: at least one COMPONENT is required (the last one is the agent)");
  } else if (proxy->parsed() || serve_proxy->parsed()) {
    opts.mode = conductor_options::mode::proxy;
    texts = &proxy_components;
  } else if (connect->parsed()) {
    if (connect_url.empty()) return usage_error("connect: the URL of a served chain is required");
    opts.mode = conductor_options::mode::agent;
    agent_components = {connect_url};
    texts = &agent_components;
  } else {
    return usage_error("missing subcommand: expected `agent`, `proxy`, `serve`, `connect` or `trace`");
  }

  if (opts.name.empty()) return usage_error("--name must not be empty");
  if (trace_opt->count() > 0) {
    if (trace_text.empty()) return usage_error("--trace: FILE must not be empty");
    opts.trace_file = trace_text;
  }
  if (live_view_opt->count() > 0) {
    if (live_view_text.empty()) return usage_error("--serve: ADDR must not be empty (HOST:PORT)");
    if (serve->parsed()) return usage_error("--serve (the live trace viewer) cannot be used with `serve`");
    opts.live_view = live_view_text;
  }
  if (!live_history_text.empty()) {
    auto n = parse_size(live_history_text);
    if (!n) return usage_error("--serve-history: invalid size `" + live_history_text + "` (expected e.g. 64MiB)");
    opts.live_view_history = *n;
  }
  if (auto l = parse_log_level(log_level_text))
    opts.log_level = *l;
  else
    return usage_error("--log-level: invalid level `" + one_line(log_level_text, 40) +
                       "` (expected error, warn, info, debug or trace)");
  if (log_filter_opt->count() > 0) {
    if (log_level_opt->count() > 0) return usage_error("--log and --log-level: give one of them");
    auto l = parse_log_filter(log_filter_text);
    if (!l)
      return usage_error("--log: invalid filter `" + one_line(log_filter_text, 40) +
                         "` (expected a level: off, error, warn, info, debug or trace; or target=level, ...)");
    opts.log_level = *l;
  }
  if (debug_dir_opt->count() > 0) {
    if (debug_dir_text.empty()) return usage_error("--debug-dir: DIR must not be empty");
    opts.debug_dir = debug_dir_text;
  } else if (debug_flag) {
    opts.debug_dir = ".";
  }
  if (auto m = parse_stderr_mode(stderr_text))
    opts.stderr_mode = *m;
  else
    return usage_error("--stderr: invalid mode `" + stderr_text + "` (expected forward, tail or discard)");
  if (!grace_text.empty()) {
    auto d = parse_duration(grace_text);
    if (!d)
      return usage_error("--grace-period: invalid duration `" + grace_text +
                         "` (expected e.g. 500ms, 2s or a number of milliseconds)");
    opts.grace_period = *d;
  }
  if (!size_text.empty()) {
    auto n = parse_size(size_text);
    if (!n)
      return usage_error("--max-message-size: invalid size `" + size_text +
                         "` (expected e.g. 1048576, 512KiB or 64MiB)");
    opts.max_message_size = *n;
  }

  {
    using mb = enum conductor_options::mcp_bridge;
    bool known = false;
    for (auto m : {mb::automatic, mb::http, mb::stdio, mb::off})
      if (bridge_text == to_string(m)) {
        opts.mcp_bridge = m;
        known = true;
      }
    if (!known)
      return usage_error("--mcp-bridge: invalid mode `" + bridge_text + "` (expected auto, http, stdio or off)");
  }

  if (auto error = apply_network_options(opts, net, serve->parsed())) return usage_error(*error);
  if (connect->parsed() && !net::looks_like_url(connect_url))
    return usage_error("connect: `" + one_line(connect_url, 60) +
                       "` is not an address (expected tcp://, unix:, tls://, ws:// or wss://)");

  for (std::size_t i = 0; i < texts->size(); ++i) {
    auto spec = parse_component((*texts)[i]);
    if (!spec)
      return usage_error("component " + std::to_string(i + 1) + " `" + one_line((*texts)[i], 60) +
                         "`: " + spec.error());
    opts.components.push_back(std::move(*spec));
  }
  return opts;
}

} // namespace acp::conductor
