#pragma once
// An MCP server that a proxy provides over its own ACP connection (MCP over ACP, docs/PROTOCOL.md
// §5). Build it, then hand it to `proxy_builder::provide_mcp_server`:
//
//   acp::mcp::server tools("tools", "1.0");
//   tools.add_tool({.name = "echo", .description = "Says it back", .input_schema = schema},
//                  [](const boost::json::object& args, acp::mcp::call_context& call) {
//                    return acp::mcp::tool_result::text(boost::json::serialize(args));
//                  });
//   acp::proxy_builder proxy;
//   proxy.provide_mcp_server(std::move(tools));
//   return proxy.run_stdio();
//
// What the proxy then does
//   - Every `session/new`, `session/load`, `session/resume` and `session/fork` going to the agent
//     gets `{"type":"acp","name":<server name>,"serverId":"mcp-server:<uuid>"}` appended to its
//     `mcpServers` (created when absent); the rest of the request is left as it is. Each request
//     gets a fresh server id; the ACP session it belongs to is learnt from the answer (the
//     `sessionId` of a session/new or session/fork result, the request's `sessionId` for load
//     and resume; an error answer forgets the id).
//   - `mcp/connect {serverId}` naming one of its ids is answered `{connectionId}`; the older
//     `_mcp/connect {acp_url:"acp:<uuid>"}` (the url form of the same uuid) `{connection_id}`.
//     Other ids pass on toward the client untouched (a provider nearer the client may own them).
//   - `mcp/message` / `_mcp/message` on its connections is served as MCP: `initialize` (protocol
//     version negotiation: the client's version when supported — 2025-06-18, 2025-03-26,
//     2024-11-05 — else the latest), `notifications/initialized`, `ping`, `tools/list`,
//     `tools/call`, `notifications/cancelled`; another method is -32601. An unknown tool is
//     -32602. Messages naming a connection that is not its own pass on; a request naming a
//     connection it has closed is answered -32602 with `data.reason` "connection_closed".
//   - `mcp/disconnect` (answered `{}`) and the `_mcp/disconnect` notification close a connection
//     and cancel its running calls. Any number of connections may be open at once.
//   Resources and prompts are not offered (the capabilities say `tools` only).
//
// Tool handlers (an add_tool with a handler of neither form is a compile error)
//   sync   `tool_result f(const boost::json::object& arguments, call_context& call)`: runs in the
//          dispatch loop; must not wait (the deadlock rule of <acp/sdk/endpoint.hpp>).
//   async  `boost::asio::awaitable<tool_result> f(boost::json::object arguments, call_context call)`:
//          runs as a spawned task (`context::spawn`) and may `co_await` (a child process, the
//          client's answer to a permission request). Cancelling the call (`notifications/cancelled`
//          naming it, `$/cancel_request` for its `mcp/message`, a disconnect, the shutdown)
//          cancels the coroutine (its pending operations end with operation_aborted) and the
//          request is answered -32800.
//   An exception from a handler is logged and becomes an `isError` result.
//
// Cancellation by `notifications/cancelled {requestId}` matches the JSON-RPC id the
// `mcp/message` request had when it reached this proxy; across a chain, whose hops renumber ids,
// cancel with `$/cancel_request` instead (the conductor re-issues it downstream).

#include <acp/sdk/context.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace acp::mcp {

/// The MCP protocol versions a server answers with (newest first).
inline constexpr std::string_view supported_protocol_versions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

/// What `tools/list` says about a tool.
struct tool {
  std::string name;
  std::string description;
  /// A JSON Schema object (`{"type":"object","properties":{…},"required":[…]}`); empty means
  /// `{"type":"object"}`. Not enforced by the server: the handler checks its arguments.
  boost::json::object input_schema;
  std::optional<std::string> title;
};

/// The result of `tools/call`: `{"content":[…], "isError"?, "structuredContent"?}`.
struct tool_result {
  boost::json::array content; ///< MCP content blocks (`{"type":"text","text":…}`, images, …)
  std::optional<boost::json::object> structured_content;
  bool is_error = false;

