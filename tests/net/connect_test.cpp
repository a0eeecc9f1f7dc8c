// acp::net::connect against C++ peers on loopback: TCP and unix with and without a token (the
// authentication line, byte for byte), unreachable addresses, the deadline of each phase, the
// caller's cancellation, and WebSocket upgrades accepted and refused.

#include "connect_support.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace acp::net::test {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;

// ---- TCP and unix ----

TEST_F(connect_test, tcp_with_a_token_writes_the_authentication_line_first) {
  auto acceptor = listen_tcp();
  const auto port = acceptor.local_endpoint().port();
  auto server = std::make_shared<line_server>();
  auto peer = std::make_shared<tcp::socket>(io);
  spawn(
      [](tcp::acceptor& a, std::shared_ptr<tcp::socket> s, std::shared_ptr<line_server> out) -> asio::awaitable<void> {
        co_await a.async_accept(*s, asio::use_awaitable);
        co_await read_lines(*s, out, 2);
      }(acceptor, peer, server),
      "server");
  connect_options o;
  o.bearer_token = "s3cret \"quoted\"";
  auto r = connect_to("tcp://127.0.0.1:" + std::to_string(port), o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->describe(), "ndjson over tcp 127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}}));
  ASSERT_TRUE(run_until([&] { return server->lines.size() == 2; }));
  EXPECT_TRUE(server->lines[0] == auth_line_for_secret) << "the first line is not the authentication line";
  EXPECT_EQ(server->lines[1], R"({"jsonrpc":"2.0","method":"hello"})");
}

TEST_F(connect_test, tcp_without_a_token_sends_only_messages) {
  auto acceptor = listen_tcp();
  auto server = std::make_shared<line_server>();
  auto peer = std::make_shared<tcp::socket>(io);
  spawn(
      [](tcp::acceptor& a, std::shared_ptr<tcp::socket> s, std::shared_ptr<line_server> out) -> asio::awaitable<void> {
        co_await a.async_accept(*s, asio::use_awaitable);
        co_await read_lines(*s, out, 1);
        const std::string answer = "{\"jsonrpc\":\"2.0\",\"method\":\"back\"}\n";
        co_await asio::async_write(*s, asio::buffer(answer), asio::use_awaitable);
      }(acceptor, peer, server),
      "server");
  auto r = connect_to("tcp://localhost:" + std::to_string(acceptor.local_endpoint().port()));
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "first"}}));
  ASSERT_TRUE(run_until([&] { return server->lines.size() == 1; }));
  EXPECT_EQ(server->lines[0], R"({"jsonrpc":"2.0","method":"first"})");
  auto in = read_one(*ch);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages);
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items.front()).method(), "back");
}

TEST_F(connect_test, unix_socket_with_a_token) {
  temp_dir dir;
  const auto path = dir.file("acp.sock");
  asio::local::stream_protocol::acceptor acceptor(io, asio::local::stream_protocol::endpoint(path));
  auto server = std::make_shared<line_server>();
  auto peer = std::make_shared<asio::local::stream_protocol::socket>(io);
  spawn(
      [](asio::local::stream_protocol::acceptor& a, std::shared_ptr<asio::local::stream_protocol::socket> s,
         std::shared_ptr<line_server> out) -> asio::awaitable<void> {
        co_await a.async_accept(*s, asio::use_awaitable);
        co_await read_lines(*s, out, 2);
      }(acceptor, peer, server),
      "server");
  connect_options o;
  o.bearer_token = "s3cret \"quoted\"";
  auto r = connect_to("unix:" + path, o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->describe(), "ndjson over unix " + path);
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}}));
  ASSERT_TRUE(run_until([&] { return server->lines.size() == 2; }));
  EXPECT_TRUE(server->lines[0] == auth_line_for_secret) << "the first line is not the authentication line";
  EXPECT_EQ(server->lines[1], R"({"jsonrpc":"2.0","method":"hello"})");
}

