// acp-redact-proxy's library in-process: the rules one by one, env files, patterns, the config
// file and its errors, JSON edits, counts, speed, and the proxy on an in-memory link.
#include "redact_link.hpp"

#include <acp/sdk/connection.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace acp::examples {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A fresh directory per test, removed afterwards.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "acp-redact-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] std::string file(const std::string& name, const std::string& content) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

redactor rules(const redact_options& o = {}) {
  auto r = load_redactor(o);
  EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error());
  return r.has_value() ? std::move(*r) : redactor{};
}

std::string redacted(const std::string& text, const redactor& r = rules()) {
  std::string t = text;
  (void)r.redact(t);
  return t;
}

std::string load_error(const redact_options& o) {
  auto r = load_redactor(o);
  return r.has_value() ? "<loaded>" : r.error();
}

const std::string github = "ghp_" + std::string(36, 'a');

TEST(redact_rules, aws_access_key_id) {
  EXPECT_EQ(redacted("key AKIAIOSFODNN7EXAMPLE here"), "key [REDACTED:aws-access-key-id] here");
  EXPECT_EQ(redacted("ASIAIOSFODNN7EXAMPLE"), "[REDACTED:aws-access-key-id]");
  EXPECT_EQ(redacted("AKIAIOSFODNN7EXAMPL"), "AKIAIOSFODNN7EXAMPL") << "too short";
  EXPECT_EQ(redacted("XAKIAIOSFODNN7EXAMPLE"), "XAKIAIOSFODNN7EXAMPLE") << "inside a word";
}

TEST(redact_rules, aws_secret_access_key_keeps_the_key_name) {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  EXPECT_EQ(redacted("aws_secret_access_key = " + secret + "\n"),
            "aws_secret_access_key = [REDACTED:aws-secret-access-key]\n");
  EXPECT_EQ(redacted("AWS_SECRET_ACCESS_KEY=" + secret), "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-access-key]");
  EXPECT_EQ(redacted("\"aws_secret_access_key\": \"" + secret + "\""),
            "\"aws_secret_access_key\": \"[REDACTED:aws-secret-access-key]\"");
  EXPECT_EQ(redacted("aws_secret_access_key = " + secret + "X"), "aws_secret_access_key = " + secret + "X")
      << "41 characters is not a secret key";
}

TEST(redact_rules, github_tokens) {
  for (const char* prefix : {"ghp_", "gho_", "ghs_", "ghu_", "ghr_"})
    EXPECT_EQ(redacted(std::string("t=") + prefix + std::string(36, 'Z') + ";"), "t=[REDACTED:github-token];")
        << prefix;
  EXPECT_EQ(redacted("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"), "[REDACTED:github-token]");
  EXPECT_EQ(redacted("ghp_short"), "ghp_short");
}

TEST(redact_rules, slack_tokens) {
  EXPECT_EQ(redacted("xoxb-123456789012-abcdefABCDEF"), "[REDACTED:slack-token]");
  EXPECT_EQ(redacted("xoxp-1-2-3-4-abcdef"), "[REDACTED:slack-token]");
  EXPECT_EQ(redacted("xoxz-123456789012"), "xoxz-123456789012");
}

TEST(redact_rules, private_key_blocks_whole_or_cut) {
  const std::string block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc==\n-----END RSA PRIVATE KEY-----";
  EXPECT_EQ(redacted("before\n" + block + "\nafter"), "before\n[REDACTED:private-key]\nafter");
  EXPECT_EQ(redacted("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE "
                     "KEY-----"),
            "[REDACTED:private-key]");
  // A read cut by `limit`: no END line, so everything after the header goes.
  EXPECT_EQ(redacted("x\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\nmore"), "x\n[REDACTED:private-key]");
  const std::string pub = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQY=\n-----END PUBLIC KEY-----";
  EXPECT_EQ(redacted(pub), pub);
}

