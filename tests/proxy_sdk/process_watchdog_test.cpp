// acp::child_process's watchdog: a child gets PR_SET_PDEATHSIG(SIGKILL), so it dies when the
// process that started it is killed with SIGKILL (no destructor runs), and, as documented, when
// the thread that called `spawn` ends.
#include "process_support.hpp"

#include <csignal>
#include <thread>

#include <fcntl.h>

namespace acp::process_test {
namespace {

/// Whether `pid` (our child or adopted by us) has died within `timeout`, without reaping it.
bool dies_within(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const char st = process_state(pid);
    if (st == 0 || st == 'Z') return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::usleep(5000);
  }
}

TEST_F(process_fixture, a_child_dies_when_its_parent_is_killed_with_sigkill) {
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) { // the parent-to-be-killed: starts a child that ignores its input, then waits
    asio::io_context own;
    auto child = child_process::spawn(own.get_executor(), sh("exec sleep 60"), {.mode = stderr_mode::inherit});
    const pid_t pid = child ? child->pid() : -1;
    (void)!::write(report[1], &pid, sizeof pid);
    for (;;) ::pause();
  }
  ::close(report[1]);
  pid_t pid = -1;
  const auto n = ::read(report[0], &pid, sizeof pid);
  ::close(report[0]);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof pid));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(process_state(pid) != 0, true);
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  const bool died = wait_gone(pid, 2000ms); // adopted by us (a subreaper): reaped here
  EXPECT_TRUE(died) << "the child outlived its SIGKILLed parent";
  if (!died) {
    ::kill(pid, SIGKILL);
    (void)wait_gone(pid, 2000ms);
  }
}

TEST_F(process_fixture, a_child_dies_when_the_thread_that_spawned_it_ends) {
  std::optional<child_process> child;
  std::thread spawner([&] { child.emplace(spawn_ok(ioc, sh("exec sleep 60"))); });
  spawner.join();
  ASSERT_TRUE(child);
  EXPECT_TRUE(dies_within(child->pid(), 2000ms)) << "documented: the death signal follows the spawning thread";
  child.reset(); // reaps it
}

} // namespace
} // namespace acp::process_test
