// The MCP client's protocol half and its acp transport (see mcp_client.hpp).
#include "mcp_client.hpp"

#include "mcp_transports.hpp"

#include <acp/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::examples::mcp {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// A request to the client with a deadline: past it, `$/cancel_request` and an error.
struct acp_wait {
  explicit acp_wait(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<rpc_result> outcome;
};

asio::awaitable<rpc_result> acp_call(context cx, std::string method, json::value params,
                                     std::chrono::milliseconds deadline, std::shared_ptr<interrupter> interrupt) {
  if (interrupt && interrupt->cancelled()) co_return transport_failure(method + ": cancelled");
  auto w = std::make_shared<acp_wait>(cx.get_executor());
  w->timer.expires_after(deadline);
  sent_request sent = cx.send_request_to(acp::client, method, std::move(params));
  const sent_request keep = sent;
  std::move(sent).on_receiving_result([w](rpc_result r) {
    w->outcome = std::move(r);
    w->timer.cancel();
  });
  const armed guard(interrupt, [w] { w->timer.cancel(); });
  auto [ec] = co_await w->timer.async_wait(use_tuple);
  (void)ec;
  if (w->outcome) co_return std::move(*w->outcome);
  keep.cancel();
  if (interrupt && interrupt->cancelled()) co_return transport_failure(method + ": cancelled");
  co_return transport_failure(method + ": no answer from the client within " + std::to_string(deadline.count()) +
                              " ms");
}

asio::awaitable<std::string> acp_open(link_ptr conn, context cx) {
  conn->cx = cx;
  const std::string server_id = string_member(conn->decl.json, "serverId");
  if (server_id.empty()) co_return std::string("the acp declaration has no serverId");
  json::value params = json::object{{"serverId", server_id}};
  auto answer = co_await acp_call(cx, std::string("mcp/connect"), std::move(params), conn->opts.connect_timeout,
                                  conn->opts.interrupt);
  if (!answer) co_return "mcp/connect: " + answer.error().message;
  const auto* result = answer->if_object();
  const std::string id = result ? string_member(*result, "connectionId") : std::string();
  if (id.empty()) co_return std::string("mcp/connect: the result has no connectionId");
  conn->connection_id = id;
  co_return std::string();
}

} // namespace

rpc_result transport_failure(std::string message) {
  return rpc_result(boost::system::in_place_error, rpc_error::internal_error(std::move(message)));
}

rpc_result outcome_of_response(const json::object& response) {
  if (const auto* error = response.if_contains("error")) {
    auto e = rpc_error::from_json(*error);
    if (e) return rpc_result(boost::system::in_place_error, std::move(*e));
    return transport_failure("the server answered an invalid error object: " + json::serialize(*error));
  }
  if (const auto* result = response.if_contains("result")) return rpc_result(*result);
  return transport_failure("the server's response has neither result nor error");
}

std::vector<server_decl> read_declarations(const json::value& mcp_servers) {
  std::vector<server_decl> out;
  const auto* list = mcp_servers.if_array();
  if (!list) return out;
  for (const auto& entry : *list) {
    server_decl d;
    if (const auto* o = entry.if_object()) {
      d.json = *o;
      d.name = string_member(*o, "name");
      d.transport = o->contains("type") ? string_member(*o, "type") : std::string("stdio");
    } else {
      d.transport = "invalid";
    }
    out.push_back(std::move(d));
  }
  return out;
}

asio::awaitable<connect_outcome> connect(server_decl decl, context cx, client_options opts) {
  auto conn = std::make_shared<link>();
  conn->decl = std::move(decl);
  conn->opts = opts;
  const std::string transport = conn->decl.transport;
  std::string error;
  if (transport == "acp") {
    error = co_await acp_open(conn, cx);
  } else if (transport == "http") {
    error = http_open(conn, cx.get_executor());
  } else if (transport == "stdio") {
    error = stdio_open(conn, cx.get_executor());
  } else if (transport == "sse") {
    error = "the sse transport (HTTP+SSE) is not implemented by acp-test-agent; declare the server as http";
  } else {
    error = "unknown MCP server type \"" + transport + "\"";
  }
  if (!error.empty()) {
    co_await close(conn);
    co_return connect_outcome{nullptr, std::move(error)};
  }
  json::object client_info{{"name", "acp-test-agent"}, {"version", ACP_VERSION}};
  json::object params{
      {"protocolVersion", protocol_version}, {"capabilities", json::object()}, {"clientInfo", std::move(client_info)}};
  auto init = co_await request(conn, "initialize", std::move(params));
  if (!init) {
    co_await close(conn);
    co_return connect_outcome{nullptr, "initialize: " + init.error().message};
  }
  const auto* result = init->if_object();
  conn->protocol_version = result ? string_member(*result, "protocolVersion") : std::string();
  if (conn->protocol_version.empty()) {
    co_await close(conn);
    co_return connect_outcome{nullptr, "initialize: the result has no protocolVersion"};
  }
  auto sent = co_await notify(conn, "notifications/initialized", nullptr);
  if (!sent.empty()) {
    co_await close(conn);
    co_return connect_outcome{nullptr, "notifications/initialized: " + sent};
  }
  co_return connect_outcome{std::move(conn), {}};
}

asio::awaitable<rpc_result> request(link_ptr conn, std::string method, json::value params) {
  if (conn->decl.transport == "acp") {
    json::object p{{"connectionId", conn->connection_id}, {"method", method}, {"params", std::move(params)}};
    auto r =
        co_await acp_call(*conn->cx, "mcp/message", std::move(p), conn->opts.request_timeout, conn->opts.interrupt);
    co_return r;
  }
  json::object message{{"jsonrpc", "2.0"}, {"id", conn->next_id++}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  if (conn->http) {
    auto r = co_await http_request(conn, std::move(message));
    co_return r;
  }
  if (conn->stdio) {
    auto r = co_await stdio_request(conn, std::move(message));
    co_return r;
  }
  co_return transport_failure("the connection is closed");
}

asio::awaitable<std::string> notify(link_ptr conn, std::string method, json::value params) {
  if (interrupted(conn->opts)) co_return std::string("cancelled");
  if (conn->decl.transport == "acp") {
    json::object p{{"connectionId", conn->connection_id}, {"method", method}};
    if (!params.is_null()) p["params"] = std::move(params);
    conn->cx->send_notification_to(acp::client, "mcp/message", json::value(std::move(p)));
    co_return std::string();
  }
  json::object message{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  if (conn->http) {
    auto r = co_await http_notify(conn, std::move(message));
    co_return r;
  }
  if (conn->stdio) {
    auto r = co_await stdio_notify(conn, std::move(message));
    co_return r;
  }
  co_return std::string("the connection is closed");
}

asio::awaitable<void> close(link_ptr conn) {
  if (!conn) co_return;
  if (conn->cx && !conn->connection_id.empty()) {
    // The answer does not matter, and a client that never gives it must not hold the turn.
    conn->cx->send_request_to(acp::client, "mcp/disconnect", json::object{{"connectionId", conn->connection_id}})
        .on_receiving_result([](rpc_result) {});
    conn->connection_id.clear();
  }
  if (conn->http) co_await http_close(conn);
  if (conn->stdio) co_await stdio_close(conn);
}

} // namespace acp::examples::mcp