TEST(redact_rules, bearer_tokens_keep_the_scheme) {
  EXPECT_EQ(redacted("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.abc_DEF-123"),
            "Authorization: Bearer [REDACTED:bearer-token]");
  EXPECT_EQ(redacted("authorization: bearer abcdefghijklmnop0123"), "authorization: bearer [REDACTED:bearer-token]");
  EXPECT_EQ(redacted("the Bearer authentication scheme"), "the Bearer authentication scheme");
}

TEST(redact_rules, api_key_assignments_keep_the_name) {
  EXPECT_EQ(redacted("OPENAI_API_KEY=sk-proj-abcdefgh12345678"), "OPENAI_API_KEY=[REDACTED:api-key]");
  EXPECT_EQ(redacted("api-key: 0123456789abcdef"), "api-key: [REDACTED:api-key]");
  EXPECT_EQ(redacted(R"({"apiKey": "abcd1234efgh5678"})"), R"({"apiKey": "[REDACTED:api-key]"})");
  EXPECT_EQ(redacted("x-api-key:'s3cr3t-v4lue'"), "x-api-key:'[REDACTED:api-key]'");
  EXPECT_EQ(redacted("api_key = short"), "api_key = short");
  EXPECT_EQ(redacted("the api keys are rotated"), "the api keys are rotated");
}

TEST(redact_rules, text_without_secrets_is_unchanged_and_counts_nothing) {
  const auto r = rules();
  std::string text = "plain text; no tokens: AKIA, ghp_, xox, -----BEGIN CERTIFICATE-----, Bearer, api";
  const auto before = text;
  const auto t = r.redact(text);
  EXPECT_EQ(text, before);
  EXPECT_EQ(t.total(), 0u);
  EXPECT_EQ(r.describe(t), "");
}

TEST(redact_rules, counts_per_rule_in_rule_order) {
  const auto r = rules();
  std::string text = github + " " + github + " AKIAIOSFODNN7EXAMPLE";
  const auto t = r.redact(text);
  EXPECT_EQ(t.total(), 3u);
  EXPECT_EQ(r.describe(t), "aws-access-key-id\u00d71, github-token\u00d72");
}

TEST(redact_rules, overlapping_matches_replace_the_earliest_longest_once) {
  temp_dir dir;
  // The env value contains the GitHub token: one replacement, not a half-replaced token.
  const auto env = dir.file(".env", "TOKEN=prefix-" + github + "\n");
  const auto r = rules({.env_files = {env}});
  std::string text = "x prefix-" + github + " y";
  const auto t = r.redact(text);
  EXPECT_EQ(text, "x [REDACTED:env:.env] y");
  EXPECT_EQ(t.total(), 1u);
}

TEST(redact_env, parse_env_values_handles_comments_quotes_and_export) {
  const auto values = parse_env_values(
      "# comment\n\nexport A=plainvalue\nB = \"quoted # not a comment\"\r\nC='single'\nD=value # comment\n"
      "NOEQUALS\nE=\nF=\"unterminated\n");
  EXPECT_EQ(values,
            (std::vector<std::string>{"plainvalue", "quoted # not a comment", "single", "value", "unterminated"}));
}

TEST(redact_env, values_of_eight_or_more_characters_are_redacted_everywhere) {
  temp_dir dir;
  const auto env = dir.file(".env", "DB_PASSWORD=hunter2hunter2\nSHORT=abc1234\nexport TOKEN=\"s3cr3t-t0k3n\"\n");
  const auto r = rules({.env_files = {env}, .builtins = false});
  std::string text = "pw hunter2hunter2, again:hunter2hunter2; abc1234 stays; s3cr3t-t0k3n";
  const auto t = r.redact(text);
  EXPECT_EQ(text, "pw [REDACTED:env:.env], again:[REDACTED:env:.env]; abc1234 stays; [REDACTED:env:.env]");
  EXPECT_EQ(r.describe(t), "env:.env\u00d73");
}

