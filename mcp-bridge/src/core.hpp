#pragma once
// The bridge's core, shared by its two listeners: declarations, MCP sessions and the relay to
// the providers' side. Everything runs on the bridge's one executor.

#include <acp/mcp_bridge/bridge.hpp>

#include <acp/sdk/context.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace acp::mcp_bridge {

namespace json = boost::json;

enum class generation { current, older };

/// One rewritten `acp` declaration.
struct declaration {
  std::string id; ///< in the URL path / ACP_MCP_BRIDGE_SERVER
  generation gen = generation::current;
  std::string target; ///< serverId (current) or the `acp:` URL (older)
  std::string token;  ///< secret the agent's MCP client presents
};

/// The answer to one client request: the JSON-RPC response, or nullopt when none is to be sent
/// (the client cancelled it).
using reply_fn = std::function<void(std::optional<json::object>)>;

/// One MCP connection between the agent's MCP client and a provider.
struct session {
  enum class state { connecting, open, closed };
  std::string key; ///< HTTP: the Mcp-Session-Id
  std::shared_ptr<const declaration> decl;
  state st = state::connecting;
  std::string connection_id;    ///< upstream's, once connected
  std::string protocol_version; ///< negotiated (from the initialize result), for the HTTP header check
  std::chrono::steady_clock::time_point last_active = std::chrono::steady_clock::now();

  struct held {
    json::object msg;
    reply_fn done;
  };
  std::deque<held> waiting; ///< client messages that arrived while connecting

  struct call {
    std::optional<acp::sent_request> sent;
    reply_fn done;
    std::shared_ptr<void> timer; ///< a steady_timer, type-erased to keep Asio out of this header
  };
  std::map<std::string, call> calls; ///< by id_key of the client's id

  std::map<std::string, acp::responder> server_requests; ///< by id_key of our id
  std::uint64_t next_server_id = 0;

  /// Server-initiated messages (and for stdio, every message) for the client; unset: queued.
  std::function<void(json::object)> to_client;
  std::deque<json::object> queued;
  /// Runs once when the session ends (bridge close, upstream connect failure): the listener
  /// closes its side.
  std::function<void()> on_end;
  /// Runs whenever a call ends (answered, timed out, abandoned, the session ended) and when the
  /// messages held while connecting have gone out: the stdio listener waits on it for the answers
  /// still owed after its client closed its output.
  std::function<void()> on_call_done;
  void call_done() const {
    if (on_call_done) on_call_done();
  }
};

class http_listener;
class unix_listener;

struct bridge::impl : std::enable_shared_from_this<bridge::impl> {
  impl(boost::asio::any_io_executor e, options o) : ex(std::move(e)), opt(std::move(o)) {}

  boost::asio::any_io_executor ex;
  options opt;
  acp::peer upstream = acp::peer::client;
  std::optional<acp::context> cx;
  bool closed = false;

  std::map<std::string, std::shared_ptr<const declaration>> decls; ///< by id
  std::map<std::string, std::shared_ptr<session>> sessions;        ///< by key
  std::map<std::string, std::weak_ptr<session>> by_connection;     ///< by upstream connection id

  std::shared_ptr<http_listener> http;
  std::shared_ptr<unix_listener> unix_socket;

  [[nodiscard]] std::shared_ptr<const declaration> find_declaration(std::string_view id) const;
  [[nodiscard]] std::shared_ptr<session> find_session(std::string_view key) const;

  /// A new session for `decl` (connects upstream at once), or nullptr with `why` when refused.
  std::shared_ptr<session> open_session(const std::shared_ptr<const declaration>& decl, std::string& why);
  /// A message from the MCP client: a request is answered through `done` (exactly once), a
  /// notification or a response is relayed (`done` unused).
  void from_client(const std::shared_ptr<session>& s, json::object msg, reply_fn done);
  /// The client no longer waits for the answer to `id` (gone, or cancelled): upstream is
  /// cancelled and the answer, when it comes, dropped.
  void abandon(const std::shared_ptr<session>& s, const json::value& id);
  /// Sets the sink for server-initiated messages and flushes what was queued (empty: queue).
  void set_sink(const std::shared_ptr<session>& s, std::function<void(json::object)> sink);
  /// Ends the session: waiting calls answered with an error, server requests answered with an
  /// error upstream, `mcp/disconnect` sent when `tell_upstream`.
  void end_session(const std::shared_ptr<session>& s, bool tell_upstream, std::string_view why);
  /// Ends the sessions idle for `opt.session_idle_timeout` (no call, no sink, no message).
  void expire_idle_sessions();

  /// A message from upstream for one of our connections (handled::no when not ours).
  acp::handled upstream_request(jsonrpc::message& msg, acp::responder& r, acp::context& cx);
  acp::handled upstream_notification(jsonrpc::message& msg, acp::context& cx);

private:
  void connect(const std::shared_ptr<session>& s);
  void relay(const std::shared_ptr<session>& s, json::object msg, reply_fn done);
  void deliver(const std::shared_ptr<session>& s, json::object msg);
};

/// Random hex text of `bytes` random bytes (std::random_device).
[[nodiscard]] std::string random_hex(std::size_t bytes);
/// Compares in time independent of where the texts differ.
[[nodiscard]] bool equal_secret(std::string_view a, std::string_view b) noexcept;
/// A JSON-RPC error response.
[[nodiscard]] json::object error_response(const json::value& id, const rpc_error& e);

// ---- listeners (http_server.cpp, unix_server.cpp) ---------------------------------------------
/// Starts the HTTP listener on 127.0.0.1 (random port); nullptr and a log line on failure.
std::shared_ptr<http_listener> start_http_listener(const std::shared_ptr<bridge::impl>& b);
[[nodiscard]] unsigned short port_of(const http_listener& l) noexcept;
void close_listener(http_listener& l);

/// Starts the Unix socket listener in a new private directory; nullptr and a log line on failure.
std::shared_ptr<unix_listener> start_unix_listener(const std::shared_ptr<bridge::impl>& b);
[[nodiscard]] const std::string& socket_path_of(const unix_listener& l) noexcept;
void close_listener(unix_listener& l);

} // namespace acp::mcp_bridge