  /// One text block.
  [[nodiscard]] static tool_result text(std::string text);
  /// An error result (`isError: true`) with one text block: the model sees the message.
  [[nodiscard]] static tool_result error(std::string message);
  /// A JSON result: `structuredContent` (when `v` is an object) and its text as one text block.
  [[nodiscard]] static tool_result json(const boost::json::value& v);
  /// Appends a text block.
  tool_result& add_text(std::string text);

  /// The MCP result object.
  [[nodiscard]] boost::json::object to_json() const;
};

namespace detail {
struct call_state;
} // namespace detail

/// What a tool handler knows about its call. Cheap to copy (shared state); valid as long as a
/// copy is held, also after the call has been answered (then sending does nothing useful).
class call_context {
public:
  explicit call_context(std::shared_ptr<detail::call_state> st) noexcept : st_(std::move(st)) {}

  /// The ACP session whose `mcpServers` declared the server this call came through; nullopt
  /// while the session set-up request has not been answered yet.
  [[nodiscard]] std::optional<std::string> session_id() const;
  [[nodiscard]] const std::string& tool_name() const noexcept;
  [[nodiscard]] const std::string& connection_id() const noexcept;
  /// The endpoint's context: send the client a request (`session/request_permission`), spawn.
  [[nodiscard]] acp::context& acp_context() const noexcept;

  /// Sends `session/update {sessionId, update}` to the client. False (nothing sent) when the
  /// session is not known yet.
  bool send_session_update(boost::json::value update) const;
  /// Sends MCP `notifications/progress {progressToken, progress, total?, message?}` toward the
  /// agent when the call carried `_meta.progressToken`; false (nothing sent) when it did not.
  bool progress(double progress, std::optional<double> total = {}, std::optional<std::string> message = {}) const;

  /// The call has been cancelled (see the top of this file).
  [[nodiscard]] bool cancelled() const noexcept;

private:
  std::shared_ptr<detail::call_state> st_;
};

using sync_tool_handler = std::function<tool_result(const boost::json::object& arguments, call_context& call)>;
using async_tool_handler =
    std::function<boost::asio::awaitable<tool_result>(boost::json::object arguments, call_context call)>;

template <class F>
concept sync_tool_handler_form = std::is_invocable_r_v<tool_result, F&, const boost::json::object&, call_context&> &&
    std::same_as<std::invoke_result_t<F&, const boost::json::object&, call_context&>, tool_result>;
template <class F>
concept async_tool_handler_form = std::is_invocable_v<F&, boost::json::object, call_context> &&
    std::same_as<std::invoke_result_t<F&, boost::json::object, call_context>, boost::asio::awaitable<tool_result>>;

namespace detail {
struct server_state;
} // namespace detail

/// An MCP server's tools. Copies share the same tools; hand one to `provide_mcp_server`.
class server {
public:
  explicit server(std::string name, std::string version = "0.0.0");

  /// Adds a tool (a later tool of the same name replaces the earlier one). `f` is a sync or
  /// async handler (see the top of this file).
  template <class F> server& add_tool(tool t, F&& f) {
    if constexpr (async_tool_handler_form<F>) {
      return add_async_tool(std::move(t), async_tool_handler(std::forward<F>(f)));
    } else if constexpr (sync_tool_handler_form<F>) {
      return add_sync_tool(std::move(t), sync_tool_handler(std::forward<F>(f)));
    } else {
      static_assert(acp::detail::dependent_false<F>,
                    "a tool handler is acp::mcp::tool_result f(const boost::json::object&, acp::mcp::call_context&) "
                    "or boost::asio::awaitable<acp::mcp::tool_result> f(boost::json::object, acp::mcp::call_context)");
      return *this;
    }
  }
  server& add_sync_tool(tool t, sync_tool_handler f);
  server& add_async_tool(tool t, async_tool_handler f);
  /// `instructions` of the initialize result (absent when empty).
  server& instructions(std::string text);

  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] const std::string& version() const noexcept;
  [[nodiscard]] std::shared_ptr<detail::server_state> state() const noexcept { return st_; }

private:
  std::shared_ptr<detail::server_state> st_;
};

} // namespace acp::mcp