TEST(redact_env, a_missing_env_file_is_an_error_naming_it) {
  EXPECT_EQ(load_error({.env_files = {"/no/such/.env"}}), "--env-file /no/such/.env: No such file or directory");
}

TEST(redact_patterns, user_patterns_are_named_in_order_and_match_within_a_line) {
  const auto r = rules({.patterns = {"corp-[0-9]{6}", "^secret:.*$"}, .builtins = false});
  std::string text = "id corp-123456\nsecret: a b c\nnot secret: x\nsecret:\ncontinued";
  const auto t = r.redact(text);
  EXPECT_EQ(text, "id [REDACTED:pattern-1]\n[REDACTED:pattern-2]\nnot secret: x\n[REDACTED:pattern-2]\ncontinued");
  EXPECT_EQ(r.describe(t), "pattern-1\u00d71, pattern-2\u00d72");
}

// The same regex written with and without a leading literal finds the same matches, line by line.
TEST(redact_patterns, a_leading_literal_or_a_group_find_the_same_matches) {
  const std::string text = "key=12 xkey=3 key=\nkey=45$ key=6\n\nkey=7";
  const std::vector<std::pair<std::string, std::string>> same = {
      {"key=[0-9]+", "(?:key)=[0-9]+"},     // prefix "key=" vs no prefix (a group)
      {"key=[0-9]+$", "(?:key)=[0-9]+$"},   // `$` is the end of the line in both
      {"\\bkey=[0-9]", "\\b(?:key)=[0-9]"}, // no prefix either way (an escape)
      {"ke?y=[0-9]", "(?:ke?y)=[0-9]"},     // "k" only: too short to prefilter
      {"key\\=\\d", "(?:key)=\\d"},         // escaped punctuation is literal
  };
  for (const auto& [with, without] : same) {
    const auto a = redacted(text, rules({.patterns = {with}, .builtins = false}));
    const auto b = redacted(text, rules({.patterns = {without}, .builtins = false}));
    EXPECT_EQ(a, b) << with << " vs " << without;
    EXPECT_NE(a, text) << with;
  }
  EXPECT_EQ(redacted(text, rules({.patterns = {"key=[0-9]+$"}, .builtins = false})),
            "key=12 xkey=3 key=\nkey=45$ [REDACTED:pattern-1]\n\n[REDACTED:pattern-1]");
}

// RE2 does not recurse: an unbounded `.*` over a long line is one match, to the end of the line.
TEST(redact_patterns, long_lines_are_matched_whole) {
  const std::string long_line = "secret=" + std::string(300000, 'x') + "\nnext";
  for (const char* pattern : {"secret=.*", "(?:secret)=.*"}) {
    const auto out = redacted(long_line, rules({.patterns = {pattern}, .builtins = false}));
    EXPECT_EQ(out, "[REDACTED:pattern-1]\nnext") << pattern;
  }
  // Matches anywhere in a long line are found whole.
  for (std::size_t at : {4090u, 6140u, 8190u}) {
    const std::string text = std::string(at, '.') + "corp-123456" + std::string(10000, '.');
    for (const char* pattern : {"corp-[0-9]{6}", "(?:corp)-[0-9]{6}"})
      EXPECT_EQ(redacted(text, rules({.patterns = {pattern}, .builtins = false})),
                std::string(at, '.') + "[REDACTED:pattern-1]" + std::string(10000, '.'))
          << pattern << " at " << at;
  }
}

