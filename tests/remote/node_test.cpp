// `acp-conductor serve` with editors written with the `ws` npm package (js/remote_chain_client.mjs):
// a prompt with the bearer token, refusals with 401 and 403 and nothing spawned, wss:// with the
// test CA, and 100 connections at once, each with its own chain and no cross-talk; editors on
// Node's `net` and `tls` (js/remote_ndjson_client.mjs) on tcp://, tls:// and unix:. Then
// `connect` through the SOCKS5 proxy of tests/net/js (the proxy resolves the names).
#include "remote_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace acp::remote_test {
namespace {

using acp::net::test::certificates;
using acp::net::test::child_process;
using acp::net::test::node_dir;
using acp::net::test::node_skip_reason;
using acp::net::test::temp_dir;

std::string secret() { return "remote-node-token-" + std::to_string(::getpid()); }

/// What the node client printed: its per-connection lines and its last line.
struct client_output {
  std::vector<std::string> lines;
  std::string last;
  [[nodiscard]] std::string text() const {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

#define SKIP_WITHOUT_NODE()                                                                                            \
  if (const auto why = node_skip_reason()) GTEST_SKIP() << *why

/// Runs the ws client against `url` with `count` connections until its `done` line.
client_output run_client(const std::string& url, int count, const std::string& token, const std::string& ca = {},
                         std::chrono::milliseconds timeout = 150s) {
  std::vector<std::string> argv{"node", node_dir() + "/remote_chain_client.mjs", url, std::to_string(count)};
  if (!ca.empty()) argv.push_back(ca);
  std::vector<std::string> env;
  if (!token.empty()) env.push_back("ACP_TEST_TOKEN=" + token);
  child_process node;
  client_output out;
  if (!node.start(argv, env)) {
    out.last = "could not start node";
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.last = "(no `done` line in time)";
      return out;
    }
    const auto line = node.read_line(left);
    if (!line) {
      out.last = "(the client ended without a `done` line)";
      return out;
    }
    if (line->rfind("done ", 0) == 0 || line->rfind("timeout", 0) == 0) {
      out.last = *line;
      return out;
    }
    out.lines.push_back(*line);
  }
}

TEST(remote_node, ws_client_with_the_bearer_token_gets_the_agents_answer) {
  SKIP_WITHOUT_NODE();
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto out = run_client(s.url(), 1, token);
  EXPECT_EQ(out.last, "done 1") << out.text();
  ASSERT_EQ(out.lines.size(), 1u) << out.text();
  EXPECT_EQ(out.lines[0], "ok 1 end_turn \"echo: 1\"");
  EXPECT_TRUE(s.wait_log("connection 1 from 127.0.0.1:")) << s.log();
  EXPECT_TRUE(s.no_descendants()) << "the connection's agent outlived it";
}

TEST(remote_node, wss_client_trusting_the_test_ca) {
  SKIP_WITHOUT_NODE();
  std::string error;
  const auto* c = certificates(&error);
  ASSERT_NE(c, nullptr) << error;
  temp_dir dir;
  const auto token = secret();
  server s(
      serve_argv("wss://127.0.0.1:0",
                 {"--tls-cert", c->server_cert, "--tls-key", c->server_key, "--token-file", token_file(dir, token)},
                 {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto out = run_client("wss://localhost:" + std::to_string(s.port()) + "/", 1, token, c->ca_cert);
  EXPECT_EQ(out.last, "done 1") << out.text();
  EXPECT_TRUE(s.no_descendants());
}

TEST(remote_node, missing_and_wrong_tokens_get_401_and_403_and_nothing_is_spawned) {
  SKIP_WITHOUT_NODE();
  temp_dir dir;
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, secret())}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto missing = run_client(s.url(), 1, "");
  EXPECT_EQ(missing.text(), "refused 1 401\n");
  const auto wrong = run_client(s.url(), 1, "not-the-token");
  EXPECT_EQ(wrong.text(), "refused 1 403\n");
  EXPECT_TRUE(s.descendants().empty());
  EXPECT_EQ(s.log().find(" ended after "), std::string::npos) << "a chain ran: " << s.log();
}

TEST(remote_node, a_hundred_connections_at_once_each_with_its_own_chain) {
  SKIP_WITHOUT_NODE();
  constexpr int n = 100;
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token), "--max-connections", "128"},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto out = run_client(s.url(), n, token);
  EXPECT_EQ(out.last, "done " + std::to_string(n)) << out.text() << "\nserve: " << s.log().substr(0, 4000);
  std::map<int, std::string> by_connection;
  for (const auto& line : out.lines) {
    std::istringstream in(line);
    std::string word;
    int i = 0;
    in >> word >> i;
    EXPECT_EQ(word, "ok") << line;
    EXPECT_TRUE(by_connection.emplace(i, line).second) << "two lines for connection " << i;
  }
  ASSERT_EQ(by_connection.size(), static_cast<std::size_t>(n)) << out.text();
  for (const auto& [i, line] : by_connection)
    EXPECT_EQ(line, "ok " + std::to_string(i) + " end_turn \"echo: " + std::to_string(i) + "\"");
  // Every chain ended with its connection, and took its agent along.
  EXPECT_TRUE(s.wait_log("connection " + std::to_string(n) + " from ", 20s)) << s.log().substr(0, 4000);
  EXPECT_TRUE(s.no_descendants(30s)) << s.descendants().size() << " process(es) left";
  // One line per connection (written as its chain ends, which may come after its agent is gone).
  std::size_t ended = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(50ms)) {
    const auto log = s.log();
    ended = 0;
    for (std::size_t at = 0; (at = log.find(" ended after ", at)) != std::string::npos; ++at) ++ended;
    if (ended >= static_cast<std::size_t>(n)) break;
  }
  EXPECT_EQ(ended, static_cast<std::size_t>(n)) << s.log().substr(0, 6000);
}

