// acp::child_process reaping: the exit is noticed without reaping, so the process group is
// signalled while the leader's zombie still holds its id; the child is reaped after the last
// signal; a watcher that cannot wait for its child reports so instead of waiting forever.
#include "process_support.hpp"

#include <csignal>

namespace acp::process_test {
namespace {

TEST_F(process_fixture, exited_leader_stays_unreaped_until_terminate_has_signalled_its_group) {
  auto child = spawn_ok(ioc, sh("exit 4"));
  const pid_t pid = child.pid();
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 4");
  // Reported, yet still a zombie: its pid (= its group id) cannot have been reused.
  EXPECT_EQ(process_state(pid), 'Z');
  EXPECT_EQ(::getpgid(pid), pid);

  auto end = run(ioc, child.terminate(0ms, 100ms));
  ASSERT_TRUE(end);
  EXPECT_EQ(to_string(*end), "exited with status 4");
  EXPECT_EQ(process_state(pid), 0) << "terminate reaps after the last signal";
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(process_fixture, kill_group_after_the_exit_reaches_what_the_leader_left_behind) {
  auto child = spawn_ok(ioc, sh("sleep 100 </dev/null >/dev/null 2>&1 & echo $!"));
  auto line = first_line_of(child);
  ASSERT_TRUE(!line.empty() && line[0] != '<') << line;
  const pid_t grandchild = std::stoi(line);
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success());
  EXPECT_EQ(process_state(child.pid()), 'Z');
  child.kill_group();
  EXPECT_TRUE(wait_gone(grandchild, 2000ms)) << "grandchild " << grandchild << " survived";
}

TEST_F(process_fixture, terminate_of_an_exited_leader_does_not_wait_out_term_wait) {
  auto child = spawn_ok(ioc, sh("exit 0"));
  ASSERT_TRUE(run(ioc, child.async_wait()));
  const auto start = std::chrono::steady_clock::now();
  auto st = run(ioc, child.terminate(1000ms, 3000ms));
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success());
  // Its own zombie does not count as a live member of the group.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

TEST_F(process_fixture, destructor_reaps_an_exited_child) {
  pid_t pid = -1;
  {
    auto child = spawn_ok(ioc, sh("exit 0"));
    pid = child.pid();
    ASSERT_TRUE(run(ioc, child.async_wait()));
    EXPECT_EQ(process_state(pid), 'Z');
  }
  EXPECT_EQ(process_state(pid), 0);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  ioc.restart();
  ioc.run_for(50ms); // internal coroutines finish without touching anything freed
}

TEST_F(process_fixture, child_reaped_by_someone_else_reports_an_unknown_status_promptly) {
  testing::internal::CaptureStderr();
  auto child = spawn_ok(ioc, sh("exit 3"));
  int raw = 0;
  ASSERT_EQ(::waitpid(child.pid(), &raw, 0), child.pid()); // before the watcher ever runs
  const auto start = std::chrono::steady_clock::now();
  auto st = run(ioc, child.async_wait(), 5s);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, exit_status{});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  EXPECT_NE(err.find("sh: cannot wait for process " + std::to_string(child.pid())), std::string::npos) << err;
  EXPECT_NE(err.find("its exit status is lost"), std::string::npos) << err;
  // Nothing is signalled any more: the pid may already be someone else's.
  auto end = run(ioc, child.terminate(0ms, 0ms));
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, exit_status{});
}

} // namespace
} // namespace acp::process_test
