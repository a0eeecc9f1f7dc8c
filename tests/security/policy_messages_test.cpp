// acp-policy-proxy against hostile message shapes: the real program, driven directly as a chain's
// conductor would (messages from the agent inside `_proxy/successor`), plus the library's title
// matching, decision lines and glob cost.
#include "harness.hpp"
#include "policy.hpp"
#include "support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <chrono>

#include <sys/resource.h>

namespace acp::security_test {
namespace {

namespace json = boost::json;
using test::scripted_peer;
using namespace std::chrono_literals;

const std::string policy_bin = ACP_POLICY_PROXY_BIN;

json::object from_agent(std::string_view method, json::value params, std::optional<int> id = std::nullopt) {
  json::object m{{"jsonrpc", "2.0"},
                 {"method", "_proxy/successor"},
                 {"params", json::object{{"method", method}, {"params", std::move(params)}}}};
  if (id) m["id"] = *id;
  return m;
}

std::string dump(const std::vector<json::value>& messages) {
  std::string out;
  for (const auto& m : messages) out += json::serialize(m) + "\n";
  return out;
}

json::object write_params(const std::string& path) {
  return json::object{{"sessionId", "s1"}, {"path", path}, {"content", "pwned"}};
}

/// The policy program alone, with this test as its conductor.
struct policy_program : ::testing::Test {
  temp_tree root, outside;
  std::optional<scripted_peer> proxy;

  void start(const std::string& config) {
    const auto file = root.file("policy.json", config);
    proxy.emplace(std::vector<std::string>{policy_bin, "--config", file});
  }
  void start_with_roots() { start(R"({"roots":[")" + root.path() + R"("],"allowedCommands":["ls"]})"); }

