// acp::net::connect against peers no one here wrote: the `ws` npm package as a WebSocket server
// (ws:// and wss://), Node's `tls` as an NDJSON server, and a SOCKS5 proxy written for the test in
// Node (tests/net/js/). The node peers report what they saw as JSON lines on stdout.

#include "support.hpp"

#include <acp/net/connect.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <optional>
#include <string>

namespace acp::net::test {
namespace {

namespace json = boost::json;

class node_test : public channel_test {
protected:
  void SetUp() override {
    if (auto reason = node_skip_reason()) GTEST_SKIP() << *reason;
    std::string error;
    certs = certificates(&error);
    if (certs == nullptr) GTEST_SKIP() << "no test certificates: " << error;
  }
  /// Starts tests/net/js/SCRIPT with `args` and `env`; returns the port it printed first.
  unsigned short start_peer(child_process& peer, const std::string& script, std::vector<std::string> args = {},
                            const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv{"node", node_dir() + "/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!peer.start(argv, env)) {
      ADD_FAILURE() << "cannot start node " << script;
      return 0;
    }
    auto line = peer.read_line(15s);
    if (!line) {
      ADD_FAILURE() << script << " printed no port";
      return 0;
    }
    return static_cast<unsigned short>(json::parse(*line).at("port").to_number<int>());
  }
  /// The next report of `peer` whose "event" is `event` (earlier ones are skipped).
  std::optional<json::object> next_event(child_process& peer, std::string_view event) {
    while (auto line = peer.read_line(10s)) {
      auto v = json::parse(*line);
      if (v.is_object() && v.as_object().contains("event") && v.as_object().at("event").as_string() == event)
        return v.as_object();
    }
    ADD_FAILURE() << "no \"" << event << "\" report";
    return std::nullopt;
  }

  static const jsonrpc::message* message_of(const std::optional<channel_input>& in) {
    if (!in || in->type != channel_input::kind::messages || in->parsed.items.size() != 1) return nullptr;
    return std::get_if<jsonrpc::message>(&in->parsed.items.front());
  }

  static json::object initialize() {
    return json::object{{"jsonrpc", "2.0"},
                        {"id", 1},
                        {"method", "initialize"},
                        {"params", json::object{{"protocolVersion", 1}, {"clientCapabilities", json::object{}}}}};
  }

  const test_certificates* certs = nullptr;
};

// ---- the ws package ----

TEST_F(node_test, ws_package_server_answers_initialize_and_saw_the_bearer_token) {
  child_process peer;
  const auto port = start_peer(peer, "ws_server.mjs", {}, {"EXPECTED_TOKEN=tok-123"});
  ASSERT_NE(port, 0);
  connect_options o;
  o.bearer_token = "tok-123";
  auto r = connect_to("ws://127.0.0.1:" + std::to_string(port) + "/acp", o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  auto conn = next_event(peer, "connection");
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->at("path").as_string(), "/acp");
  EXPECT_TRUE(conn->at("authorized").as_bool());

  ASSERT_TRUE(send(*ch, initialize()));
  auto in = read_one(*ch);
  const auto* m = message_of(in);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->id(), json::value(1));
  EXPECT_EQ(json::serialize(m->result()->at("agentInfo").at("name")), "\"ws-package-peer\"");
  auto frame = next_event(peer, "message");
  ASSERT_TRUE(frame);
  EXPECT_FALSE(frame->at("binary").as_bool());
  EXPECT_FALSE(frame->at("trailing_newline").as_bool());
  EXPECT_EQ(frame->at("bytes").to_number<std::size_t>(), json::serialize(initialize()).size());

  // A close frame: the ws package answers it and sees a normal closure.
  ch->shutdown_write();
  auto end = read_one(*ch);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->type, channel_input::kind::ended);
  EXPECT_EQ(end->end.reason, close_reason::eof) << end->end.detail;
  auto closed = next_event(peer, "close");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->at("code").to_number<int>(), 1000);
}

TEST_F(node_test, ws_package_server_refuses_a_missing_or_wrong_token) {
  child_process peer;
  const auto port = start_peer(peer, "ws_server.mjs", {}, {"EXPECTED_TOKEN=tok-123"});
  ASSERT_NE(port, 0);
  const auto where = "ws://127.0.0.1:" + std::to_string(port) + "/";
  auto missing = connect_to(where);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), where + " refused the upgrade: 401 Unauthorized");
  connect_options o;
  o.bearer_token = "not-it";
  auto wrong = connect_to(where, o);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), where + " refused the upgrade: 403 Forbidden");
  EXPECT_EQ(wrong.error().find("not-it"), std::string::npos);
}

TEST_F(node_test, wss_with_the_generated_certificate_and_a_large_echo) {
  child_process peer;
  const auto port = start_peer(peer, "ws_server.mjs", {"--cert", certs->server_cert, "--key", certs->server_key});
  ASSERT_NE(port, 0);
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  auto r = connect_to("wss://localhost:" + std::to_string(port) + "/acp", o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(send(*ch, initialize()));
  ASSERT_NE(message_of(read_one(*ch)), nullptr);

  // 16 MiB through the ws package's framing, both ways.
  json::object big{{"jsonrpc", "2.0"},
                   {"method", "session/update"},
                   {"params", json::object{{"pad", std::string(std::size_t{16} << 20, 'q')}}}};
  auto got = std::make_shared<std::optional<channel_input>>();
  spawn(
      [](message_channel& c, std::shared_ptr<std::optional<channel_input>> out) -> asio::awaitable<void> {
        *out = co_await c.read();
      }(*ch, got),
      "read");
  ASSERT_TRUE(send(*ch, big));
  ASSERT_TRUE(run_until([&] { return got->has_value(); }, 60s));
  const auto* m = message_of(*got);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->method(), "session/update");
  EXPECT_EQ(m->params()->at("pad").as_string().size(), std::size_t{16} << 20);
}

