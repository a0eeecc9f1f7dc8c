#pragma once
// The byte-carrying halves of the MCP client (see mcp_client.hpp): Streamable HTTP
// (mcp_http.cpp, the only file that includes Boost.Beast) and stdio (mcp_stdio.cpp). Each gets
// whole JSON-RPC messages from mcp_client.cpp and gives back the answer to a request.

#include "mcp_client.hpp"

#include <boost/asio/any_io_executor.hpp>

namespace acp::examples::mcp {

/// Arms `interrupt` (when there is one) with `hook` for the guard's lifetime.
class armed {
public:
  armed(std::shared_ptr<interrupter> interrupt, std::function<void()> hook) : interrupt_(std::move(interrupt)) {
    if (interrupt_) interrupt_->arm(std::move(hook));
  }
  ~armed() {
    if (interrupt_) interrupt_->disarm();
  }
  armed(const armed&) = delete;
  armed& operator=(const armed&) = delete;

private:
  std::shared_ptr<interrupter> interrupt_;
};

/// Whether the turn cancelled the command.
[[nodiscard]] inline bool interrupted(const client_options& opts) {
  return opts.interrupt && opts.interrupt->cancelled();
}

/// An rpc_result for a transport failure: -32603 with `message`.
[[nodiscard]] rpc_result transport_failure(std::string message);

/// The outcome a JSON-RPC response object carries (its result or its error).
[[nodiscard]] rpc_result outcome_of_response(const boost::json::object& response);

/// Checks the declaration (`url`, `headers`); an empty string or why not. Nothing is connected yet.
[[nodiscard]] std::string http_open(const link_ptr& conn, const boost::asio::any_io_executor& ex);
/// POSTs `message` (a request with an `id`) and reads the answer as JSON or from an SSE stream.
[[nodiscard]] boost::asio::awaitable<rpc_result> http_request(link_ptr conn, boost::json::object message);
/// POSTs a notification (expects 202 or another 2xx).
[[nodiscard]] boost::asio::awaitable<std::string> http_notify(link_ptr conn, boost::json::object message);
/// DELETEs the session, if the server gave one.
[[nodiscard]] boost::asio::awaitable<void> http_close(link_ptr conn);

/// Starts the child (`command`, `args`, `env`); an empty string or why not.
[[nodiscard]] std::string stdio_open(const link_ptr& conn, const boost::asio::any_io_executor& ex);
[[nodiscard]] boost::asio::awaitable<rpc_result> stdio_request(link_ptr conn, boost::json::object message);
[[nodiscard]] boost::asio::awaitable<std::string> stdio_notify(link_ptr conn, boost::json::object message);
/// EOF on the child's stdin, a short grace, then SIGTERM and SIGKILL to its group.
[[nodiscard]] boost::asio::awaitable<void> stdio_close(link_ptr conn);

} // namespace acp::examples::mcp
