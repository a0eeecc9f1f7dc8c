// acp::net::connect against C++ peers on loopback: TCP and unix with and without a token (the
// authentication line, byte for byte), TLS with test certificates (trust, names, client
// certificates, half-close), WebSocket upgrades refused and accepted, SOCKS5 replies scripted
// byte by byte, the deadline of each phase, and the proxy settings from URLs and the environment.

#include "streams.hpp"
#include "support.hpp"

#include <acp/net/connect.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/object.hpp>

#include <openssl/x509.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acp::net::test {
namespace {

namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using connect_outcome = boost::system::result<message_channel_ptr, std::string>;

class connect_test : public io_test {
protected:
  void TearDown() override {
    for (auto& c : channels_) c->close();
  }

  /// connect(text, options), run to its end.
  connect_outcome connect_to(const std::string& text, connect_options o = {}) {
    auto u = parse_url(text);
    EXPECT_TRUE(u) << text;
    if (!u) return std::string("bad url");
    auto out = std::make_shared<std::optional<connect_outcome>>();
    spawn(
        [](asio::any_io_executor ex, url target, connect_options opt,
           std::shared_ptr<std::optional<connect_outcome>> r) -> asio::awaitable<void> {
          *r = co_await connect(ex, std::move(target), std::move(opt));
        }(ex(), *u, std::move(o), out),
        "connect");
    if (!run_until([&] { return out->has_value(); }, 30s)) return std::string("the test's wait ran out");
    auto r = std::move(**out);
    return r;
  }
  /// The channel of a successful outcome (kept, closed at the end).
  message_channel* channel_of(connect_outcome& r) {
    if (!r) {
      ADD_FAILURE() << r.error();
      return nullptr;
    }
    channels_.push_back(std::move(*r));
    return channels_.back().get();
  }

  /// Queues `m` on `ch` and flushes it.
  void send(message_channel& ch, json::object m) {
    ASSERT_FALSE(ch.queue(m).ec);
    auto done = std::make_shared<bool>(false);
    spawn(
        [](message_channel& c, std::shared_ptr<bool> d) -> asio::awaitable<void> {
          while (c.queued_bytes() != 0)
            if (co_await c.flush()) break;
          *d = true;
        }(ch, done),
        "flush");
    ASSERT_TRUE(run_until([&] { return *done; }));
  }
  std::optional<channel_input> read_one(message_channel& ch) {
    auto got = std::make_shared<std::optional<channel_input>>();
    spawn(
        [](message_channel& c, std::shared_ptr<std::optional<channel_input>> o) -> asio::awaitable<void> {
          *o = co_await c.read();
        }(ch, got),
        "read");
    if (!run_until([&] { return got->has_value(); })) return std::nullopt;
    return std::move(**got);
  }

  /// A loopback TCP acceptor on a free port.
  tcp::acceptor listen_tcp() { return tcp::acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)); }

  /// The lines a plain server read (on its accepted connection); it answers `answer` after the
  /// first `expect_lines` lines.
  struct line_server {
    std::vector<std::string> lines;
    bool eof = false;
  };
  template <class Stream>
  static asio::awaitable<void> read_lines(Stream& s, std::shared_ptr<line_server> out, std::size_t want) {
    std::string buf;
    while (out->lines.size() < want) {
      auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n', use_tuple);
      if (ec) {
        out->eof = true;
        co_return;
      }
      out->lines.push_back(buf.substr(0, n - 1));
      buf.erase(0, n);
    }
  }

  std::vector<message_channel_ptr> channels_;
};

constexpr const char* auth_line_for_secret =
    R"({"jsonrpc":"2.0","method":"_acp/authenticate","params":{"token":"s3cret \"quoted\""}})";

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
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->describe(), "ndjson over tcp 127.0.0.1:" + std::to_string(port));
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}});
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
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "first"}});
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
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->describe(), "ndjson over unix " + path);
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}});
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

/// A server that accepts and then never says anything (nor closes).
struct silent_server {
  explicit silent_server(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), held(io) {
    acceptor.async_accept(held, [](const error_code&) {});
  }
  unsigned short port() const { return acceptor.local_endpoint().port(); }
  tcp::acceptor acceptor;
  tcp::socket held;
};

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

// ---- TLS ----

