// The three one-file proxies (examples/proxies/turn-limit, auto-approve-reads, timing) as real
// programs in an acp-conductor chain with acp-test-agent, driven by the scripted editor
// (tests/chain/harness.hpp) or, where the exact bytes matter, line by line (process_helpers.hpp).
#include "harness.hpp"
#include "process_helpers.hpp"

#include <acp/version.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

namespace acp::test {
namespace {

namespace json = boost::json;

const std::string turn_limit_bin = ACP_TURN_LIMIT_PROXY_BIN;
const std::string auto_approve_reads_bin = ACP_AUTO_APPROVE_READS_PROXY_BIN;
const std::string timing_bin = ACP_TIMING_PROXY_BIN;

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

bool is_request(const json::value& m) { return m.as_object().contains("method") && m.as_object().contains("id"); }

/// One prompt turn: every request from the agent that reaches the editor is recorded in `requests`
/// and answered by selecting its first option; every other message goes to `seen`. Returns the
/// prompt's response.
std::optional<json::value> turn(scripted_peer& editor, const json::value& id, const std::string& session,
                                const std::string& text, std::vector<json::value>& seen,
                                std::vector<json::value>* requests = nullptr) {
  editor.send(prompt_request(id, session, text));
  for (;;) {
    auto m = editor.read(20s);
    if (!m) return std::nullopt;
    const auto& o = m->as_object();
    if (!o.contains("method") && o.contains("id") && o.at("id") == id) return m;
    if (!is_request(*m)) {
      seen.push_back(*m);
      continue;
    }
    if (requests) requests->push_back(*m);
    const auto option = m->at("params").at("options").at(0).at("optionId");
    editor.send(json::object{{"jsonrpc", "2.0"},
                             {"id", o.at("id")},
                             {"result", {{"outcome", {{"outcome", "selected"}, {"optionId", option}}}}}});
  }
}

std::string stop_reason(const std::optional<json::value>& response) {
  if (!response || !response->as_object().contains("result")) return "(no result)";
  return json::value_to<std::string>(response->at("result").at("stopReason"));
}

void expect_clean_exit(scripted_peer& editor) {
  editor.close_stdin();
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "conductor did not exit";
  EXPECT_EQ(*code, 0) << editor.stderr_text();
}

/// Exit status 2, nothing on stdout, and exactly one line on stderr: "PROGRAM: error: WHAT. Try ...".
void expect_usage_error(const e2e::run_result& r, const std::string& program, const std::string& what) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2) << what;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err, program + ": error: " + what + ". Try '" + program + " --help'.\n");
}

TEST(newcomer_proxies, each_ends_cleanly_when_its_input_closes_at_once) {
  for (const auto& bin : {turn_limit_bin, auto_approve_reads_bin, timing_bin}) {
    const auto r = e2e::run({bin});
    EXPECT_FALSE(r.timed_out) << bin;
    EXPECT_EQ(r.exit_code, 0) << bin << ": " << r.err;
    EXPECT_EQ(r.out, "") << bin;
  }
}

// ---- acp-turn-limit-proxy -----------------------------------------------------------------------

TEST(newcomer_proxies, each_prints_help_and_version_on_stdout_and_exits_0) {
  for (const auto& [bin, program] :
       std::vector<std::pair<std::string, std::string>>{{turn_limit_bin, "acp-turn-limit-proxy"},
                                                        {auto_approve_reads_bin, "acp-auto-approve-reads-proxy"},
                                                        {timing_bin, "acp-timing-proxy"}}) {
    for (const std::string help : {"--help", "-h"}) {
      const auto r = e2e::run({bin, help});
      EXPECT_FALSE(r.timed_out) << program;
      EXPECT_EQ(r.exit_code, 0) << program;
      EXPECT_EQ(r.err, "") << program;
      EXPECT_EQ(r.out.rfind(program + ": ", 0), 0u) << r.out;
      EXPECT_NE(r.out.find("\nUsage: " + program), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("\n  -h, --help "), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("\n  --version "), std::string::npos) << r.out;
    }
    const auto r = e2e::run({bin, "--version"});
    EXPECT_FALSE(r.timed_out) << program;
    EXPECT_EQ(r.exit_code, 0) << program;
    EXPECT_EQ(r.err, "") << program;
    EXPECT_EQ(r.out, program + " " + ACP_VERSION + "\n");
  }
}

