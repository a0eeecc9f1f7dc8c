#pragma once
// The MCP bridge: serves MCP-over-ACP servers (docs/PROTOCOL.md §5) to an agent that cannot speak
// that form itself (its `initialize` result lacks `agentCapabilities.mcpCapabilities.acp`).
//
// Each `acp` declaration in a session set-up request (`{"type":"acp","serverId"}`, or the older
// `{"type":"http","url":"acp:<uuid>"}`) is rewritten into a server the agent can reach:
//   http   MCP Streamable HTTP on 127.0.0.1, a random port, `/mcp/<id>`, `Authorization: Bearer
//          <token>` (128 random bits per declaration, never logged);
//   stdio  `acp-mcp-bridge --shim`, which connects to a Unix socket in a private 0700 directory
//          the bridge creates; the socket path, token and id travel in the environment.
// Each MCP connection the agent opens becomes `mcp/connect` toward `upstream` (the providers'
// side), each MCP message `mcp/message`, and its end `mcp/disconnect` (older generation:
// `_mcp/connect`, `_mcp/message`, `_mcp/disconnect`). `mcp/message` arriving from upstream for
// one of the bridge's connections (server-initiated requests and notifications) goes to the agent.
//
// HTTP details: one JSON-RPC message per POST (a batch is answered -32600, batches are not
// supported); a request is answered `application/json`, or as one SSE event when the client's
// `Accept` allows only `text/event-stream`; notifications and responses are answered 202; GET with
// `Accept: text/event-stream` opens the stream of server-initiated messages (queued, up to
// `max_queued_messages`, until it opens); DELETE ends the session. Status codes: 401 no or wrong
// token, 403 an `Origin` other than http(s)://127.0.0.1, localhost or [::1], 404 unknown path or
// `Mcp-Session-Id`, 400 missing session id or unsupported `MCP-Protocol-Version`, 413 body over
// `max_body_bytes`, 405 another method, 503 over `max_connections`. Malformed JSON: 400 with a
// JSON-RPC error -32700.
//
// Threading: everything runs on the executor given to `create`, which must be the executor of
// the endpoint the bridge is installed in (one thread). None of the functions is thread-safe.
// Errors are values: listener failures are logged (`acp::log`) and the declaration is left as it
// was (the caller sees a count lower than the number of `acp` entries).

#include <acp/sdk/context.hpp>
#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/peer.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace acp::mcp_bridge {

enum class mode { http, stdio };

struct options {
  mode kind = mode::http;
  /// stdio: path of the acp-mcp-bridge executable (run as `acp-mcp-bridge --shim`).
  std::string shim_program;
  /// HTTP: the largest request body; stdio: the longest line.
  std::size_t max_body_bytes = 16 << 20;
  /// A client must send its request head (HTTP) or its hello line (stdio) within this.
  std::chrono::milliseconds header_timeout{10000};
  /// HTTP: the body must arrive within this once the head has.
  std::chrono::milliseconds body_timeout{30000};
  /// HTTP keep-alive: an idle connection is closed after this.
  std::chrono::milliseconds idle_timeout{60000};
  /// A relayed MCP request without an answer after this is answered -32603 and cancelled
  /// upstream (`$/cancel_request`); zero means no limit.
  std::chrono::milliseconds call_timeout{600000};
  /// Open HTTP connections (stdio: shim sockets); further ones are refused (HTTP: 503).
  std::size_t max_connections = 64;
  /// MCP sessions open at once per bridge; a further `initialize` is answered an error.
  std::size_t max_sessions = 256;
  /// HTTP: a session without a request in flight, without an open GET stream and without a
  /// request for this long is ended (`mcp/disconnect`; the client then gets 404 and may start
  /// over). Zero: never.
  std::chrono::milliseconds session_idle_timeout{1800000};
  /// Server-initiated messages kept for a session whose GET stream is not open (HTTP); beyond
  /// it a request is answered an error upstream, a notification dropped with a log line. Also
  /// the client's messages kept while its connection is being opened upstream (beyond it a
  /// request is answered an error).
  std::size_t max_queued_messages = 1024;
};

/// `agentCapabilities.mcpCapabilities.acp == true` in an `initialize` result.
[[nodiscard]] bool agent_speaks_acp(const boost::json::value& initialize_result);
/// Sets `agentCapabilities.mcpCapabilities.acp` to true, creating the objects as needed (a
/// member of another type on the way is replaced by an object).
void advertise_acp(boost::json::value& initialize_result);
/// `mode::http` when `agentCapabilities.mcpCapabilities.http == true`, else `mode::stdio`.
[[nodiscard]] mode choose_mode(const boost::json::value& initialize_result);

class bridge : public std::enable_shared_from_this<bridge> {
public:
  static std::shared_ptr<bridge> create(boost::asio::any_io_executor ex, options o);
  ~bridge();
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// Registers raw handlers for `mcp/message` and `_mcp/message` (requests and notifications)
  /// arriving from `upstream` (the providers' side: `acp::client` in a proxy, and in the
  /// conductor an `acp::agent_builder`'s `acp::client`). A message for a connection the bridge
  /// does not own is passed on (`handled::no`) in a proxy and answered -32602 (`data.reason`
  /// "unknown_connection") elsewhere. The handlers hold the bridge weakly.
  void install(acp::endpoint_builder& b, acp::peer upstream);
  /// Called once the endpoint runs, with its context: the bridge sends `mcp/connect` etc. to
  /// `upstream` through it. MCP traffic that arrives before is answered -32603.
  void start(acp::context cx);
  /// Rewrites every `acp` declaration (both generations) in `params.mcpServers` of a session
  /// set-up request (session/new, load, resume, fork) into an http or stdio declaration served
  /// by this bridge; other entries are untouched. Returns how many it rewrote. The listener
  /// starts on the first rewrite (a failure to listen is logged and nothing is rewritten).
  std::size_t rewrite_declarations(boost::json::value& params);
  /// Stops listening; every open MCP connection is disconnected upstream (`mcp/disconnect`),
  /// every HTTP request waiting is answered an error, shim sockets are closed, the private
  /// directory is removed. Idempotent; also done by the destructor (without the disconnects).
  void close();

  /// The HTTP port (0 before the HTTP listener has started).
  [[nodiscard]] unsigned short http_port() const noexcept;
  /// MCP connections open or opening.
  [[nodiscard]] std::size_t open_sessions() const noexcept;

  struct impl;
  /// For the library's own proxy (tool.hpp): the core behind this bridge.
  [[nodiscard]] impl& core() noexcept { return *impl_; }

private:
  explicit bridge(std::shared_ptr<impl> i) noexcept;
  std::shared_ptr<impl> impl_;
};

} // namespace acp::mcp_bridge
