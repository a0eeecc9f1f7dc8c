// Remote components inside a local chain: the arrow proxy runs as a child, the agent is the SDK
// test agent serving on an address (`acp-test-agent --listen`). A network agent that dies
// mid-turn is a crashed child to the chain.
#include "remote_support.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace acp::remote_test {
namespace {

namespace json = boost::json;
using acp::net::test::temp_dir;

std::string dump(const std::optional<json::value>& v) { return v ? json::serialize(*v) : std::string("(none)"); }

std::vector<std::string> listening_agent(const std::string& url, std::vector<std::string> more = {}) {
  std::vector<std::string> argv{acp::test::test_agent_path(), "--listen", url};
  for (auto& m : more) argv.push_back(std::move(m));
  return argv;
}

// With port 0 the address exists only in that line (remote-cli.md: "prints `serving on URL`"),
// at the default log level.
TEST(remote_component, listening_test_agent_announces_its_address) {
  server agent(listening_agent("ws://127.0.0.1:0"), {}, 5s);
  EXPECT_EQ(agent.url().rfind("ws://127.0.0.1:", 0), 0u) << "stderr: " << agent.log();
  EXPECT_GT(agent.port(), 0);
}

TEST(remote_component, prompt_through_a_local_arrow_proxy_to_a_network_agent_and_back) {
  server agent(listening_agent("ws://127.0.0.1:0"));
  ASSERT_FALSE(agent.url().empty()) << agent.log();
  EXPECT_EQ(agent.url().rfind("ws://127.0.0.1:", 0), 0u) << agent.url();
  scripted_peer editor(acp::test::chain(
      {acp::test::component(acp::test::arrow_path()), "ws://127.0.0.1:" + std::to_string(agent.port()) + "/"}));
  const auto t = run_turn(editor, "echo through the network");
  ASSERT_TRUE(t.initialized) << dump(t.init) << editor.stderr_text();
  EXPECT_EQ(t.text, ">echo: through the network");
  EXPECT_EQ(t.stop_reason, "end_turn") << dump(t.answer);
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
  // The network agent outlives the chain and serves the next one.
  scripted_peer again(acp::test::chain({"ws://127.0.0.1:" + std::to_string(agent.port()) + "/"}));
  const auto t2 = run_turn(again, "echo second");
  EXPECT_EQ(t2.text, "echo: second") << dump(t2.init) << again.stderr_text();
  again.close_stdin();
  EXPECT_EQ(again.wait_exit(10s), 0);
}

TEST(remote_component, tcp_and_unix_agents_with_a_token) {
  temp_dir dir;
  const auto token = "component-token-" + std::to_string(::getpid());
  const auto tokens = token_file(dir, token);
  for (const auto& listen : std::vector<std::string>{"tcp://127.0.0.1:0", "unix:" + dir.file("agent.sock")}) {
    SCOPED_TRACE(listen);
    server agent(listening_agent(listen, {"--token-file", tokens}));
    ASSERT_FALSE(agent.url().empty()) << agent.log();
    {
      scripted_peer editor(
          acp::test::chain({acp::test::component(acp::test::arrow_path()), agent.url()}, {"--token-file", tokens}));
      const auto t = run_turn(editor, "echo with a token");
      EXPECT_EQ(t.text, ">echo: with a token") << dump(t.init) << editor.stderr_text();
      EXPECT_EQ(t.stop_reason, "end_turn");
      editor.close_stdin();
      EXPECT_EQ(editor.wait_exit(10s), 0);
    }
    // Without the token the component refuses, and the editor is told.
    scripted_peer editor(acp::test::chain({agent.url()}));
    const auto init = editor.initialize();
    EXPECT_NE(error_of(init), nullptr) << dump(init);
    EXPECT_EQ(editor.wait_exit(10s), 1) << editor.stderr_text();
  }
}

/// The text of each file in `dir` whose name has `-LABEL-` (`C`, `0`, `1`, ...) after its time.
std::map<std::string, std::string> debug_logs(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string(); // YYYYmmdd-HHMMSS-LABEL-NAME.log
    if (name.size() < 17) continue;
    const auto label = name.substr(16, name.find('-', 16) - 16);
    std::ifstream f(e.path());
    std::stringstream text;
    text << f.rdbuf();
    out[label] = text.str();
  }
  return out;
}

