// `acp-conductor serve`'s limits and its life: the connection limit (a busy answer, nothing
// spawned), the idle timeout, SIGTERM with a turn running, one trace file per connection
// without the token in it, and the refusal of a non-loopback address without TLS and a token.
#include "remote_support.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace acp::remote_test {
namespace {

namespace json = boost::json;
using acp::net::test::temp_dir;

std::string secret() { return "remote-limits-token-" + std::to_string(::getpid()); }

std::string dump(const std::optional<json::value>& v) { return v ? json::serialize(*v) : std::string("(none)"); }

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct busy_case {
  const char* name;
  const char* scheme;
  const char* says; ///< the refused client's initialize error must contain this
};

void PrintTo(const busy_case& c, std::ostream* os) { *os << c.name; }

class over_the_limit : public ::testing::TestWithParam<busy_case> {};

TEST_P(over_the_limit, a_connection_past_max_connections_is_refused_busy_and_nothing_is_spawned) {
  const auto& p = GetParam();
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv(std::string(p.scheme) + "://127.0.0.1:0",
                      {"--token-file", token_file(dir, token), "--max-connections", "1"}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto url = std::string(p.scheme) + "://127.0.0.1:" + std::to_string(s.port());
  scripted_peer first(connect_argv(url), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto t = run_turn(first, "echo first");
  ASSERT_EQ(t.text, "echo: first") << dump(t.init) << first.stderr_text();
  const auto agents = s.descendants();
  ASSERT_EQ(agents.size(), 1u);

  scripted_peer second(connect_argv(url), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto init = second.initialize();
  ASSERT_NE(error_of(init), nullptr) << dump(init);
  EXPECT_NE(dump(init).find(p.says), std::string::npos) << "expected \"" << p.says << "\" in " << dump(init);
  EXPECT_EQ(second.wait_exit(10s), 1);
  EXPECT_EQ(s.descendants(), agents) << "a component was started past the limit";

  // The slot comes back when the first connection ends.
  first.close_stdin();
  EXPECT_EQ(first.wait_exit(10s), 0);
  EXPECT_TRUE(s.no_descendants());
  scripted_peer third(connect_argv(url), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto t3 = run_turn(third, "echo third");
  EXPECT_EQ(t3.text, "echo: third") << dump(t3.init) << third.stderr_text();
}

INSTANTIATE_TEST_SUITE_P(remote, over_the_limit,
                         ::testing::Values(busy_case{"ws", "ws", "503"},
                                           busy_case{"tcp", "tcp", "server busy: too many connections"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(serve_limits, an_idle_connection_is_closed_after_the_idle_timeout_and_its_chain_torn_down) {
  temp_dir dir;
  const auto token = secret();
  server s(
      serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token), "--idle-timeout", "1s"}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  scripted_peer editor(connect_argv("ws://127.0.0.1:" + std::to_string(s.port())), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto t = run_turn(editor, "echo then silence");
  ASSERT_EQ(t.text, "echo: then silence") << dump(t.init) << editor.stderr_text();
  ASSERT_FALSE(s.descendants().empty());
  // Nothing more is sent: the server closes the connection, connect sees it and exits 1.
  const auto code = editor.wait_exit(10s);
  EXPECT_EQ(code, 1) << editor.stderr_text();
  EXPECT_TRUE(s.no_descendants(10s)) << "the idle connection's agent is still running";
  EXPECT_TRUE(s.wait_log(" ended after ")) << s.log();
}

TEST(serve_limits, sigterm_stops_listening_shuts_every_chain_down_and_exits_0) {
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token), "--grace-period", "500ms"},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto url = "ws://127.0.0.1:" + std::to_string(s.port());
  scripted_peer editor(connect_argv(url), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto t = run_turn(editor, "echo before");
  ASSERT_FALSE(t.session.empty()) << dump(t.init) << editor.stderr_text();
  editor.send(acp::test::prompt_request("pending", t.session, "wait-for-cancel"));
  std::this_thread::sleep_for(300ms);
  const auto agents = s.descendants();
  ASSERT_FALSE(agents.empty());

  s.process().signal(SIGTERM);
  EXPECT_EQ(s.process().wait_exit(15s), 0) << s.log();
  EXPECT_TRUE(acp::test::all_gone(agents, 5s)) << "the server left its agents behind";
  // The editor's pending prompt is answered (by the agent's orderly end or as an error), and
  // connect ends.
  const auto answer = editor.read_response("pending", nullptr, 10s);
  EXPECT_TRUE(answer) << "the pending prompt was never answered: " << editor.stderr_text();
  EXPECT_TRUE(editor.wait_exit(10s)) << "connect outlived its server";
  EXPECT_TRUE(s.wait_log("stopping (SIGTERM)")) << s.log();
  // Nobody listens any more.
  EXPECT_LT(connect_loopback(s.port()), 0);
}

TEST(serve_limits, trace_writes_one_file_per_connection_without_the_token) {
  temp_dir dir;
  const auto token = secret();
  const auto trace = dir.file("trace.jsonl");
  server s(
      serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()}, {"--trace", trace}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  for (const auto& name : std::vector<std::string>{"one", "two"}) {
    scripted_peer editor(connect_argv("ws://127.0.0.1:" + std::to_string(s.port())), {"ACP_CONDUCTOR_TOKEN=" + token});
    EXPECT_EQ(run_turn(editor, "echo " + name).text, "echo: " + name) << editor.stderr_text();
    editor.close_stdin();
    EXPECT_EQ(editor.wait_exit(10s), 0);
  }
  EXPECT_TRUE(s.no_descendants());
  ASSERT_TRUE(s.wait_log("connection 2 from ")) << s.log();
  const auto one = read_all(dir.file("trace-1.jsonl"));
  const auto two = read_all(dir.file("trace-2.jsonl"));
  EXPECT_NE(one.find("echo: one"), std::string::npos) << "trace-1.jsonl: " << one.substr(0, 2000);
  EXPECT_EQ(one.find("echo: two"), std::string::npos);
  EXPECT_NE(two.find("echo: two"), std::string::npos) << "trace-2.jsonl: " << two.substr(0, 2000);
  EXPECT_FALSE(std::filesystem::exists(trace)) << "an unnumbered trace file too";
  EXPECT_EQ(one.find(token), std::string::npos) << "the token is in trace-1.jsonl";
  EXPECT_EQ(two.find(token), std::string::npos) << "the token is in trace-2.jsonl";
}

TEST(serve_limits, a_non_loopback_address_without_tls_and_a_token_is_refused_with_exit_2) {
  // Checked before anything listens (the test stays on loopback).
  temp_dir dir;
  for (const auto& options : std::vector<std::vector<std::string>>{{}, {"--token-file", token_file(dir, secret())}}) {
    scripted_peer serve(serve_argv("ws://0.0.0.0:0", options, {test_agent()}));
    EXPECT_EQ(serve.wait_exit(10s), 2) << serve.stderr_text();
    EXPECT_NE(serve.stderr_text().find("non-loopback"), std::string::npos) << serve.stderr_text();
    EXPECT_EQ(serve.stderr_text().find("serving on"), std::string::npos) << serve.stderr_text();
  }
}

} // namespace
} // namespace acp::remote_test
