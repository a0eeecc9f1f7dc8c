// acp-test-agent driven directly over its stdio, one JSON line at a time.
#include "process_helpers.hpp"

#include <acp/version.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace acp::e2e {
namespace {

namespace json = boost::json;
const std::string agent_bin = ACP_TEST_AGENT_BIN;

/// The test agent plus the client half of the protocol, written by hand.
class agent_fixture : public ::testing::Test {
protected:
  void start(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{agent_bin};
    argv.insert(argv.end(), args.begin(), args.end());
    agent_ = std::make_unique<line_child>(std::move(argv));
    ASSERT_TRUE(agent_->started());
  }

  void send(const json::value& v) { ASSERT_TRUE(agent_->send(json::serialize(v))); }

  /// The next line as JSON (fails the test on timeout or non-JSON).
  json::value next(clock::duration timeout = 5s) {
    auto line = agent_->read_line(timeout);
    if (!line) {
      ADD_FAILURE() << "no line from the agent within the timeout";
      return nullptr;
    }
    boost::system::error_code ec;
    auto v = json::parse(*line, ec);
    if (ec) ADD_FAILURE() << "not JSON: " << *line;
    return v;
  }

  json::value request(int id, std::string_view method, json::value params) {
    return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  }

  /// initialize + session/new; returns the session id.
  std::string open_session() {
    send(request(1, "initialize", json::object{{"protocolVersion", 1}}));
    auto init = next();
    send(request(2, "session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
    auto created = next();
    return std::string(created.at("result").at("sessionId").as_string());
  }

  void prompt(int id, const std::string& session, std::string_view text) {
    json::array blocks{json::object{{"type", "text"}, {"text", text}}};
    send(request(id, "session/prompt", json::object{{"sessionId", session}, {"prompt", std::move(blocks)}}));
  }

  static std::string chunk_text(const json::value& v) {
    return std::string(v.at("params").at("update").at("content").at("text").as_string());
  }

  std::unique_ptr<line_child> agent_;
};

TEST_F(agent_fixture, initialize_describes_the_agent) {
  start();
  send(request(7, "initialize", json::object{{"protocolVersion", 1}}));
  auto r = next();
  EXPECT_EQ(r.at("id"), 7);
  const auto& res = r.at("result");
  EXPECT_EQ(res.at("protocolVersion"), 1);
  EXPECT_EQ(res.at("agentCapabilities").at("loadSession"), false);
  EXPECT_TRUE(res.at("agentCapabilities").at("promptCapabilities").is_object());
  EXPECT_EQ(res.at("agentInfo").at("name"), "acp-test-agent");
  EXPECT_EQ(res.at("agentInfo").at("version"), ACP_VERSION);
}

TEST_F(agent_fixture, session_ids_count_up) {
  start();
  EXPECT_EQ(open_session(), "sess-1");
  send(request(3, "session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
  EXPECT_EQ(next().at("result").at("sessionId"), "sess-2");
}

TEST_F(agent_fixture, stream_chunks_carry_seq_meta_and_precede_the_response) {
  start();
  const auto s = open_session();
  prompt(10, s, "stream 3");
  for (int i = 1; i <= 3; ++i) {
    auto n = next();
    EXPECT_EQ(n.at("method"), "session/update");
    EXPECT_EQ(n.at("params").at("sessionId"), json::value(s));
    EXPECT_EQ(n.at("params").at("update").at("sessionUpdate"), "agent_message_chunk");
    EXPECT_EQ(chunk_text(n), "chunk " + std::to_string(i));
    EXPECT_EQ(n.at("params").at("update").at("_meta").at("seq"), i);
  }
  auto done = next();
  EXPECT_EQ(done.at("id"), 10);
  EXPECT_EQ(done.at("result").at("stopReason"), "end_turn");
}

TEST_F(agent_fixture, permission_asks_the_client_and_reports_the_choice) {
  start();
  const auto s = open_session();
  prompt(10, s, "permission");
  auto call = next();
  EXPECT_EQ(call.at("params").at("update").at("sessionUpdate"), "tool_call");
  EXPECT_EQ(call.at("params").at("update").at("title"), "Write file");
  auto ask = next();
  ASSERT_EQ(ask.at("method"), "session/request_permission");
  EXPECT_EQ(ask.at("params").at("toolCall").at("kind"), "edit");
  EXPECT_EQ(ask.at("params").at("toolCall").at("title"), "Write file");
  const auto& options = ask.at("params").at("options").as_array();
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0].at("kind"), "allow_once");
  EXPECT_EQ(options[1].at("kind"), "reject_once");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", ask.at("id")},
                    {"result", json::object{{"outcome", json::object{{"outcome", "cancelled"}}}}}});
  EXPECT_EQ(chunk_text(next()), "permission: cancelled");
  EXPECT_EQ(next().at("result").at("stopReason"), "end_turn");
}

TEST_F(agent_fixture, permission_asks_for_every_tool_kind) {
  start();
  const auto s = open_session();
  int id = 10;
  for (const char* kind :
       {"read", "edit", "delete", "move", "search", "execute", "think", "fetch", "switch_mode", "other"}) {
    prompt(++id, s, std::string("permission ") + kind);
    auto call = next();
    EXPECT_EQ(call.at("params").at("update").at("kind"), kind);
    auto ask = next();
    ASSERT_EQ(ask.at("method"), "session/request_permission");
    EXPECT_EQ(ask.at("params").at("toolCall").at("kind"), kind);
    send(json::object{
        {"jsonrpc", "2.0"},
        {"id", ask.at("id")},
        {"result", json::object{{"outcome", json::object{{"outcome", "selected"}, {"optionId", "allow"}}}}}});
    EXPECT_EQ(chunk_text(next()), "permission: selected allow");
    EXPECT_EQ(next().at("result").at("stopReason"), "end_turn");
  }
  prompt(++id, s, "permission execute rm -rf /tmp/x");
  EXPECT_EQ(next().at("params").at("update").at("title"), "rm -rf /tmp/x");
  EXPECT_EQ(next().at("params").at("toolCall").at("title"), "rm -rf /tmp/x");
}

TEST_F(agent_fixture, permission_with_an_unknown_tool_kind_says_so) {
  start();
  const auto s = open_session();
  prompt(10, s, "permission teleport");
  EXPECT_EQ(chunk_text(next()),
            "permission: unknown tool kind \"teleport\" (one of read, edit, delete, move, search, execute, think, "
            "fetch, switch_mode, other)");
  EXPECT_EQ(next().at("result").at("stopReason"), "end_turn");
}

TEST_F(agent_fixture, read_error_from_the_client_is_reported_in_a_chunk) {
  start();
  const auto s = open_session();
  prompt(10, s, "read /some/file");
  auto ask = next();
  ASSERT_EQ(ask.at("method"), "fs/read_text_file");
  EXPECT_EQ(ask.at("params").at("path"), "/some/file");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", ask.at("id")},
                    {"error", json::object{{"code", -32002}, {"message", "Resource not found"}}}});
  EXPECT_EQ(chunk_text(next()), "error: Resource not found");
  EXPECT_EQ(next().at("result").at("stopReason"), "end_turn");
}