TEST_F(connect_test, unix_socket_that_does_not_exist) {
  temp_dir dir;
  auto r = connect_to("unix:" + dir.file("none.sock"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "cannot connect to " + dir.file("none.sock") + ": No such file or directory");
}

TEST_F(connect_test, a_closed_port_is_refused) {
  unsigned short port = 0;
  {
    auto a = listen_tcp();
    port = a.local_endpoint().port();
  }
  auto r = connect_to("tcp://127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_F(connect_test, a_name_that_does_not_resolve) {
  connect_options o;
  o.timeout = 5s;
  auto r = connect_to("tcp://no-such-host.invalid:4000", o);
  ASSERT_FALSE(r);
  // Without DNS the resolver may fail at once or only at the deadline: either names the phase.
  const bool resolve_error = r.error().starts_with("cannot resolve no-such-host.invalid: ");
  const bool resolve_timeout =
      r.error() == "connecting to tcp://no-such-host.invalid:4000 timed out after 5 s (resolve)";
  EXPECT_TRUE(resolve_error || resolve_timeout) << r.error();
}

// ---- deadlines ----

TEST_F(connect_test, a_silent_server_times_out_in_the_tls_handshake) {
  silent_server s(io);
  connect_options o;
  o.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto r = connect_to("tls://127.0.0.1:" + std::to_string(s.port()), o);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "connecting to tls://127.0.0.1:" + std::to_string(s.port()) + " timed out after 300 ms (TLS handshake)");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
}

TEST_F(connect_test, a_silent_server_times_out_in_the_websocket_upgrade) {
  silent_server s(io);
  connect_options o;
  o.timeout = 1500ms;
  auto r = connect_to("ws://127.0.0.1:" + std::to_string(s.port()) + "/acp", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "connecting to ws://127.0.0.1:" + std::to_string(s.port()) +
                           "/acp timed out after 1.5 s (WebSocket upgrade)");
}

TEST_F(connect_test, a_silent_proxy_times_out_in_the_socks5_handshake) {
  silent_server s(io);
  connect_options o;
  o.timeout = 200ms;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = s.port()};
  auto r = connect_to("tcp://example.org:4000", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "connecting to tcp://example.org:4000 timed out after 200 ms (SOCKS5 handshake)");
}

TEST_F(connect_test, cancelling_the_caller_ends_a_connect_at_once_without_an_exception) {
  silent_server s(io);
  auto outcome = std::make_shared<std::optional<std::string>>();
  auto finished = std::make_shared<bool>(false);
  spawn(
      [](asio::any_io_executor ex, unsigned short port, std::shared_ptr<std::optional<std::string>> out,
         std::shared_ptr<bool> done) -> asio::awaitable<void> {
        using namespace boost::asio::experimental::awaitable_operators;
        asio::steady_timer stop(ex, 100ms);
        connect_options o; // 10 s deadline: the race ends it long before
        auto winner = co_await (connect(ex, *parse_url("tls://127.0.0.1:" + std::to_string(port)), o) ||
                                stop.async_wait(asio::use_awaitable));
        *out = winner.index() == 1 ? "the timer won" : "connect won";
        *done = true;
      }(ex(), s.port(), outcome, finished),
      "race");
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([&] { return *finished; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(outcome->value_or(""), "the timer won");
}

// ---- WebSocket ----

/// A WebSocket server on loopback: reads the upgrade request (kept), then refuses it with
/// `refuse` (an HTTP status) or accepts it and echoes one message.
struct ws_server {
  explicit ws_server(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  unsigned short port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> serve(unsigned refuse = 0) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    co_await http::async_read(socket, buf, req, asio::use_awaitable);
    request = req;
    if (refuse != 0) {
      http::response<http::string_body> res{static_cast<http::status>(refuse), 11};
      res.set(http::field::content_type, "text/plain");
      res.body() = "no\n";
      res.prepare_payload();
      res.keep_alive(false);
      co_await http::async_write(socket, res, asio::use_awaitable);
      co_return;
    }
    auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(socket));
    co_await ws->async_accept(req, asio::use_awaitable);
    beast::flat_buffer msg;
    co_await ws->async_read(msg, asio::use_awaitable);
    ws->text(true);
    co_await ws->async_write(msg.data(), asio::use_awaitable);
    kept = ws;
  }

  /// Answers the upgrade request with the bytes `answer` makes of it (`accept`: the right
  /// Sec-WebSocket-Accept, computed by Beast), in one write, and keeps the socket open.
  asio::awaitable<void> serve_raw(std::function<std::string(const std::string& accept)> answer) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    co_await http::async_read(socket, buf, req, asio::use_awaitable);
    request = req;
    websocket::detail::sec_ws_accept_type accept;
    websocket::detail::make_sec_ws_accept(accept, req[http::field::sec_websocket_key]);
    const std::string bytes = answer(std::string(accept.data(), accept.size()));
    co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
    raw_kept = std::make_shared<tcp::socket>(std::move(socket));
  }

  tcp::acceptor acceptor;
  std::optional<http::request<http::string_body>> request;
  std::shared_ptr<websocket::stream<tcp::socket>> kept;
  std::shared_ptr<tcp::socket> raw_kept;
};

