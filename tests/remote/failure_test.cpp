// Remote chains when a side goes away: the server killed mid-turn (connect answers the pending
// prompt with an error and exits non-zero), the client killed mid-turn (its chain is torn down,
// the server keeps serving), and a remote component that cannot be reached.
#include "remote_support.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include <unistd.h>

namespace acp::remote_test {
namespace {

namespace json = boost::json;
using acp::net::test::temp_dir;
using clock = std::chrono::steady_clock;

std::string secret() { return "remote-failure-token-" + std::to_string(::getpid()); }

std::string dump(const std::optional<json::value>& v) { return v ? json::serialize(*v) : std::string("(none)"); }

/// Kills what is left of `pids` (and their process groups).
void kill_all(const std::vector<pid_t>& pids) {
  for (const auto p : pids) {
    ::kill(-p, SIGKILL);
    ::kill(p, SIGKILL);
  }
}

/// Starts a turn that stays open (the agent waits for session/cancel) after a first turn that
/// proves the chain works; waits until the server has its agent.
std::string start_pending_turn(scripted_peer& editor, const server& s) {
  const auto t = run_turn(editor, "echo first");
  EXPECT_EQ(t.text, "echo: first") << dump(t.init) << editor.stderr_text();
  if (t.session.empty()) return {};
  editor.send(acp::test::prompt_request("pending", t.session, "wait-for-cancel"));
  // Nothing answers it; give it time to reach the agent.
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(s.descendants().empty()) << "the server has no agent for the connection";
  return t.session;
}

TEST(remote_failure, server_killed_mid_turn_answers_the_pending_prompt_with_an_error) {
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  scripted_peer editor(connect_argv("ws://127.0.0.1:" + std::to_string(s.port())), {"ACP_CONDUCTOR_TOKEN=" + token});
  ASSERT_FALSE(start_pending_turn(editor, s).empty());
  const auto agents = s.descendants();

  // SIGKILL to the server's process group; its agents run in groups of their own.
  const auto killed = clock::now();
  ::kill(-s.pid(), SIGKILL);
  ASSERT_TRUE(s.process().wait_exit(5s));

  const auto answer = editor.read_response("pending", nullptr, 10s);
  ASSERT_TRUE(answer) << "the pending prompt was never answered; connect: " << editor.stderr_text();
  const auto* error = error_of(answer);
  ASSERT_NE(error, nullptr) << dump(answer);
  EXPECT_EQ(error->at("code"), -32603) << dump(answer);
  EXPECT_EQ(error_reason(answer), "component_exited") << dump(answer);
  const auto code = editor.wait_exit(10s);
  EXPECT_TRUE(code.has_value()) << "connect did not exit after its server died";
  EXPECT_NE(code.value_or(0), 0) << editor.stderr_text();
  EXPECT_LT(ms_since(killed), 5000);

  // The orphaned agents see the end of their input and go.
  const bool gone = acp::test::all_gone(agents, 10s);
  kill_all(agents);
  EXPECT_TRUE(gone) << "the killed server's agents stayed";
}

TEST(remote_failure, client_killed_mid_turn_tears_its_chain_down_and_the_server_keeps_serving) {
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token), "--grace-period", "500ms"},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto url = "ws://127.0.0.1:" + std::to_string(s.port());
  {
    scripted_peer editor(connect_argv(url), {"ACP_CONDUCTOR_TOKEN=" + token});
    ASSERT_FALSE(start_pending_turn(editor, s).empty());
    const auto agents = s.descendants();
    ASSERT_FALSE(agents.empty());
    ::kill(-editor.pid(), SIGKILL);
    ASSERT_TRUE(editor.wait_exit(5s));
    EXPECT_TRUE(acp::test::all_gone(agents, 5s)) << "the dead client's agent is still running";
  }
  EXPECT_TRUE(s.wait_line("connection 1 from 127.0.0.1:", " ended after ", 5s)) << s.log();
  EXPECT_FALSE(s.process().wait_exit(0ms)) << "the server exited with its client: " << s.log();

  // Still serving.
  scripted_peer next(connect_argv(url), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto t = run_turn(next, "echo still here");
  EXPECT_EQ(t.text, "echo: still here") << dump(t.init) << next.stderr_text();
  EXPECT_EQ(t.stop_reason, "end_turn");
  next.close_stdin();
  EXPECT_EQ(next.wait_exit(10s), 0);
  EXPECT_TRUE(s.wait_log("connection 2 from ")) << s.log();
  EXPECT_TRUE(s.no_descendants());
}

TEST(remote_failure, unreachable_remote_component_answers_initialize_with_connect_failed) {
  const auto started = clock::now();
  scripted_peer editor(acp::test::chain({"tcp://127.0.0.1:1"}));
  const auto init = editor.initialize();
  const auto code = editor.wait_exit(10s);
  ASSERT_NE(error_of(init), nullptr) << dump(init) << editor.stderr_text();
  EXPECT_EQ(error_of(init)->at("code"), -32603) << dump(init);
  EXPECT_EQ(error_reason(init), "connect_failed") << dump(init);
  const auto& data = error_of(init)->at("data").as_object();
  EXPECT_TRUE(data.contains("detail")) << dump(init);
  EXPECT_EQ(code, 1) << editor.stderr_text();
  EXPECT_LT(ms_since(started), 3000);
}

TEST(remote_failure, connect_to_nothing_answers_initialize_with_connect_failed) {
  temp_dir dir;
  const auto started = clock::now();
  scripted_peer editor(connect_argv("unix:" + dir.file("nobody-here.sock")));
  const auto init = editor.initialize();
  const auto code = editor.wait_exit(10s);
  ASSERT_NE(error_of(init), nullptr) << dump(init) << editor.stderr_text();
  EXPECT_EQ(error_reason(init), "connect_failed") << dump(init);
  EXPECT_EQ(code, 1) << editor.stderr_text();
  EXPECT_LT(ms_since(started), 3000);
}

} // namespace
} // namespace acp::remote_test
