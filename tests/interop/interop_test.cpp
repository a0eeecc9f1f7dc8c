// Interop with the official TypeScript ACP SDK (@agentclientprotocol/sdk, pinned in
// CMakeLists.txt): its client and agent (js/*.mjs) against acp-conductor, our proxies, our agent
// and our client; and the older proxy generation (docs/PROTOCOL.md §4.7). Every wait is bounded. When
// the npm fixture could not install the SDK, every test is skipped with its reason.
#include "../e2e/process_helpers.hpp"
#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using acp::test::component;
using acp::test::scripted_peer;

const std::string node_dir = ACP_INTEROP_NODE_DIR;

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = fs::path(dir) / "node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

/// Why the SDK is unusable here ("" when it is installed).
std::string skip_reason() {
  std::ifstream reason(node_dir + "/skip-reason.txt");
  std::string text;
  if (reason && std::getline(reason, text) && !text.empty()) return text;
  if (find_node().empty()) return "node is not installed";
  if (!fs::exists(node_dir + "/node_modules/@agentclientprotocol/sdk/package.json"))
    return "@agentclientprotocol/sdk is not installed in " + node_dir + " (run the interop_npm_install test)";
  return {};
}

#define REQUIRE_TS_SDK()                                                                                               \
  do {                                                                                                                 \
    if (auto why = skip_reason(); !why.empty()) GTEST_SKIP() << why;                                                   \
  } while (0)

std::string sdk_agent(const std::vector<std::string>& args = {}) {
  std::vector<std::string> all{node_dir + "/sdk_agent.mjs"};
  all.insert(all.end(), args.begin(), args.end());
  return component(find_node(), all);
}