// ---- Node's net and tls on the NDJSON schemes ----

/// The first line remote_ndjson_client.mjs prints.
std::string run_ndjson_client(const std::vector<std::string>& args, const std::string& token) {
  std::vector<std::string> argv{"node", node_dir() + "/remote_ndjson_client.mjs"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env;
  if (!token.empty()) env.push_back("ACP_TEST_TOKEN=" + token);
  child_process node;
  if (!node.start(argv, env)) return "could not start node";
  return node.read_line(40s).value_or("(no line)");
}

TEST(remote_node, node_net_and_tls_editors_on_tcp_tls_and_unix) {
  SKIP_WITHOUT_NODE();
  std::string error;
  const auto* c = certificates(&error);
  ASSERT_NE(c, nullptr) << error;
  temp_dir dir;
  const auto token = secret();
  const auto tokens = token_file(dir, token);
  {
    server s(serve_argv("tcp://127.0.0.1:0", {"--token-file", tokens}, {test_agent()}));
    ASSERT_FALSE(s.url().empty()) << s.log();
    const auto port = std::to_string(s.port());
    EXPECT_EQ(run_ndjson_client({"tcp", "127.0.0.1", port}, token), "ok end_turn \"echo: node\"") << s.log();
    // The refusal line is the server's answer to a wrong token; nothing runs.
    EXPECT_EQ(run_ndjson_client({"tcp", "127.0.0.1", port}, "not-the-token"), "error unauthorized: wrong token");
    EXPECT_TRUE(s.no_descendants());
  }
  {
    server s(serve_argv("tls://127.0.0.1:0",
                        {"--tls-cert", c->server_cert, "--tls-key", c->server_key, "--token-file", tokens},
                        {test_agent()}));
    ASSERT_FALSE(s.url().empty()) << s.log();
    EXPECT_EQ(run_ndjson_client({"tls", "localhost", std::to_string(s.port()), c->ca_cert}, token),
              "ok end_turn \"echo: node\"")
        << s.log();
    EXPECT_TRUE(s.no_descendants());
  }
  {
    const auto path = dir.file("serve.sock");
    server s(serve_argv("unix:" + path, {"--token-file", tokens}, {test_agent()}));
    ASSERT_FALSE(s.url().empty()) << s.log();
    EXPECT_EQ(run_ndjson_client({"unix", path}, token), "ok end_turn \"echo: node\"") << s.log();
    EXPECT_TRUE(s.no_descendants());
  }
}

// ---- SOCKS5 ----

namespace json = boost::json;

/// The SOCKS5 proxy of tests/net/js; port() is 0 when it did not start.
class socks5_proxy {
public:
  explicit socks5_proxy(std::vector<std::string> args = {}, std::vector<std::string> env = {}) {
    std::vector<std::string> argv{"node", node_dir() + "/socks5_proxy.mjs"};
    for (auto& a : args) argv.push_back(std::move(a));
    if (!node_.start(argv, env)) return;
    if (const auto first = next("port")) port_ = static_cast<int>(first->at("port").to_number<std::int64_t>());
  }
  [[nodiscard]] int port() const noexcept { return port_; }
  /// The next report that has `key` (events: "request", "auth"; the first line: "port").
  std::optional<json::object> next(const std::string& key, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      const auto line = node_.read_line(left);
      if (!line) return std::nullopt;
      boost::system::error_code ec;
      auto v = json::parse(*line, ec);
      if (ec || !v.is_object()) continue;
      auto& o = v.as_object();
      if (o.contains(key) || (o.contains("event") && o.at("event") == json::string_view(key))) return o;
    }
  }

private:
  child_process node_;
  int port_ = 0;
};