TEST(redact_patterns, an_invalid_regex_is_reported_with_the_regex_error) {
  const auto e = load_error({.patterns = {"ok", "a(b"}});
  EXPECT_EQ(e.rfind("--pattern 'a(b': invalid regex: ", 0), 0u) << e;
  EXPECT_GT(e.size(), std::string("--pattern 'a(b': invalid regex: ").size()) << "the regex error text follows";
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(redact_patterns, empty_matches_are_ignored) {
  const auto r = rules({.patterns = {"x*"}, .builtins = false});
  EXPECT_EQ(redacted("abc xx d", r), "abc [REDACTED:pattern-1] d");
}

TEST(redact_config, config_file_adds_env_files_patterns_and_replacement) {
  temp_dir dir;
  (void)dir.file("prod.env", "KEY=valuevaluevalue\n");
  const auto config = dir.file("redact.json", R"({"envFiles":["prod.env"],"patterns":["tok-[a-z]+"],
    "builtins":false,"replacement":"<{name} removed>"})");
  const auto r = rules({.config_file = config});
  EXPECT_EQ(redacted("valuevaluevalue tok-abc " + github, r), "<env:prod.env removed> <pattern-1 removed> " + github)
      << "builtins are off, the env file is relative to the config file";
}

TEST(redact_config, the_command_line_replacement_wins) {
  temp_dir dir;
  const auto config = dir.file("c.json", R"({"replacement":"from-config"})");
  EXPECT_EQ(redacted(github, rules({.config_file = config, .replacement = "***"})), "***");
  EXPECT_EQ(redacted(github, rules({.config_file = config})), "from-config");
}

TEST(redact_config, bad_configs_give_one_line_naming_the_file) {
  temp_dir dir;
  const auto bad = [&](const std::string& content) {
    return load_error({.config_file = dir.file("bad.json", content)});
  };
  const std::string where = "--config " + (dir.path() / "bad.json").string() + ": ";
  EXPECT_EQ(bad("{not json"), where + "invalid JSON: syntax error");
  EXPECT_EQ(bad("[1]"), where + "expected a JSON object");
  EXPECT_EQ(bad(R"({"envfiles":[]})"),
            where + "unknown key \"envfiles\" (expected envFiles, patterns, builtins, replacement)");
  EXPECT_EQ(bad(R"({"patterns":"x"})"), where + "\"patterns\" must be an array of strings");
  EXPECT_EQ(bad(R"({"envFiles":[1]})"), where + "\"envFiles\" must be an array of strings");
  EXPECT_EQ(bad(R"({"builtins":"yes"})"), where + "\"builtins\" must be true or false");
  EXPECT_EQ(bad(R"({"replacement":1})"), where + "\"replacement\" must be a string");
  EXPECT_EQ(bad(R"({"patterns":["("]})").rfind("--pattern '(': invalid regex", 0), 0u);
  EXPECT_EQ(load_error({.config_file = "/no/such.json"}), "--config /no/such.json: No such file or directory");
  EXPECT_EQ(load_error({.config_file = dir.path().string()}), "--config " + dir.path().string() + ": is a directory");
}

TEST(redact_json, every_string_of_the_prompt_is_edited_in_place) {
  const auto r = rules();
  auto params = json::parse(R"({"sessionId":"s","_meta":{"k":1},"prompt":[
    {"type":"text","text":"use )" +
                            github + R"(","annotations":{"priority":1}},
    {"type":"resource","resource":{"uri":"file:///a/.env","text":"K=AKIAIOSFODNN7EXAMPLE","mimeType":"text/plain"}},
    {"type":"resource","resource":{"uri":"file:///b","blob":"QUtJQQ=="}},
    {"type":"resource_link","uri":"file:///c","name":")" +
                            github + R"("},
    {"type":"image","data":"AA==","mimeType":"image/png"},
    {"type":"future","text":")" +
                            github + R"("}]})");
  auto expected = params;
  expected.at("prompt").at(0).as_object()["text"] = "use [REDACTED:github-token]";
  expected.at("prompt").at(1).at("resource").as_object()["text"] = "K=[REDACTED:aws-access-key-id]";
  // Every string value is scanned now, links and unknown blocks too; the routing members
  // (`type`, `mimeType`, `sessionId`) and base64 payloads without a secret stay as they are.
  expected.at("prompt").at(3).as_object()["name"] = "[REDACTED:github-token]";
  expected.at("prompt").at(5).as_object()["text"] = "[REDACTED:github-token]";
  const auto t = redact_prompt(r, params);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->total(), 4u);
  EXPECT_EQ(params, expected);
  EXPECT_EQ(json::parse(json::serialize(params)), params) << "still valid JSON";
}