std::vector<std::string> sdk_agent_argv(const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv{find_node(), node_dir + "/sdk_agent.mjs"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

/// What the SDK client printed, up to its {"type":"done"} (or an error / the deadline).
struct client_run {
  std::vector<json::value> lines;
  bool done = false;
  std::optional<int> exit_code;
  std::string stderr_text;

  /// The raw messages received from the agent side.
  [[nodiscard]] std::vector<json::value> received() const {
    std::vector<json::value> out;
    for (const auto& l : lines)
      if (l.at("type") == "recv") out.push_back(l.at("message"));
    return out;
  }
  [[nodiscard]] const json::value* line(std::string_view type) const {
    for (const auto& l : lines)
      if (l.at("type") == json::value(json::string(type))) return &l;
    return nullptr;
  }
  /// The text of every agent_message_chunk, in order, one per element.
  [[nodiscard]] std::vector<std::string> chunks() const {
    std::vector<std::string> out;
    for (const auto& m : received()) {
      const auto& o = m.as_object();
      if (!o.contains("method") || o.at("method") != "session/update") continue;
      const auto& u = o.at("params").at("update");
      if (u.at("sessionUpdate") == "agent_message_chunk") out.emplace_back(u.at("content").at("text").as_string());
    }
    return out;
  }
  [[nodiscard]] std::string dump() const {
    std::string s;
    for (const auto& l : lines) s += json::serialize(l) + "\n";
    return s + "stderr:\n" + stderr_text;
  }
};

client_run run_sdk_client(const std::vector<std::string>& options, std::vector<std::string> command) {
  std::vector<std::string> argv{find_node(), node_dir + "/sdk_client.mjs"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.emplace_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  scripted_peer client(argv);
  client_run run;
  for (;;) {
    auto line = client.read(20s);
    if (!line) break;
    if (!line->is_object() || !line->as_object().contains("type")) continue;
    run.lines.push_back(*line);
    if (line->at("type") == "done") {
      run.done = true;
      break;
    }
  }
  client.close_stdin();
  run.exit_code = client.wait_exit(10s);
  run.stderr_text = client.stderr_text();
  return run;
}

std::vector<std::string> conductor(std::vector<std::string> components, std::vector<std::string> options = {}) {
  std::vector<std::string> argv{acp::test::conductor_path()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.emplace_back("agent");
  argv.insert(argv.end(), components.begin(), components.end());
  return argv;
}

const json::value meta = json::parse(R"({"interop":{"trace":"t-1","nested":[1,2,{"x":null}]}})");
const json::value extra = json::parse(R"({"x-unknown-field":{"kept":[true,"yes"]}})");

std::vector<std::string> meta_options(std::string prompt) {
  return {"--prompt",       std::move(prompt),     "--prompt-meta", json::serialize(meta),
          "--prompt-extra", json::serialize(extra)};
}

void expect_echo(const client_run& run) {
  const auto* prompt = run.line("prompt");
  ASSERT_NE(prompt, nullptr) << run.dump();
  const auto& result = prompt->at("result").as_object();
  EXPECT_EQ(result.at("stopReason"), "end_turn");
  const json::value expected_echo = {{"receivedMeta", meta}, {"unknownFields", extra}};
  EXPECT_EQ(result.at("_meta"), expected_echo) << run.dump();
  // The chunk carrying the echo, and the agent's unknown field on every chunk, arrive untouched.
  bool echo_chunk = false;
  for (const auto& m : run.received()) {
    const auto& o = m.as_object();
    if (!o.contains("method") || o.at("method") != "session/update") continue;
    const auto& u = o.at("params").at("update").as_object();
    EXPECT_EQ(u.at("x-agent-extra"), json::parse(R"({"kept":true})")) << run.dump();
    if (u.contains("_meta") && u.at("_meta") == expected_echo) echo_chunk = true;
  }
  EXPECT_TRUE(echo_chunk) << run.dump();
}

// ---- SDK client and SDK agent through the conductor -----------------------------------------

TEST(interop, sdk_client_through_conductor_and_two_arrow_proxies_to_sdk_agent) {
  REQUIRE_TS_SDK();
  auto run =
      run_sdk_client(meta_options("hi there"),
                     conductor({component(acp::test::arrow_path()), component(acp::test::arrow_path()), sdk_agent()}));
  ASSERT_TRUE(run.done) << run.dump();
  EXPECT_EQ(run.exit_code, 0);
  const auto chunks = run.chunks();
  ASSERT_GE(chunks.size(), 3u) << run.dump();
  EXPECT_EQ(chunks[0], ">>ts-agent: part 1");
  EXPECT_EQ(chunks[1], ">>ts-agent: hi there");
  EXPECT_EQ(run.line("session")->at("result").at("sessionId"), "ts-sess-1");
  expect_echo(run);
}

TEST(interop, sdk_client_directly_to_sdk_agent_baseline) {
  REQUIRE_TS_SDK();
  auto run = run_sdk_client(meta_options("plain"), sdk_agent_argv());
  ASSERT_TRUE(run.done) << run.dump();
  EXPECT_EQ(run.chunks().at(1), "ts-agent: plain");
  expect_echo(run);
}

TEST(interop, permission_request_through_the_chain) {
  REQUIRE_TS_SDK();
  for (std::string answer : {"allow", "reject"}) {
    auto run = run_sdk_client(
        {"--prompt", "permission", "--permission", answer},
        conductor({component(acp::test::arrow_path()), component(acp::test::arrow_path()), sdk_agent()}));
    ASSERT_TRUE(run.done) << run.dump();
    bool asked = false;
    for (const auto& m : run.received())
      asked = asked || (m.as_object().contains("method") && m.at("method") == "session/request_permission");
    EXPECT_TRUE(asked) << run.dump();
    EXPECT_EQ(run.chunks().at(0), ">>permission: " + answer) << run.dump();
  }
}

TEST(interop, fs_read_request_through_the_chain) {
  REQUIRE_TS_SDK();
  const auto file = fs::temp_directory_path() / ("acp-interop-read-" + std::to_string(::getpid()) + ".txt");
  acp::e2e::write_whole(file, "contents from the editor's disk");
  auto run =
      run_sdk_client({"--prompt", "read " + file.string()},
                     conductor({component(acp::test::arrow_path()), component(acp::test::arrow_path()), sdk_agent()}));
  fs::remove(file);
  ASSERT_TRUE(run.done) << run.dump();
  EXPECT_EQ(run.chunks().at(0), ">>read: contents from the editor's disk") << run.dump();
}

// ---- the SDK client against our agent, our client against the SDK agent --------------------

TEST(interop, sdk_client_to_our_test_agent) {
  REQUIRE_TS_SDK();
  auto run = run_sdk_client({"--prompt", "echo from the TypeScript SDK"}, {acp::test::test_agent_path()});
  ASSERT_TRUE(run.done) << run.dump();
  EXPECT_EQ(run.chunks(), std::vector<std::string>{"echo: from the TypeScript SDK"});
  EXPECT_EQ(run.line("prompt")->at("result").at("stopReason"), "end_turn");
}

TEST(interop, sdk_client_to_our_test_agent_permission_and_fs_through_conductor) {
  REQUIRE_TS_SDK();
  auto perm = run_sdk_client({"--prompt", "permission"},
                             conductor({component(acp::test::arrow_path()), component(acp::test::test_agent_path())}));
  ASSERT_TRUE(perm.done) << perm.dump();
  EXPECT_EQ(perm.chunks().back(), ">permission: selected allow") << perm.dump();

  const auto file = fs::temp_directory_path() / ("acp-interop-ours-" + std::to_string(::getpid()) + ".txt");
  acp::e2e::write_whole(file, "served by the SDK client");
  auto read = run_sdk_client({"--prompt", "read " + file.string()},
                             conductor({component(acp::test::arrow_path()), component(acp::test::test_agent_path())}));
  fs::remove(file);
  ASSERT_TRUE(read.done) << read.dump();
  EXPECT_EQ(read.chunks().back(), ">served by the SDK client") << read.dump();
}

TEST(interop, acp_prompt_to_sdk_agent) {
  REQUIRE_TS_SDK();
  std::vector<std::string> argv{ACP_PROMPT_BIN, "--timeout", "20", "hello sdk", "--"};
  for (auto& a : sdk_agent_argv()) argv.push_back(a);
  auto r = acp::e2e::run(argv, 30s);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ts-agent: part 1ts-agent: hello sdk"), std::string::npos) << r.out << r.err;
}

TEST(interop, acp_prompt_through_conductor_to_sdk_agent_with_permission_and_fs) {
  REQUIRE_TS_SDK();
  std::vector<std::string> argv{ACP_PROMPT_BIN, "--timeout", "20", "permission", "--"};
  for (auto& a : conductor({component(acp::test::arrow_path()), sdk_agent()})) argv.push_back(a);
  auto r = acp::e2e::run(argv, 30s);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(">permission: allow"), std::string::npos) << r.out << r.err;

  const auto file = fs::temp_directory_path() / ("acp-interop-prompt-" + std::to_string(::getpid()) + ".txt");
  acp::e2e::write_whole(file, "read by acp-prompt");
  argv = {ACP_PROMPT_BIN, "--timeout", "20", "read " + file.string(), "--"};
  for (auto& a : conductor({component(acp::test::arrow_path()), sdk_agent()})) argv.push_back(a);
  r = acp::e2e::run(argv, 30s);
  fs::remove(file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(">read: read by acp-prompt"), std::string::npos) << r.out << r.err;
}

// ---- SDK 2.x rejects requests that arrive before its `initialize` answer --------------------

json::value initialize_request() {
  return acp::test::request(
      0, "initialize", json::parse(R"({"protocolVersion":1,"clientCapabilities":{},"_meta":{"editor":"scripted"}})"));
}
json::value new_session_request() {
  return acp::test::request(1, "session/new", json::parse(R"({"cwd":"/","mcpServers":[]})"));
}

TEST(interop, conductor_holds_pipelined_requests_until_the_sdk_agent_answered_initialize) {
  REQUIRE_TS_SDK();
  for (bool with_proxy : {false, true}) {
    std::vector<std::string> components;
    if (with_proxy) components.push_back(component(acp::test::arrow_path()));
    components.push_back(sdk_agent({"--init-delay-ms", "300"}));
    const auto trace = fs::temp_directory_path() / ("acp-interop-trace-" + std::to_string(::getpid()) + ".jsonl");
    fs::remove(trace);
    scripted_peer editor(conductor(components, {"--trace", trace.string()}));
    editor.send(initialize_request());
    editor.send(new_session_request()); // pipelined: no wait for the initialize answer
    auto init = editor.read_response(0, nullptr, 15s);
    auto session = editor.read_response(1, nullptr, 15s);
    ASSERT_TRUE(init && session) << editor.stderr_text();
    EXPECT_TRUE(init->as_object().contains("result")) << json::serialize(*init);
    EXPECT_EQ(init->at("result").at("_meta").at("received"), json::parse(R"({"editor":"scripted"})"));
    ASSERT_TRUE(session->as_object().contains("result")) << json::serialize(*session);
    EXPECT_EQ(session->at("result").at("sessionId"), "ts-sess-1");
    editor.close_stdin();
    EXPECT_EQ(editor.wait_exit(10s), 0);
    // The trace shows the hold: session/new left for the first component only once that
    // component had answered `initialize` (it answers after --init-delay-ms 300), although the
    // editor sent it right after `initialize`. (Held sends are traced just before the answer.)
    std::ifstream f(trace);
    std::vector<json::value> events;
    for (std::string line; std::getline(f, line);) events.push_back(json::parse(line));
    fs::remove(trace);
    const json::value first = with_proxy ? "Proxy(0)" : "Agent";
    std::optional<double> init_sent, session_sent;
    for (const auto& ev : events) {
      const auto& e = ev.as_object();
      if (e.at("type") != "request" || e.at("to") != first) continue;
      if (!init_sent) init_sent = e.at("ts").to_number<double>();
      if (e.at("method") == "session/new") session_sent = e.at("ts").to_number<double>();
    }
    ASSERT_TRUE(init_sent && session_sent);
    EXPECT_GE(*session_sent - *init_sent, 0.25);
  }
}

// ---- the older proxy generation (docs/PROTOCOL.md §4.7) -------------------------------------------

TEST(interop, legacy_proxies_are_spoken_to_in_the_older_generation) {
  REQUIRE_TS_SDK();
  const std::string legacy = component(ACP_LEGACY_PROXY_BIN);
  auto run = run_sdk_client(meta_options("through old proxies"),
                            conductor({legacy, component(acp::test::arrow_path()), legacy, sdk_agent()}));
  ASSERT_TRUE(run.done) << run.dump();
  const auto chunks = run.chunks();
  ASSERT_GE(chunks.size(), 2u) << run.dump();
  EXPECT_EQ(chunks[0], "~>~ts-agent: part 1");
  EXPECT_EQ(chunks[1], "~>~ts-agent: through old proxies");
  // The role flag is hop-scoped: neither the agent nor the editor sees it.
  const auto& init = run.line("initialize")->at("result").as_object();
  EXPECT_FALSE(init.at("_meta").as_object().contains("proxy")) << run.dump();
  expect_echo(run);

  auto perm =
      run_sdk_client({"--prompt", "permission", "--permission", "reject"}, conductor({legacy, legacy, sdk_agent()}));
  ASSERT_TRUE(perm.done) << perm.dump();
  EXPECT_EQ(perm.chunks().at(0), "~~permission: reject");
}

TEST(interop, legacy_proxy_with_our_agent_and_editor_pipelining) {
  const std::string legacy = component(ACP_LEGACY_PROXY_BIN);
  const auto trace = fs::temp_directory_path() / ("acp-interop-legacy-" + std::to_string(::getpid()) + ".jsonl");
  scripted_peer editor(conductor({legacy, component(acp::test::test_agent_path())}, {"--trace", trace.string()}));
  editor.send(initialize_request());
  editor.send(new_session_request());
  auto init = editor.read_response(0, nullptr, 10s);
  auto session = editor.read_response(1, nullptr, 10s);
  ASSERT_TRUE(init && session) << editor.stderr_text();
  ASSERT_TRUE(init->as_object().contains("result")) << json::serialize(*init);
  ASSERT_TRUE(session->as_object().contains("result")) << json::serialize(*session);
  const auto sid = session->at("result").at("sessionId");
  editor.send(acp::test::request(
      2, "session/prompt",
      json::value{{"sessionId", sid}, {"prompt", json::parse(R"([{"type":"text","text":"echo old"}])")}}));
  std::vector<json::value> seen;
  auto answer = editor.read_response(2, &seen, 10s);
  ASSERT_TRUE(answer) << editor.stderr_text();
  EXPECT_EQ(acp::test::chunk_text(seen), "~echo: old");
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  // Every traced request has exactly one traced response on its link, the refused
  // `_proxy/initialize` of the first handshake included (docs/PROTOCOL.md §6).
  std::ifstream f(trace);
  std::map<std::string, int> open; // "from>to#id" of requests; responses count down
  bool refusal = false;
  for (std::string line; std::getline(f, line);) {
    const auto ev = json::parse(line).as_object();
    const auto key = [&](const char* a, const char* b) {
      return std::string(ev.at(a).as_string()) + ">" + std::string(ev.at(b).as_string()) + "#" +
             json::serialize(ev.at("id"));
    };
    if (ev.at("type") == "request") ++open[key("from", "to")];
    if (ev.at("type") == "response") {
      --open[key("to", "from")];
      refusal = refusal || (ev.at("from") == "Proxy(0)" && ev.at("is_error") == true);
    }
  }
  fs::remove(trace);
  for (const auto& [k, n] : open) EXPECT_EQ(n, 0) << k;
  EXPECT_TRUE(refusal) << "the -32601 to `_proxy/initialize` is traced";
}

void expect_not_a_proxy(const std::vector<std::string>& components, const std::string& name) {
  scripted_peer editor(conductor(components));
  editor.send(initialize_request());
  auto init = editor.read_response(0, nullptr, 10s);
  ASSERT_TRUE(init) << editor.stderr_text();
  ASSERT_TRUE(init->as_object().contains("error")) << json::serialize(*init);
  const auto& data = init->at("error").at("data");
  EXPECT_EQ(data.at("reason"), "not_a_proxy") << json::serialize(*init);
  EXPECT_EQ(data.at("component"), json::value(json::string(name)));
  editor.close_stdin();
  (void)editor.wait_exit(10s);
}

TEST(interop, legacy_retry_that_fails_keeps_the_not_a_proxy_error) {
  // An agent in a proxy's place answers -32601, then answers the older handshake without echoing
  // the proxy flag; a legacy proxy that does not echo it is refused the same way.
  const std::string agent = component(acp::test::test_agent_path());
  expect_not_a_proxy({agent, agent}, "acp-test-agent");
  const std::string mute = component(ACP_LEGACY_PROXY_BIN, {"--no-echo"});
  expect_not_a_proxy({mute, agent}, "acp-interop-legacy-proxy");
}

} // namespace