std::string dump(const std::optional<json::value>& v) { return v ? json::serialize(*v) : std::string("(none)"); }

void expect_echo(scripted_peer& editor, const std::string& name) {
  const auto t = run_turn(editor, "echo " + name);
  EXPECT_TRUE(t.initialized) << dump(t.init) << "\nconnect: " << editor.stderr_text();
  EXPECT_EQ(t.text, "echo: " + name);
  EXPECT_EQ(t.stop_reason, "end_turn");
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
}

TEST(remote_node, connect_through_socks5_sends_the_name_for_the_proxy_to_resolve) {
  SKIP_WITHOUT_NODE();
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  // `.invalid` never resolves here: only the proxy knows the name.
  socks5_proxy proxy({"--map", "acp-test.invalid=127.0.0.1"});
  ASSERT_GT(proxy.port(), 0);
  const auto port = std::to_string(s.port());
  scripted_peer editor(connect_argv("ws://acp-test.invalid:" + port + "/",
                                    {"--socks5", "socks5://127.0.0.1:" + std::to_string(proxy.port())}),
                       {"ACP_CONDUCTOR_TOKEN=" + token});
  expect_echo(editor, "through socks5");
  const auto request = proxy.next("request");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->at("atyp"), 3) << json::serialize(*request);
  EXPECT_EQ(request->at("host"), "acp-test.invalid");
  EXPECT_EQ(request->at("port"), s.port());
}

TEST(remote_node, connect_through_socks5_from_all_proxy_with_user_and_password) {
  SKIP_WITHOUT_NODE();
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  socks5_proxy proxy({}, {"SOCKS_USER=alice", "SOCKS_PASSWORD=socks-pw-1"});
  ASSERT_GT(proxy.port(), 0);
  const auto all_proxy = "ALL_PROXY=socks5://alice@127.0.0.1:" + std::to_string(proxy.port());
  scripted_peer editor(connect_argv("ws://localhost:" + std::to_string(s.port()) + "/"),
                       {"ACP_CONDUCTOR_TOKEN=" + token, all_proxy, "ACP_SOCKS5_PASSWORD=socks-pw-1"});
  expect_echo(editor, "via ALL_PROXY");
  const auto auth = proxy.next("auth");
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->at("ok"), true);
  const auto request = proxy.next("request");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->at("atyp"), 3) << json::serialize(*request);
  EXPECT_EQ(request->at("host"), "localhost");

  // NO_PROXY names the host: straight there, the proxy sees nothing.
  scripted_peer direct(connect_argv("ws://localhost:" + std::to_string(s.port()) + "/"),
                       {"ACP_CONDUCTOR_TOKEN=" + token, all_proxy, "NO_PROXY=localhost"});
  expect_echo(direct, "not proxied");
  EXPECT_FALSE(proxy.next("request", 500ms)) << "NO_PROXY was ignored";

  // The wrong password: initialize is answered with connect_failed, and the password is not in it.
  scripted_peer refused(connect_argv("ws://localhost:" + std::to_string(s.port()) + "/"),
                        {"ACP_CONDUCTOR_TOKEN=" + token, all_proxy, "ACP_SOCKS5_PASSWORD=wrong-pw-2"});
  const auto init = refused.initialize();
  EXPECT_EQ(error_reason(init), "connect_failed") << dump(init);
  EXPECT_EQ(dump(init).find("wrong-pw-2"), std::string::npos);
  EXPECT_EQ(refused.wait_exit(10s), 1);
}

} // namespace
} // namespace acp::remote_test