/// A TLS server on loopback: one connection; records whether its handshake passed, the peer's
/// certificate subject, and the lines it read; answers one line after the first.
struct tls_server {
  tls_server(asio::io_context& io, const std::string& cert, const std::string& key, const std::string& client_ca = {})
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), ctx(ssl::context::tls_server) {
    ctx.use_certificate_chain_file(cert);
    ctx.use_private_key_file(key, ssl::context::pem);
    if (!client_ca.empty()) {
      ctx.load_verify_file(client_ca);
      ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  unsigned short port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> serve(std::size_t lines_wanted, bool answer_after_eof = false) {
    auto stream = std::make_shared<ssl::stream<tcp::socket>>(co_await acceptor.async_accept(asio::use_awaitable), ctx);
    auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, use_tuple);
    handshake_error = ec;
    handshake_done = true;
    if (ec) co_return;
    if (X509* cert = SSL_get_peer_certificate(stream->native_handle())) {
      char name[256] = {};
      X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
      client_subject = name;
      X509_free(cert);
    }
    std::string buf;
    while (lines.size() < lines_wanted) {
      auto [rec, n] = co_await asio::async_read_until(*stream, asio::dynamic_buffer(buf), '\n', use_tuple);
      if (rec) {
        read_end = rec;
        break;
      }
      lines.push_back(buf.substr(0, n - 1));
      buf.erase(0, n);
    }
    if (answer_after_eof) {
      // Half-close: wait for the client's end, then still answer.
      char c = 0;
      auto [rec, n] = co_await stream->async_read_some(asio::buffer(&c, 1), use_tuple);
      read_end = rec;
      (void)n;
    }
    const std::string answer = "{\"jsonrpc\":\"2.0\",\"method\":\"answer\"}\n";
    co_await asio::async_write(*stream, asio::buffer(answer), use_tuple);
    answered = true;
    kept = stream;
  }

  tcp::acceptor acceptor;
  ssl::context ctx;
  bool handshake_done = false;
  error_code handshake_error;
  std::string client_subject;
  std::vector<std::string> lines;
  error_code read_end;
  bool answered = false;
  std::shared_ptr<ssl::stream<tcp::socket>> kept;
};

class tls_connect_test : public connect_test {
protected:
  void SetUp() override {
    std::string error;
    certs = certificates(&error);
    if (certs == nullptr) GTEST_SKIP() << "no test certificates: " << error;
  }
  const test_certificates* certs = nullptr;
};

TEST_F(tls_connect_test, verified_against_the_test_ca_with_a_token) {
  tls_server server(io, certs->server_cert, certs->server_key);
  spawn(server.serve(2), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.bearer_token = "s3cret \"quoted\"";
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->describe(), "ndjson over tls localhost:" + std::to_string(server.port()));
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}});
  ASSERT_TRUE(run_until([&] { return server.answered; }));
  ASSERT_EQ(server.lines.size(), 2U);
  EXPECT_TRUE(server.lines[0] == auth_line_for_secret) << "the first line is not the authentication line";
  EXPECT_EQ(server.lines[1], R"({"jsonrpc":"2.0","method":"hello"})");
  auto in = read_one(*ch);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages);
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items.front()).method(), "answer");
}

TEST_F(tls_connect_test, an_ip_address_is_checked_against_the_certificate) {
  tls_server server(io, certs->server_cert, certs->server_key);
  spawn(server.serve(0), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("tls://127.0.0.1:" + std::to_string(server.port()), o);
  EXPECT_TRUE(r) << r.error();
}

TEST_F(tls_connect_test, an_unknown_ca_fails_verification) {
  tls_server server(io, certs->server_cert, certs->server_key);
  spawn(server.serve(0), "tls server");
  connect_options o;
  o.tls.ca_file = certs->other_ca_cert;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "TLS handshake with localhost:" + std::to_string(server.port()) +
                           " failed: certificate verify failed (unable to get local issuer certificate)");
}

