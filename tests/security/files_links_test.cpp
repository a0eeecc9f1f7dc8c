// Files that follow planted links: the conductor's --trace, the policy proxy's --decision-log and
// the transcript proxy's directory and session files. Something planted at the path (a symbolic
// link, a hard link, a FIFO, a directory, a file of another user) is refused untouched with a
// one-line reason; what was written is private (0600).
#include "harness.hpp"
#include "policy.hpp"
#include "process_helpers.hpp"
#include "support.hpp"
#include "transcript.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::security_test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string precious = "precious content\n";

/// A victim file outside the place being written, mode 0644.
std::string victim(const temp_tree& t) {
  const auto v = t.file("elsewhere/victim.txt", precious);
  ::chmod(v.c_str(), 0644);
  return v;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

e2e::run_result conductor_with_trace(const std::string& trace) {
  return e2e::run({ACP_CONDUCTOR_BIN, "--trace", trace, "agent", "/bin/true"}, 10s);
}

void expect_victim_untouched(const std::string& v) {
  EXPECT_EQ(read_all(v), precious) << v << " was written through the planted link";
  EXPECT_EQ(mode_of(v), 0644u) << v << " had its mode changed";
}

// ---- acp-conductor --trace ---------------------------------------------------------------------

void expect_trace_refused(const e2e::run_result& r, const std::string& trace, const std::string& reason) {
  EXPECT_FALSE(r.timed_out) << "the conductor hung opening " << trace;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "acp-conductor: error: cannot create trace file " + trace + ": " + reason + "\n");
}

TEST(files_trace, a_symlink_at_the_trace_path_is_refused_and_its_target_untouched) {
  temp_tree t;
  const auto v = victim(t);
  const auto trace = t.link("trace.jsonl", v);
  expect_trace_refused(conductor_with_trace(trace), trace, "is a symbolic link");
  expect_victim_untouched(v);
}

TEST(files_trace, a_dangling_symlink_creates_nothing) {
  temp_tree t;
  const auto trace = t.link("trace.jsonl", t.at("created-elsewhere"));
  expect_trace_refused(conductor_with_trace(trace), trace, "is a symbolic link");
  EXPECT_FALSE(fs::exists(t.at("created-elsewhere")));
}

TEST(files_trace, a_hard_link_at_the_trace_path_is_refused_untouched) {
  temp_tree t;
  const auto v = victim(t);
  const auto trace = t.at("trace.jsonl");
  ASSERT_EQ(::link(v.c_str(), trace.c_str()), 0);
  expect_trace_refused(conductor_with_trace(trace), trace, "has more than one hard link");
  expect_victim_untouched(v);
}

TEST(files_trace, a_fifo_at_the_trace_path_is_refused_without_hanging) {
  temp_tree t;
  const auto trace = t.at("trace.jsonl");
  ASSERT_EQ(::mkfifo(trace.c_str(), 0600), 0);
  expect_trace_refused(conductor_with_trace(trace), trace, "is not a regular file");
}

TEST(files_trace, a_directory_at_the_trace_path_is_refused) {
  temp_tree t;
  const auto trace = t.dir("trace.jsonl");
  expect_trace_refused(conductor_with_trace(trace), trace, "is not a regular file");
}

TEST(files_trace, a_file_of_another_user_is_refused_untouched) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  temp_tree t;
  const auto trace = t.file("trace.jsonl", precious);
  ASSERT_EQ(::chmod(trace.c_str(), 0666), 0);
  ASSERT_EQ(::chown(trace.c_str(), 65534, 65534), 0);
  expect_trace_refused(conductor_with_trace(trace), trace, "is owned by another user");
  EXPECT_EQ(read_all(trace), precious);
  EXPECT_EQ(mode_of(trace), 0666u);
}

TEST(files_trace, a_regular_file_of_ours_is_truncated_and_made_private) {
  temp_tree t;
  const auto trace = t.file("trace.jsonl", "old trace\n");
  ASSERT_EQ(::chmod(trace.c_str(), 0644), 0);
  const auto r = conductor_with_trace(trace);
  EXPECT_NE(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_all(trace).find("old trace"), std::string::npos);
  EXPECT_EQ(mode_of(trace), 0600u);
}

// ---- acp-policy-proxy --decision-log -----------------------------------------------------------

std::string decision_log_error(const std::string& path) {
  auto sink = examples::open_decision_log(path);
  return sink ? std::string("(opened)") : sink.error().message;
}

TEST(files_decision_log, a_symlink_is_refused_by_the_program_with_exit_2) {
  temp_tree t;
  const auto v = victim(t);
  const auto log = t.link("decisions.jsonl", v);
  const auto config = t.file("policy.json", R"({"roots": [")" + t.path() + R"("]})");
  const auto r = e2e::run({ACP_POLICY_PROXY_BIN, "--config", config, "--decision-log", log}, 10s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "acp-policy-proxy: --decision-log " + log + ": is a symbolic link\n");
  expect_victim_untouched(v);
}

TEST(files_decision_log, a_hard_link_is_refused_untouched) {
  temp_tree t;
  const auto v = victim(t);
  const auto log = t.at("decisions.jsonl");
  ASSERT_EQ(::link(v.c_str(), log.c_str()), 0);
  EXPECT_EQ(decision_log_error(log), "--decision-log " + log + ": has 2 hard links");
  expect_victim_untouched(v);
}

