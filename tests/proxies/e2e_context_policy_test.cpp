// acp-context-proxy and acp-policy-proxy as real programs: their command lines, and chains
// through acp-conductor driven by the scripted editor (tests/chain/harness.hpp), with
// acp-test-agent or the echo agent (which answers every request with the params it received).
#include "harness.hpp"
#include "process_helpers.hpp"

#include <acp/version.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include <unistd.h>

namespace acp::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

class temp_dir {
public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "acp-proxies-e2e-XXXXXX").string();
    path_ = fs::canonical(::mkdtemp(pattern.data())).string();
  }
  ~temp_dir() { fs::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(path_ + "/" + name) << content;
    return path_ + "/" + name;
  }
  [[nodiscard]] const std::string& path() const { return path_; }

private:
  std::string path_;
};

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

void expect_usage_error(const e2e::run_result& r, const std::string& program, const std::string& mention) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind(program + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
}

void expect_help(const e2e::run_result& r, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  for (const auto& m : mentions) EXPECT_NE(r.out.find(m), std::string::npos) << m << " missing in:\n" << r.out;
}

json::value text_block(const std::string& text) { return json::object{{"type", "text"}, {"text", text}}; }

json::value prompt_params(const std::string& session, const std::string& text) {
  return json::object{{"sessionId", session}, {"prompt", json::array{text_block(text)}}};
}

bool is_response_to(const json::value& m, const json::value& id) {
  const auto& o = m.as_object();
  return !o.contains("method") && o.contains("id") && o.at("id") == id;
}

/// One prompt turn: requests from the agent reaching the editor are answered with `answer(request)`
/// (a result) and recorded in `seen` like every other message. Returns the prompt's response.
std::optional<json::value> turn(scripted_peer& editor, const std::string& session, const std::string& text,
                                std::vector<json::value>& seen,
                                const std::function<json::value(const json::value&)>& answer = {}) {
  static int next_id = 100;
  const json::value id = ++next_id;
  editor.send(request(id, "session/prompt", prompt_params(session, text)));
  for (;;) {
    auto m = editor.read(30s);
    if (!m) return std::nullopt;
    if (is_response_to(*m, id)) return m;
    seen.push_back(*m);
    const auto& o = m->as_object();
    if (o.contains("method") && o.contains("id")) {
      json::value result = answer ? answer(*m) : json::value(json::object{});
      editor.send(json::object{{"jsonrpc", "2.0"}, {"id", o.at("id")}, {"result", std::move(result)}});
    }
  }
}

