// acp-bench-direct-mcp-server: a minimal MCP Streamable HTTP server on loopback, the baseline of
// tests/bench/run_mcp_benchmarks.sh (an agent calling an MCP server directly, no bridge).
//
//   ACP_BENCH_MCP_TOKEN=TOKEN acp-bench-direct-mcp-server
//
// Listens on 127.0.0.1 at a free port and prints the port (one line) on stdout; serves POST
// /mcp until its stdin ends or SIGTERM/SIGINT. Answers as the conductor's HTTP bridge does
// (application/json bodies, keep-alive, `Mcp-Session-Id` from initialize, 202 for a
// notification, 200 for DELETE, `Authorization: Bearer TOKEN` checked when ACP_BENCH_MCP_TOKEN is set):
// initialize, notifications/*, ping, tools/list and tools/call of one tool, "echo", whose result
// is its `text` argument as one text block (the reply of bench_tools_proxy.cpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <acp/sdk/log.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <unistd.h>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view session_id = "bench-session-1";

json::object rpc_error(std::int64_t code, std::string_view message) {
  return json::object{{"code", code}, {"message", message}};
}

/// The JSON-RPC answer to one MCP request.
json::object answer(const json::object& msg) {
  const auto method = msg.at("method").as_string();
  json::object out{{"jsonrpc", "2.0"}, {"id", msg.at("id")}};
  const auto* params = msg.if_contains("params");
  const auto* p = params ? params->if_object() : nullptr;
  if (method == "initialize") {
    const auto* v = p ? p->if_contains("protocolVersion") : nullptr;
    const bool known =
        v && v->is_string() &&
        (v->as_string() == "2025-06-18" || v->as_string() == "2025-03-26" || v->as_string() == "2024-11-05");
    out["result"] = json::object{{"protocolVersion", known ? v->as_string() : json::string("2025-06-18")},
                                 {"capabilities", json::object{{"tools", json::object{{"listChanged", false}}}}},
                                 {"serverInfo", json::object{{"name", "direct"}, {"version", "1.0"}}}};
  } else if (method == "ping") {
    out["result"] = json::object();
  } else if (method == "tools/list") {
    json::object schema{{"type", "object"}, {"properties", json::object{{"text", json::object{{"type", "string"}}}}}};
    out["result"] = json::object{{"tools", json::array{json::object{{"name", "echo"},
                                                                    {"description", "Answers its text argument"},
                                                                    {"inputSchema", std::move(schema)}}}}};
  } else if (method == "tools/call") {
    const auto* name = p ? p->if_contains("name") : nullptr;
    if (!name || !name->is_string() || name->as_string() != "echo") {
      out["error"] = rpc_error(-32602, "unknown tool");
      return out;
    }
    const auto* args = p->if_contains("arguments");
    const auto* a = args ? args->if_object() : nullptr;
    const auto* text = a ? a->if_contains("text") : nullptr;
    json::object block{{"type", "text"}, {"text", text && text->is_string() ? text->as_string() : json::string()}};
    out["result"] = json::object{{"content", json::array{std::move(block)}}};
  } else {
    out["error"] = rpc_error(-32601, "method not found");
  }
  return out;
}

using response = http::response<http::string_body>;

response reply(const http::request<http::string_body>& req, http::status st, std::string body = {}) {
  response res{st, req.version()};
  res.set(http::field::server, "acp-bench-direct-mcp-server");
  if (!body.empty()) res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

response handle(const http::request<http::string_body>& req, const std::string& token) {
  if (req.target() != "/mcp") return reply(req, http::status::not_found, R"({"error":"unknown MCP endpoint"})");
  if (!token.empty() && req[http::field::authorization] != "Bearer " + token)
    return reply(req, http::status::unauthorized, R"({"error":"missing or wrong bearer token"})");
  if (req.method() == http::verb::delete_) return reply(req, http::status::ok);
  if (req.method() != http::verb::post) return reply(req, http::status::method_not_allowed);
  boost::system::error_code ec;
  auto body = json::parse(req.body(), ec);
  const auto* msg = ec ? nullptr : body.if_object();
  const auto* method = msg ? msg->if_contains("method") : nullptr;
  if (!method || !method->is_string()) {
    json::object e{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", rpc_error(-32600, "not a JSON-RPC request")}};
    return reply(req, http::status::bad_request, json::serialize(e));
  }
  if (!msg->contains("id")) return reply(req, http::status::accepted); // a notification
  const bool initialize = method->as_string() == "initialize";
  if (!initialize && req["Mcp-Session-Id"] != session_id)
    return reply(req, http::status::bad_request, R"({"error":"missing Mcp-Session-Id"})");
  auto res = reply(req, http::status::ok, json::serialize(answer(*msg)));
  if (initialize) res.set("Mcp-Session-Id", session_id);
  return res;
}

asio::awaitable<void> serve(tcp::socket socket, std::string token) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    stream.expires_after(std::chrono::seconds(60));
    auto [rec, rn] = co_await http::async_read(stream, buffer, req, use_tuple);
    (void)rn;
    if (rec) co_return; // the client closed (it opens a connection per message) or went quiet
    auto res = handle(req, token);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    (void)wn;
    if (wec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::string token) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) co_return; // closed at shutdown
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), token),
                   acp::log::on_failure("connection", "serving an HTTP connection"));
  }
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // The token comes from the environment, never the command line (visible to every user in ps).
  const char* token_env = std::getenv("ACP_BENCH_MCP_TOKEN");
  const std::string token = token_env ? token_env : "";
  if (argc > 1) {
    std::cerr << "acp-bench-direct-mcp-server: unexpected argument '" << argv[1]
              << "' (no arguments; the bearer token is read from ACP_BENCH_MCP_TOKEN)\n";
    return 2;
  }
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::cout << acceptor.local_endpoint().port() << std::endl;

  // Stop on SIGTERM/SIGINT or when stdin ends (the benchmark closes it).
  asio::signal_set signals(io, SIGTERM, SIGINT);
  asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
  const auto stop = [&] {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    input.close(ignored);
    io.stop();
  };
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) stop();
  });
  std::array<char, 256> scratch{};
  std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code ec, std::size_t) {
    if (ec) return stop();
    input.async_read_some(asio::buffer(scratch), on_read);
  };
  input.async_read_some(asio::buffer(scratch), on_read);
  asio::co_spawn(io, accept_loop(acceptor, token),
                 acp::log::on_failure("listener", "accepting connections", [&io] { io.stop(); }));
  io.run();
  return 0;
}
