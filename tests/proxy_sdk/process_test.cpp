// acp::child_process: starting, pipes, exit statuses, errors, process groups, termination.
// stderr handling is in process_stderr_test.cpp, reaping in process_reap_test.cpp.
#include "process_support.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

namespace acp::process_test {

std::string first_line_of(child_process& child) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{child.stdout_pipe().get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char c = 0;
    if (::read(p.fd, &c, 1) != 1) return "<eof>";
    if (c == '\n') return line;
    line += c;
  }
  return "<timed out>";
}

char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 0;
  return text[close + 2];
}

namespace {

TEST(exit_status_text, prints_code_and_signal) {
  EXPECT_EQ(to_string(exit_status{exit_status::kind::exited, 3}), "exited with status 3");
  EXPECT_EQ(to_string(exit_status{exit_status::kind::signaled, 9}), "killed by signal 9");
  EXPECT_EQ(to_string(exit_status{}), "exit status unknown");
  EXPECT_TRUE((exit_status{exit_status::kind::exited, 0}).success());
  EXPECT_FALSE((exit_status{exit_status::kind::signaled, 15}).success());
}

TEST_F(process_fixture, stdin_and_stdout_are_the_protocol_transport) {
  auto child = spawn_ok(ioc, sh("read line; echo \"got:$line\"; read again; echo \"and:$again\""));
  auto t = child.take_transport();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->describe(), "process sh");
  auto out = run(ioc, [&]() -> asio::awaitable<std::string> {
    std::string buf;
    (void)co_await write(*t, "hello\n");
    std::string first = co_await read_line(*t, buf);
    (void)co_await write(*t, "world\n");
    std::string second = co_await read_line(*t, buf);
    co_return first + "|" + second;
  }());
  EXPECT_EQ(out, "got:hello|and:world");
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, (exit_status{exit_status::kind::exited, 0}));
  EXPECT_EQ(child.status(), st);
}

TEST_F(process_fixture, transport_is_handed_over_once) {
  auto child = spawn_ok(ioc, sh("read x"));
  auto first = child.take_transport();
  EXPECT_TRUE(first);
  EXPECT_FALSE(child.stdin_pipe().is_open());
  EXPECT_FALSE(child.stdout_pipe().is_open());
  EXPECT_EQ(child.take_transport(), nullptr);
}

TEST_F(process_fixture, released_pipes_make_a_transport_of_ones_own) {
  auto child = spawn_ok(ioc, sh("read line; echo \"got:$line\""));
  const int out_fd = child.stdout_pipe().release();
  const int in_fd = child.stdin_pipe().release();
  ASSERT_GE(out_fd, 0);
  ASSERT_GE(in_fd, 0);
  EXPECT_EQ(child.take_transport(), nullptr);
  auto t = make_fd_transport(ioc.get_executor(), out_fd, in_fd, "mine");
  auto out = run(ioc, [&]() -> asio::awaitable<std::string> {
    std::string buf;
    (void)co_await write(*t, "x\n");
    co_return co_await read_line(*t, buf);
  }());
  EXPECT_EQ(out, "got:x");
}

TEST_F(process_fixture, stdout_reaches_eof_after_exit) {
  auto child = spawn_ok(ioc, sh("printf 'a\\nb\\n'"));
  auto t = child.take_transport();
  EXPECT_EQ(run(ioc, read_all(*t)), "a\nb\n");
}

TEST_F(process_fixture, close_stdin_is_eof_for_the_child) {
  auto child = spawn_ok(ioc, sh("cat >/dev/null; exit 6"));
  child.close_stdin();
  child.close_stdin(); // idempotent
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 6");
}

TEST_F(process_fixture, reports_exit_code) {
  auto child = spawn_ok(ioc, sh("exit 3"));
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 3");
}

TEST_F(process_fixture, reports_signal) {
  auto child = spawn_ok(ioc, sh("kill -9 $$"));
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 9");
}

