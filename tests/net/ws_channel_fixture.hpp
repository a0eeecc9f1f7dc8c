#pragma once
// The fixture of the WebSocket channel tests (ws_channel_test.cpp, ws_channel_large_test.cpp):
// two in-process ends of a loopback TCP connection, the upgrade done by Beast.
#include "streams.hpp"
#include "support.hpp"

#include <acp/protocol/jsonrpc.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace acp::net::test {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using ws_stream = websocket::stream<detail::tcp_socket>;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

inline jsonrpc::message parse_one(std::string_view text) {
  jsonrpc::line_parser p;
  auto parsed = p.parse(text);
  return std::get<jsonrpc::message>(std::move(parsed.items.front()));
}

class ws_channel_test : public io_test {
protected:
  // Nothing runs after the test body: coroutines still suspended are destroyed with the
  // io_context, never resumed into the test's finished locals.
  void TearDown() override {
    if (client) client->close();
    if (server) server->close();
    if (raw) beast::get_lowest_layer(*raw).close();
  }

  /// A connected, upgraded pair of Beast streams: {client, server}.
  std::pair<ws_stream, ws_stream> upgraded_pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    detail::tcp_socket a(io);
    detail::tcp_socket b(io);
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
    auto c = std::make_shared<ws_stream>(std::move(a));
    auto s = std::make_shared<ws_stream>(std::move(b));
    int done = 0;
    spawn(
        [](std::shared_ptr<ws_stream> w, int& d) -> asio::awaitable<void> {
          auto [ec] = co_await w->async_handshake("127.0.0.1", "/acp", use_tuple);
          EXPECT_FALSE(ec) << ec.message();
          ++d;
        }(c, done),
        "client handshake");
    spawn(
        [](std::shared_ptr<ws_stream> w, int& d) -> asio::awaitable<void> {
          auto [ec] = co_await w->async_accept(use_tuple);
          EXPECT_FALSE(ec) << ec.message();
          ++d;
        }(s, done),
        "server accept");
    EXPECT_TRUE(run_until([&] { return done == 2; }));
    return {std::move(*c), std::move(*s)};
  }

  /// Both ends as channels.
  void open_channels(detail::ws_channel_options o = {}) {
    auto [c, s] = upgraded_pair();
    o.description = "ws client";
    o.role = detail::ws_role::client;
    client = detail::make_ws_channel(std::move(c.next_layer()), {}, o);
    o.description = "ws server";
    o.role = detail::ws_role::server;
    server = detail::make_ws_channel(std::move(s.next_layer()), {}, o);
  }

  /// The server end a channel (in `server`), the client end a raw Beast stream the test drives.
  void open_with_raw_client(detail::ws_channel_options o = {}) {
    auto [c, s] = upgraded_pair();
    server = detail::make_ws_channel(std::move(s.next_layer()), {}, o);
    raw = std::make_unique<ws_stream>(std::move(c));
  }

  /// The client end a channel, the server end a raw Beast stream the test drives.
  void open_with_raw_server(detail::ws_channel_options o = {}) {
    auto [c, s] = upgraded_pair();
    o.role = detail::ws_role::client;
    client = detail::make_ws_channel(std::move(c.next_layer()), {}, o);
    raw = std::make_unique<ws_stream>(std::move(s));
  }

  /// The next input of `ch` (within the test's wait).
  std::optional<channel_input> read_one(message_channel& ch, std::chrono::milliseconds timeout = 10s) {
    auto got = std::make_shared<std::optional<channel_input>>();
    spawn(
        [](message_channel& c, std::shared_ptr<std::optional<channel_input>> out) -> asio::awaitable<void> {
          *out = co_await c.read();
        }(ch, got),
        "channel read");
    if (!run_until([&] { return got->has_value(); }, timeout)) return std::nullopt;
    return std::move(*got);
  }

  /// Flushes `ch` until nothing is queued; the first error.
  error_code flush_all(message_channel& ch) {
    auto result = std::make_shared<std::optional<error_code>>();
    spawn(
        [](message_channel& c, std::shared_ptr<std::optional<error_code>> out) -> asio::awaitable<void> {
          error_code ec;
          while (!ec && c.queued_bytes() != 0) ec = co_await c.flush();
          *out = ec;
        }(ch, result),
        "channel flush");
    EXPECT_TRUE(run_until([&] { return result->has_value(); }, 30s));
    return result->value_or(error_code(asio::error::timed_out));
  }

  /// Reads one message at the raw end: {error, text, was it text}.
  struct raw_frame {
    error_code ec;
    std::string text;
    bool is_text = false;
  };
  using raw_result = std::shared_ptr<std::optional<raw_frame>>;
  raw_result start_raw_read() {
    auto got = std::make_shared<std::optional<raw_frame>>();
    spawn(
        [](ws_stream& w, raw_result out) -> asio::awaitable<void> {
          beast::flat_buffer buf;
          auto [ec, n] = co_await w.async_read(buf, use_tuple);
          *out = raw_frame{ec, beast::buffers_to_string(buf.data()), w.got_text()};
          (void)n;
        }(*raw, got),
        "raw read");
    return got;
  }
  std::optional<raw_frame> raw_read() {
    auto got = start_raw_read();
    if (!run_until([&] { return got->has_value(); })) return std::nullopt;
    return *got;
  }
  error_code raw_write(std::string payload, bool text = true) {
    auto result = std::make_shared<std::optional<error_code>>();
    raw->text(text);
    spawn(
        [](ws_stream& w, std::string p, std::shared_ptr<std::optional<error_code>> out) -> asio::awaitable<void> {
          auto [ec, n] = co_await w.async_write(asio::buffer(p), use_tuple);
          (void)n;
          *out = ec;
        }(*raw, std::move(payload), result),
        "raw write");
    EXPECT_TRUE(run_until([&] { return result->has_value(); }, 30s));
    return result->value_or(error_code(asio::error::timed_out));
  }

  static const jsonrpc::message& only_message(const channel_input& in) {
    EXPECT_EQ(in.type, channel_input::kind::messages);
    EXPECT_EQ(in.parsed.items.size(), 1U);
    return std::get<jsonrpc::message>(in.parsed.items.front());
  }

  message_channel_ptr client;
  message_channel_ptr server;
  std::unique_ptr<ws_stream> raw;
};

} // namespace acp::net::test
