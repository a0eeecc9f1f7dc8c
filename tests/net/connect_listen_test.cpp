// Both ends of this library together: acp::net::connect to an acp::net::listener on every
// scheme, with the token right, wrong and missing, so the two sides agree on the wire
// (docs/PROTOCOL.md §8).

#include "support.hpp"

#include <acp/net/connect.hpp>
#include <acp/net/listen.hpp>

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acp::net::test {
namespace {

namespace json = boost::json;

const std::string token = "listen-and-connect-token";

class connect_listen_test : public channel_test, public ::testing::WithParamInterface<const char*> {
protected:
  void SetUp() override {
    std::string error;
    certs = certificates(&error);
    if (certs == nullptr) GTEST_SKIP() << "no test certificates: " << error;
  }
  void TearDown() override {
    for (auto& c : accepted) c.channel->close();
    if (server) server->close();
    channel_test::TearDown();
  }

  /// A listener on `scheme` (a free port or a socket in a temp dir) requiring the token.
  url open_listener(const std::string& scheme_name) {
    std::string where = scheme_name == "unix" ? "unix:" + dir.file("s.sock") : scheme_name + "://127.0.0.1:0";
    if (scheme_name == "ws" || scheme_name == "wss") where += "/acp";
    listen_options o;
    o.bearer_token = token;
    o.tls.cert_file = certs->server_cert;
    o.tls.key_file = certs->server_key;
    o.handshake_timeout = 5s;
    auto l = listener::open(ex(), *parse_url(where), o);
    EXPECT_TRUE(l) << (l ? "" : l.error());
    if (!l) return {};
    server = *l;
    server->start([this](accepted_connection c) { accepted.push_back(std::move(c)); });
    auto u = server->local_url();
    // The certificate names localhost and 127.0.0.1; connect by name to check SNI and the name.
    if (u.secure()) u.host = "localhost";
    return u;
  }

  outcome connect_with(const url& u, std::optional<std::string> with_token) {
    connect_options o;
    o.bearer_token = std::move(with_token);
    o.tls.ca_file = certs->ca_cert;
    o.timeout = 5s;
    return connect_to(u, std::move(o), 20s);
  }

  const test_certificates* certs = nullptr;
  temp_dir dir;
  std::shared_ptr<listener> server;
  std::vector<accepted_connection> accepted;
};

TEST_P(connect_listen_test, the_right_token_passes_and_messages_flow_both_ways) {
  const auto u = open_listener(GetParam());
  ASSERT_TRUE(server);
  auto r = connect_with(u, token);
  auto* kept_client = keep(r);
  ASSERT_NE(kept_client, nullptr);
  auto& client = *kept_client;
  ASSERT_TRUE(send(client, json::object{{"jsonrpc", "2.0"}, {"method", "from_client"}}));
  ASSERT_TRUE(run_until([&] { return !accepted.empty(); }));
  auto& served = *accepted.front().channel;
  // The authentication line never reaches the served channel: the first input is the message.
  EXPECT_EQ(method_of(read_one(served)), "from_client");
  ASSERT_TRUE(send(served, json::object{{"jsonrpc", "2.0"}, {"method", "from_server"}}));
  EXPECT_EQ(method_of(read_one(client)), "from_server");
  // The client's end reaches the server as the end of its reading.
  client.shutdown_write();
  auto end = read_one(served);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->type, channel_input::kind::ended);
  EXPECT_EQ(end->end.reason, close_reason::eof) << end->end.detail;
}

TEST_P(connect_listen_test, a_wrong_or_missing_token_is_refused_and_nothing_is_handed_over) {
  const std::string scheme_name = GetParam();
  const auto u = open_listener(scheme_name);
  ASSERT_TRUE(server);
  for (const std::optional<std::string>& given :
       {std::optional<std::string>("not-the-token"), std::optional<std::string>()}) {
    auto r = connect_with(u, given);
    if (u.websocket()) {
      // The upgrade itself is refused.
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), u.text() + " refused the upgrade: " + (given ? "403 Forbidden" : "401 Unauthorized"));
      continue;
    }
    // NDJSON: the connection is made; the server answers the first line with one error line
    // (-32001) and closes; the client's channel ends with that reason (not a response).
    auto* kept_client = keep(r);
    ASSERT_NE(kept_client, nullptr);
    auto& client = *kept_client;
    if (!given) {
      ASSERT_TRUE(send(client, json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}}));
    }
    auto end = read_one(client);
    ASSERT_TRUE(end);
    ASSERT_EQ(end->type, channel_input::kind::ended);
    EXPECT_EQ(end->end.reason, close_reason::read_error);
    EXPECT_EQ(end->end.detail, std::string("refused by the server: ") +
                                   (given ? "unauthorized: wrong token" : "unauthorized: missing token"));
  }
  run_for(50ms);
  EXPECT_TRUE(accepted.empty());
}

INSTANTIATE_TEST_SUITE_P(schemes, connect_listen_test, ::testing::Values("tcp", "unix", "tls", "ws", "wss"),
                         [](const ::testing::TestParamInfo<const char*>& p) { return std::string(p.param); });

} // namespace
} // namespace acp::net::test