TEST(redact_json, secrets_with_json_special_characters_stay_valid_json) {
  temp_dir dir;
  const auto env = dir.file(".env", "PW=quo\"te\\back{}\n"); // the value is quo"te\back{}
  const auto r = rules({.env_files = {env}});
  json::value result = json::object{{"content", "a quo\"te\\back{} b\n\t\u00e9"}, {"_meta", json::object{}}};
  const auto t = redact_result(r, "fs/read_text_file", result);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->total(), 1u);
  EXPECT_EQ(result.at("content"), "a [REDACTED:env:.env] b\n\t\u00e9");
  EXPECT_EQ(json::parse(json::serialize(result)), result);
}

TEST(redact_json, every_string_of_a_read_result_is_edited_other_methods_are_not) {
  const auto r = rules();
  json::value out = json::object{{"output", github}, {"truncated", false}};
  EXPECT_EQ(redact_result(r, "terminal/output", out)->total(), 1u);
  EXPECT_EQ(out, (json::object{{"output", "[REDACTED:github-token]"}, {"truncated", false}}));
  json::value other = json::object{{"content", github}};
  EXPECT_EQ(redact_result(r, "fs/write_text_file", other)->total(), 0u);
  EXPECT_EQ(other, (json::object{{"content", github}}));
  json::value odd = json::array{github};
  EXPECT_EQ(redact_result(r, "fs/read_text_file", odd)->total(), 1u) << "an odd shape is still scanned";
  EXPECT_EQ(odd, (json::array{"[REDACTED:github-token]"}));
}

// The figure quoted in the man page: a 1 MiB file read through every builtin, an env file and
// a user pattern. Generous bound so sanitizer builds pass; the figure is printed.
TEST(redact_speed, one_mebibyte_read_is_redacted_quickly) {
  temp_dir dir;
  std::string env_text;
  for (int i = 0; i < 20; ++i) env_text += "VAR" + std::to_string(i) + "=value-number-" + std::to_string(i) + "-xyz\n";
  const auto r = rules({.env_files = {dir.file(".env", env_text)}, .patterns = {"corp-[0-9]{6}"}});
  std::string text;
  const std::string line =
      "    const auto api = client.request(\"GET\", \"/v1/items\"); // Bearer auth, see ghp docs\n";
  while (text.size() < (1u << 20)) text += line;
  text += "token " + github + "\n";
  json::value result = json::object{{"content", text}};
  const auto start = std::chrono::steady_clock::now();
  const auto t = redact_result(r, "fs/read_text_file", result);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->total(), 1u);
  std::cout << "redacting a 1 MiB fs/read_text_file result took " << ms << " ms\n";
  EXPECT_LT(ms, 1000.0);
}

// ---- the proxy on an in-memory link: a scripted conductor on the other end ----------------

