// acp-fanout's session rules with real acp-test-agents: a `first`-mode loser that never ends its
// cancelled turn is left out after --grace-ms, session/new refused by some agents, and the
// routing of authenticate, session/load, session/set_mode and session/set_config_option.
#include "fanout_driver.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace acp::fanout_test {
namespace {

std::string text_of(const json::object& update) {
  const auto& up = update.at("update").as_object();
  if (up.at("sessionUpdate") != "agent_message_chunk") return {};
  return std::string(up.at("content").at("text").as_string());
}

bool shows(const fanout_driver& d, std::string_view needle) {
  for (const auto& u : d.updates)
    if (text_of(u).find(needle) != std::string::npos) return true;
  return false;
}

TEST(fanout_first_mode, a_loser_that_never_ends_its_cancelled_turn_is_left_out_after_the_grace_period) {
  fanout_driver d(
      {"--mode", "first", "--grace-ms", "300", named_agent("quick"), named_agent("stuck", {"--mode", "hang"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  auto first = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hello")));
  ASSERT_TRUE(first && first->contains("result")) << (first ? json::serialize(*first) : "no answer");
  EXPECT_EQ(first->at("result").at("_meta").at("fanout").at("winner"), "quick");
  d.drain(800ms); // past the deadline: stuck is left out, and the client is told
  EXPECT_TRUE(shows(d, "[stuck] failed: agent stuck did not end its cancelled turn within 300 ms"));
  auto second = d.response(d.send("session/prompt", fanout_driver::prompt(session, "again")), 5s);
  ASSERT_TRUE(second && second->contains("result")) << (second ? json::serialize(*second) : "no answer");
  const auto& agents = second->at("result").at("_meta").at("fanout").at("agents");
  EXPECT_EQ(agents.at("stuck").at("leftOut"), true);
  EXPECT_EQ(d.chunks_of("quick").back(), "echo: again");
  // The only agent left crashes: every agent has failed, and the prompt after that is an error at once.
  auto third = d.response(d.send("session/prompt", fanout_driver::prompt(session, "crash")), 5s);
  ASSERT_TRUE(third && third->contains("error")) << (third ? json::serialize(*third) : "no answer");
  auto fourth = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hello")), 5s);
  ASSERT_TRUE(fourth && fourth->contains("error")) << (fourth ? json::serialize(*fourth) : "no answer");
  const std::string message(fourth->at("error").at("message").as_string());
  EXPECT_NE(message.find("every agent failed"), std::string::npos) << message;
  EXPECT_NE(message.find("stuck: agent stuck did not end its cancelled turn"), std::string::npos) << message;
}

TEST(fanout_first_mode, a_prompt_held_for_a_stuck_loser_is_answered_when_its_deadline_passes) {
  fanout_driver d(
      {"--mode", "first", "--grace-ms", "300", named_agent("quick"), named_agent("stuck", {"--mode", "hang"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  auto first = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hello")));
  ASSERT_TRUE(first && first->contains("result"));
  // At once: quick crashes, stuck's part waits for its cancelled turn, which never ends.
  const auto started = e2e::clock::now();
  auto second = d.response(d.send("session/prompt", fanout_driver::prompt(session, "crash")), 5s);
  ASSERT_TRUE(second && second->contains("error")) << (second ? json::serialize(*second) : "no answer");
  EXPECT_LT(e2e::clock::now() - started, 3s);
  const auto& agents = second->at("error").at("data").at("fanout").at("agents");
  EXPECT_TRUE(agents.at("quick").as_object().contains("error"));
  const std::string stuck(agents.at("stuck").at("error").at("message").as_string());
  EXPECT_NE(stuck.find("did not end its cancelled turn"), std::string::npos) << stuck;
  EXPECT_TRUE(shows(d, "[stuck] failed: "));
}

TEST(fanout_sessions, session_new_continues_with_the_agents_that_accepted) {
  fanout_driver d({named_agent("open"), named_agent("locked", {"--auth-methods", "login"})});
  const auto init = d.response(d.send("initialize", json::object{{"protocolVersion", 1}}));
  ASSERT_TRUE(init && init->contains("result"));
  EXPECT_EQ(init->at("result").at("authMethods").at(0).at("id"), "locked/login");
  const auto created = d.response(d.send("session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
  ASSERT_TRUE(created && created->contains("result")) << (created ? json::serialize(*created) : "no answer");
  const auto& result = created->at("result");
  EXPECT_EQ(result.at("_meta").at("fanout").at("refused").at("locked").at("code"), -32000);
  const std::string session(result.at("sessionId").as_string());
  d.drain(200ms);
  EXPECT_TRUE(shows(d, "[locked] refused the session: Authentication required"));
  auto answer = d.response(d.send("session/prompt", fanout_driver::prompt(session, "hi")));
  ASSERT_TRUE(answer && answer->contains("result"));
  EXPECT_EQ(d.chunks_of("open"), (std::vector<std::string>{"echo: hi"}));
  const auto locked = d.chunks_of("locked"); // only the refusal notice: it was never prompted
  ASSERT_EQ(locked.size(), 1u);
  EXPECT_NE(locked[0].find("refused the session"), std::string::npos) << locked[0];
}

TEST(fanout_sessions, session_new_refused_by_every_agent_passes_the_auth_error_intact_and_authenticate_routes) {
  fanout_driver d({named_agent("a", {"--auth-methods", "login"}), named_agent("b", {"--auth-methods", "token"})});
  ASSERT_TRUE(d.response(d.send("initialize", json::object{{"protocolVersion", 1}})));
  const json::object new_params{{"cwd", "/tmp"}, {"mcpServers", json::array{}}};
  const auto refused = d.response(d.send("session/new", new_params));
  ASSERT_TRUE(refused && refused->contains("error")) << (refused ? json::serialize(*refused) : "no answer");
  EXPECT_EQ(refused->at("error").at("code"), -32000);
  EXPECT_EQ(refused->at("error").at("message"), "Authentication required");
  EXPECT_TRUE(refused->at("error").at("data").at("fanout").at("agents").as_object().contains("b"));
  // authenticate goes to the agent its prefix names; a method of the other agent is refused there.
  const auto wrong = d.response(d.send("authenticate", json::object{{"methodId", "a/token"}}));
  ASSERT_TRUE(wrong && wrong->contains("error"));
  const auto ok = d.response(d.send("authenticate", json::object{{"methodId", "b/token"}}));
  ASSERT_TRUE(ok && ok->contains("result")) << (ok ? json::serialize(*ok) : "no answer");
  const auto created = d.response(d.send("session/new", new_params));
  ASSERT_TRUE(created && created->contains("result")) << (created ? json::serialize(*created) : "no answer");
  const auto& sessions = created->at("result").at("_meta").at("fanout").at("sessions").as_object();
  EXPECT_TRUE(sessions.contains("b"));
  EXPECT_FALSE(sessions.contains("a")); // a still needs its login
}

TEST(fanout_sessions, the_only_agent_refusing_session_new_gives_its_error_verbatim) {
  fanout_driver d({named_agent("solo", {"--auth-methods", "login"})});
  ASSERT_TRUE(d.response(d.send("initialize", json::object{{"protocolVersion", 1}})));
  const auto refused = d.response(d.send("session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
  ASSERT_TRUE(refused && refused->contains("error"));
  EXPECT_EQ(refused->at("error"),
            (json::value(json::object{{"code", -32000}, {"message", "Authentication required"}})));
}

TEST(fanout_sessions, load_set_mode_and_set_config_option_reach_the_right_agents) {
  fanout_driver d({named_agent("m", {"--modes", "ask,code", "--config-options", "fast"}),
                   named_agent("n", {"--modes", "ask,code"})});
  const auto session = d.open_session();
  ASSERT_FALSE(session.empty());
  const auto mode = d.response(d.send("session/set_mode", json::object{{"sessionId", session}, {"modeId", "code"}}));
  ASSERT_TRUE(mode && mode->contains("result")) << (mode ? json::serialize(*mode) : "no answer");
  std::vector<std::string> mode_updates; // by agent, each mapped to the upstream session
  for (const auto& u : d.updates)
    if (u.at("update").at("sessionUpdate") == "current_mode_update") {
      EXPECT_EQ(u.at("sessionId"), json::value(session));
      mode_updates.emplace_back(u.at("update").at("_meta").at("fanout").at("agent").as_string());
    }
  std::sort(mode_updates.begin(), mode_updates.end());
  EXPECT_EQ(mode_updates, (std::vector<std::string>{"m", "n"}));
  const auto option = d.response(
      d.send("session/set_config_option", json::object{{"sessionId", session}, {"configId", "fast"}, {"value", "on"}}));
  ASSERT_TRUE(option && option->contains("result")) << (option ? json::serialize(*option) : "no answer");
  EXPECT_EQ(option->at("result").at("configOptions").at(0).at("currentValue"), "on"); // only m has it, and answered
  const auto loaded = d.response(
      d.send("session/load", json::object{{"sessionId", session}, {"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
  ASSERT_TRUE(loaded && loaded->contains("result")) << (loaded ? json::serialize(*loaded) : "no answer");
  EXPECT_EQ(d.chunks_of("m"), (std::vector<std::string>{"loaded sess-1"}));
  EXPECT_EQ(d.chunks_of("n"), (std::vector<std::string>{"loaded sess-1"}));
}

} // namespace
} // namespace acp::fanout_test
