// acp-fanout as a subprocess in front of several acp-test-agents: the CLI, initialize, streaming
// order, permissions from two agents at once, `first` mode, cancels, crashes, no process left.
#include "fanout_driver.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace {
using namespace acp::fanout_test;
namespace e2e = acp::e2e;

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(fanout_cli, help_and_version_print_on_stdout_and_exit_0) {
  auto help = e2e::run({ACP_FANOUT_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--mode"), std::string::npos);
  EXPECT_NE(help.out.find("AGENT"), std::string::npos);
  auto version = e2e::run({ACP_FANOUT_BIN, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("acp-fanout ", 0), 0u);
}

TEST(fanout_cli, bad_arguments_are_one_line_on_stderr_and_exit_2) {
  const std::vector<std::vector<std::string>> bad = {
      {ACP_FANOUT_BIN},
      {ACP_FANOUT_BIN, "--mode", "fastest", ACP_TEST_AGENT_BIN},
      {ACP_FANOUT_BIN, "--bogus", ACP_TEST_AGENT_BIN},
      {ACP_FANOUT_BIN, "acp-test-agent 'unterminated"},
      {ACP_FANOUT_BIN, "tcp://127.0.0.1:9"},
  };
  for (const auto& argv : bad) {
    auto r = e2e::run(argv);
    EXPECT_EQ(r.exit_code, 2) << argv.back();
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("acp-fanout: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(fanout_initialize, merges_the_agents_and_names_them_uniquely) {
  fanout_driver d({ACP_TEST_AGENT_BIN, ACP_TEST_AGENT_BIN});
  ASSERT_TRUE(d.started());
  auto init = d.response(d.send("initialize", json::object{{"protocolVersion", 1}}));
  ASSERT_TRUE(init && init->contains("result")) << (init ? json::serialize(*init) : "no answer");
  const auto& result = init->at("result");
  EXPECT_EQ(result.at("agentInfo").at("name"), "acp-fanout");
  const auto& agents = result.at("_meta").at("fanout").at("agents").as_array();
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0].at("name"), "acp-test-agent");
  EXPECT_EQ(agents[1].at("name"), "acp-test-agent#2");
  EXPECT_EQ(agents[1].at("agentInfo").at("name"), "acp-test-agent");
  EXPECT_EQ(result.at("agentCapabilities").at("loadSession"), false);
}

TEST(fanout_initialize, an_agent_that_cannot_start_is_named_in_the_error) {
  fanout_driver d({ACP_TEST_AGENT_BIN, R"({"command":"/nonexistent/agent-x","name":"ghost"})"});
  auto init = d.response(d.send("initialize", json::object{{"protocolVersion", 1}}));
  ASSERT_TRUE(init && init->contains("error")) << (init ? json::serialize(*init) : "no answer");
  const std::string message(init->at("error").at("message").as_string());
  EXPECT_NE(message.find("ghost"), std::string::npos) << message;
  EXPECT_EQ(init->at("error").at("data").at("agent"), "ghost");
  d.child().close_stdin();
  EXPECT_TRUE(d.child().wait_exit(10s));
}

TEST(fanout_prompt, every_agent_streams_in_its_own_order_nothing_lost_and_labelled) {
  fanout_driver d({named_agent("fast"), named_agent("slow", {"--delay-ms", "2"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  auto answer = d.response(d.send("session/prompt", fanout_driver::prompt(session, "stream 100")));
  ASSERT_TRUE(answer && answer->contains("result")) << (answer ? json::serialize(*answer) : "no answer");
  EXPECT_EQ(answer->at("result").at("stopReason"), "end_turn");
  const auto& agents = answer->at("result").at("_meta").at("fanout").at("agents");
  EXPECT_EQ(agents.at("fast").at("stopReason"), "end_turn");
  EXPECT_EQ(agents.at("slow").at("stopReason"), "end_turn");
  std::vector<std::string> expected;
  for (int i = 1; i <= 100; ++i) expected.push_back("chunk " + std::to_string(i));
  EXPECT_EQ(d.chunks_of("fast"), expected);
  EXPECT_EQ(d.chunks_of("slow"), expected);
  for (const auto& u : d.updates) EXPECT_EQ(u.at("sessionId"), json::value(session)); // never an agent's own id
  const auto text = d.transcript();
  EXPECT_NE(text.find("[fast]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[slow]\n"), std::string::npos) << text;
  // The agents' own _meta (seq) survives beside ours.
  std::size_t with_seq = 0;
  for (const auto& u : d.updates) {
    const auto& meta = u.at("update").at("_meta").as_object();
    EXPECT_TRUE(meta.at("fanout").as_object().contains("agent"));
    if (meta.contains("seq")) ++with_seq;
  }
  EXPECT_EQ(with_seq, 200u);
}

TEST(fanout_prompt, permission_requests_of_two_agents_in_flight_are_answered_to_the_right_one) {
  fanout_driver d({named_agent("a"), named_agent("b")});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  const auto id = d.send("session/prompt", fanout_driver::prompt(session, "permission"));
  ASSERT_TRUE(d.wait_requests(2)); // both asked; neither answered yet
  std::vector<std::string> asked;
  for (const auto& req : d.requests) {
    EXPECT_EQ(req.at("method"), "session/request_permission");
    EXPECT_EQ(req.at("params").at("sessionId"), json::value(session));
    asked.emplace_back(req.at("params").at("_meta").at("fanout").at("agent").as_string());
    const std::string title(req.at("params").at("toolCall").at("title").as_string());
    EXPECT_EQ(title, "[" + asked.back() + "] Write file");
    EXPECT_EQ(req.at("params").at("toolCall").at("toolCallId"), json::value(asked.back() + "/call-1"));
  }
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "b"}));
  // Answered in reverse arrival order: a is allowed, b rejected.
  for (auto it = d.requests.rbegin(); it != d.requests.rend(); ++it) {
    const bool is_a = it->at("params").at("_meta").at("fanout").at("agent") == "a";
    d.answer(it->at("id"),
             json::object{{"outcome", json::object{{"outcome", "selected"}, {"optionId", is_a ? "allow" : "reject"}}}});
  }
  auto answer = d.response(id);
  ASSERT_TRUE(answer && answer->contains("result"));
  EXPECT_EQ(d.chunks_of("a"), (std::vector<std::string>{"permission: selected allow"}));
  EXPECT_EQ(d.chunks_of("b"), (std::vector<std::string>{"permission: selected reject"}));
  std::vector<std::string> tool_ids;
  for (const auto& u : d.updates)
    if (u.at("update").at("sessionUpdate") == "tool_call")
      tool_ids.emplace_back(u.at("update").at("toolCallId").as_string());
  std::sort(tool_ids.begin(), tool_ids.end());
  EXPECT_EQ(tool_ids, (std::vector<std::string>{"a/call-1", "b/call-1"})); // no collision
}

TEST(fanout_prompt, first_mode_answers_with_the_fastest_and_cancels_the_slower) {
  fanout_driver d(
      {"--mode", "first", named_agent("quick"), named_agent("slow", {"--mode", "stream 50", "--delay-ms", "100"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  const auto started = e2e::clock::now();
  auto answer = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hello")));
  ASSERT_TRUE(answer && answer->contains("result")) << (answer ? json::serialize(*answer) : "no answer");
  EXPECT_LT(e2e::clock::now() - started, 3s); // not the slow one's 5 s
  EXPECT_EQ(answer->at("result").at("stopReason"), "end_turn");
  EXPECT_EQ(answer->at("result").at("_meta").at("fanout").at("winner"), "quick");
  EXPECT_EQ(d.chunks_of("quick"), (std::vector<std::string>{"echo: hello"}));
  const auto slow_before = d.chunks_of("slow").size();
  d.drain(500ms); // the slow agent is cancelled: nothing more of it reaches the client
  EXPECT_EQ(d.chunks_of("slow").size(), slow_before);
  EXPECT_LE(slow_before, 2u);
  // The next turn goes to both again.
  auto next = d.response(d.send("session/prompt", fanout_driver::prompt(session, "echo again")));
  ASSERT_TRUE(next && next->contains("result"));
  EXPECT_EQ(d.chunks_of("quick").back(), "echo: again");
  // At once after a win: the slow agent's prompt waits until its cancelled turn has ended.
  auto third = d.response(d.send("session/prompt", fanout_driver::prompt(session, "echo third")));
  ASSERT_TRUE(third && third->contains("result"));
  EXPECT_EQ(d.chunks_of("quick").back(), "echo: third");
  d.drain(400ms);
  for (const auto& chunk : d.chunks_of("slow")) EXPECT_EQ(chunk.rfind("chunk ", 0), 0u) << chunk; // never "echo: "
}

TEST(fanout_prompt, a_cancel_from_the_client_reaches_every_agent) {
  fanout_driver d({named_agent("a", {"--mode", "wait-for-cancel"}), named_agent("b", {"--mode", "wait-for-cancel"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  const auto id = d.send("session/prompt", fanout_driver::prompt(session, "wait"));
  d.drain(300ms);
  d.notify("session/cancel", json::object{{"sessionId", session}});
  auto answer = d.response(id);
  ASSERT_TRUE(answer && answer->contains("result")) << (answer ? json::serialize(*answer) : "no answer");
  EXPECT_EQ(answer->at("result").at("stopReason"), "cancelled");
  const auto& agents = answer->at("result").at("_meta").at("fanout").at("agents");
  EXPECT_EQ(agents.at("a").at("stopReason"), "cancelled");
  EXPECT_EQ(agents.at("b").at("stopReason"), "cancelled");
}

TEST(fanout_failures, an_agent_crashing_mid_turn_does_not_end_the_others_and_nothing_is_left) {
  const std::string marker = "ACP_FANOUT_TEST_MARKER=crash-" + std::to_string(::getpid());
  {
    fanout_driver d({named_agent("crashy", {"--mode", "crash"}), named_agent("steady", {"--delay-ms", "100"})},
                    {marker});
    const auto session = d.open_session();
    ASSERT_FALSE(session.empty());
    auto answer = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hello")));
    ASSERT_TRUE(answer && answer->contains("result")) << (answer ? json::serialize(*answer) : "no answer");
    EXPECT_EQ(answer->at("result").at("stopReason"), "end_turn");
    const auto& agents = answer->at("result").at("_meta").at("fanout").at("agents");
    EXPECT_TRUE(agents.at("crashy").as_object().contains("error"));
    EXPECT_EQ(agents.at("steady").at("stopReason"), "end_turn");
    EXPECT_EQ(d.chunks_of("steady"), (std::vector<std::string>{"echo: hello"}));
    const auto text = d.transcript();
    EXPECT_NE(text.find("[crashy] failed: "), std::string::npos) << text;
    d.child().close_stdin();
    const auto status = d.child().wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  }
  EXPECT_TRUE(e2e::processes_with_env(marker).empty());
}

TEST(fanout_failures, only_when_every_agent_fails_is_the_prompt_an_error) {
  fanout_driver d({named_agent("x", {"--mode", "crash"}), named_agent("y", {"--mode", "crash"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  auto answer = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hello")));
  ASSERT_TRUE(answer && answer->contains("error")) << (answer ? json::serialize(*answer) : "no answer");
  const std::string message(answer->at("error").at("message").as_string());
  EXPECT_NE(message.find("x: "), std::string::npos) << message;
  EXPECT_NE(message.find("y: "), std::string::npos) << message;
}

TEST(fanout_lifecycle, sigterm_ends_the_agents_too) {
  const std::string marker = "ACP_FANOUT_TEST_MARKER=term-" + std::to_string(::getpid());
  {
    fanout_driver d({ACP_TEST_AGENT_BIN, ACP_TEST_AGENT_BIN}, {marker});
    ASSERT_FALSE(d.open_session().empty());
    EXPECT_EQ(e2e::processes_with_env(marker).size(), 3u);
    ::kill(d.child().pid(), SIGTERM);
    const auto status = d.child().wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 143);
  }
  EXPECT_TRUE(e2e::processes_with_env(marker).empty());
}

TEST(fanout_sessions, unknown_sessions_and_auth_methods_are_refused_with_a_clear_error) {
  fanout_driver d({named_agent("a"), named_agent("b")});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(session.rfind("fanout:", 0), 0u);
  const auto message = [&](std::string_view method, json::object params) {
    auto r = d.response(d.send(method, std::move(params)));
    return r && r->contains("error") ? std::string(r->at("error").at("message").as_string()) : std::string("no error");
  };
  EXPECT_NE(message("session/prompt", fanout_driver::prompt("sess-1", "hi")).find("unknown session"),
            std::string::npos);
  EXPECT_NE(
      message("session/load", json::object{{"sessionId", "fanout:x"}, {"cwd", "/"}, {"mcpServers", json::array{}}})
          .find("not a session of these agents"),
      std::string::npos);
  EXPECT_NE(message("authenticate", json::object{{"methodId", "nobody/login"}}).find("names no agent"),
            std::string::npos);
  EXPECT_NE(
      message("session/set_config_option", json::object{{"sessionId", session}, {"configId", "model"}, {"value", "x"}})
          .find("no agent offers"),
      std::string::npos);
  // The session still works after the refusals.
  auto answer = d.response(d.send("session/prompt", fanout_driver::prompt(session, "echo still here")));
  ASSERT_TRUE(answer && answer->contains("result"));
  EXPECT_EQ(d.chunks_of("b"), (std::vector<std::string>{"echo: still here"}));
  // session/close reaches both agents; the session is then unknown here.
  auto closed = d.response(d.send("session/close", json::object{{"sessionId", session}}));
  ASSERT_TRUE(closed && closed->contains("result")) << (closed ? json::serialize(*closed) : "no answer");
  EXPECT_NE(message("session/prompt", fanout_driver::prompt(session, "hi")).find("unknown session"), std::string::npos);
}

TEST(fanout_lifecycle, a_hung_agent_is_killed_after_the_grace_period_when_the_client_leaves) {
  const std::string marker = "ACP_FANOUT_TEST_MARKER=hang-" + std::to_string(::getpid());
  {
    fanout_driver d({"--grace-ms", "200", named_agent("stuck", {"--mode", "hang"}), named_agent("fine")}, {marker});
    const auto session = d.open_session();
    ASSERT_FALSE(session.empty());
    (void)d.send("session/prompt", fanout_driver::prompt(session, "hello"));
    d.drain(300ms);
    EXPECT_EQ(d.chunks_of("fine"), (std::vector<std::string>{"echo: hello"}));
    const auto left = e2e::clock::now();
    d.child().close_stdin();
    const auto status = d.child().wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_LT(e2e::clock::now() - left, 5s);
  }
  EXPECT_TRUE(e2e::processes_with_env(marker).empty());
}

} // namespace