TEST_F(agent_fixture, terminal_runs_create_wait_output_release) {
  start();
  const auto s = open_session();
  prompt(10, s, "terminal ls -l /tmp");
  auto create = next();
  ASSERT_EQ(create.at("method"), "terminal/create");
  EXPECT_EQ(create.at("params").at("command"), "ls");
  EXPECT_EQ(create.at("params").at("args"), (json::array{"-l", "/tmp"}));
  send(json::object{{"jsonrpc", "2.0"}, {"id", create.at("id")}, {"result", json::object{{"terminalId", "t1"}}}});
  auto wait = next();
  ASSERT_EQ(wait.at("method"), "terminal/wait_for_exit");
  send(json::object{{"jsonrpc", "2.0"}, {"id", wait.at("id")}, {"result", json::object{{"exitCode", 0}}}});
  auto output = next();
  ASSERT_EQ(output.at("method"), "terminal/output");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", output.at("id")},
                    {"result", json::object{{"output", "total 0\n"}, {"truncated", false}}}});
  auto release = next();
  ASSERT_EQ(release.at("method"), "terminal/release");
  EXPECT_EQ(release.at("params").at("terminalId"), "t1");
  send(json::object{{"jsonrpc", "2.0"}, {"id", release.at("id")}, {"result", json::object{}}});
  EXPECT_EQ(chunk_text(next()), "total 0\n");
  EXPECT_EQ(next().at("result").at("stopReason"), "end_turn");
}

TEST_F(agent_fixture, wait_for_cancel_answers_cancelled_after_session_cancel) {
  start();
  const auto s = open_session();
  prompt(10, s, "wait-for-cancel");
  EXPECT_FALSE(agent_->read_line(300ms)) << "answered before the cancel";
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  auto r = next();
  EXPECT_EQ(r.at("id"), 10);
  EXPECT_EQ(r.at("result").at("stopReason"), "cancelled");
}

