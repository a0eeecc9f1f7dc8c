// The conductor's lifecycle (docs/PROTOCOL.md §6): failing components, the editor going away,
// signals, and no process left behind in any case.
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace acp::test {
namespace {
namespace json = boost::json;

std::vector<std::string> arrow_and_agent(std::vector<std::string> agent_args = {}) {
  return {component(arrow_path()), component(arrow_path()), component(test_agent_path(), agent_args)};
}

struct crash_case {
  const char* prompt;
  const char* exit_status;
};

class component_ends_mid_turn : public ::testing::TestWithParam<crash_case> {};

TEST_P(component_ends_mid_turn, editor_gets_one_error_naming_the_agent_and_the_chain_ends) {
  scripted_peer editor(chain(arrow_and_agent()));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  ASSERT_EQ(tree.size(), 3u);
  editor.send(prompt_request(1, session, GetParam().prompt));
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r) << editor.stderr_text();
  const auto& error = r->at("error");
  EXPECT_EQ(error.at("code"), -32603);
  EXPECT_EQ(error.at("data").at("component"), "acp-test-agent");
  EXPECT_EQ(error.at("data").at("reason"), "component_exited");
  EXPECT_EQ(error.at("data").at("exit_status"), GetParam().exit_status);
  std::vector<std::string> extra;
  EXPECT_TRUE(editor.read_eof(10s, &extra)) << "the conductor closes its output";
  EXPECT_TRUE(extra.empty()) << "nothing after the end: " << extra.front();
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_TRUE(all_gone(tree));
}
INSTANTIATE_TEST_SUITE_P(cases, component_ends_mid_turn,
                         ::testing::Values(crash_case{"crash", "exited with status 3"},
                                           crash_case{"exit", "exited with status 0"}));

TEST(lifecycle, a_proxy_killed_by_a_signal_is_reported_with_the_signal) {
  scripted_peer editor(chain(arrow_and_agent()));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  editor.send(prompt_request(1, session, "wait-for-cancel"));
  ASSERT_FALSE(editor.read(200ms));
  // The first component the conductor started is the first arrow proxy.
  pid_t first_proxy = 0;
  for (auto pid : tree) {
    std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
    std::string argv0;
    std::getline(cmd, argv0, '\0');
    if (argv0 == arrow_path() && (first_proxy == 0 || pid < first_proxy)) first_proxy = pid;
  }
  ASSERT_NE(first_proxy, 0);
  ::kill(first_proxy, SIGKILL);
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("data").at("exit_status"), "killed by signal 9");
  EXPECT_EQ(r->at("error").at("data").at("component"), "acp-arrow-proxy");
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_TRUE(all_gone(tree));
}

