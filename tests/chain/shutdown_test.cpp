// Ending a chain mid-turn (docs/PROTOCOL.md §6): the turn is cancelled as an editor cancels it,
// the components are heard until they exit (nobody writes into a closed pipe), the trace holds
// what the conductor said itself, and a component that ignores EOF is named in the log.
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace acp::test {
namespace {
namespace json = boost::json;
using clock = std::chrono::steady_clock;

/// acp-chain-test-component's stream-agent: streams until cancelled, complains of EPIPE.
std::string stream_agent(std::vector<std::string> args = {}) {
  args.insert(args.begin(), "stream-agent");
  return component(component_path(), args);
}

std::vector<std::string> through_arrows(const std::string& agent) {
  return {component(arrow_path()), component(arrow_path()), agent};
}

/// No warning or error from the conductor or a component: a shutdown is no news.
bool quiet(const std::string& text) {
  return text.find("warn:") == std::string::npos && text.find("error:") == std::string::npos;
}

bool mentions_epipe(const std::string& text) {
  for (const char* word : {"EPIPE", "Broken pipe", "broken pipe", "SIGPIPE"})
    if (text.find(word) != std::string::npos) return true;
  return false;
}

/// Sends a prompt (id 1) and reads a few of its updates: the agent is streaming.
void start_turn(scripted_peer& editor, const std::string& session, int updates = 5) {
  editor.send(prompt_request(1, session, "go"));
  for (int i = 0; i < updates; ++i) {
    auto m = editor.read(5s);
    ASSERT_TRUE(m) << editor.stderr_text();
    ASSERT_EQ(m->at("method"), "session/update");
  }
}

std::chrono::milliseconds since(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t);
}

class trace_file {
public:
  trace_file()
      : path_(std::filesystem::temp_directory_path() /
              ("acp-shutdown-trace-" + std::to_string(::getpid()) + "-" + std::to_string(++count_) + ".jsonl")) {
    std::filesystem::remove(path_);
  }
  ~trace_file() { std::filesystem::remove(path_); }
  [[nodiscard]] std::string path() const { return path_.string(); }
  [[nodiscard]] std::vector<json::object> events() const {
    std::ifstream f(path_);
    std::vector<json::object> out;
    for (std::string line; std::getline(f, line);) out.push_back(json::parse(line).as_object());
    return out;
  }

private:
  static inline int count_ = 0;
  std::filesystem::path path_;
};

/// The response events traced towards the client for `id`.
std::vector<json::object> responses_to_client(const std::vector<json::object>& events, const json::value& id) {
  std::vector<json::object> out;
  for (const auto& e : events)
    if (e.at("type") == "response" && e.at("to") == "Client" && e.at("id") == id) out.push_back(e);
  return out;
}

/// The traced responses to the editor's requests `method`: each request is traced under the id
/// of the link it took, and its response under the same id (docs/PROTOCOL.md §7).
std::vector<json::object> responses_to_client_request(const std::vector<json::object>& events, const char* method) {
  std::vector<json::object> out;
  for (const auto& q : events) {
    if (q.at("type") != "request" || q.at("from") != "Client" || q.at("method") != method) continue;
    for (const auto& e : events)
      if (e.at("type") == "response" && e.at("to") == "Client" && e.at("from") == q.at("to") &&
          e.at("id") == q.at("id"))
        out.push_back(e);
  }
  return out;
}

bool has_cancel(const std::vector<json::object>& events, const char* from, const char* to) {
  for (const auto& e : events)
    if (e.at("type") == "notification" && e.at("method") == "session/cancel" && e.at("from") == from &&
        e.at("to") == to)
      return true;
  return false;
}

TEST(shutdown, editor_closing_its_input_mid_turn_cancels_the_turn_without_epipe_anywhere) {
  scripted_peer editor(chain(through_arrows(stream_agent()), {"--grace-period", "2s"}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  ASSERT_EQ(tree.size(), 3u);
  start_turn(editor, session);
  const auto closed = clock::now();
  editor.close_stdin();
  std::vector<json::value> seen;
  auto r = editor.read_response(1, &seen, 5s);
  ASSERT_TRUE(r) << editor.stderr_text();
  EXPECT_EQ(r->at("error").at("code"), -32603);
  EXPECT_EQ(r->at("error").at("data").at("reason"), "incoming_transport_closed");
  std::vector<std::string> extra;
  EXPECT_TRUE(editor.read_eof(10s, &extra));
  EXPECT_TRUE(extra.empty()) << "nothing reaches the editor after its answer: " << extra.front();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_LT(since(closed), 1900ms) << "the agent ended its turn and exited at EOF: no grace period spent";
  EXPECT_TRUE(all_gone(tree));
  const auto err = editor.stderr_text();
  EXPECT_NE(err.find("received session/cancel"), std::string::npos) << "the cancel went down the chain:\n" << err;
  EXPECT_FALSE(mentions_epipe(err)) << err;
  EXPECT_TRUE(quiet(err)) << err;
}

TEST(shutdown, an_editor_gone_altogether_mid_turn_leaves_no_epipe_in_the_conductors_stderr) {
  // The editor closes its end of the conductor's output too: the answer the conductor owes it
  // cannot be written, which is no news worth a warning.
  scripted_peer editor(chain(through_arrows(stream_agent({"every=50"})), {"--grace-period", "2s"}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  start_turn(editor, session, 2);
  editor.close_stdout();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
  EXPECT_TRUE(all_gone(tree));
  const auto err = editor.stderr_text();
  EXPECT_FALSE(mentions_epipe(err)) << err;
  EXPECT_NE(err.find("received session/cancel"), std::string::npos) << err;
}

TEST(shutdown, an_agent_that_ignores_the_cancel_costs_at_most_the_grace_period) {
  scripted_peer editor(chain(through_arrows(stream_agent({"ignore-cancel"})), {"--grace-period", "300ms"}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  start_turn(editor, session);
  const auto closed = clock::now();
  editor.close_stdin();
  auto r = editor.read_response(1, nullptr, 5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("code"), -32603);
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_LT(since(closed), 2000ms) << "300 ms for the cancel, then EOF (which it obeys)";
  EXPECT_TRUE(all_gone(tree));
  const auto err = editor.stderr_text();
  EXPECT_NE(err.find("received session/cancel"), std::string::npos) << err;
  EXPECT_NE(err.find("the turn did not end within 300 ms of session/cancel"), std::string::npos) << err;
  EXPECT_FALSE(mentions_epipe(err)) << err;
  EXPECT_TRUE(quiet(err)) << err;
}

TEST(shutdown, an_agent_that_ignores_eof_is_named_with_its_grace_period_and_the_signal_that_ended_it) {
  scripted_peer editor(chain({stream_agent({"ignore-eof"})}, {"--grace-period", "300ms"}));
  ASSERT_TRUE(editor.initialize());
  const auto tree = editor.descendants();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_TRUE(all_gone(tree));
  const auto err = editor.stderr_text();
  EXPECT_NE(err.find("info: agent `acp-chain-test-component` did not exit within 300 ms of EOF; sending SIGTERM"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("info: agent `acp-chain-test-component` ended by SIGTERM"), std::string::npos) << err;
}

TEST(shutdown, an_agent_that_ignores_eof_and_sigterm_is_reported_ended_by_sigkill) {
  const std::string agent =
      component("/bin/sh", {"-c", "trap '' TERM; exec \"$0\" \"$@\"", component_path(), "stream-agent", "ignore-eof"});
  scripted_peer editor(chain({agent}, {"--grace-period", "200ms"}));
  ASSERT_TRUE(editor.initialize());
  const auto tree = editor.descendants();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_TRUE(all_gone(tree));
  const auto err = editor.stderr_text();
  EXPECT_NE(err.find("agent `sh` did not exit within 200 ms of EOF; sending SIGTERM"), std::string::npos) << err;
  EXPECT_NE(err.find("agent `sh` did not exit within 500 ms of SIGTERM; ended by SIGKILL"), std::string::npos) << err;
}

TEST(shutdown, the_trace_of_a_chain_shut_down_mid_turn_holds_the_editors_error_and_the_cancel) {
  trace_file trace;
  scripted_peer editor(chain(through_arrows(stream_agent()), {"--trace", trace.path()}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  start_turn(editor, session);
  editor.close_stdin();
  auto r = editor.read_response(1, nullptr, 5s);
  ASSERT_TRUE(r);
  ASSERT_EQ(editor.wait_exit(10s), 0);
  const auto events = trace.events();
  const auto answers = responses_to_client_request(events, "session/prompt");
  ASSERT_EQ(answers.size(), 1u) << "the editor got one answer, and the trace says which";
  EXPECT_EQ(answers[0].at("is_error"), true);
  EXPECT_EQ(answers[0].at("from"), "Proxy(0)");
  EXPECT_EQ(answers[0].at("payload"), r->at("error"));
  EXPECT_TRUE(has_cancel(events, "Client", "Proxy(0)"));
  EXPECT_TRUE(has_cancel(events, "Proxy(1)", "Agent")) << "through both proxies";
}

TEST(shutdown, the_trace_holds_the_error_the_editor_got_when_the_agent_crashed_mid_turn) {
  trace_file trace;
  scripted_peer editor(chain({component(arrow_path()), component(arrow_path()), component(test_agent_path())},
                             {"--trace", trace.path()}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(prompt_request(1, session, "crash"));
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r);
  ASSERT_EQ(editor.wait_exit(10s), 1);
  const auto answers = responses_to_client_request(trace.events(), "session/prompt");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].at("payload"), r->at("error"));
  EXPECT_EQ(editor.stderr_text().find("second answer"), std::string::npos) << editor.stderr_text();
}

TEST(shutdown, the_trace_holds_the_answers_the_conductor_makes_itself) {
  trace_file trace;
  scripted_peer editor(chain({component(test_agent_path())}, {"--trace", trace.path()}));
  editor.send(request(7, "session/new", json::object{{"cwd", "/"}, {"mcpServers", json::array()}}));
  auto refused = editor.read(5s);
  ASSERT_TRUE(refused);
  ASSERT_EQ(refused->at("error").at("code"), -32600);
  editor.close_stdin();
  ASSERT_TRUE(editor.wait_exit(10s));
  const auto answers = responses_to_client(trace.events(), 7);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].at("payload"), refused->at("error"));
}

TEST(shutdown, the_trace_holds_what_a_connection_answers_by_itself) {
  trace_file trace;
  scripted_peer editor(chain({component(test_agent_path())}, {"--trace", trace.path()}));
  ASSERT_TRUE(editor.initialize());
  editor.send_line("this is not json");
  auto parse_error = editor.read(5s);
  ASSERT_TRUE(parse_error);
  ASSERT_EQ(parse_error->at("error").at("code"), -32700);
  editor.send_line(R"({"jsonrpc":"2.0","id":"bad","method":5})");
  auto invalid = editor.read(5s);
  ASSERT_TRUE(invalid);
  ASSERT_EQ(invalid->at("error").at("code"), -32600);
  editor.close_stdin();
  ASSERT_TRUE(editor.wait_exit(10s));
  const auto events = trace.events();
  const auto null_id = responses_to_client(events, nullptr);
  ASSERT_EQ(null_id.size(), 1u) << "the -32700 answer (id null) is traced once";
  EXPECT_EQ(null_id[0].at("payload"), parse_error->at("error"));
  const auto bad = responses_to_client(events, "bad");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].at("payload"), invalid->at("error"));
}

TEST(shutdown, the_trace_holds_a_cancel_request_on_every_hop_it_was_reissued) {
  trace_file trace;
  scripted_peer editor(chain({component(arrow_path()), component(test_agent_path())}, {"--trace", trace.path()}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(prompt_request("p", session, "wait-for-cancel"));
  ASSERT_FALSE(editor.read(200ms));
  editor.send(json::parse(R"({"jsonrpc":"2.0","method":"$/cancel_request","params":{"requestId":"p"}})"));
  ASSERT_TRUE(editor.read_response("p", nullptr));
  editor.close_stdin();
  ASSERT_EQ(editor.wait_exit(10s), 0);
  std::vector<std::string> hops;
  for (const auto& e : trace.events())
    if (e.at("type") == "notification" && e.at("method") == "$/cancel_request")
      hops.push_back(std::string(e.at("from").as_string()) + "->" + std::string(e.at("to").as_string()));
  EXPECT_EQ(hops, (std::vector<std::string>{"Client->Proxy(0)", "Proxy(0)->Agent"}));
}

} // namespace
} // namespace acp::test
