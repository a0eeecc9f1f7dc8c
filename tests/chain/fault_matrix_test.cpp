// Faults of a proxy at each position of the chain, mid-turn: what the editor receives, the
// conductor's exit code, and that no process is left. (The agent's faults: lifecycle_test.cpp.)
#include "harness.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

namespace acp::test {
namespace {
namespace json = boost::json;

struct fault_case {
  int position; // 0: first proxy, 1: middle proxy of three components
  std::string fault;
};

std::string name_of(const ::testing::TestParamInfo<fault_case>& info) {
  std::string fault = info.param.fault;
  for (auto& c : fault)
    if (c == '-') c = '_';
  return std::string(info.param.position == 0 ? "first" : "middle") + "_proxy_" + fault;
}

class proxy_fault : public ::testing::TestWithParam<fault_case> {
protected:
  scripted_peer start() {
    std::vector<std::string> argv{conductor_path(), "--grace-period", "300ms", "--max-message-size", "64KiB", "agent"};
    const std::string faulty = R"({"command":")" + component_path() + R"(","args":["fault-proxy",")" +
                               GetParam().fault + R"("],"name":"faulty"})";
    const std::string plain = component(arrow_path());
    argv.push_back(GetParam().position == 0 ? faulty : plain);
    argv.push_back(GetParam().position == 0 ? plain : faulty);
    argv.push_back(component(test_agent_path()));
    return scripted_peer(argv);
  }
};

json::value prompt(const std::string& session, const std::string& text) {
  json::object block{{"type", "text"}, {"text", text}};
  return request("turn", "session/prompt", json::object{{"sessionId", session}, {"prompt", json::array{block}}});
}

TEST_P(proxy_fault, mid_turn) {
  auto editor = start();
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  const auto tree = editor.descendants();
  ASSERT_EQ(tree.size(), 3u);
  editor.send(prompt(session, "echo FAULT now"));
  const auto& fault = GetParam().fault;

  if (fault == "garbage" || fault == "badutf8") { // answered -32700 by the conductor; the turn goes on
    std::vector<json::value> seen;
    auto r = editor.read_response("turn", &seen);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("result").at("stopReason"), "end_turn");
    editor.close_stdin();
    EXPECT_EQ(editor.wait_exit(10s), 0);
    EXPECT_TRUE(all_gone(tree));
    return;
  }
  if (fault == "hang") { // nothing comes back; the editor leaves; the hung proxy is stopped
    EXPECT_FALSE(editor.read(500ms));
    editor.close_stdin();
    auto r = editor.read_response("turn", nullptr, 5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("error").at("data").at("reason"), "incoming_transport_closed");
    EXPECT_EQ(editor.wait_exit(10s), 0);
    EXPECT_TRUE(all_gone(tree));
    return;
  }
  // crash, exit, overlong, close-stdout: the turn fails naming the proxy, the chain ends with 1.
  auto r = editor.read_response("turn", nullptr);
  ASSERT_TRUE(r) << editor.stderr_text();
  ASSERT_TRUE(r->as_object().contains("error")) << json::serialize(*r);
  EXPECT_EQ(r->at("error").at("code"), -32603);
  EXPECT_EQ(r->at("error").at("data").at("component"), "faulty") << json::serialize(*r);
  if (fault == "crash") {
    EXPECT_EQ(r->at("error").at("data").at("exit_status"), "killed by signal 9");
  }
  if (fault == "exit") {
    EXPECT_EQ(r->at("error").at("data").at("exit_status"), "exited with status 0");
  }
  if (fault == "close-stdout") {
    EXPECT_EQ(r->at("error").at("data").at("exit_status"), "closed its output but is still running");
  }
  std::vector<std::string> extra;
  EXPECT_TRUE(editor.read_eof(10s, &extra));
  EXPECT_TRUE(extra.empty()) << "nothing after the end: " << extra.front();
  EXPECT_EQ(editor.wait_exit(10s), 1);
  EXPECT_TRUE(all_gone(tree));
}

INSTANTIATE_TEST_SUITE_P(matrix, proxy_fault,
                         ::testing::Values(fault_case{0, "crash"}, fault_case{0, "exit"}, fault_case{0, "hang"},
                                           fault_case{0, "garbage"}, fault_case{0, "badutf8"},
                                           fault_case{0, "overlong"}, fault_case{0, "close-stdout"},
                                           fault_case{1, "crash"}, fault_case{1, "exit"}, fault_case{1, "hang"},
                                           fault_case{1, "garbage"}, fault_case{1, "badutf8"},
                                           fault_case{1, "overlong"}, fault_case{1, "close-stdout"}),
                         name_of);

} // namespace
} // namespace acp::test

