// acp::net::connect over TLS against a C++ TLS server with the test certificates: trust,
// names (and the name check turned off), client certificates, bad files, TLS to a plain server,
// and the half-close (close_notify while reading goes on).

#include "connect_support.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <openssl/x509.h>

namespace acp::net::test {
namespace {

namespace ssl = boost::asio::ssl;

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
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->describe(), "ndjson over tls localhost:" + std::to_string(server.port()));
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}}));
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
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "hello"}}));
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
  auto* ch = keep(r);
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

TEST_F(tls_connect_test, close_read_ends_a_pending_read_and_writing_goes_on) {
  tls_server server(io, certs->server_cert, certs->server_key);
  spawn(server.serve(1), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  auto pending = start_read(*ch);
  run_for(20ms);
  ASSERT_FALSE(pending->has_value());
  ch->close_read();
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  ASSERT_EQ((*pending)->type, channel_input::kind::ended);
  EXPECT_EQ((*pending)->end.reason, close_reason::closed_locally) << (*pending)->end.detail;
  // The TLS stream still writes: the server reads the message after the read was abandoned.
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "after_close_read"}}));
  ASSERT_TRUE(run_until([&] { return server.answered; }));
  ASSERT_EQ(server.lines.size(), 1U);
  EXPECT_EQ(server.lines[0], R"({"jsonrpc":"2.0","method":"after_close_read"})");
}

TEST_F(tls_connect_test, shutdown_write_sends_close_notify_and_reading_goes_on) {
  tls_server server(io, certs->server_cert, certs->server_key);
  spawn(server.serve(1, true), "tls server");
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("tls://localhost:" + std::to_string(server.port()), o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "last"}}));
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

} // namespace
} // namespace acp::net::test
