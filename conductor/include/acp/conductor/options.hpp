#pragma once
// The conductor's command line:
//
//   acp-conductor [OPTIONS] agent COMPONENT...    (one or more; the last one is the agent)
//   acp-conductor [OPTIONS] proxy [COMPONENT...]  (zero or more; runs as a proxy in a chain)
//   acp-conductor [OPTIONS] serve --listen URL (agent|proxy) COMPONENT...
//                                                 (a chain of its own per accepted connection)
//   acp-conductor [OPTIONS] connect URL           (stdin/stdout to a remote chain: `agent URL`)
//   acp-conductor trace view FILE [-o OUT.html]   (a trace as one self-contained HTML page)
//   acp-conductor trace stats FILE [--json]       (per method and hop: counts, bytes, latencies)
//
// Options may come before or after the subcommand. The reference conductor's command line works
// too: `-n/--name` after the mode, `--debug`, `--debug-dir DIR`, `--log LEVEL` (see
// man/acp-conductor.1, COMPATIBILITY). `parse_command_line` never prints and never
// exits: it returns either the options or what `main` must print and the code it must exit with.

#include <acp/conductor/component.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace acp::conductor {

enum class log_level { error, warn, info, debug, trace };

[[nodiscard]] std::string_view to_string(log_level l) noexcept;
[[nodiscard]] std::string_view to_string(stderr_mode m) noexcept; ///< forward | tail | discard

// The members are named after their types; `enum X` (an elaborated type specifier) keeps the
// type name usable inside the struct.
struct conductor_options {
  enum class mode { agent, proxy };
  enum mode mode = mode::agent;
  /// Proxies first; in agent mode the last one is the agent.
  std::vector<component_spec> components;
  std::string name = "acp-conductor";
  std::optional<std::string> trace_file;
  /// `--debug` (in the current directory) or `--debug-dir DIR`: a log file per component, and
  /// one for the editor's link, with every line it sent, received and wrote on stderr, each
  /// with its direction and a timestamp (conductor/src/debug_log.hpp). DIR is created (0700)
  /// when missing.
  std::optional<std::string> debug_dir;
  enum log_level log_level = log_level::info;
  enum stderr_mode stderr_mode = stderr_mode::forward;
  std::chrono::milliseconds grace_period{2000};
  std::size_t max_message_size = std::size_t{64} * 1024 * 1024;
  /// MCP over ACP for an agent that lacks it (docs/PROTOCOL.md §5): `auto` bridges when the
  /// agent's `initialize` result lacks `mcpCapabilities.acp` (HTTP if it advertises `http`, else
  /// stdio); `http` / `stdio` force the transport; `off` never bridges.
  enum class mcp_bridge { automatic, http, stdio, off };
  enum mcp_bridge mcp_bridge = mcp_bridge::automatic;
  /// The `acp-mcp-bridge` executable a stdio-bridged agent runs (as `acp-mcp-bridge --shim`);
  /// empty: the one next to this executable, else `acp-mcp-bridge` from PATH.
  std::string mcp_shim;

  /// How remote components (and `connect`) are reached (acp/net/connect.hpp).
  struct remote_options {
    std::chrono::milliseconds connect_timeout{10000};
    std::string ca_file;   ///< empty: the system's store
    std::string cert_file; ///< client certificate (mutual TLS), with key_file
    std::string key_file;
    bool verify_server_name = true;
    /// The bearer token's file; empty: `$ACP_CONDUCTOR_TOKEN` when set. In `serve` mode
    /// `--token-file` is the listener's (serve_options) and this stays empty.
    std::string token_file;
    std::string socks5; ///< socks5://[user@]host[:port] (password: $ACP_SOCKS5_PASSWORD); empty: $ALL_PROXY
    std::chrono::milliseconds ping_interval{20000};
  };
  remote_options remote;

  /// `serve`: a listener, and for each accepted connection a chain of its own.
  struct serve_options {
    std::string listen;     ///< the address (validated)
    std::string token_file; ///< the token clients must present; empty: none (loopback only)
    std::string tls_cert;   ///< tls:// and wss://: the server's certificate chain and key
    std::string tls_key;
    std::string client_ca; ///< when set, clients must present a certificate it signed
    std::size_t max_connections = 64;
    std::chrono::milliseconds handshake_timeout{10000};
    std::chrono::milliseconds idle_timeout{std::chrono::hours(1)}; ///< 0: none
    bool allow_insecure = false;                                   ///< listen beyond loopback without TLS and a token
  };
  std::optional<serve_options> serve;

  /// `--serve[=ADDR]`: the trace viewer, live, over HTTP while the chain runs (`/` the page,
  /// `/events` the events). Empty string: 127.0.0.1 on a random port.
  std::optional<std::string> live_view;
  /// `--serve-history SIZE`: bytes of events the live view keeps for viewers that connect later.
  std::size_t live_view_history = std::size_t{64} << 20;
};

/// `trace view` / `trace stats`: tools that read a trace file; no chain runs.
struct trace_command {
  enum class action { view, stats };
  enum action action = action::view;
  std::string file;         ///< the trace to read (`-`: standard input)
  std::string output;       ///< view: `-o FILE` (empty: FILE's name with `.html`; `-`: standard output)
  bool json = false;        ///< stats: `--json` instead of the table
  std::size_t slowest = 10; ///< stats: `--slowest N`, how many of the slowest requests to list
};

[[nodiscard]] std::string_view to_string(enum conductor_options::mcp_bridge m) noexcept; ///< auto | http | stdio | off

/// "Print `text` to stdout (or stderr) and exit with `code`": --help, --version, usage errors.
/// `text` ends with a newline.
struct early_exit {
  int code = 0;
  std::string text;
  bool to_stderr = false;
};

using command_line_result = std::variant<conductor_options, early_exit, trace_command>;

/// Parses the command line. Errors give exactly one line on stderr,
/// `acp-conductor: <what is wrong> (try --help)`, and exit code 2; --help prints the usage to
/// stdout (exit 0); -V/--version prints `acp-conductor <version>` (exit 0).
[[nodiscard]] command_line_result parse_command_line(int argc, const char* const* argv);

/// `--log`'s value, as the reference conductor took it (a `RUST_LOG`-like filter): a level
/// (`error`, `warn`, `info`, `debug`, `trace`, `off`; any case), `target=level` directives, or
/// several of them separated by commas. We have no targets: the most verbose level named
/// anywhere counts, and `off` alone means `error` (errors are always printed). nullopt when a
/// directive names no known level.
[[nodiscard]] std::optional<log_level> parse_log_filter(std::string_view text);

/// The version compiled into the library (`0.1.0`).
[[nodiscard]] std::string_view version() noexcept;

/// `500ms`, `2s`, `1m` or a bare number of milliseconds; nullopt if malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
/// `1048576`, `512KiB`, `64MiB`, `1GiB` (also `K`/`KB`/`M`/`MB`/`G`/`GB` as binary units and a
/// `B` suffix); must be > 0; nullopt if malformed or overflowing.
[[nodiscard]] std::optional<std::size_t> parse_size(std::string_view text);

} // namespace acp::conductor