TEST_F(process_fixture, several_waiters_all_complete) {
  auto child = spawn_ok(ioc, sh("sleep 0.1; exit 4"));
  auto both = run(ioc, [&]() -> asio::awaitable<int> {
    int done = 0;
    auto waiter = [&]() -> asio::awaitable<void> {
      auto s = co_await child.async_wait();
      if (s.value == 4) ++done;
    };
    asio::co_spawn(co_await asio::this_coro::executor, waiter(), [](std::exception_ptr) {});
    co_await waiter();
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return done;
  }());
  EXPECT_EQ(both, 2);
}

TEST_F(process_fixture, wait_for_times_out_on_a_running_child) {
  auto child = spawn_ok(ioc, sh("read x"));
  auto st = run(ioc, child.async_wait_for(50ms));
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->has_value());
  EXPECT_FALSE(child.status());
}

TEST_F(process_fixture, env_entries_are_added_to_the_inherited_environment) {
  ::setenv("ACP_TEST_INHERITED", "inherited", 1);
  ::setenv("ACP_TEST_REPLACED", "old", 1);
  process_spec spec = sh("echo \"$ACP_TEST_INHERITED|$ACP_TEST_REPLACED|$ACP_TEST_NEW\"");
  spec.env = {{"ACP_TEST_REPLACED", "new"}, {"ACP_TEST_NEW", "x y"}};
  auto child = spawn_ok(ioc, spec);
  EXPECT_EQ(stdout_of(ioc, child), "inherited|new|x y\n");
}

TEST_F(process_fixture, working_directory_is_entered_before_exec) {
  process_spec spec = sh("pwd");
  spec.working_directory = "/tmp";
  auto child = spawn_ok(ioc, spec);
  EXPECT_EQ(stdout_of(ioc, child), "/tmp\n");
  spec.working_directory = "/nonexistent/dir";
  auto failed = child_process::spawn(ioc.get_executor(), spec);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("No such file or directory"), std::string::npos) << failed.error().message;
}

TEST_F(process_fixture, bare_command_is_found_in_path) {
  auto child = spawn_ok(ioc, process_spec{"echo", "echo", {"a", "b c"}, {}});
  EXPECT_EQ(stdout_of(ioc, child), "a b c\n");
}