TEST_F(tls_connect_test, a_certificate_for_another_name_fails_unless_the_name_check_is_off) {
  {
    tls_server server(io, certs->other_cert, certs->other_key);
    spawn(server.serve(0), "tls server");
    connect_options o;
    o.tls.ca_file = certs->ca_cert;
    auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "TLS handshake with localhost:" + std::to_string(server.port()) +
                             " failed: certificate verify failed (hostname mismatch)");
    tls_server by_ip(io, certs->other_cert, certs->other_key);
    spawn(by_ip.serve(0), "tls server");
    auto r2 = connect_to("tls://127.0.0.1:" + std::to_string(by_ip.port()), o);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error(), "TLS handshake with 127.0.0.1:" + std::to_string(by_ip.port()) +
                              " failed: certificate verify failed (IP address mismatch)");
  }
  tls_server server(io, certs->other_cert, certs->other_key);
  spawn(server.serve(0), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.tls.verify_server_name = false;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  EXPECT_TRUE(r) << r.error();
  // The chain is still verified with the name check off.
  tls_server untrusted(io, certs->other_cert, certs->other_key);
  spawn(untrusted.serve(0), "tls server");
  o.tls.ca_file = certs->other_ca_cert;
  auto r3 = connect_to("tls://localhost:" + std::to_string(untrusted.port()), o);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().find("certificate verify failed"), std::string::npos) << r3.error();
}

TEST_F(tls_connect_test, a_client_certificate_when_the_server_requires_one) {
  tls_server server(io, certs->server_cert, certs->server_key, certs->ca_cert);
  spawn(server.serve(1), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.tls.cert_file = certs->client_cert;
  o.tls.key_file = certs->client_key;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}});
  ASSERT_TRUE(run_until([&] { return server.answered; }));
  EXPECT_FALSE(server.handshake_error) << server.handshake_error.message();
  EXPECT_EQ(server.client_subject, "/CN=acp-test-client");
}

TEST_F(tls_connect_test, no_client_certificate_when_the_server_requires_one_is_refused) {
  tls_server server(io, certs->server_cert, certs->server_key, certs->ca_cert);
  spawn(server.serve(1), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  ASSERT_TRUE(run_until([&] { return server.handshake_done; }));
  EXPECT_TRUE(server.handshake_error);
  // With TLS 1.3 the client learns it on its first read; with 1.2 in the handshake.
  if (!r) {
    EXPECT_NE(r.error().find("TLS handshake with localhost"), std::string::npos) << r.error();
    return;
  }
  auto* ch = channel_of(r);
  auto in = read_one(*ch);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::ended);
  EXPECT_EQ(in->end.reason, close_reason::read_error) << in->end.detail;
}

TEST_F(tls_connect_test, bad_client_certificate_files_are_named) {
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.tls.cert_file = certs->dir + "/missing.pem";
  o.tls.key_file = certs->client_key;
  tls_server server(io, certs->server_cert, certs->server_key);
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().starts_with("cannot read the client certificate " + certs->dir + "/missing.pem: "))
      << r.error();
  o.tls.cert_file = certs->client_cert;
  o.tls.key_file.clear();
  auto r2 = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), "a client certificate needs both a certificate file and a key file");
  o.tls.key_file = certs->client_key;
  o.tls.ca_file = certs->dir + "/no-ca.pem";
  auto r3 = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  ASSERT_FALSE(r3);
  EXPECT_TRUE(r3.error().starts_with("cannot read the CA file " + certs->dir + "/no-ca.pem: ")) << r3.error();
}

TEST_F(tls_connect_test, shutdown_write_sends_close_notify_and_reading_goes_on) {
  tls_server server(io, certs->server_cert, certs->server_key);
  spawn(server.serve(1, true), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "last"}});
  ch->shutdown_write();
  // The server reads the close_notify (eof, not truncation), then answers; the client reads it.
  auto in = read_one(*ch);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages) << in->end.detail;
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items.front()).method(), "answer");
  EXPECT_EQ(server.read_end, asio::error::eof) << server.read_end.message();
  server.kept.reset();
  auto end = read_one(*ch);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->type, channel_input::kind::ended);
  EXPECT_EQ(end->end.reason, close_reason::eof) << end->end.detail;
}

TEST_F(tls_connect_test, tls_to_a_plain_server_fails_in_the_handshake) {
  auto acceptor = listen_tcp();
  auto peer = std::make_shared<tcp::socket>(io);
  spawn(
      [](tcp::acceptor& a, std::shared_ptr<tcp::socket> s) -> asio::awaitable<void> {
        co_await a.async_accept(*s, asio::use_awaitable);
        const std::string junk = "{\"jsonrpc\":\"2.0\",\"method\":\"plain\"}\n";
        co_await asio::async_write(*s, asio::buffer(junk), asio::use_awaitable);
      }(acceptor, peer),
      "plain server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("tls://localhost:" + std::to_string(acceptor.local_endpoint().port()), o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().starts_with("TLS handshake with localhost:" + std::to_string(acceptor.local_endpoint().port()) +
                                    " failed: "))
      << r.error();
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

  tcp::acceptor acceptor;
  std::optional<http::request<http::string_body>> request;
  std::shared_ptr<websocket::stream<tcp::socket>> kept;
};