TEST(files_decision_log, a_fifo_and_a_directory_are_refused_without_hanging) {
  temp_tree t;
  const auto fifo = t.at("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // With a reader, so that code that does not check would write into it rather than block.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  EXPECT_EQ(decision_log_error(fifo), "--decision-log " + fifo + ": is not a regular file (a FIFO)");
  ::close(reader);
  const auto dir = t.dir("dir");
  EXPECT_EQ(decision_log_error(dir), "--decision-log " + dir + ": is not a regular file (a directory)");
}

TEST(files_decision_log, a_file_of_another_user_is_refused_untouched) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  temp_tree t;
  const auto log = t.file("decisions.jsonl", precious);
  ASSERT_EQ(::chown(log.c_str(), 65534, 65534), 0);
  EXPECT_EQ(decision_log_error(log), "--decision-log " + log + ": is owned by uid 65534");
  EXPECT_EQ(read_all(log), precious);
}

TEST(files_decision_log, an_existing_log_of_ours_is_appended_to_and_made_private) {
  temp_tree t;
  const auto log = t.file("decisions.jsonl", "earlier\n");
  ASSERT_EQ(::chmod(log.c_str(), 0644), 0);
  {
    auto sink = examples::open_decision_log(log);
    ASSERT_TRUE(sink) << sink.error().message;
    (*sink)({"deny", "fs/read_text_file", "", "/etc/passwd", "outside the allowed roots", 0});
  }
  const auto text = read_all(log);
  EXPECT_EQ(text.rfind("earlier\n{", 0), 0u) << text;
  EXPECT_EQ(mode_of(log), 0600u);
}

// ---- acp-transcript-proxy ----------------------------------------------------------------------

TEST(files_transcript, a_world_or_group_writable_directory_is_refused_with_exit_2) {
  temp_tree t;
  for (const unsigned mode : {01777u, 0777u, 0770u}) {
    const auto dir = t.dir("shared-" + std::to_string(mode));
    ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
    const auto r = e2e::run({ACP_TRANSCRIPT_PROXY_BIN, "--dir", dir}, 10s);
    EXPECT_EQ(r.exit_code, 2) << std::oct << mode << ": " << r.err;
    const std::string who = (mode & 2) != 0 ? "others" : "its group";
    EXPECT_EQ(r.err.rfind("acp-transcript-proxy: --dir " + dir + ": is writable by " + who +
                              "; transcripts are private: use a directory only you can write to",
                          0),
              0u)
        << r.err;
  }
}

TEST(files_transcript, a_directory_of_another_user_is_refused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  temp_tree t;
  const auto dir = t.dir("theirs");
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  EXPECT_EQ(examples::prepare_transcript_dir(dir).rfind("--dir " + dir + ": is owned by uid 65534; ", 0), 0u)
      << examples::prepare_transcript_dir(dir);
}

/// A chain recording one turn into `dir`; returns the session id the test agent chose.
std::string record_one_turn(const std::string& dir, std::string* conductor_stderr = nullptr) {
  test::scripted_peer editor({test::conductor_path(), "agent",
                              test::component(ACP_TRANSCRIPT_PROXY_BIN, {"--dir", dir}),
                              test::component(test::test_agent_path())});
  EXPECT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto session = editor.new_session();
  boost::json::object block{{"type", "text"}, {"text", "echo hello"}};
  editor.send(test::request(1, "session/prompt",
                            boost::json::object{{"sessionId", session}, {"prompt", boost::json::array{block}}}));
  EXPECT_TRUE(editor.read_response(1, nullptr)) << editor.stderr_text();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
  if (conductor_stderr) *conductor_stderr = editor.stderr_text();
  return session;
}

TEST(files_transcript, a_planted_hard_link_is_refused_and_its_target_keeps_content_and_mode) {
  temp_tree t;
  const auto v = victim(t);
  const auto dir = t.dir("transcripts");
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  const auto planted = dir + "/" + examples::transcript_file_name("sess-1");
  ASSERT_EQ(::link(v.c_str(), planted.c_str()), 0);
  std::string err;
  ASSERT_EQ(record_one_turn(dir, &err), "sess-1");
  expect_victim_untouched(v);
  EXPECT_NE(err.find(planted + ": has 2 hard links; this session is not recorded"), std::string::npos) << err;
}

TEST(files_transcript, a_planted_symlink_is_refused_and_its_target_untouched) {
  temp_tree t;
  const auto v = victim(t);
  const auto dir = t.dir("transcripts");
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  const auto planted = dir + "/" + examples::transcript_file_name("sess-1");
  ASSERT_EQ(::symlink(v.c_str(), planted.c_str()), 0);
  std::string err;
  ASSERT_EQ(record_one_turn(dir, &err), "sess-1");
  expect_victim_untouched(v);
  EXPECT_NE(err.find(planted + ": is a symbolic link; this session is not recorded"), std::string::npos) << err;
}

TEST(files_transcript, an_existing_transcript_of_ours_is_appended_and_made_private) {
  temp_tree t;
  const auto dir = t.dir("transcripts");
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  const auto file = t.file("transcripts/" + examples::transcript_file_name("sess-1"), "earlier record\n");
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  ASSERT_EQ(record_one_turn(dir), "sess-1");
  const auto text = read_all(file);
  EXPECT_EQ(text.rfind("earlier record\n# Session `sess-1`", 0), 0u) << text;
  EXPECT_NE(text.find("## Turn 1 "), std::string::npos) << text;
  EXPECT_EQ(mode_of(file), 0600u);
}

} // namespace
} // namespace acp::security_test