// ---- acp-turn-limit-proxy -----------------------------------------------------------------------

TEST(turn_limit_proxy, help_lists_max_turns) {
  const auto r = e2e::run({turn_limit_bin, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("\n  --max-turns N  prompts per session that reach the agent (default 50)\n"), std::string::npos)
      << r.out;
}

TEST(turn_limit_proxy, bad_arguments_are_one_line_and_exit_2) {
  const std::string range = ": expected a whole number from 0 to 4294967295";
  for (const auto& [args, what] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--max-turns"}, "option '--max-turns' needs a value (N)"},
           {{"--max-turns", "x"}, "invalid value 'x' for --max-turns" + range},
           {{"--max-turns", "-1"}, "invalid value '-1' for --max-turns" + range},
           {{"--max-turns", "3x"}, "invalid value '3x' for --max-turns" + range},
           {{"--max-turns="}, "invalid value '' for --max-turns" + range},
           {{"--bogus", "3"}, "unknown option '--bogus'"},
           {{"--max-turns", "3", "4"}, "unexpected argument '4'"},
           {{"--max-turns", "99999999999999999999"}, "invalid value '99999999999999999999' for --max-turns" + range}}) {
    std::vector<std::string> argv{turn_limit_bin};
    argv.insert(argv.end(), args.begin(), args.end());
    expect_usage_error(e2e::run(argv), "acp-turn-limit-proxy", what);
  }
}