TEST_F(connect_test, websocket_upgrade_carries_the_bearer_token) {
  ws_server server(io);
  spawn(server.serve(), "ws server");
  connect_options o;
  o.bearer_token = "s3cret";
  auto r = connect_to("ws://127.0.0.1:" + std::to_string(server.port()) + "/acp?x=1", o);
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(server.request);
  EXPECT_EQ(server.request->target(), "/acp?x=1");
  EXPECT_EQ(server.request->at(http::field::host), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE(server.request->at(http::field::authorization) == "Bearer s3cret") << "not the expected header";
  EXPECT_EQ(ch->describe(), "ws 127.0.0.1:" + std::to_string(server.port()));
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "echo"}});
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
  channel_of(r);
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

// ---- SOCKS5, scripted byte by byte ----

/// A scripted SOCKS5 proxy: reads the greeting, answers `method`; for user/password reads the
/// credentials and answers `auth_status`; reads the request (kept) and answers `reply`.
struct scripted_socks {
  explicit scripted_socks(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  unsigned short port() const { return acceptor.local_endpoint().port(); }

  /// The client may hang up at any step (a refusal): that ends the script.
  asio::awaitable<void> serve(std::uint8_t method, std::uint8_t auth_status, std::uint8_t reply) {
    try {
      co_await script(method, auth_status, reply);
    } catch (const boost::system::system_error&) {
      hung_up = true;
    }
  }
  asio::awaitable<void> script(std::uint8_t method, std::uint8_t auth_status, std::uint8_t reply) {
    auto s = co_await acceptor.async_accept(asio::use_awaitable);
    std::array<std::uint8_t, 2> head{};
    co_await asio::async_read(s, asio::buffer(head), asio::use_awaitable);
    greeting.resize(head[1]);
    co_await asio::async_read(s, asio::buffer(greeting), asio::use_awaitable);
    const std::array<std::uint8_t, 2> choice{5, method};
    co_await asio::async_write(s, asio::buffer(choice), asio::use_awaitable);
    if (method == 0xFF) co_return;
    if (method == 2) {
      std::array<std::uint8_t, 2> vl{};
      co_await asio::async_read(s, asio::buffer(vl), asio::use_awaitable);
      std::string u(vl[1], '\0');
      co_await asio::async_read(s, asio::buffer(u), asio::use_awaitable);
      std::uint8_t pl = 0;
      co_await asio::async_read(s, asio::buffer(&pl, 1), asio::use_awaitable);
      std::string p(pl, '\0');
      co_await asio::async_read(s, asio::buffer(p), asio::use_awaitable);
      user = u;
      password = p;
      const std::array<std::uint8_t, 2> status{1, auth_status};
      co_await asio::async_write(s, asio::buffer(status), asio::use_awaitable);
      if (auth_status != 0) co_return;
    }
    std::array<std::uint8_t, 4> req{};
    co_await asio::async_read(s, asio::buffer(req), asio::use_awaitable);
    atyp = req[3];
    std::size_t len = atyp == 1 ? 4 : atyp == 4 ? 16 : 0;
    if (atyp == 3) {
      std::uint8_t n = 0;
      co_await asio::async_read(s, asio::buffer(&n, 1), asio::use_awaitable);
      len = n;
    }
    address.resize(len);
    co_await asio::async_read(s, asio::buffer(address), asio::use_awaitable);
    std::array<std::uint8_t, 2> pb{};
    co_await asio::async_read(s, asio::buffer(pb), asio::use_awaitable);
    port_asked = static_cast<unsigned short>(pb[0] << 8 | pb[1]);
    const std::array<std::uint8_t, 10> answer{5, reply, 0, 1, 127, 0, 0, 1, 0, 80};
    co_await asio::async_write(s, asio::buffer(answer), asio::use_awaitable);
    if (reply != 0) co_return;
    // Connected: the "destination" reads one line.
    std::string buf;
    auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n', use_tuple);
    if (!ec) line = buf.substr(0, n - 1);
    done = true;
  }

  tcp::acceptor acceptor;
  std::vector<std::uint8_t> greeting;
  std::string user, password, address, line;
  std::uint8_t atyp = 0;
  unsigned short port_asked = 0;
  bool done = false;
  bool hung_up = false;
};

TEST_F(connect_test, socks5_without_authentication_sends_the_name_unresolved) {
  scripted_socks proxy(io);
  spawn(proxy.serve(0, 0, 0), "socks proxy");
  connect_options o;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
  auto r = connect_to("tcp://agent.example:4000", o);
  auto* ch = channel_of(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(proxy.greeting, (std::vector<std::uint8_t>{0x00}));
  EXPECT_EQ(proxy.atyp, 3);
  EXPECT_EQ(proxy.address, "agent.example");
  EXPECT_EQ(proxy.port_asked, 4000);
  EXPECT_EQ(ch->describe(), "ndjson over tcp agent.example:4000 via SOCKS5 127.0.0.1:" + std::to_string(proxy.port()));
  send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "through"}});
  ASSERT_TRUE(run_until([&] { return proxy.done; }));
  EXPECT_EQ(proxy.line, R"({"jsonrpc":"2.0","method":"through"})");
}