// --debug-dir records a remote component's link as it does a child's: what was sent to it (→)
// and what it answered (←), over WebSocket and over TCP; the bearer token is never in a file.
TEST(remote_component, debug_dir_records_what_a_remote_link_carried_but_never_its_token) {
  temp_dir dir;
  const auto token = "component-token-" + std::to_string(::getpid());
  const auto tokens = token_file(dir, token);
  for (const auto* scheme : {"ws", "tcp"}) {
    SCOPED_TRACE(scheme);
    server agent(listening_agent(std::string(scheme) + "://127.0.0.1:0", {"--token-file", tokens}));
    ASSERT_FALSE(agent.url().empty()) << agent.log();
    const auto logs = dir.file(std::string("logs-") + scheme);
    {
      scripted_peer editor(acp::test::chain({acp::test::component(acp::test::arrow_path()), agent.url()},
                                            {"--token-file", tokens, "--debug-dir", logs}));
      const auto t = run_turn(editor, "echo logged");
      EXPECT_EQ(t.text, ">echo: logged") << dump(t.init) << editor.stderr_text();
      editor.close_stdin();
      EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
    }
    auto files = debug_logs(logs);
    ASSERT_EQ(files.size(), 3u) << "expected C, 0 and 1 in " << logs;
    const auto& remote = files["1"];
    EXPECT_NE(remote.find("Component 1: " + agent.url()), std::string::npos) << remote;
    EXPECT_NE(remote.find("1 → "), std::string::npos) << remote;
    EXPECT_NE(remote.find(R"("method":"initialize")"), std::string::npos) << remote;
    EXPECT_NE(remote.find(R"("method":"session/prompt")"), std::string::npos) << remote;
    EXPECT_NE(remote.find("1 ← "), std::string::npos) << remote;
    EXPECT_NE(remote.find("echo: logged"), std::string::npos) << remote;
    // Every message on a line of its own: no line carries two.
    std::istringstream lines(remote);
    for (std::string l; std::getline(lines, l);) EXPECT_EQ(l.find("}{"), std::string::npos) << l;
    for (const auto& [label, text] : files) EXPECT_EQ(text.find(token), std::string::npos) << "token in file " << label;
  }
}

TEST(remote_component, a_network_agent_that_dies_mid_turn_answers_the_pending_prompt_as_a_crashed_child_does) {
  server agent(listening_agent("ws://127.0.0.1:0"));
  ASSERT_FALSE(agent.url().empty()) << agent.log();
  scripted_peer editor(acp::test::chain(
      {acp::test::component(acp::test::arrow_path()), "ws://127.0.0.1:" + std::to_string(agent.port()) + "/"}));
  const auto t = run_turn(editor, "echo first");
  ASSERT_EQ(t.text, ">echo: first") << dump(t.init) << editor.stderr_text();
  const auto children = editor.descendants();
  ASSERT_EQ(children.size(), 1u) << "expected the arrow proxy as the only child";
  editor.send(acp::test::prompt_request("pending", t.session, "wait-for-cancel"));
  std::this_thread::sleep_for(300ms);
  ::kill(-agent.pid(), SIGKILL);
  const auto answer = editor.read_response("pending", nullptr, 10s);
  ASSERT_TRUE(answer) << "the pending prompt was never answered: " << editor.stderr_text();
  const auto* error = error_of(answer);
  ASSERT_NE(error, nullptr) << dump(answer);
  EXPECT_EQ(error->at("code"), -32603) << dump(answer);
  EXPECT_EQ(error_reason(answer), "component_exited") << dump(answer);
  EXPECT_NE(dump(answer).find("ws://127.0.0.1:" + std::to_string(agent.port())), std::string::npos)
      << "the error should name the component: " << dump(answer);
  EXPECT_EQ(editor.wait_exit(10s), 1) << editor.stderr_text();
  EXPECT_TRUE(acp::test::all_gone(children)) << "the arrow proxy outlived the chain";
}

} // namespace
} // namespace acp::remote_test
