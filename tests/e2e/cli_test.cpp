// --help, --version and bad usage of every example program: one line on stderr and exit 2 for
// bad usage, help and version on stdout with exit 0.
#include "process_helpers.hpp"

#include <acp/version.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace acp::e2e {
namespace {

const std::string prompt_bin = ACP_PROMPT_BIN;
const std::string agent_bin = ACP_TEST_AGENT_BIN;
const std::string arrow_bin = ACP_ARROW_PROXY_BIN;

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

void expect_usage_error(const run_result& r, const std::string& program, const std::string& mention) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind(program + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
}

void expect_version(const run_result& r, const std::string& program) {
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, program + " " + ACP_VERSION + "\n");
  EXPECT_EQ(r.err, "");
}

void expect_help(const run_result& r, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  for (const auto& m : mentions) EXPECT_NE(r.out.find(m), std::string::npos) << m << " missing in:\n" << r.out;
}

TEST(cli_test_agent, help_lists_flags_and_commands) {
  expect_help(run({agent_bin, "--help"}), {"--mode", "--delay-ms", "--version", "wait-for-cancel", "garbage",
                                           "Exit status", "--auth-methods", "--modes", "--config-options"});
}
TEST(cli_test_agent, session_feature_flags_need_a_value) {
  expect_usage_error(run({agent_bin, "--modes"}), "acp-test-agent", "--modes");
  expect_usage_error(run({agent_bin, "--auth-methods"}), "acp-test-agent", "--auth-methods");
}
TEST(cli_test_agent, version) { expect_version(run({agent_bin, "--version"}), "acp-test-agent"); }
TEST(cli_test_agent, unknown_flag_is_a_usage_error) {
  expect_usage_error(run({agent_bin, "--bogus"}), "acp-test-agent", "--bogus");
}
TEST(cli_test_agent, unknown_mode_is_a_usage_error) {
  expect_usage_error(run({agent_bin, "--mode", "dance"}), "acp-test-agent", "dance");
}
TEST(cli_test_agent, negative_delay_is_a_usage_error) {
  expect_usage_error(run({agent_bin, "--delay-ms", "-5"}), "acp-test-agent", "--delay-ms");
}

TEST(cli_acp_prompt, help_shows_usage_and_options) {
  expect_help(run({prompt_bin, "--help"}),
              {"PROMPT -- AGENT_COMMAND", "--cwd", "--session-meta", "--allow", "--deny", "--timeout", "Exit status"});
}
TEST(cli_acp_prompt, version) { expect_version(run({prompt_bin, "--version"}), "acp-prompt"); }
TEST(cli_acp_prompt, missing_prompt_is_a_usage_error) {
  expect_usage_error(run({prompt_bin, "--", agent_bin}), "acp-prompt", "PROMPT");
}
TEST(cli_acp_prompt, missing_separator_is_a_usage_error) {
  expect_usage_error(run({prompt_bin, "hello"}), "acp-prompt", "--");
}
TEST(cli_acp_prompt, missing_agent_command_is_a_usage_error) {
  expect_usage_error(run({prompt_bin, "hello", "--"}), "acp-prompt", "agent command");
}
TEST(cli_acp_prompt, unknown_flag_is_a_usage_error) {
  expect_usage_error(run({prompt_bin, "--bogus", "hello", "--", agent_bin}), "acp-prompt", "--bogus");
}
TEST(cli_acp_prompt, allow_and_deny_together_is_a_usage_error) {
  expect_usage_error(run({prompt_bin, "--allow", "--deny", "hello", "--", agent_bin}), "acp-prompt", "--");
}
TEST(cli_acp_prompt, bad_timeout_is_a_usage_error) {
  expect_usage_error(run({prompt_bin, "--timeout", "0", "hello", "--", agent_bin}), "acp-prompt", "--timeout");
}
TEST(cli_acp_prompt, session_meta_must_be_a_json_object) {
  expect_usage_error(run({prompt_bin, "--session-meta", "[1,2]", "hello", "--", agent_bin}), "acp-prompt",
                     "--session-meta");
  expect_usage_error(run({prompt_bin, "--session-meta", "{not json", "hello", "--", agent_bin}), "acp-prompt",
                     "--session-meta");
}
TEST(cli_acp_prompt, agent_arguments_after_the_separator_are_not_parsed) {
  auto r = run({prompt_bin, "hi", "--", agent_bin, "--mode", "stream 2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "chunk 1chunk 2\n");
}

TEST(cli_arrow_proxy, help) { expect_help(run({arrow_bin, "--help"}), {"'>'", "--version", "Exit status"}); }
TEST(cli_arrow_proxy, version) { expect_version(run({arrow_bin, "--version"}), "acp-arrow-proxy"); }
TEST(cli_arrow_proxy, unexpected_argument_is_a_usage_error) {
  expect_usage_error(run({arrow_bin, "--bogus"}), "acp-arrow-proxy", "--bogus");
}
TEST(cli_arrow_proxy, stdin_closed_at_once_exits_0) {
  auto r = run({arrow_bin});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

} // namespace
} // namespace acp::e2e