TEST_F(connect_test, socks5_with_user_and_password_and_literal_addresses) {
  scripted_socks proxy(io);
  spawn(proxy.serve(2, 0, 0), "socks proxy");
  connect_options o;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port(), .username = "alice", .password = "pw"};
  auto r = connect_to("tcp://10.1.2.3:4000", o);
  ASSERT_TRUE(r) << r.error();
  channel_of(r);
  EXPECT_EQ(proxy.greeting, (std::vector<std::uint8_t>{0x00, 0x02}));
  EXPECT_EQ(proxy.user, "alice");
  EXPECT_EQ(proxy.password, "pw");
  EXPECT_EQ(proxy.atyp, 1);
  EXPECT_EQ(proxy.address, std::string("\x0a\x01\x02\x03", 4));

  scripted_socks v6(io);
  spawn(v6.serve(0, 0, 0), "socks proxy");
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = v6.port()};
  auto r2 = connect_to("tcp://[::1]:4000", o);
  ASSERT_TRUE(r2) << r2.error();
  channel_of(r2);
  EXPECT_EQ(v6.atyp, 4);
  EXPECT_EQ(v6.address.size(), 16U);
  EXPECT_EQ(v6.address.back(), '\x01');
}

TEST_F(connect_test, socks5_refusals_are_sentences_without_the_password) {
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(0, 0, 5), "socks proxy");
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                             " refused: connection refused by destination host (5)");
  }
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(2, 1, 0), "socks proxy");
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port(), .username = "alice", .password = "hunter2"};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(),
              "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) + " refused the user name or password");
  }
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(0xFF, 0, 0), "socks proxy");
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                             " accepts none of the offered authentication methods (none; it may need a user name "
                             "and password)");
  }
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(2, 0, 0), "socks proxy"); // asks for a password we did not offer
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                             " chose an authentication method that was not offered (2)");
    EXPECT_TRUE(run_until([&] { return proxy.hung_up; })); // no credentials were sent
  }
  unsigned short closed = 0;
  {
    auto a = listen_tcp();
    closed = a.local_endpoint().port();
  }
  connect_options o;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = closed};
  auto r = connect_to("tcp://agent.example:4000", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "cannot connect to SOCKS5 proxy 127.0.0.1:" + std::to_string(closed) + ": Connection refused");
}

// ---- proxy settings ----