TEST(lifecycle, the_stderr_tail_of_a_failed_component_is_in_the_error) {
  scripted_peer editor(chain({component(test_agent_path())}, {"--stderr", "tail"}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(prompt_request(1, session, "stderr last words"));
  ASSERT_TRUE(editor.read_response(1, nullptr));
  editor.send(prompt_request(2, session, "crash"));
  auto r = editor.read_response(2, nullptr);
  ASSERT_TRUE(r);
  EXPECT_NE(json::serialize(r->at("error").at("data").at("stderr_tail")).find("last words"), std::string::npos)
      << json::serialize(*r);
  EXPECT_EQ(editor.stderr_text().find("[acp-test-agent]"), std::string::npos) << "--stderr tail does not forward";
}

TEST(lifecycle, component_stderr_is_forwarded_with_its_name) {
  scripted_peer editor(chain({component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(prompt_request(1, session, "stderr hello there"));
  ASSERT_TRUE(editor.read_response(1, nullptr));
  editor.close_stdin();
  ASSERT_TRUE(editor.wait_exit(10s));
  EXPECT_NE(editor.stderr_text().find("[acp-test-agent] hello there"), std::string::npos) << editor.stderr_text();
}

TEST(lifecycle, a_reader_of_the_conductors_stderr_that_never_reads_does_not_stall_the_chain) {
  // The agent's group spews stderr for as long as it lives; the conductor's stderr is a pipe to
  // a `sleep` that never reads it. Forwarded lines must not hold up the routing.
  const std::string agent =
      component("/bin/sh", {"-c", "yes 'spew spew spew spew spew spew' >&2 & exec \"$0\"", test_agent_path()});
  std::vector<std::string> argv{"/bin/sh", "-c", "exec 3>&1; \"$@\" 2>&1 >&3 3>&- | sleep 60", "sh"};
  for (auto& a : chain({agent})) argv.push_back(a);
  scripted_peer editor(argv);
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  for (int i = 1; i <= 3; ++i) {
    editor.send(prompt_request(i, session, "echo round " + std::to_string(i)));
    std::vector<json::value> seen;
    auto r = editor.read_response(i, &seen);
    ASSERT_TRUE(r) << "the chain stalled in round " << i;
    EXPECT_EQ(chunk_text(seen), "echo: round " + std::to_string(i));
  }
}

TEST(lifecycle, editor_eof_answers_pending_requests_and_stops_a_hung_agent) {
  scripted_peer editor(chain(arrow_and_agent(), {"--grace-period", "300ms"}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  editor.send(prompt_request("stuck", session, "hang"));
  ASSERT_FALSE(editor.read(200ms));
  editor.close_stdin();
  auto r = editor.read_response("stuck", nullptr, 5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("code"), -32603);
  EXPECT_EQ(r->at("error").at("data").at("reason"), "incoming_transport_closed");
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code) << "the hung agent (which ignores EOF) must not keep the conductor alive";
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(all_gone(tree));
}

class shutdown_signal : public ::testing::TestWithParam<int> {};

TEST_P(shutdown_signal, is_an_orderly_shutdown) {
  scripted_peer editor(chain(arrow_and_agent(), {"--grace-period", "300ms"}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  const auto tree = editor.descendants();
  editor.send(prompt_request(9, session, "wait-for-cancel"));
  ASSERT_FALSE(editor.read(200ms));
  editor.signal(GetParam());
  auto r = editor.read_response(9, nullptr, 5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("code"), -32603);
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(all_gone(tree));
}
INSTANTIATE_TEST_SUITE_P(signals, shutdown_signal, ::testing::Values(SIGTERM, SIGINT));

TEST(lifecycle, grandchildren_of_a_component_die_with_the_chain) {
  // The agent's command leaves a `sleep` behind that ignores its input: only signalling the
  // component's whole process group ends it.
  const std::string agent = "sh -c " + component("sleep 300 & exec " + test_agent_path());
  scripted_peer editor(chain({component(arrow_path()), agent}, {"--grace-period", "200ms"}));
  ASSERT_TRUE(editor.initialize());
  const auto tree = editor.descendants();
  ASSERT_EQ(tree.size(), 3u) << "arrow, agent, sleep";
  editor.close_stdin();
  ASSERT_EQ(editor.wait_exit(10s), 0);
  EXPECT_TRUE(all_gone(tree));
}

TEST(lifecycle, garbage_on_an_agents_stdout_is_answered_and_the_turn_completes) {
  scripted_peer editor(chain(arrow_and_agent()));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  editor.send(prompt_request(3, session, "garbage"));
  auto r = editor.read_response(3, &seen);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("stopReason"), "end_turn");
  EXPECT_EQ(chunk_text(seen), ">>garbage: sent");
  editor.close_stdin();
  ASSERT_TRUE(editor.wait_exit(10s));
  EXPECT_NE(editor.stderr_text().find("Parse error"), std::string::npos) << "the bad line is logged";
}

TEST(lifecycle, malformed_editor_lines_are_answered_and_reading_goes_on) {
  scripted_peer editor(chain({component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  editor.send_line("this is not json");
  auto e = editor.read(5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("error").at("code"), -32700);
  EXPECT_TRUE(e->at("id").is_null());
  editor.send_line(R"({"jsonrpc":"2.0","id":5,"params":{}})");
  auto invalid = editor.read(5s);
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->at("error").at("code"), -32600);
  EXPECT_EQ(invalid->at("id"), 5);
  EXPECT_FALSE(editor.new_session().empty()) << "the chain still works";
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
}

TEST(lifecycle, an_oversized_editor_message_is_refused_and_the_chain_shuts_down) {
  scripted_peer editor(chain({component(test_agent_path())}, {"--max-message-size", "1KiB"}));
  ASSERT_TRUE(editor.initialize());
  const auto tree = editor.descendants();
  editor.send(request(1, "session/new", json::object{{"cwd", std::string(4096, 'x')}, {"mcpServers", json::array()}}));
  auto r = editor.read(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("data").at("reason"), "message_too_large");
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_TRUE(all_gone(tree));
}

TEST(lifecycle, the_trace_file_is_private_and_has_one_event_per_routed_message) {
  const auto path = std::filesystem::temp_directory_path() / ("acp-trace-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  {
    scripted_peer editor(chain({component(arrow_path()), component(test_agent_path())}, {"--trace", path.string()}));
    ASSERT_TRUE(editor.initialize());
    editor.close_stdin();
    ASSERT_EQ(editor.wait_exit(10s), 0);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream f(path);
  std::vector<json::value> events;
  for (std::string line; std::getline(f, line);) events.push_back(json::parse(line));
  std::filesystem::remove(path);
  // initialize: Client -> Proxy(0), Proxy(0) -> Agent, and the two responses.
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].at("type"), "request");
  EXPECT_EQ(events[0].at("from"), "Client");
  EXPECT_EQ(events[0].at("to"), "Proxy(0)");
  EXPECT_EQ(events[0].at("method"), "_proxy/initialize");
  EXPECT_EQ(events[1].at("from"), "Proxy(0)");
  EXPECT_EQ(events[1].at("to"), "Agent");
  EXPECT_EQ(events[1].at("method"), "initialize");
  EXPECT_EQ(events[2].at("type"), "response");
  EXPECT_EQ(events[3].at("to"), "Client");
}

TEST(command_line, help_version_and_usage_errors) {
  {
    scripted_peer p({conductor_path(), "--help"});
    EXPECT_EQ(p.wait_exit(10s), 0);
  }
  {
    scripted_peer p({conductor_path(), "--version"});
    auto line = p.read_eof(5s);
    EXPECT_TRUE(line);
    EXPECT_EQ(p.wait_exit(10s), 0);
  }
  for (std::vector<std::string> bad : {std::vector<std::string>{"agent"},
                                       {"--bogus", "agent", "x"},
                                       {},
                                       {"agent", "'unterminated"},
                                       {"--grace-period", "soon", "agent", "x"},
                                       {"--trace", "/nonexistent-dir/t", "agent", "x"}}) {
    bad.insert(bad.begin(), conductor_path());
    scripted_peer p(bad);
    p.close_stdin();
    const auto code = p.wait_exit(10s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 2) << bad.back();
    const auto err = p.stderr_text();
    EXPECT_EQ(err.rfind("acp-conductor: ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;
  }
}

} // namespace
} // namespace acp::test

namespace acp::test {
namespace {
// Found by fuzzing: a request held back until the agent answers `initialize` must still be
// answered when the agent dies before answering.
TEST(lifecycle, requests_held_for_an_agent_that_dies_during_initialize_are_answered) {
  scripted_peer editor(chain({"sh -c 'read line; exit 3'"}));
  editor.send(request(0, "initialize", json::object{{"protocolVersion", 1}}));
  editor.send(request(1, "session/new", json::object{{"cwd", "/"}, {"mcpServers", json::array()}}));
  std::vector<json::value> seen;
  auto held = editor.read_response(1, &seen);
  ASSERT_TRUE(held) << editor.stderr_text();
  EXPECT_EQ(held->at("error").at("code"), -32603);
  bool init_answered = false;
  for (auto& m : seen) init_answered = init_answered || (m.as_object().contains("id") && m.at("id") == 0);
  if (!init_answered) init_answered = editor.read_response(0, nullptr, 5s).has_value();
  EXPECT_TRUE(init_answered);
  EXPECT_EQ(editor.wait_exit(10s), 1);
}
} // namespace
} // namespace acp::test