TEST_F(redact_proxy_link, the_prompt_reaches_the_agent_redacted_and_the_answer_comes_back) {
  start();
  std::optional<jsonrpc::message> answer;
  const auto params = json::parse(R"({"sessionId":"s1","prompt":[{"type":"text","text":"my key )" + github +
                                  R"("}],"_meta":{"x":[1]}})");
  request(false, "session/prompt", params, answer);
  ASSERT_TRUE(run_until([&] { return !received_.empty(); }));
  const auto& fwd = received_.front();
  EXPECT_EQ(fwd.method(), "_proxy/successor");
  auto expected = params;
  expected.at("prompt").at(0).as_object()["text"] = "my key [REDACTED:github-token]";
  EXPECT_EQ(fwd.json().at("params").at("params"), expected);
  conductor_->send_result(fwd.id(), json::object{{"stopReason", "end_turn"}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  EXPECT_EQ(*answer->result(), (json::object{{"stopReason", "end_turn"}}));
  EXPECT_EQ(log_.str(), "redact: 1 secret(s) removed from session/prompt (github-token\u00d71)\n");
  EXPECT_EQ(totals_->messages, 1u);
}

TEST_F(redact_proxy_link, a_file_read_result_is_patched_before_the_agent_sees_it) {
  temp_dir dir;
  start({.env_files = {dir.file(".env", "PW=correct-horse-battery\n")}});
  std::optional<jsonrpc::message> answer;
  const json::value params = json::object{{"sessionId", "s1"}, {"path", "/p/config.yml"}, {"line", 3}};
  request(true, "fs/read_text_file", params, answer);
  ASSERT_TRUE(run_until([&] { return !received_.empty(); }));
  const auto& fwd = received_.front();
  EXPECT_EQ(fwd.method(), "fs/read_text_file") << "sent plain toward the client";
  EXPECT_EQ(*fwd.params(), params);
  conductor_->send_result(fwd.id(),
                          json::parse(R"({"content":"token: )" + github +
                                      R"(\npassword: correct-horse-battery\n","_meta":{"m":1},"x-extra":true})"));
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  ASSERT_NE(answer->result(), nullptr);
  EXPECT_EQ(*answer->result(),
            json::parse(R"({"content":"token: [REDACTED:github-token]\npassword: [REDACTED:env:.env]\n",)"
                        R"("_meta":{"m":1},"x-extra":true})"));
  EXPECT_EQ(log_.str(), "redact: 2 secret(s) removed from fs/read_text_file result (github-token\u00d71, "
                        "env:.env\u00d71)\n");
  EXPECT_EQ(summary_line(*rules_, *totals_),
            "redact: 2 secret(s) removed from 1 message(s) (github-token\u00d71, env:.env\u00d71)");
}

TEST_F(redact_proxy_link, terminal_output_is_patched_and_errors_are_relayed_unchanged) {
  start();
  std::optional<jsonrpc::message> answer;
  request(true, "terminal/output", json::object{{"sessionId", "s1"}, {"terminalId", "t"}}, answer);
  ASSERT_TRUE(run_until([&] { return received_.size() == 1; }));
  conductor_->send_result(received_[0].id(), json::object{{"output", "AKIAIOSFODNN7EXAMPLE\n"}, {"truncated", false}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  EXPECT_EQ(*answer->result(), (json::object{{"output", "[REDACTED:aws-access-key-id]\n"}, {"truncated", false}}));

  answer.reset();
  request(true, "fs/read_text_file", json::object{{"sessionId", "s1"}, {"path", "/nope"}}, answer);
  ASSERT_TRUE(run_until([&] { return received_.size() == 2; }));
  conductor_->send_error(received_[1].id(),
                         rpc_error{-32002, "Resource not found", json::value(json::object{{"path", "/nope"}})});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  ASSERT_TRUE(answer->is_error());
  EXPECT_EQ(answer->json().at("error"),
            json::parse(R"({"code":-32002,"message":"Resource not found","data":{"path":"/nope"}})"));
}

TEST_F(redact_proxy_link, other_messages_pass_through_untouched) {
  start();
  std::optional<jsonrpc::message> answer;
  const json::value params = json::object{{"sessionId", "s1"}, {"path", "/x"}, {"content", github}};
  request(true, "fs/write_text_file", params, answer); // toward the client: not redacted
  ASSERT_TRUE(run_until([&] { return !received_.empty(); }));
  EXPECT_EQ(*received_.front().params(), params);
  conductor_->send_result(received_.front().id(), json::object{{"content", github}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  EXPECT_EQ(*answer->result(), (json::object{{"content", github}}));
  EXPECT_EQ(log_.str(), "");
  EXPECT_EQ(summary_line(*rules_, *totals_), "redact: no secrets found");
}

} // namespace
} // namespace acp::examples