TEST_F(agent_fixture, session_cancel_for_another_session_is_ignored) {
  start();
  const auto s = open_session();
  prompt(10, s, "wait-for-cancel");
  send(
      json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", "other"}}}});
  EXPECT_FALSE(agent_->read_line(300ms));
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  EXPECT_EQ(next().at("result").at("stopReason"), "cancelled");
}

TEST_F(agent_fixture, cancel_request_ends_wait_for_cancel) {
  start();
  const auto s = open_session();
  prompt(10, s, "wait-for-cancel");
  send(json::object{{"jsonrpc", "2.0"}, {"method", "$/cancel_request"}, {"params", json::object{{"requestId", 10}}}});
  auto r = next();
  EXPECT_EQ(r.at("id"), 10);
  EXPECT_EQ(r.at("result").at("stopReason"), "cancelled");
}

TEST_F(agent_fixture, session_cancel_stops_a_slow_stream) {
  start({"--delay-ms", "200"});
  const auto s = open_session();
  prompt(10, s, "stream 100");
  EXPECT_EQ(chunk_text(next()), "chunk 1");
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  auto r = next();
  EXPECT_EQ(r.at("id"), 10);
  EXPECT_EQ(r.at("result").at("stopReason"), "cancelled");
}

TEST_F(agent_fixture, garbage_writes_a_raw_line_then_answers) {
  start();
  const auto s = open_session();
  prompt(10, s, "garbage");
  auto raw = agent_->read_line();
  ASSERT_TRUE(raw);
  boost::system::error_code ec;
  (void)json::parse(*raw, ec);
  EXPECT_TRUE(ec) << "expected a non-JSON line, got " << *raw;
  EXPECT_EQ(chunk_text(next()), "garbage: sent");
  EXPECT_EQ(next().at("result").at("stopReason"), "end_turn");
  // What a client answers to such a line does not disturb the agent.
  send(json::object{
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", json::object{{"code", -32700}, {"message", "Parse error"}}}});
  prompt(11, s, "echo still here");
  EXPECT_EQ(chunk_text(next()), "echo: still here");
  EXPECT_EQ(next().at("id"), 11);
}

TEST_F(agent_fixture, hang_never_answers_and_ignores_later_requests) {
  start();
  const auto s = open_session();
  prompt(10, s, "hang");
  EXPECT_FALSE(agent_->read_line(300ms));
  send(request(11, "session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  EXPECT_FALSE(agent_->read_line(300ms));
}

TEST_F(agent_fixture, hang_ignores_the_end_of_input_until_a_signal) {
  start();
  const auto s = open_session();
  prompt(10, s, "hang");
  EXPECT_FALSE(agent_->read_line(200ms));
  agent_->close_stdin();
  EXPECT_FALSE(agent_->wait_exit(300ms)) << "a hung agent exited on end of input";
  ::kill(agent_->pid(), SIGTERM);
  auto st = agent_->wait_exit(5s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFSIGNALED(*st));
}

TEST_F(agent_fixture, crash_exits_with_status_3) {
  start();
  const auto s = open_session();
  prompt(10, s, "crash");
  auto st = agent_->wait_exit(5s);
  ASSERT_TRUE(st);
  ASSERT_TRUE(WIFEXITED(*st));
  EXPECT_EQ(WEXITSTATUS(*st), 3);
}

TEST_F(agent_fixture, closing_stdin_ends_the_agent_with_status_0) {
  start();
  (void)open_session();
  agent_->close_stdin();
  auto st = agent_->wait_exit(5s);
  ASSERT_TRUE(st);
  ASSERT_TRUE(WIFEXITED(*st));
  EXPECT_EQ(WEXITSTATUS(*st), 0);
}

TEST_F(agent_fixture, unknown_methods_get_method_not_found) {
  start();
  send(request(5, "session/list", json::object{{"cwd", "/"}}));
  EXPECT_EQ(next().at("error").at("code"), -32601);
}

TEST_F(agent_fixture, sigterm_lets_the_turn_finish_flushes_it_and_exits_143) {
  start({"--delay-ms", "100"});
  const auto s = open_session();
  prompt(10, s, "stream 4");
  EXPECT_EQ(chunk_text(next()), "chunk 1"); // the turn is running
  const auto signalled = clock::now();
  ::kill(agent_->pid(), SIGTERM);
  for (int i = 2; i <= 4; ++i) EXPECT_EQ(chunk_text(next()), "chunk " + std::to_string(i));
  auto done = next();
  EXPECT_EQ(done.at("id"), 10);
  EXPECT_EQ(done.at("result").at("stopReason"), "end_turn");
  EXPECT_FALSE(agent_->read_line(2s).has_value()); // then the end of its output
  auto st = agent_->wait_exit(3s);
  ASSERT_TRUE(st.has_value()) << "the agent did not exit after SIGTERM";
  ASSERT_TRUE(WIFEXITED(*st)) << "killed by signal " << WTERMSIG(*st);
  EXPECT_EQ(WEXITSTATUS(*st), 128 + SIGTERM);
  EXPECT_LT(clock::now() - signalled, 2s); // the turn's ~300 ms, not the 2 s grace period
}

} // namespace
} // namespace acp::e2e