TEST(socks5_url, forms_and_errors) {
  auto a = parse_socks5_url("socks5://proxy.example");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "proxy.example");
  EXPECT_EQ(a->port, 1080);
  EXPECT_EQ(a->username, "");
  auto b = parse_socks5_url("SOCKS5H://al%40ice:p%3Aw@[::1]:9050/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 9050);
  EXPECT_EQ(b->username, "al@ice");
  EXPECT_EQ(b->password, "p:w");
  auto c = parse_socks5_url("socks5://bob@10.0.0.1:1081");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "bob");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->port, 1081);

  const auto error = [](std::string_view text) {
    auto r = parse_socks5_url(text);
    EXPECT_FALSE(r) << text;
    return r ? std::string() : r.error();
  };
  EXPECT_EQ(error("http://proxy:3128"), "a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port]");
  EXPECT_EQ(error("proxy:1080"), "a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port]");
  EXPECT_EQ(error("socks5://"), "the socks5:// proxy URL has no host");
  EXPECT_EQ(error("socks5://h:0"), "the socks5:// proxy h has a bad port (1 to 65535)");
  EXPECT_EQ(error("socks5://h:99999"), "the socks5:// proxy h has a bad port (1 to 65535)");
  EXPECT_EQ(error("socks5://h/x"), "a socks5:// proxy URL takes no path");
  EXPECT_EQ(error("socks5://u:pa%zzword@h"), "the socks5:// proxy URL has a broken %-escape in its user information");
  EXPECT_EQ(error("socks5://:hunter2@h"), "the socks5:// proxy URL has an empty user name");
  EXPECT_EQ(error("socks5://[::1"), "the socks5:// proxy URL's IPv6 address lacks its ]");
  for (const char* secret_case : {"socks5://u:hunter2@h:0", "socks5://u:hunter2%zz@h", "socks5://:hunter2@h"})
    EXPECT_EQ(error(secret_case).find("hunter2"), std::string::npos) << "an error repeats the password";
}

/// Sets environment variables for one test and restores them.
class environment_test : public ::testing::Test {
protected:
  void SetUp() override {
    for (const char* n : names) {
      const char* v = std::getenv(n);
      saved.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n);
    }
  }
  void TearDown() override {
    for (auto& [n, v] : saved) {
      if (v)
        ::setenv(n.c_str(), v->c_str(), 1);
      else
        ::unsetenv(n.c_str());
    }
  }
  static url target(const char* text) { return *parse_url(text); }
  static constexpr const char* names[] = {"ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "ACP_SOCKS5_PASSWORD"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
};

TEST_F(environment_test, no_proxy_set_means_none) {
  auto r = socks5_from_environment(target("tcp://h:1"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(environment_test, all_proxy_and_the_password_variable) {
  ::setenv("ALL_PROXY", "socks5h://alice@127.0.0.1:9050", 1);
  ::setenv("ACP_SOCKS5_PASSWORD", "hunter2", 1);
  auto r = socks5_from_environment(target("ws://agent.example/acp"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->host, "127.0.0.1");
  EXPECT_EQ((*r)->port, 9050);
  EXPECT_EQ((*r)->username, "alice");
  EXPECT_TRUE((*r)->password == "hunter2");
  // A unix socket never goes through a proxy.
  auto u = socks5_from_environment(target("unix:/tmp/x.sock"));
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->has_value());
}

TEST_F(environment_test, lower_case_all_proxy_is_read_too) {
  ::setenv("all_proxy", "socks5://127.0.0.1", 1);
  auto r = socks5_from_environment(target("tcp://h:1"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->port, 1080);
}

TEST_F(environment_test, no_proxy_excludes_names_suffixes_and_everything) {
  ::setenv("ALL_PROXY", "socks5://127.0.0.1:1080", 1);
  ::setenv("NO_PROXY", "internal.example, .corp.example,10.0.0.1", 1);
  const auto proxied = [&](const char* t) {
    auto r = socks5_from_environment(target(t));
    EXPECT_TRUE(r) << t;
    return r && r->has_value();
  };
  EXPECT_FALSE(proxied("tcp://internal.example:1"));
  EXPECT_FALSE(proxied("tcp://a.internal.example:1"));
  EXPECT_FALSE(proxied("tcp://x.corp.example:1"));
  EXPECT_FALSE(proxied("tcp://CORP.example:1"));
  EXPECT_FALSE(proxied("tcp://10.0.0.1:1"));
  EXPECT_TRUE(proxied("tcp://notinternal.example:1"));
  EXPECT_TRUE(proxied("tcp://example.org:1"));
  ::setenv("no_proxy", "*", 1);
  ::unsetenv("NO_PROXY");
  EXPECT_FALSE(proxied("tcp://example.org:1"));
}

TEST_F(environment_test, another_scheme_in_all_proxy_is_an_error_without_its_secret) {
  ::setenv("ALL_PROXY", "http://user:hunter2@proxy:3128", 1);
  auto r = socks5_from_environment(target("tcp://h:1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "ALL_PROXY: a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port] (only SOCKS5 "
                       "proxies are supported)");
}

} // namespace
} // namespace acp::net::test
