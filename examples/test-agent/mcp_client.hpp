#pragma once
// The test agent's MCP client: one connection to one MCP server declared in a session's
// `mcpServers`, for the length of one prompt command (`mcp list`, `mcp call`).
//
// Declarations are read from their JSON (never from `acp::mcp_server`'s alternatives, which
// change as the protocol grows): `{"type":"acp","name","serverId"}` (MCP over ACP: mcp/connect,
// mcp/message, mcp/disconnect sent to the client), `{"type":"http","name","url","headers"}`
// (MCP Streamable HTTP, plain http:// only; mcp_http.cpp), no `type` with `command`, `args`,
// `env` (a child process speaking newline-delimited JSON-RPC on its stdio; mcp_stdio.cpp).
// `{"type":"sse"}` (the older HTTP+SSE transport) is recognised and refused with a clear error.
//
// Every connection starts with MCP `initialize` (protocol version 2025-06-18) and
// `notifications/initialized`, and ends with `mcp_close` (mcp/disconnect, an HTTP DELETE of the
// session, or the end of the child: EOF on its stdin, then SIGTERM and SIGKILL to its group).
//
// Threading: everything runs on the agent's executor, from a turn's task (never from a handler:
// the acp transport awaits the client's answers). Requests on one connection are sequential.
// Errors are values: a failed request is an `rpc_error` (the server's own, or -32603 with one
// sentence for a transport failure or a deadline), never an exception.

#include <acp/sdk/context.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acp::examples::mcp {

/// The MCP protocol version this client asks for.
inline constexpr std::string_view protocol_version = "2025-06-18";

/// Cuts the MCP operation in progress short when the turn is cancelled: the pending operation
/// registers how to stop it (`arm`), `cancel()` runs that, and every later request or
/// notification fails at once. Closing is never cut short, so nothing lingers.
class interrupter {
public:
  void cancel() {
    cancelled_ = true;
    if (auto hook = std::exchange(hook_, nullptr)) hook();
  }
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }
  void arm(std::function<void()> hook) { hook_ = std::move(hook); }
  void disarm() noexcept { hook_ = nullptr; }

private:
  bool cancelled_ = false;
  std::function<void()> hook_;
};

struct client_options {
  /// Deadline for opening a transport (TCP connect, mcp/connect, starting the child).
  std::chrono::milliseconds connect_timeout{5000};
  /// Deadline for each request's answer (HTTP: from the request's first byte to the answer).
  std::chrono::milliseconds request_timeout{10000};
  /// The largest HTTP body or stdio line accepted from a server.
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  /// Set by the turn; null: nothing cuts operations short but their deadlines.
  std::shared_ptr<interrupter> interrupt;
};

/// One entry of `mcpServers`, as its JSON says.
struct server_decl {
  std::string name;
  /// "acp", "http", "sse", "stdio" (no `type`), or the unknown `type` as given.
  std::string transport;
  boost::json::object json;
};

/// The declarations of a `mcpServers` array (a non-array gives none; a non-object entry is kept
/// with transport "invalid").
[[nodiscard]] std::vector<server_decl> read_declarations(const boost::json::value& mcp_servers);

struct http_link;
struct stdio_link;

/// An open connection (after the MCP handshake).
struct link {
  server_decl decl;
  client_options opts;
  std::int64_t next_id = 1;
  /// The version the server answered `initialize` with (empty before).
  std::string protocol_version;
  // acp
  std::optional<context> cx;
  std::string connection_id;
  // http / stdio
  std::shared_ptr<http_link> http;
  std::shared_ptr<stdio_link> stdio;
};
using link_ptr = std::shared_ptr<link>;

struct connect_outcome {
  link_ptr conn;     ///< set on success
  std::string error; ///< one sentence otherwise
};

/// Opens the transport, then `initialize` + `notifications/initialized`. On failure nothing is
/// left open.
[[nodiscard]] boost::asio::awaitable<connect_outcome> connect(server_decl decl, context cx, client_options opts);

/// One MCP request; its result, or its JSON-RPC error.
[[nodiscard]] boost::asio::awaitable<rpc_result> request(link_ptr conn, std::string method, boost::json::value params);

/// One MCP notification; an empty string, or why it could not be sent.
[[nodiscard]] boost::asio::awaitable<std::string> notify(link_ptr conn, std::string method, boost::json::value params);

/// Ends the connection (idempotent; never fails).
[[nodiscard]] boost::asio::awaitable<void> close(link_ptr conn);

} // namespace acp::examples::mcp