namespace acp::test {
namespace {

/// A chain of two proxies and the test agent with the fault proxy at `position` (0 or 1).
std::vector<std::string> chain_with_faulty(int position, const std::string& fault, const std::string& when) {
  const std::string faulty = R"({"command":")" + component_path() + R"(","args":["fault-proxy",")" + fault + R"(",")" +
                             when + R"("],"name":"faulty"})";
  const std::string plain = component(arrow_path());
  return {conductor_path(),
          "--grace-period",
          "300ms",
          "agent",
          position == 0 ? faulty : plain,
          position == 0 ? plain : faulty,
          component(test_agent_path())};
}

void expect_failed_chain(scripted_peer& editor, const std::vector<pid_t>& tree) {
  std::vector<std::string> extra;
  EXPECT_TRUE(editor.read_eof(10s, &extra));
  EXPECT_TRUE(extra.empty()) << "nothing after the end: " << extra.front();
  EXPECT_EQ(editor.wait_exit(10s), 1);
  EXPECT_TRUE(all_gone(tree));
}

json::value prompt_request(const std::string& session, const std::string& text) {
  json::object block{{"type", "text"}, {"text", text}};
  return request("turn", "session/prompt", json::object{{"sessionId", session}, {"prompt", json::array{block}}});
}

class proxy_fault_phase : public ::testing::TestWithParam<int> {};

TEST_P(proxy_fault_phase, crash_before_initialize_is_answered_naming_the_proxy) {
  scripted_peer editor(chain_with_faulty(GetParam(), "crash", "initialize"));
  auto init = editor.initialize();
  ASSERT_TRUE(init);
  EXPECT_EQ(init->at("error").at("data").at("component"), "faulty");
  EXPECT_EQ(init->at("error").at("data").at("exit_status"), "killed by signal 9");
  expect_failed_chain(editor, editor.descendants());
}

TEST_P(proxy_fault_phase, crash_while_a_permission_request_is_pending) {
  scripted_peer editor(chain_with_faulty(GetParam(), "crash", "permission"));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  editor.send(prompt_request(session, "permission"));
  auto r = editor.read_response("turn", nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("data").at("component"), "faulty");
  expect_failed_chain(editor, tree);
}

TEST_P(proxy_fault_phase, crash_when_idle_ends_the_chain_with_nothing_more_sent) {
  scripted_peer editor(chain_with_faulty(GetParam(), "crash", "notice"));
  ASSERT_TRUE(editor.initialize());
  ASSERT_FALSE(editor.new_session().empty());
  const auto tree = editor.descendants();
  editor.send(json::value{{"jsonrpc", "2.0"}, {"method", "test/fault-now"}, {"params", json::object()}});
  expect_failed_chain(editor, tree);
}

INSTANTIATE_TEST_SUITE_P(positions, proxy_fault_phase, ::testing::Values(0, 1),
                         [](const ::testing::TestParamInfo<int>& i) { return i.param == 0 ? "first" : "middle"; });

/// The agent's pid in a chain whose last component is the test agent.
pid_t agent_pid(const scripted_peer& editor) {
  for (auto pid : editor.descendants()) {
    std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
    std::string argv0;
    std::getline(cmd, argv0, '\0');
    if (argv0 == test_agent_path()) return pid;
  }
  return 0;
}

TEST(agent_fault_phase, agent_killed_while_a_permission_request_is_pending) {
  scripted_peer editor(chain_with_faulty(1, "none", "prompt"));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  editor.send(prompt_request(session, "permission"));
  bool asked = false;
  for (int i = 0; i < 10 && !asked; ++i) {
    auto m = editor.read(10s);
    ASSERT_TRUE(m);
    asked = m->as_object().contains("method") && m->at("method") == "session/request_permission";
  }
  ASSERT_TRUE(asked);
  const pid_t agent = agent_pid(editor);
  ASSERT_NE(agent, 0);
  ::kill(agent, SIGKILL);
  auto r = editor.read_response("turn", nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("data").at("component"), "acp-test-agent");
  EXPECT_EQ(r->at("error").at("data").at("exit_status"), "killed by signal 9");
  expect_failed_chain(editor, tree);
}

TEST(agent_fault_phase, agent_killed_when_idle_ends_the_chain) {
  scripted_peer editor(chain_with_faulty(1, "none", "prompt"));
  ASSERT_TRUE(editor.initialize());
  ASSERT_FALSE(editor.new_session().empty());
  const auto tree = editor.descendants();
  const pid_t agent = agent_pid(editor);
  ASSERT_NE(agent, 0);
  ::kill(agent, SIGKILL);
  expect_failed_chain(editor, tree);
}

} // namespace
} // namespace acp::test