TEST(turn_limit_proxy, passes_n_prompts_per_session_then_answers_max_turn_requests_with_a_reason_first) {
  scripted_peer editor(chain({component(turn_limit_bin, {"--max-turns", "2"}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto s1 = editor.new_session();
  ASSERT_FALSE(s1.empty()) << editor.stderr_text();
  for (int i = 1; i <= 2; ++i) {
    std::vector<json::value> seen;
    const auto r = turn(editor, i, s1, "echo turn " + std::to_string(i), seen);
    EXPECT_EQ(stop_reason(r), "end_turn") << editor.stderr_text();
    EXPECT_EQ(chunk_text(seen), "echo: turn " + std::to_string(i)); // the agent answered
  }
  std::vector<json::value> seen;
  auto r = turn(editor, 3, s1, "echo turn 3", seen);
  EXPECT_EQ(stop_reason(r), "max_turn_requests");
  // The reason arrived before the answer (turn() collects what precedes the response), and the
  // agent never saw the prompt: its echo is absent.
  ASSERT_EQ(seen.size(), 1u) << json::serialize(json::value_from(seen));
  EXPECT_EQ(seen[0].at("params").at("sessionId"), s1.c_str());
  EXPECT_EQ(chunk_text(seen), "Turn limit reached (2 prompts per session): start a new session to go on.");

  // Another session has its own count; the first stays at its limit.
  const auto s2 = editor.new_session();
  ASSERT_FALSE(s2.empty());
  ASSERT_NE(s2, s1);
  seen.clear();
  EXPECT_EQ(stop_reason(turn(editor, 4, s2, "echo other session", seen)), "end_turn");
  EXPECT_EQ(chunk_text(seen), "echo: other session");
  seen.clear();
  EXPECT_EQ(stop_reason(turn(editor, 5, s1, "echo turn 4", seen)), "max_turn_requests");
  EXPECT_EQ(chunk_text(seen), "Turn limit reached (2 prompts per session): start a new session to go on.");
  expect_clean_exit(editor);
}

TEST(turn_limit_proxy, a_passed_prompt_reaches_the_agent_unchanged) {
  // The echo agent answers with the params it received. A re-encoded prompt would differ: 1e2
  // would come back as the integer 100.
  scripted_peer editor(chain({component(turn_limit_bin), component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const std::string params =
      R"({"prompt":[{"text":"caf\u00e9 1.50","type":"text"}],"x-extra":{"n":1e2},"sessionId":"s"})";
  editor.send_line(R"({"jsonrpc":"2.0","id":1,"method":"session/prompt","params":)" + params + "}");
  const auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r) << editor.stderr_text();
  EXPECT_EQ(r->at("result").at("params"), json::parse(params));
  expect_clean_exit(editor);
}

// ---- acp-auto-approve-reads-proxy ---------------------------------------------------------------

TEST(auto_approve_reads_proxy, an_argument_is_a_usage_error) {
  expect_usage_error(e2e::run({auto_approve_reads_bin, "--yes"}), "acp-auto-approve-reads-proxy",
                     "unknown option '--yes'");
  expect_usage_error(e2e::run({auto_approve_reads_bin, "yes"}), "acp-auto-approve-reads-proxy",
                     "unexpected argument 'yes'");
}

TEST(auto_approve_reads_proxy, answers_read_permissions_itself_and_passes_the_others_to_the_editor) {
  scripted_peer editor(chain({component(auto_approve_reads_bin), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty()) << editor.stderr_text();

  std::vector<json::value> seen, requests;
  EXPECT_EQ(stop_reason(turn(editor, 1, session, "permission read", seen, &requests)), "end_turn");
  EXPECT_TRUE(requests.empty()) << "the editor was asked: " << json::serialize(json::value_from(requests));
  EXPECT_EQ(chunk_text(seen), "permission: selected allow");

  int id = 2;
  for (const std::string kind : {"edit", "execute"}) {
    seen.clear();
    requests.clear();
    EXPECT_EQ(stop_reason(turn(editor, id++, session, "permission " + kind, seen, &requests)), "end_turn");
    ASSERT_EQ(requests.size(), 1u) << kind;
    EXPECT_EQ(requests[0].at("method"), "session/request_permission");
    EXPECT_EQ(requests[0].at("params").at("toolCall").at("kind"), kind.c_str());
    EXPECT_EQ(chunk_text(seen), "permission: selected allow"); // the editor's choice (the first option)
  }
  expect_clean_exit(editor);
}

/// `session/request_permission` sent by the echo agent on the editor's behalf (`test/ask-client`):
/// the proxy's answer comes back as the result, or the request reaches the editor.
json::value ask_permission(const json::value& id, const json::value& kind, const json::array& option_kinds) {
  json::object tool_call{{"toolCallId", "t1"}};
  if (!kind.is_null()) tool_call["kind"] = kind;
  json::array options;
  for (const auto& k : option_kinds)
    options.push_back({{"optionId", "id-" + json::value_to<std::string>(k)}, {"name", k}, {"kind", k}});
  return request(id, "test/ask-client",
                 {{"method", "session/request_permission"},
                  {"params", {{"sessionId", "s"}, {"toolCall", tool_call}, {"options", options}}}});
}

TEST(auto_approve_reads_proxy, chooses_allow_once_else_allow_always_and_passes_on_without_an_allow_option) {
  scripted_peer editor(chain({component(auto_approve_reads_bin), component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto selected = [](const std::string& option) {
    return json::value{{"outcome", {{"outcome", "selected"}, {"optionId", option}}}};
  };
  struct answered_case {
    json::array options;
    std::string chosen;
  };
  int id = 1;
  for (const auto& c : {answered_case{{"reject_once", "allow_always", "allow_once"}, "id-allow_once"},
                        answered_case{{"reject_always", "allow_always"}, "id-allow_always"}}) {
    std::vector<json::value> seen;
    editor.send(ask_permission(id, "read", c.options));
    const auto r = editor.read_response(id++, &seen);
    ASSERT_TRUE(r) << editor.stderr_text();
    EXPECT_TRUE(seen.empty()) << "the editor saw " << json::serialize(json::value_from(seen));
    EXPECT_EQ(r->at("result"), selected(c.chosen)) << json::serialize(*r);
  }
  // No allow option, or not a read: the editor is asked, and its answer goes back to the agent.
  for (const auto& [kind, options] : std::vector<std::pair<json::value, json::array>>{
           {"read", {"reject_once", "reject_always"}}, {"edit", {"allow_once"}}, {nullptr, {"allow_once"}}}) {
    editor.send(ask_permission(id, kind, options));
    auto m = editor.read(10s);
    ASSERT_TRUE(m) << editor.stderr_text();
    ASSERT_TRUE(is_request(*m)) << json::serialize(*m);
    EXPECT_EQ(m->at("method"), "session/request_permission");
    EXPECT_EQ(m->at("params").at("options").as_array().size(), options.size());
    editor.send(json::object{{"jsonrpc", "2.0"}, {"id", m->at("id")}, {"result", selected("from-editor")}});
    const auto r = editor.read_response(id++, nullptr);
    ASSERT_TRUE(r) << editor.stderr_text();
    EXPECT_EQ(r->at("result"), selected("from-editor")) << json::serialize(*r);
  }
  expect_clean_exit(editor);
}

// ---- acp-timing-proxy ---------------------------------------------------------------------------

std::string editor_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& l : v) out += l + "\n";
  return out;
}

/// The editor's side of a fixed script, line by line as the conductor wrote them: initialize,
/// session/new, then each prompt in turn (a permission request is answered with its first option).
std::vector<std::string> scripted_bytes(const std::vector<std::string>& components,
                                        const std::vector<std::string>& prompts) {
  // Without the conductor's MCP bridge, which tells the editor through a proxy that the agent
  // takes MCP servers over ACP (`mcpCapabilities.acp`): the bytes compared are the agent's.
  e2e::line_child editor(chain(components, {"--mcp-bridge", "off"}));
  std::vector<std::string> out;
  if (!editor.started()) return out;
  auto until_response = [&](const json::value& id) {
    while (auto line = editor.read_line(20s)) {
      out.push_back(*line);
      const auto m = json::parse(*line);
      const auto& o = m.as_object();
      if (!o.contains("method") && o.contains("id") && o.at("id") == id) return true;
      if (!is_request(m)) continue;
      const auto option = m.at("params").at("options").at(0).at("optionId");
      editor.send(
          json::serialize(json::object{{"jsonrpc", "2.0"},
                                       {"id", o.at("id")},
                                       {"result", {{"outcome", {{"outcome", "selected"}, {"optionId", option}}}}}}));
    }
    return false;
  };
  editor.send(
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":1,"clientCapabilities":{}}})");
  if (!until_response(0)) return out;
  editor.send(R"({"jsonrpc":"2.0","id":1,"method":"session/new","params":{"cwd":"/tmp","mcpServers":[]}})");
  if (!until_response(1)) return out;
  int id = 2;
  for (const auto& p : prompts) {
    editor.send(json::serialize(prompt_request(id, "sess-1", p)));
    if (!until_response(id++)) return out;
  }
  editor.close_stdin();
  if (!editor.wait_exit(10s)) out.emplace_back("(the conductor did not exit)");
  return out;
}

TEST(timing_proxy, an_argument_is_a_usage_error) {
  expect_usage_error(e2e::run({timing_bin, "--verbose"}), "acp-timing-proxy", "unknown option '--verbose'");
  expect_usage_error(e2e::run({timing_bin, "log.txt"}), "acp-timing-proxy", "unexpected argument 'log.txt'");
}

TEST(timing_proxy, one_stderr_line_per_turn_with_plausible_numbers_and_the_editors_bytes_unchanged) {
  e2e::temp_dir dir;
  const auto log = (dir.path() / "timing.log").string();
  const std::vector<std::string> prompts{"stream 3", "permission read", "echo done"};
  const auto agent = component(test_agent_path(), {"--delay-ms", "40"});
  // The proxy's stderr goes to a file of its own (the conductor would prefix and interleave it).
  const auto timing = component("/bin/sh", {"-c", "exec \"$0\" 2>\"$1\"", timing_bin, log});
  const auto without = scripted_bytes({agent}, prompts);
  const auto with = scripted_bytes({timing, agent}, prompts);
  // initialize, session/new; 3 chunks; a tool call, the permission request, a chunk; a chunk; 3 answers.
  ASSERT_EQ(without.size(), 2u + 3 + 3 + 1 + 3) << editor_lines(without);
  EXPECT_EQ(with, without);

  const auto text = e2e::read_whole(log);
  ASSERT_EQ(lines(text), 3u) << text;
  const std::regex line_re(R"(acp-timing-proxy: session sess-1: first chunk (\d+) ms, end (\d+) ms, stop end_turn)");
  std::istringstream in(text);
  std::string line;
  const int min_updates[] = {3, 2, 1}; // session/update messages per turn, each 40 ms after the last
  for (int i = 0; std::getline(in, line); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, line_re)) << line;
    const int first = std::stoi(m[1]), end = std::stoi(m[2]);
    EXPECT_GE(first, 40) << line;
    EXPECT_GE(end, first) << line;
    EXPECT_GE(end, 40 * min_updates[i]) << line;
    EXPECT_LT(end, 10'000) << line;
  }
}

} // namespace
} // namespace acp::test