TEST_F(node_test, wss_with_an_untrusted_certificate_fails) {
  child_process peer;
  const auto port = start_peer(peer, "ws_server.mjs", {"--cert", certs->server_cert, "--key", certs->server_key});
  ASSERT_NE(port, 0);
  connect_options o;
  o.tls.ca_file = certs->other_ca_cert;
  auto r = connect_to("wss://localhost:" + std::to_string(port) + "/acp", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "TLS handshake with localhost:" + std::to_string(port) +
                           " failed: certificate verify failed (unable to get local issuer certificate)");
}

// ---- Node's tls ----

TEST_F(node_test, node_tls_server_reads_the_authentication_line_then_messages) {
  child_process peer;
  const auto port = start_peer(peer, "tls_server.mjs", {"--cert", certs->server_cert, "--key", certs->server_key},
                               {"EXPECTED_TOKEN=tok-456"});
  ASSERT_NE(port, 0);
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.bearer_token = "tok-456";
  auto r = connect_to("tls://localhost:" + std::to_string(port), o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "ping"}, {"params", json::object{{"n", 1}}}}));
  auto first = next_event(peer, "first_line");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->at("is_authentication").as_bool());
  EXPECT_TRUE(first->at("token_matches").as_bool());
  auto echo = read_one(*ch);
  const auto* m = message_of(echo);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->method(), "ping");

  // Half-close: Node sees the end (close_notify) and still answers.
  ch->shutdown_write();
  ASSERT_TRUE(next_event(peer, "end"));
  const auto* bye = message_of(read_one(*ch));
  ASSERT_NE(bye, nullptr);
  EXPECT_EQ(bye->method(), "bye");
  auto end = read_one(*ch);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->type, channel_input::kind::ended);
  EXPECT_EQ(end->end.reason, close_reason::eof) << end->end.detail;
}

TEST_F(node_test, node_tls_server_that_requires_a_client_certificate) {
  child_process peer;
  const auto port =
      start_peer(peer, "tls_server.mjs",
                 {"--cert", certs->server_cert, "--key", certs->server_key, "--client-ca", certs->ca_cert});
  ASSERT_NE(port, 0);
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.tls.cert_file = certs->client_cert;
  o.tls.key_file = certs->client_key;
  auto r = connect_to("tls://127.0.0.1:" + std::to_string(port), o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  auto conn = next_event(peer, "connection");
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->at("authorized_client").as_bool());
  EXPECT_EQ(conn->at("client_cn").as_string(), "acp-test-client");
}

// ---- the SOCKS5 proxy ----

TEST_F(node_test, through_the_socks5_proxy_the_name_is_resolved_by_the_proxy) {
  child_process server;
  const auto ws_port = start_peer(server, "ws_server.mjs", {}, {"EXPECTED_TOKEN=tok-789"});
  ASSERT_NE(ws_port, 0);
  child_process proxy;
  const auto proxy_port = start_peer(proxy, "socks5_proxy.mjs", {"--map", "acp-test.invalid=127.0.0.1"});
  ASSERT_NE(proxy_port, 0);
  connect_options o;
  o.bearer_token = "tok-789";
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy_port};
  // `.invalid` never resolves here: only the proxy knows the name.
  auto r = connect_to("ws://acp-test.invalid:" + std::to_string(ws_port) + "/acp", o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  auto request = next_event(proxy, "request");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->at("atyp").to_number<int>(), 3);
  EXPECT_EQ(request->at("host").as_string(), "acp-test.invalid");
  EXPECT_EQ(request->at("port").to_number<int>(), ws_port);
  ASSERT_TRUE(send(*ch, initialize()));
  EXPECT_NE(message_of(read_one(*ch)), nullptr);
  auto conn = next_event(server, "connection");
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->at("authorized").as_bool());
}

TEST_F(node_test, socks5_proxy_with_user_and_password) {
  child_process server;
  const auto tls_port =
      start_peer(server, "tls_server.mjs", {"--cert", certs->server_cert, "--key", certs->server_key});
  ASSERT_NE(tls_port, 0);
  child_process proxy;
  const auto proxy_port = start_peer(proxy, "socks5_proxy.mjs", {}, {"SOCKS_USER=alice", "SOCKS_PASSWORD=pw-secret"});
  ASSERT_NE(proxy_port, 0);
  connect_options o;
  o.tls.ca_file = certs->ca_cert;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy_port, .username = "alice", .password = "pw-secret"};
  auto r = connect_to("tls://localhost:" + std::to_string(tls_port), o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  auto auth = next_event(proxy, "auth");
  ASSERT_TRUE(auth);
  EXPECT_TRUE(auth->at("ok").as_bool());
  auto request = next_event(proxy, "request");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->at("atyp").to_number<int>(), 3);
  EXPECT_EQ(request->at("host").as_string(), "localhost");
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "through"}}));
  const auto* m = message_of(read_one(*ch));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->method(), "through");

  // The wrong password, and none at all.
  o.socks5->password = "wrong-pw";
  auto bad = connect_to("tls://localhost:" + std::to_string(tls_port), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy_port) + " refused the user name or password");
  EXPECT_EQ(bad.error().find("wrong-pw"), std::string::npos);
  o.socks5->username.clear();
  o.socks5->password.clear();
  auto none = connect_to("tls://localhost:" + std::to_string(tls_port), o);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy_port) +
                              " accepts none of the offered authentication methods (none; it may need a user name and "
                              "password)");
}

} // namespace
} // namespace acp::net::test
