// acp-prompt against acp-test-agent, both as real subprocesses.
#include "process_helpers.hpp"

#include <gtest/gtest.h>

#include <random>

namespace acp::e2e {
namespace {

const std::string prompt_bin = ACP_PROMPT_BIN;
const std::string agent_bin = ACP_TEST_AGENT_BIN;

/// acp-prompt [options] PROMPT -- acp-test-agent [agent args]
run_result prompt(std::vector<std::string> options, const std::string& text, std::vector<std::string> agent_args = {},
                  clock::duration timeout = 20s, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{prompt_bin};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(text);
  argv.push_back("--");
  argv.push_back(agent_bin);
  argv.insert(argv.end(), agent_args.begin(), agent_args.end());
  return run(std::move(argv), timeout, env);
}

std::string unique_marker() {
  std::random_device rd;
  return "ACP_E2E_MARKER=" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

TEST(acp_prompt, echo_prints_the_chunk_and_exits_0) {
  auto r = prompt({}, "echo hello there");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "echo: hello there\n");
}

TEST(acp_prompt, text_that_is_not_a_command_is_echoed) {
  auto r = prompt({}, "what is 2+2?");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "echo: what is 2+2?\n");
}

TEST(acp_prompt, stream_1000_prints_every_chunk_in_order) {
  auto r = prompt({}, "stream 1000");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (int i = 1; i <= 1000; ++i) expected += "chunk " + std::to_string(i);
  expected += "\n";
  EXPECT_EQ(r.out, expected);
}

TEST(acp_prompt, permission_is_allowed_by_default) {
  auto r = prompt({}, "permission");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "permission: selected allow\n");
  EXPECT_NE(r.err.find("[tool] Write file"), std::string::npos) << r.err;
}

TEST(acp_prompt, permission_allow_flag_selects_the_allow_option) {
  auto r = prompt({"--allow"}, "permission");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "permission: selected allow\n");
}

TEST(acp_prompt, permission_deny_flag_selects_the_reject_option) {
  auto r = prompt({"--deny"}, "permission");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "permission: selected reject\n");
}

TEST(acp_prompt, read_serves_a_real_file) {
  temp_dir dir;
  const auto file = dir.path() / "notes.txt";
  write_whole(file, "line one\nline two\n");
  auto r = prompt({}, "read " + file.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "line one\nline two\n");
}

TEST(acp_prompt, read_of_a_missing_file_reports_the_error_to_the_agent) {
  temp_dir dir;
  auto r = prompt({}, "read " + (dir.path() / "missing.txt").string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("error: cannot read"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No such file"), std::string::npos) << r.out;
}

TEST(acp_prompt, write_creates_the_file) {
  temp_dir dir;
  const auto file = dir.path() / "out.txt";
  auto r = prompt({}, "write " + file.string() + " hello written world");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote " + file.string() + "\n");
  EXPECT_EQ(read_whole(file), "hello written world");
}

TEST(acp_prompt, agent_crash_mid_turn_exits_1_naming_the_failure) {
  auto r = prompt({}, "crash");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exited with status 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("session/prompt"), std::string::npos) << r.err;
  EXPECT_LT(r.elapsed, 5s);
}

TEST(acp_prompt, agent_exit_0_mid_turn_is_still_a_failure) {
  auto r = prompt({}, "exit");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exited with status 0"), std::string::npos) << r.err;
}

TEST(acp_prompt, hung_agent_times_out_and_is_killed) {
  const auto marker = unique_marker();
  auto r = prompt({"--timeout", "2"}, "hang", {}, 15s, {marker});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("timed out after 2 s"), std::string::npos) << r.err;
  EXPECT_GE(r.elapsed, 1900ms);
  EXPECT_LT(r.elapsed, 3500ms);
  // The agent (which inherited the marker) is gone.
  auto left = processes_with_env(marker);
  for (int i = 0; i < 100 && !left.empty(); ++i) {
    ::usleep(10000);
    left = processes_with_env(marker);
  }
  EXPECT_TRUE(left.empty()) << "agent still running: pid " << left.front();
}

TEST(acp_prompt, garbage_line_from_the_agent_is_survived) {
  auto r = prompt({}, "garbage");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "garbage: sent\n");
  // Our side logged the line as a parse error (and answered it -32700; see test_agent_test).
  EXPECT_NE(r.err.find("Parse error"), std::string::npos) << r.err;
}

TEST(acp_prompt, agent_stderr_is_inherited) {
  auto r = prompt({}, "stderr a line for the log");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "stderr: a line for the log\n");
  EXPECT_NE(r.err.find("a line for the log\n"), std::string::npos) << r.err;
}

TEST(acp_prompt, terminal_is_not_offered_so_the_agent_reports_method_not_found) {
  auto r = prompt({}, "terminal echo hi");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("error: terminal/create"), std::string::npos) << r.out;
}

TEST(acp_prompt, agent_mode_flag_sets_the_default_behaviour) {
  auto r = prompt({}, "anything at all", {"--mode", "stream 3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "chunk 1chunk 2chunk 3\n");
}

TEST(acp_prompt, agent_delay_flag_slows_every_update) {
  auto r = prompt({}, "stream 4", {"--delay-ms", "100"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "chunk 1chunk 2chunk 3chunk 4\n");
  EXPECT_GE(r.elapsed, 400ms);
}

TEST(acp_prompt, cwd_and_session_meta_are_accepted) {
  temp_dir dir;
  auto r = prompt({"--cwd", dir.path().string(), "--session-meta", R"({"trace":"e2e"})"}, "echo meta");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "echo: meta\n");
}

TEST(acp_prompt, missing_agent_command_exits_1_with_a_message) {
  auto r = run({prompt_bin, "hi", "--", "/nonexistent/acp-agent"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such command: /nonexistent/acp-agent"), std::string::npos) << r.err;
}

TEST(acp_prompt, agent_is_found_on_path) {
  const auto dir = std::filesystem::path(agent_bin).parent_path().string();
  const char* old = ::getenv("PATH");
  auto r = run({prompt_bin, "echo via path", "--", "acp-test-agent"}, 20s,
               {"PATH=" + dir + ":" + (old ? old : "/usr/bin:/bin")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "echo: via path\n");
}

} // namespace
} // namespace acp::e2e