  /// Messages the proxy sends until it answers the ping `id` (sent last, so everything sent
  /// before has been dispatched).
  std::vector<json::value> until_ping(int id) {
    proxy->send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", "_test/ping"}});
    std::vector<json::value> seen;
    for (;;) {
      auto m = proxy->read(10s);
      if (!m) {
        ADD_FAILURE() << "no answer to the ping; stderr:\n" << proxy->stderr_text();
        return seen;
      }
      const auto& o = m->as_object();
      // The ping is forwarded toward the agent (inside _proxy/successor): that is its echo.
      if (o.contains("method") && o.at("method") == "_proxy/successor") {
        if (o.at("params").at("method") == "_test/ping") return seen;
      }
      seen.push_back(*m);
    }
  }
};

TEST_F(policy_program, a_denied_write_or_terminal_sent_as_a_notification_is_dropped_with_a_decision_line) {
  start_with_roots();
  proxy->send(from_agent("fs/write_text_file", write_params(outside.at("pwned.txt"))));
  proxy->send(from_agent("fs/read_text_file", json::object{{"sessionId", "s1"}, {"path", "/etc/passwd"}}));
  proxy->send(
      from_agent("terminal/create", json::object{{"sessionId", "s1"}, {"command", "rm"}, {"cwd", root.path()}}));
  proxy->send(from_agent("fs/write_text_file", write_params(root.at("ok.txt"))));
  const auto seen = until_ping(1);
  ASSERT_EQ(seen.size(), 1u) << dump(seen);
  EXPECT_EQ(seen[0].at("method"), "fs/write_text_file");
  EXPECT_EQ(seen[0].at("params").at("path"), json::value(root.at("ok.txt")));
  const auto err = proxy->stderr_text();
  EXPECT_NE(err.find("policy: deny fs/write_text_file \"" + outside.at("pwned.txt") +
                     "\" (outside the allowed roots (" + root.path() + "); a notification: dropped)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("policy: deny terminal/create \"rm\""), std::string::npos) << err;
  EXPECT_NE(err.find("policy: deny fs/read_text_file \"/etc/passwd\""), std::string::npos) << err;
}

TEST_F(policy_program, a_denied_notification_inside_a_batch_is_dropped) {
  start_with_roots();
  const json::array batch{from_agent("fs/write_text_file", write_params(outside.at("a.txt"))),
                          from_agent("fs/write_text_file", write_params(root.at("b.txt"))),
                          from_agent("terminal/create", json::object{{"sessionId", "s1"}, {"command", "sh"}})};
  proxy->send_line(json::serialize(batch));
  const auto seen = until_ping(2);
  ASSERT_EQ(seen.size(), 1u) << dump(seen);
  EXPECT_EQ(seen[0].at("params").at("path"), json::value(root.at("b.txt")));
}

TEST_F(policy_program, odd_json_shapes_of_a_path_are_denied) {
  start_with_roots();
  int id = 10;
  for (const auto& shape : {json::value(3), json::value(json::array{root.at("a")}), json::value(nullptr),
                            json::value(json::object{{"p", root.at("a")}})}) {
    proxy->send(
        from_agent("fs/write_text_file", json::object{{"sessionId", "s1"}, {"path", shape}, {"content", "x"}}, ++id));
    auto r = proxy->read(10s);
    ASSERT_TRUE(r) << proxy->stderr_text();
    ASSERT_TRUE(r->as_object().contains("error")) << json::serialize(*r);
    EXPECT_EQ(r->at("error").at("code"), -32602);
  }
  // Missing path, missing params.
  proxy->send(from_agent("fs/read_text_file", json::object{{"sessionId", "s1"}}, ++id));
  auto r = proxy->read(10s);
  ASSERT_TRUE(r && r->as_object().contains("error"));
  proxy->send(json::object{{"jsonrpc", "2.0"},
                           {"id", ++id},
                           {"method", "_proxy/successor"},
                           {"params", json::object{{"method", "fs/read_text_file"}}}});
  r = proxy->read(10s);
  ASSERT_TRUE(r && r->as_object().contains("error"));
}

TEST_F(policy_program, a_huge_path_is_denied) {
  // 8 MiB under the root: was allowed (the kernel would refuse it, the policy did not know).
  start_with_roots();
  proxy->send(from_agent("fs/write_text_file", write_params(root.path() + "/" + std::string(8 << 20, 'a')), 1));
  auto r = proxy->read(20s);
  ASSERT_TRUE(r && r->as_object().contains("error"));
  EXPECT_NE(std::string(r->at("error").at("message").as_string()).find("longer than"), std::string::npos);
}

TEST_F(policy_program, a_newline_in_a_path_cannot_forge_a_decision_line) {
  start_with_roots();
  const std::string forged = root.at("x\npolicy: allow fs/write_text_file \"/etc/passwd\" (allowed)");
  proxy->send(from_agent("fs/write_text_file", write_params(forged), 1));
  ASSERT_TRUE(proxy->read(10s));
  proxy->close_stdin();
  ASSERT_TRUE(proxy->wait_exit(10s));
  const auto err = proxy->stderr_text();
  EXPECT_EQ(err.find("\npolicy: allow fs/write_text_file \"/etc/passwd\""), std::string::npos) << err;
  EXPECT_NE(err.find("x\\npolicy: allow fs/write_text_file \\\"/etc/passwd\\\" (allowed)"), std::string::npos) << err;
}

TEST_F(policy_program, a_config_with_a_command_runner_and_no_argument_rules_exits_2) {
  start(R"({"allowedCommands":["ls","git"]})");
  const auto code = proxy->wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  const auto err = proxy->stderr_text();
  EXPECT_EQ(err.rfind("acp-policy-proxy: config ", 0), 0u) << err;
  EXPECT_NE(err.find("allowed command \"git\" can run other commands"), std::string::npos) << err;
}

// ---- library: titles, decision lines, globs -------------------------------------------------------

request_permission_request permission(std::string title) {
  request_permission_request r;
  r.session_id = "s1";
  r.tool_call.tool_call_id = "c1";
  r.tool_call.kind = tool_kind::execute;
  r.tool_call.title = std::move(title);
  r.options.push_back({"allow", "Allow", permission_option_kind::allow_once, {}, {}});
  r.options.push_back({"reject", "Reject", permission_option_kind::reject_once, {}, {}});
  return r;
}

TEST(policy_titles, titles_are_matched_trimmed_with_whitespace_collapsed) {
  auto o = examples::parse_policy_config(
      R"({"permissions":[{"title":"rm *","action":"reject"},{"kind":"execute","action":"allow"}]})", "p.json");
  ASSERT_TRUE(o);
  for (const std::string title : {" rm -rf /", "rm  -rf /", "\trm\t-rf /", "\nrm -rf /\n", "rm\n-rf"}) {
    const auto v = examples::decide_permission(*o, permission(title));
    EXPECT_EQ(v.action, examples::policy_action::reject) << title;
    EXPECT_EQ(v.rule, 1u) << title;
  }
  EXPECT_EQ(examples::normalise_title("  a \t\n b  "), "a b");
}

TEST(policy_titles, an_overlong_title_is_asked_not_decided_by_a_later_rule) {
  auto o = examples::parse_policy_config(
      R"({"permissions":[{"title":"rm *","action":"reject"},{"kind":"execute","action":"allow"}]})", "p.json");
  ASSERT_TRUE(o);
  const auto v = examples::decide_permission(*o, permission("rm " + std::string(70000, 'x')));
  EXPECT_EQ(v.action, examples::policy_action::ask);
  EXPECT_FALSE(v.option_id);
}

TEST(policy_log_lines, control_characters_quotes_and_backslashes_are_escaped) {
  const auto line =
      examples::decision_line({"deny", "fs/write_text_file", "s1", "/r/a\n\"b\\\r\x01\x7f", "outside\n(x)", 0});
  EXPECT_EQ(line, R"(policy: deny fs/write_text_file "/r/a\n\"b\\\r\x01\x7f" (outside\n(x)))");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

long max_rss_kib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(policy_globs, a_huge_text_against_a_glob_needs_no_memory_in_proportion) {
  // The memo of the old matcher held (pattern + 1) × (text + 1) bytes: 8 MiB × 23 = 184 MiB.
  const std::string text = "/" + std::string(8 << 20, 'a');
  const std::string glob = "/srv/**/src/**/*.cpp";
  const auto before = max_rss_kib();
  EXPECT_FALSE(examples::glob_match(glob + "xx", text, true));
  EXPECT_LT(max_rss_kib() - before, 32 * 1024) << "KiB of peak memory grown";
}

TEST(policy_globs, many_stars_on_a_long_text_stay_linear) {
  const std::string text(1 << 20, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(examples::glob_match("*a*a*a*a*a*a*a*a*a*a*b", text, false));
  EXPECT_FALSE(examples::glob_match("/**/**/**/**/**/x", "/" + text, true));
  EXPECT_TRUE(examples::glob_match("*a*a*a*a*a*a*a*a*a*a", text, false));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

} // namespace
} // namespace acp::security_test