std::vector<std::string> methods(const std::vector<json::value>& seen) {
  std::vector<std::string> out;
  for (const auto& m : seen)
    if (const auto* method = m.as_object().if_contains("method")) out.emplace_back(method->as_string());
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<std::string> agent_chain(const std::vector<std::string>& components) {
  std::vector<std::string> argv{conductor_path(), "agent"};
  argv.insert(argv.end(), components.begin(), components.end());
  return argv;
}

void expect_clean_exit(scripted_peer& editor) {
  editor.close_stdin();
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "conductor did not exit";
  EXPECT_EQ(*code, 0) << editor.stderr_text();
}

// ---- acp-context-proxy --------------------------------------------------------------------------

#ifdef ACP_CONTEXT_PROXY_BIN
const std::string context_bin = ACP_CONTEXT_PROXY_BIN;

TEST(cli_context_proxy, help_lists_every_option) {
  expect_help(e2e::run({context_bin, "--help"}),
              {"--text", "--file", "--as-resource", "--config", "--when", "--version", "Exit status"});
}
TEST(cli_context_proxy, version) {
  const auto r = e2e::run({context_bin, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("acp-context-proxy ") + ACP_VERSION + "\n");
}
TEST(cli_context_proxy, bad_arguments_are_one_line_and_exit_2) {
  expect_usage_error(e2e::run({context_bin, "--bogus"}), "acp-context-proxy", "--bogus");
  expect_usage_error(e2e::run({context_bin, "--text", "x", "--when", "sometimes"}), "acp-context-proxy", "sometimes");
  expect_usage_error(e2e::run({context_bin}), "acp-context-proxy", "no context");
  expect_usage_error(e2e::run({context_bin, "--file", "/no/such/file.md"}), "acp-context-proxy",
                     "cannot read context file /no/such/file.md: No such file or directory");
}
TEST(cli_context_proxy, bad_config_is_one_line_and_exit_2) {
  temp_dir dir;
  expect_usage_error(e2e::run({context_bin, "--config", dir.path() + "/none.json"}), "acp-context-proxy",
                     "config " + dir.path() + "/none.json: cannot read: No such file or directory");
  expect_usage_error(e2e::run({context_bin, "--config", dir.file("a.json", "{nope")}), "acp-context-proxy",
                     "invalid JSON");
  expect_usage_error(e2e::run({context_bin, "--config", dir.file("b.json", R"({"texts":[]})")}), "acp-context-proxy",
                     R"(unknown key "texts")");
  expect_usage_error(e2e::run({context_bin, "--config", dir.file("c.json", R"({"files":["gone.md"]})")}),
                     "acp-context-proxy", "cannot read context file " + dir.path() + "/gone.md");
}

TEST(e2e_context_proxy, the_agent_sees_context_blocks_before_the_prompt_on_the_first_prompt_only) {
  temp_dir dir;
  const auto notes = dir.file("notes.md", "# Notes\nuse tabs\n");
  scripted_peer editor(agent_chain({component(context_bin, {"--text", "Project: acp", "--file", notes}),
                                    component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  // The echo agent answers session/prompt with the params it received.
  json::value params = prompt_params("s1", "hello");
  params.as_object()["_meta"] = json::object{{"trace", "t-1"}};
  editor.send(request(1, "session/prompt", params));
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r) << editor.stderr_text();
  json::value expected = params;
  expected.as_object()["prompt"] = json::array{
      text_block("Project: acp"), text_block("File " + notes + ":\n# Notes\nuse tabs\n"), text_block("hello")};
  EXPECT_EQ(r->at("result").at("params"), expected);

  editor.send(request(2, "session/prompt", prompt_params("s1", "again")));
  r = editor.read_response(2, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("params"), prompt_params("s1", "again"));

  editor.send(request(3, "session/prompt", prompt_params("s2", "other session")));
  r = editor.read_response(3, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("params").at("prompt").as_array().size(), 3u);
  expect_clean_exit(editor);
}

TEST(e2e_context_proxy, resources_and_every_prompt_and_a_file_removed_later) {
  temp_dir dir;
  const auto notes = dir.file("notes.md", "N");
  scripted_peer editor(agent_chain({component(context_bin, {"--file", notes, "--as-resource", "--when", "every"}),
                                    component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize());
  editor.send(request(1, "session/prompt", prompt_params("s1", "one")));
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("params").at("prompt").at(0),
            json::parse(R"({"type":"resource","resource":{"uri":"file://)" + notes +
                        R"(","mimeType":"text/markdown","text":"N"}})"));
  fs::remove(notes);
  editor.send(request(2, "session/prompt", prompt_params("s1", "two")));
  r = editor.read_response(2, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("params").at("prompt"),
            (json::array{text_block("[acp-context-proxy: could not read " + notes + ": No such file or directory]"),
                         text_block("two")}));
  expect_clean_exit(editor);
  EXPECT_NE(editor.stderr_text().find("cannot read " + notes), std::string::npos) << editor.stderr_text();
}

TEST(e2e_context_proxy, with_the_test_agent_the_reply_starts_with_the_context) {
  scripted_peer editor(
      agent_chain({component(context_bin, {"--text", "Project rules: be brief"}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  // The test agent runs its default mode (echo) on the first text block: now the context.
  std::vector<json::value> seen;
  ASSERT_TRUE(turn(editor, session, "echo hello", seen));
  EXPECT_EQ(chunk_text(seen), "echo: Project rules: be brief");
  seen.clear();
  ASSERT_TRUE(turn(editor, session, "echo hello", seen));
  EXPECT_EQ(chunk_text(seen), "echo: hello") << "the second prompt goes through unchanged";
  expect_clean_exit(editor);
}
#endif

// ---- acp-policy-proxy ---------------------------------------------------------------------------

#ifdef ACP_POLICY_PROXY_BIN
const std::string policy_bin = ACP_POLICY_PROXY_BIN;

TEST(cli_policy_proxy, help_lists_every_option) {
  expect_help(e2e::run({policy_bin, "--help"}),
              {"--config", "--decision-log", "--quiet", "--version", "allowedCommands", "Exit status"});
}
TEST(cli_policy_proxy, version) {
  const auto r = e2e::run({policy_bin, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("acp-policy-proxy ") + ACP_VERSION + "\n");
}
TEST(cli_policy_proxy, bad_arguments_and_config_are_one_line_and_exit_2) {
  temp_dir dir;
  expect_usage_error(e2e::run({policy_bin}), "acp-policy-proxy", "--config");
  expect_usage_error(e2e::run({policy_bin, "--config", dir.file("ok.json", "{}"), "--bogus"}), "acp-policy-proxy",
                     "--bogus");
  expect_usage_error(e2e::run({policy_bin, "--config", "/no/such.json"}), "acp-policy-proxy",
                     "config /no/such.json: cannot read: No such file or directory");
  expect_usage_error(e2e::run({policy_bin, "--config", dir.file("a.json", "[")}), "acp-policy-proxy", "invalid JSON");
  const auto bad_rule = dir.file("b.json", R"({"permissions":[{"action":"maybe"}]})");
  expect_usage_error(e2e::run({policy_bin, "--config", bad_rule}), "acp-policy-proxy",
                     "config " + bad_rule + R"(: permissions rule 1: "action" must be "allow", "reject" or "ask")");
  expect_usage_error(e2e::run({policy_bin, "--config", dir.file("c.json", "{}"), "--decision-log", "/no/dir/log"}),
                     "acp-policy-proxy", "--decision-log /no/dir/log: No such file or directory");
}

TEST(e2e_policy_proxy, auto_allowed_permission_never_reaches_the_editor) {
  temp_dir dir;
  const auto config = dir.file("p.json", R"({"permissions":[{"title":"Write file","action":"allow"}]})");
  const auto log = dir.path() + "/decisions.jsonl";
  scripted_peer editor(
      agent_chain({component(policy_bin, {"--config", config, "--decision-log", log}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  auto r = turn(editor, session, "permission", seen);
  ASSERT_TRUE(r) << editor.stderr_text();
  EXPECT_FALSE(contains(methods(seen), "session/request_permission"));
  EXPECT_EQ(chunk_text(seen), "permission: selected allow");
  expect_clean_exit(editor);
  EXPECT_NE(editor.stderr_text().find(R"(policy: allow session/request_permission "Write file" (rule 1))"),
            std::string::npos)
      << editor.stderr_text();
  std::ifstream in(log);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(json::parse(line).at("action"), "allow");
}

TEST(e2e_policy_proxy, ask_rules_reach_the_editor_and_its_answer_reaches_the_agent) {
  temp_dir dir;
  const auto config = dir.file("p.json", R"({"permissions":[{"kind":"read","action":"allow"},{"action":"ask"}]})");
  scripted_peer editor(agent_chain({component(policy_bin, {"--config", config}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  auto r = turn(editor, session, "permission", seen, [](const json::value& req) {
    EXPECT_EQ(req.at("method"), "session/request_permission");
    return json::parse(R"({"outcome":{"outcome":"selected","optionId":"reject"}})");
  });
  ASSERT_TRUE(r);
  EXPECT_TRUE(contains(methods(seen), "session/request_permission"));
  EXPECT_EQ(chunk_text(seen), "permission: selected reject");
  expect_clean_exit(editor);
}

TEST(e2e_policy_proxy, reads_outside_the_roots_fail_inside_pass) {
  temp_dir dir;
  const auto config = dir.file("p.json", R"({"roots":[")" + dir.path() + R"("],"allowedCommands":["ls"]})");
  scripted_peer editor(agent_chain({component(policy_bin, {"--config", config}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  ASSERT_TRUE(turn(editor, session, "read /etc/passwd", seen));
  EXPECT_FALSE(contains(methods(seen), "fs/read_text_file"));
  EXPECT_EQ(chunk_text(seen),
            "error: policy: fs/read_text_file \"/etc/passwd\": outside the allowed roots (" + dir.path() + ")");

  seen.clear();
  ASSERT_TRUE(turn(editor, session, "read " + dir.path() + "/../../etc/passwd", seen));
  EXPECT_FALSE(contains(methods(seen), "fs/read_text_file"));

  seen.clear();
  const auto inside = dir.path() + "/notes.txt";
  ASSERT_TRUE(turn(editor, session, "read " + inside, seen, [&](const json::value& req) {
    EXPECT_EQ(req.at("method"), "fs/read_text_file");
    EXPECT_EQ(req.at("params").at("path").as_string(), inside);
    return json::parse(R"({"content":"inside the roots"})");
  }));
  EXPECT_TRUE(contains(methods(seen), "fs/read_text_file"));
  EXPECT_EQ(chunk_text(seen), "inside the roots");

  seen.clear();
  ASSERT_TRUE(turn(editor, session, "terminal rm -rf /", seen));
  EXPECT_FALSE(contains(methods(seen), "terminal/create"));
  EXPECT_EQ(chunk_text(seen), R"(error: terminal/create: policy: terminal/create "rm": not in allowedCommands (ls))");
  expect_clean_exit(editor);
}
#endif

} // namespace
} // namespace acp::test