/// An unmasked text frame (server to client) of a short payload.
std::string text_frame(const std::string& payload) {
  return std::string{'\x81', static_cast<char>(payload.size())} + payload;
}

std::string upgrade_answer(const std::string& accept) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         accept + "\r\n\r\n";
}

TEST_F(connect_test, a_frame_sent_in_the_same_write_as_the_101_is_not_lost) {
  ws_server server(io);
  const std::string hello = R"({"jsonrpc":"2.0","method":"hello"})";
  spawn(server.serve_raw([&](const std::string& accept) { return upgrade_answer(accept) + text_frame(hello); }),
        "ws server");
  auto r = connect_to("ws://127.0.0.1:" + std::to_string(server.port()) + "/acp");
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  auto in = read_one(*ch);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages);
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items.front()).method(), "hello");
}

TEST_F(connect_test, an_upgrade_answer_that_is_not_one_is_refused) {
  struct bad_answer {
    std::function<std::string(const std::string&)> answer;
    std::string why;
  };
  const std::vector<bad_answer> cases = {
      {[](const std::string&) { return upgrade_answer("AAAAAAAAAAAAAAAAAAAAAAAAAAA="); },
       "the answer's Sec-WebSocket-Accept does not match the request's key"},
      {[](const std::string& accept) {
         return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: " +
                accept + "\r\n\r\n";
       },
       "the answer does not upgrade to WebSocket"},
      {[](const std::string& accept) {
         return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept +
                "\r\n\r\n";
       },
       "the answer does not upgrade to WebSocket"},
  };
  for (const auto& c : cases) {
    ws_server server(io);
    spawn(server.serve_raw(c.answer), "ws server");
    const auto where = "ws://127.0.0.1:" + std::to_string(server.port()) + "/acp";
    auto r = connect_to(where);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "WebSocket upgrade with " + where + " failed: " + c.why);
  }
}

TEST_F(connect_test, websocket_upgrade_carries_the_bearer_token) {
  ws_server server(io);
  spawn(server.serve(), "ws server");
  connect_options o;
  o.bearer_token = "s3cret";
  auto r = connect_to("ws://127.0.0.1:" + std::to_string(server.port()) + "/acp?x=1", o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(server.request);
  EXPECT_EQ(server.request->target(), "/acp?x=1");
  EXPECT_EQ(server.request->at(http::field::host), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE(server.request->at(http::field::authorization) == "Bearer s3cret") << "not the expected header";
  EXPECT_EQ(ch->describe(), "ws 127.0.0.1:" + std::to_string(server.port()));
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "echo"}}));
  auto in = read_one(*ch);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages);
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items.front()).method(), "echo");
}

TEST_F(connect_test, websocket_without_a_token_sends_no_authorization) {
  ws_server server(io);
  spawn(server.serve(), "ws server");
  auto r = connect_to("ws://localhost:" + std::to_string(server.port()));
  ASSERT_TRUE(r) << r.error();
  keep(r);
  ASSERT_TRUE(server.request);
  EXPECT_EQ(server.request->target(), "/");
  EXPECT_EQ(server.request->count(http::field::authorization), 0U);
}

TEST_F(connect_test, a_refused_upgrade_names_the_status_and_never_the_token) {
  for (unsigned status : {401U, 403U, 503U}) {
    ws_server server(io);
    spawn(server.serve(status), "ws server");
    connect_options o;
    o.bearer_token = "s3cret";
    const auto where = "ws://127.0.0.1:" + std::to_string(server.port()) + "/acp";
    auto r = connect_to(where, o);
    ASSERT_FALSE(r);
    const std::string reason = status == 401 ? "Unauthorized" : status == 403 ? "Forbidden" : "Service Unavailable";
    EXPECT_EQ(r.error(), where + " refused the upgrade: " + std::to_string(status) + " " + reason);
    EXPECT_EQ(r.error().find("s3cret"), std::string::npos);
  }
}

} // namespace
} // namespace acp::net::test