TEST_F(process_fixture, path_from_spec_env_is_used_for_lookup) {
  auto r = child_process::spawn(ioc.get_executor(), process_spec{"sh", "sh", {}, {{"PATH", "/nonexistent-dir"}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no such command: sh");
}

TEST_F(process_fixture, unknown_command_is_a_clean_error) {
  auto r = child_process::spawn(ioc.get_executor(), process_spec{"x", "acp-no-such-command-xyz", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::no_such_file_or_directory);
  EXPECT_EQ(r.error().message, "no such command: acp-no-such-command-xyz");

  auto abs = child_process::spawn(ioc.get_executor(), process_spec{"x", "/nonexistent/agent", {}, {}});
  ASSERT_FALSE(abs);
  EXPECT_EQ(abs.error().message, "no such command: /nonexistent/agent");
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1); // no child at all, no zombie
}

class temp_file {
public:
  temp_file(const std::string& content, mode_t mode) {
    char tmpl[] = "/tmp/acp-child-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    path_ = tmpl;
    (void)::write(fd, content.data(), content.size());
    ::fchmod(fd, mode);
    ::close(fd);
  }
  ~temp_file() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

TEST_F(process_fixture, non_executable_file_is_a_clean_error) {
  temp_file f("#!/bin/sh\necho hi\n", 0644);
  auto r = child_process::spawn(ioc.get_executor(), process_spec{"x", f.path(), {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::permission_denied);
  EXPECT_EQ(r.error().message, "not executable: " + f.path());
}

TEST_F(process_fixture, exec_failure_is_a_clean_error_without_zombie) {
  temp_file f(std::string("\x7f"
                          "ELF garbage",
                          11),
              0755); // executable bit, not a program
  auto r = child_process::spawn(ioc.get_executor(), process_spec{"x", f.path(), {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot execute " + f.path() + ": Exec format error");
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1); // the forked child was reaped
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(process_fixture, child_runs_in_its_own_process_group) {
  auto child = spawn_ok(ioc, sh("read x"));
  EXPECT_EQ(::getpgid(child.pid()), child.pid());
  EXPECT_NE(::getpgid(child.pid()), ::getpgrp());
}

TEST_F(process_fixture, only_stdio_descriptors_leak_into_the_child) {
  const int leaky = ::open("/dev/null", O_RDONLY); // deliberately without O_CLOEXEC
  ASSERT_GE(leaky, 0);
  auto child = spawn_ok(ioc, sh("ls /proc/$$/fd"));
  auto out = stdout_of(ioc, child);
  ::close(leaky);
  EXPECT_EQ(out, "0\n1\n2\n");
}

TEST_F(process_fixture, terminate_closes_stdin_and_waits_for_a_clean_exit) {
  auto child = spawn_ok(ioc, sh("read x; exit 7"));
  const auto start = std::chrono::steady_clock::now();
  auto st = run(ioc, child.terminate(5000ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 7");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(process_fixture, terminate_kills_the_group_including_grandchildren) {
  auto child = spawn_ok(ioc, sh("sleep 100 & echo $!; wait"));
  auto line = first_line_of(child);
  ASSERT_TRUE(!line.empty() && line[0] != '<') << line;
  const pid_t grandchild = std::stoi(line);
  ASSERT_EQ(::kill(grandchild, 0), 0);
  auto st = run(ioc, child.terminate(100ms, 1000ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 15");
  EXPECT_TRUE(wait_gone(grandchild, 2000ms)) << "grandchild " << grandchild << " survived";
}

TEST_F(process_fixture, terminate_kills_grandchildren_of_an_exited_leader) {
  // The leader exits on stdin EOF but leaves a grandchild in its group.
  auto child = spawn_ok(ioc, sh("sleep 100 </dev/null >/dev/null 2>&1 & echo $!; read x; exit 0"));
  auto line = first_line_of(child);
  ASSERT_TRUE(!line.empty() && line[0] != '<') << line;
  const pid_t grandchild = std::stoi(line);
  auto st = run(ioc, child.terminate(2000ms, 1000ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 0");
  EXPECT_TRUE(wait_gone(grandchild, 2000ms)) << "grandchild " << grandchild << " survived";
}

TEST_F(process_fixture, terminate_escalates_to_sigkill) {
  auto child = spawn_ok(ioc, sh("trap '' TERM; sleep 100 & echo $!; wait; wait"));
  auto line = first_line_of(child);
  ASSERT_TRUE(!line.empty() && line[0] != '<') << line;
  const pid_t grandchild = std::stoi(line);
  auto st = run(ioc, child.terminate(100ms, 200ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 9");
  EXPECT_TRUE(wait_gone(grandchild, 2000ms));
}

TEST_F(process_fixture, kill_group_is_synchronous_sigkill) {
  auto child = spawn_ok(ioc, process_spec{"sleep", "sleep", {"100"}, {}});
  child.kill_group();
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 9");
}

TEST_F(process_fixture, destructor_kills_and_reaps) {
  pid_t pid = -1;
  {
    auto child = spawn_ok(ioc, process_spec{"sleep", "sleep", {"100"}, {}});
    pid = child.pid();
  }
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  ioc.restart();
  ioc.run_for(50ms); // internal coroutines finish without touching anything freed
}

TEST_F(process_fixture, handle_can_be_moved) {
  auto first = spawn_ok(ioc, sh("exit 5"));
  child_process second = std::move(first);
  auto st = run(ioc, second.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(st->value, 5);
  EXPECT_EQ(second.name(), "sh");
}

} // namespace
} // namespace acp::process_test
