// acp-redact-proxy and acp-transcript-proxy as real programs in an acp-conductor chain, driven by
// the scripted editor; and their command lines (--help, --version, bad usage and config).
#include "harness.hpp"
#include "process_helpers.hpp"

#include <acp/version.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>

#if defined(ACP_REDACT_PROXY_BIN) && defined(ACP_TRANSCRIPT_PROXY_BIN)

namespace acp::test {
namespace {
namespace json = boost::json;
using e2e::read_whole;
using e2e::temp_dir;
using e2e::write_whole;

const std::string redact_bin = ACP_REDACT_PROXY_BIN;
const std::string transcript_bin = ACP_TRANSCRIPT_PROXY_BIN;
const std::string github = "ghp_" + std::string(36, 'Q');

std::vector<std::string> chain(const std::vector<std::string>& components) {
  std::vector<std::string> argv{conductor_path(), "agent"};
  argv.insert(argv.end(), components.begin(), components.end());
  return argv;
}

json::value text_prompt(const std::string& session, const std::string& text) {
  return json::object{{"sessionId", session}, {"prompt", json::array{json::object{{"type", "text"}, {"text", text}}}}};
}

// Answers the first agent -> client request named `method` with `result`.
bool answer_request(scripted_peer& editor, const std::string& method, const json::value& result,
                    json::value* seen_request = nullptr) {
  for (int i = 0; i < 20; ++i) {
    auto m = editor.read(10s);
    if (!m) return false;
    if (!m->as_object().contains("method") || m->at("method") != method.c_str() || !m->as_object().contains("id"))
      continue;
    if (seen_request) *seen_request = *m;
    editor.send(json::object{{"jsonrpc", "2.0"}, {"id", m->at("id")}, {"result", result}});
    return true;
  }
  return false;
}

void expect_clean_exit(scripted_peer& editor) {
  editor.close_stdin();
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "conductor did not exit";
  EXPECT_EQ(*code, 0) << editor.stderr_text();
}

TEST(redact_e2e, the_agent_sees_the_prompt_with_secrets_replaced) {
  temp_dir dir;
  write_whole(dir.path() / ".env", "DB_PASSWORD=correct-horse-battery\n");
  scripted_peer editor(chain({component(redact_bin, {"--env-file", (dir.path() / ".env").string()}),
                              component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const json::value params = json::parse(R"({"sessionId":"s1","_meta":{"trace":1},"prompt":[
    {"type":"text","text":"deploy with )" +
                                         github + R"( and correct-horse-battery"},
    {"type":"resource","resource":{"uri":"file:///p/.aws/credentials","mimeType":"text/plain",
      "text":"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"}},
    {"type":"image","data":"AA==","mimeType":"image/png"}]})");
  editor.send(request(1, "session/prompt", params));
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r) << editor.stderr_text();
  json::value expected = params;
  expected.at("prompt").at(0).as_object()["text"] = "deploy with [REDACTED:github-token] and [REDACTED:env:.env]";
  expected.at("prompt").at(1).at("resource").as_object()["text"] =
      "[default]\naws_access_key_id = [REDACTED:aws-access-key-id]\n";
  EXPECT_EQ(r->at("result").at("params"), expected) << json::serialize(*r);
  expect_clean_exit(editor);
  const auto err = editor.stderr_text();
  EXPECT_NE(err.find("redact: 3 secret(s) removed from session/prompt (aws-access-key-id\u00d71, github-token\u00d71, "
                     "env:.env\u00d71)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("redact: 3 secret(s) removed from 1 message(s)"), std::string::npos) << "exit summary:\n" << err;
}

TEST(redact_e2e, a_file_read_reaches_the_test_agent_redacted) {
  scripted_peer editor(chain({component(redact_bin), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  editor.send(request(2, "session/prompt", text_prompt(session, "read /project/.npmrc")));
  json::value seen_request;
  ASSERT_TRUE(answer_request(editor, "fs/read_text_file",
                             json::object{{"content", "//registry.npmjs.org/:_authToken=" + github + "\nx=1\n"}},
                             &seen_request));
  EXPECT_EQ(seen_request.at("params").at("path"), "/project/.npmrc") << "the request reaches the editor unchanged";
  std::vector<json::value> seen;
  auto r = editor.read_response(2, &seen);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("stopReason"), "end_turn");
  const auto text = chunk_text(seen);
  EXPECT_NE(text.find("//registry.npmjs.org/:_authToken=[REDACTED:github-token]\nx=1"), std::string::npos) << text;
  EXPECT_EQ(text.find(github), std::string::npos) << text;
  expect_clean_exit(editor);
}

TEST(redact_e2e, terminal_output_asked_by_the_agent_comes_back_redacted) {
  scripted_peer editor(
      chain({component(redact_bin, {"--pattern", "corp-[0-9]{4}"}), component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize());
  editor.send(request(3, "test/ask-client",
                      json::parse(R"({"method":"terminal/output","params":{"sessionId":"s","terminalId":"t1"}})")));
  ASSERT_TRUE(
      answer_request(editor, "terminal/output",
                     json::parse(R"({"output":"id corp-1234\n","truncated":false,"exitStatus":{"exitCode":0}})")));
  auto r = editor.read_response(3, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result"),
            json::parse(R"({"output":"id [REDACTED:pattern-1]\n","truncated":false,"exitStatus":{"exitCode":0}})"));
  expect_clean_exit(editor);
}

TEST(transcript_e2e, a_turn_with_echo_and_permission_is_written_as_markdown) {
  temp_dir dir;
  const auto out_dir = dir.path() / "transcripts";
  scripted_peer editor(chain({component(transcript_bin, {"--dir", out_dir.string()}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  ASSERT_EQ(session, "sess-1");

  editor.send(request(4, "session/prompt", text_prompt(session, "echo hello transcript")));
  std::vector<json::value> seen;
  auto r = editor.read_response(4, &seen);
  ASSERT_TRUE(r);
  EXPECT_EQ(chunk_text(seen), "echo: hello transcript") << "passed through untouched";

  editor.send(request(5, "session/prompt", text_prompt(session, "permission")));
  ASSERT_TRUE(answer_request(editor, "session/request_permission",
                             json::parse(R"({"outcome":{"outcome":"selected","optionId":"allow"}})")));
  seen.clear();
  r = editor.read_response(5, &seen);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("stopReason"), "end_turn");
  EXPECT_NE(chunk_text(seen).find("permission: selected allow"), std::string::npos);
  expect_clean_exit(editor);

  const auto file = out_dir / "sess-1.md";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0) << editor.stderr_text();
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto md = read_whole(file);
  EXPECT_EQ(md.rfind("# Session `sess-1`\n\n- Date: ", 0), 0u) << md;
  EXPECT_NE(md.find("- Working directory: `"), std::string::npos) << md;
  EXPECT_NE(md.find("- Agent: acp-test-agent " ACP_VERSION " (ACP test agent)\n"), std::string::npos) << md;
  EXPECT_NE(md.find("**User**\n\n```\necho hello transcript\n```\n\n**Agent**\n\n```\necho: hello transcript\n```\n\n"
                    "_Stop reason: end_turn_"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("## Turn 2 "), std::string::npos) << md;
  EXPECT_NE(md.find("- Write file (`call-1`, edit): pending"), std::string::npos) << md;
  EXPECT_NE(md.find("Permission requested: Write file \u2014 options: Allow (allow_once), Reject (reject_once) "
                    "\u2192 **Allow**"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("permission: selected allow\n```\n\n"), std::string::npos) << md;
}

TEST(transcript_e2e, the_agents_file_read_and_terminal_are_written_with_its_messages) {
  temp_dir dir;
  const auto out_dir = dir.path() / "transcripts";
  scripted_peer editor(chain({component(transcript_bin, {"--dir", out_dir.string()}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  ASSERT_EQ(session, "sess-1");

  editor.send(request(4, "session/prompt", text_prompt(session, "read /project/a.txt")));
  json::value seen_request;
  ASSERT_TRUE(answer_request(editor, "fs/read_text_file", json::parse(R"({"content":"hello\nworld"})"), &seen_request));
  EXPECT_EQ(seen_request.at("params"), json::parse(R"({"sessionId":"sess-1","path":"/project/a.txt"})"));
  ASSERT_TRUE(editor.read_response(4, nullptr));

  editor.send(request(5, "session/prompt", text_prompt(session, "terminal make test")));
  ASSERT_TRUE(answer_request(editor, "terminal/create", json::parse(R"({"terminalId":"t1"})"), &seen_request));
  EXPECT_EQ(seen_request.at("params"), json::parse(R"({"sessionId":"sess-1","command":"make","args":["test"]})"));
  ASSERT_TRUE(answer_request(editor, "terminal/wait_for_exit", json::parse(R"({"exitCode":2})")));
  ASSERT_TRUE(answer_request(editor, "terminal/output", json::parse(R"({"output":"1 failed\n","truncated":false})")));
  ASSERT_TRUE(answer_request(editor, "terminal/release", json::object{}));
  ASSERT_TRUE(editor.read_response(5, nullptr));
  expect_clean_exit(editor);

  const auto md = read_whole(out_dir / "sess-1.md");
  EXPECT_NE(md.find("**Agent**\n\n- Editor read `/project/a.txt` \u2192 11 bytes, 2 lines\n\n"
                    "```\nhello\nworld\n```\n\n_Stop reason: end_turn_\n\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("**Agent**\n\n- Editor terminal `t1`: `make` `test` \u2192 exit code 2\n\n"
                    "```\n1 failed\n```\n\n" // the output the editor returned
                    "```\n1 failed\n```\n\n" // the agent's message
                    "_Stop reason: end_turn_\n\n"),
            std::string::npos)
      << md;
}

// ---- command lines ------------------------------------------------------------------------

void expect_usage_error(const e2e::run_result& r, const std::string& program, const std::string& mention) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "") << "nothing on the protocol stream";
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind(program + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
}

TEST(redact_cli, help_and_version) {
  auto help = e2e::run({redact_bin, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* m : {"--env-file", "--pattern", "--config", "--no-builtins", "--replacement", "Exit status"})
    EXPECT_NE(help.out.find(m), std::string::npos) << m;
  auto version = e2e::run({redact_bin, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("acp-redact-proxy ") + ACP_VERSION + "\n");
}

TEST(redact_cli, bad_arguments_and_configs_are_one_line_and_exit_2) {
  temp_dir dir;
  write_whole(dir.path() / "bad.json", "{\"patterns\": [");
  write_whole(dir.path() / "unknown.json", R"({"pattern":["x"]})");
  expect_usage_error(e2e::run({redact_bin, "--bogus"}), "acp-redact-proxy", "--bogus");
  expect_usage_error(e2e::run({redact_bin, "--pattern"}), "acp-redact-proxy", "--pattern");
  expect_usage_error(e2e::run({redact_bin, "--pattern", "(unclosed"}), "acp-redact-proxy",
                     "--pattern '(unclosed': invalid regex: ");
  expect_usage_error(e2e::run({redact_bin, "--env-file", "/no/such/.env"}), "acp-redact-proxy",
                     "--env-file /no/such/.env: No such file or directory");
  expect_usage_error(e2e::run({redact_bin, "--config", "/no/such.json"}), "acp-redact-proxy", "/no/such.json");
  expect_usage_error(e2e::run({redact_bin, "--config", (dir.path() / "bad.json").string()}), "acp-redact-proxy",
                     "invalid JSON");
  expect_usage_error(e2e::run({redact_bin, "--config", (dir.path() / "unknown.json").string()}), "acp-redact-proxy",
                     "unknown key \"pattern\"");
}

TEST(transcript_cli, help_and_version) {
  auto help = e2e::run({transcript_bin, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* m : {"--dir", "Exit status"}) EXPECT_NE(help.out.find(m), std::string::npos) << m;
  auto version = e2e::run({transcript_bin, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("acp-transcript-proxy ") + ACP_VERSION + "\n");
}

TEST(transcript_cli, bad_arguments_are_one_line_and_exit_2) {
  temp_dir dir;
  write_whole(dir.path() / "file", "x");
  expect_usage_error(e2e::run({transcript_bin}), "acp-transcript-proxy", "--dir is required");
  expect_usage_error(e2e::run({transcript_bin, "--dir", (dir.path() / "file" / "sub").string()}),
                     "acp-transcript-proxy", "cannot create directory");
  expect_usage_error(e2e::run({transcript_bin, "--dir", (dir.path() / "file").string()}), "acp-transcript-proxy",
                     "not a directory");
  expect_usage_error(e2e::run({transcript_bin, "--dir", "x", "--bogus"}), "acp-transcript-proxy", "--bogus");
}

} // namespace
} // namespace acp::test

#endif
