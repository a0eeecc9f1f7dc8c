#include <acp/conductor/child_process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/errc.hpp>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acp::conductor {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs `aw` on `ioc` until it completes; fails the test (nullopt) after `timeout`.
template <typename T>
std::optional<T> run(asio::io_context& ioc, asio::awaitable<T> aw,
                     std::chrono::steady_clock::duration timeout = 10s) {
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
    done = true;
    error = e;
    if (!e)
      result = std::move(v);
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ioc.restart();
  while (!done && std::chrono::steady_clock::now() < deadline)
    ioc.run_one_until(deadline);
  EXPECT_TRUE(done) << "timed out";
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "coroutine threw: " << e.what();
    }
  }
  return result;
}

component_spec sh(std::string script, std::string name = "sh") {
  return component_spec{std::move(name), "/bin/sh", {"-c", std::move(script)}, {}};
}

child_process spawn_ok(asio::io_context& ioc, const component_spec& spec, stderr_options opts = {}) {
  auto r = child_process::spawn(ioc.get_executor(), spec, std::move(opts));
  if (!r) {
    ADD_FAILURE() << "spawn failed: " << r.error().message;
    std::abort();
  }
  return std::move(*r);
}

asio::awaitable<std::string> read_line(asio::readable_pipe& p, std::string& buf) {
  auto [ec, n] = co_await asio::async_read_until(p, asio::dynamic_buffer(buf), '\n',
                                                 asio::as_tuple(asio::use_awaitable));
  if (ec)
    co_return "<" + ec.message() + ">";
  std::string line = buf.substr(0, n - 1);
  buf.erase(0, n);
  co_return line;
}

asio::awaitable<std::string> read_all(asio::readable_pipe& p) {
  std::string out;
  auto [ec, n] = co_await asio::async_read(p, asio::dynamic_buffer(out),
                                           asio::as_tuple(asio::use_awaitable));
  (void)ec;
  (void)n;
  co_return out;
}

// Whether `pid` is gone; reaps it first when it became our child (we are a subreaper).
bool process_gone(pid_t pid) {
  int st = 0;
  (void)::waitpid(pid, &st, WNOHANG);
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_gone(pid))
      return true;
    ::usleep(5000);
  }
  return process_gone(pid);
}

class child_process_test : public ::testing::Test {
protected:
  void SetUp() override {
    // Orphaned grandchildren are re-parented to us so we can check (and reap) them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  asio::io_context ioc;
};

TEST(exit_status_text, prints_code_and_signal) {
  EXPECT_EQ(to_string(exit_status{exit_status::kind::exited, 3}), "exited with status 3");
  EXPECT_EQ(to_string(exit_status{exit_status::kind::signaled, 9}), "killed by signal 9");
  EXPECT_EQ(to_string(exit_status{}), "exit status unknown");
  EXPECT_TRUE((exit_status{exit_status::kind::exited, 0}).success());
  EXPECT_FALSE((exit_status{exit_status::kind::signaled, 15}).success());
}

TEST_F(child_process_test, stdin_and_stdout_are_the_protocol_pipes) {
  auto child = spawn_ok(ioc, sh("read line; echo \"got:$line\"; read again; echo \"and:$again\""));
  auto out = run(ioc, [&]() -> asio::awaitable<std::string> {
    std::string buf;
    co_await asio::async_write(child.stdin_pipe(), asio::buffer(std::string("hello\n")),
                               asio::use_awaitable);
    std::string first = co_await read_line(child.stdout_pipe(), buf);
    co_await asio::async_write(child.stdin_pipe(), asio::buffer(std::string("world\n")),
                               asio::use_awaitable);
    std::string second = co_await read_line(child.stdout_pipe(), buf);
    co_return first + "|" + second;
  }());
  EXPECT_EQ(out, "got:hello|and:world");
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, (exit_status{exit_status::kind::exited, 0}));
  EXPECT_EQ(child.status(), st);
}

TEST_F(child_process_test, stdout_reaches_eof_after_exit) {
  auto child = spawn_ok(ioc, sh("printf 'a\\nb\\n'"));
  EXPECT_EQ(run(ioc, read_all(child.stdout_pipe())), "a\nb\n");
}

TEST_F(child_process_test, reports_exit_code) {
  auto child = spawn_ok(ioc, sh("exit 3"));
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 3");
}

TEST_F(child_process_test, reports_signal) {
  auto child = spawn_ok(ioc, sh("kill -9 $$"));
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 9");
}

TEST_F(child_process_test, several_waiters_all_complete) {
  auto child = spawn_ok(ioc, sh("sleep 0.1; exit 4"));
  auto both = run(ioc, [&]() -> asio::awaitable<int> {
    int done = 0;
    auto waiter = [&]() -> asio::awaitable<void> {
      auto s = co_await child.async_wait();
      if (s.value == 4)
        ++done;
    };
    asio::co_spawn(co_await asio::this_coro::executor, waiter(), [](std::exception_ptr) {});
    co_await waiter();
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return done;
  }());
  EXPECT_EQ(both, 2);
}

TEST_F(child_process_test, wait_for_times_out_on_a_running_child) {
  auto child = spawn_ok(ioc, sh("read x"));
  auto st = run(ioc, child.async_wait_for(50ms));
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->has_value());
  EXPECT_FALSE(child.status());
}

TEST_F(child_process_test, forwards_stderr_lines_with_name) {
  std::vector<std::string> lines;
  stderr_options opts;
  opts.sink = [&](std::string_view name, std::string_view line) {
    lines.push_back(std::string(name) + ":" + std::string(line));
  };
  auto child = spawn_ok(ioc, sh("echo one >&2; printf 'two\\r\\n' >&2; printf partial >&2", "agent"),
                        opts);
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(lines, (std::vector<std::string>{"agent:one", "agent:two", "agent:partial"}));
  EXPECT_EQ(child.stderr_tail(), "one\ntwo\npartial");
}

TEST_F(child_process_test, default_sink_writes_prefixed_lines_to_stderr) {
  testing::internal::CaptureStderr();
  {
    auto child = spawn_ok(ioc, sh("echo hello >&2; echo world >&2", "p0"));
    auto st = run(ioc, child.async_wait());
    ASSERT_TRUE(st);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "[p0] hello\n[p0] world\n");
}

TEST_F(child_process_test, tail_only_keeps_lines_silently) {
  int forwarded = 0;
  stderr_options opts{stderr_mode::tail_only, [&](std::string_view, std::string_view) { ++forwarded; }};
  auto child = spawn_ok(ioc, sh("echo a >&2; echo b >&2; exit 1"), opts);
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(forwarded, 0);
  EXPECT_EQ(child.stderr_tail(), "a\nb");
}

TEST_F(child_process_test, discard_keeps_nothing_but_still_drains) {
  int forwarded = 0;
  stderr_options opts{stderr_mode::discard, [&](std::string_view, std::string_view) { ++forwarded; }};
  // 1 MiB on stderr: more than a pipe buffer, so the child only exits if stderr is drained.
  auto child = spawn_ok(ioc, sh("head -c 1048576 /dev/zero >&2; echo done"), opts);
  EXPECT_EQ(run(ioc, read_all(child.stdout_pipe())), "done\n");
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success());
  EXPECT_EQ(forwarded, 0);
  EXPECT_EQ(child.stderr_tail(), "");
}

TEST_F(child_process_test, tail_is_bounded_by_lines_and_bytes) {
  auto child = spawn_ok(ioc, sh("i=0; while [ $i -lt 50 ]; do echo line$i >&2; i=$((i+1)); done"),
                        stderr_options{stderr_mode::tail_only, {}});
  ASSERT_TRUE(run(ioc, child.async_wait()));
  std::string expected;
  for (int i = 30; i < 50; ++i)
    expected += (expected.empty() ? "" : "\n") + std::string("line") + std::to_string(i);
  EXPECT_EQ(child.stderr_tail(), expected);

  auto big = spawn_ok(ioc, sh("head -c 20000 /dev/zero | tr '\\0' x >&2; echo >&2; echo end >&2"),
                      stderr_options{stderr_mode::tail_only, {}});
  ASSERT_TRUE(run(ioc, big.async_wait()));
  const std::string tail = big.stderr_tail();
  EXPECT_LE(tail.size(), 8 * 1024 + 8);
  EXPECT_EQ(tail.substr(tail.size() - 4), "\nend");
}

TEST_F(child_process_test, env_entries_are_added_to_the_inherited_environment) {
  ::setenv("ACP_TEST_INHERITED", "inherited", 1);
  ::setenv("ACP_TEST_REPLACED", "old", 1);
  component_spec spec = sh("echo \"$ACP_TEST_INHERITED|$ACP_TEST_REPLACED|$ACP_TEST_NEW\"");
  spec.env = {{"ACP_TEST_REPLACED", "new"}, {"ACP_TEST_NEW", "x y"}};
  auto child = spawn_ok(ioc, spec);
  EXPECT_EQ(run(ioc, read_all(child.stdout_pipe())), "inherited|new|x y\n");
}

TEST_F(child_process_test, bare_command_is_found_in_path) {
  auto child = spawn_ok(ioc, component_spec{"echo", "echo", {"a", "b c"}, {}});
  EXPECT_EQ(run(ioc, read_all(child.stdout_pipe())), "a b c\n");
}

TEST_F(child_process_test, path_from_spec_env_is_used_for_lookup) {
  auto r = child_process::spawn(ioc.get_executor(),
                                component_spec{"sh", "sh", {}, {{"PATH", "/nonexistent-dir"}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no such command: sh");
}

TEST_F(child_process_test, unknown_command_is_a_clean_error) {
  auto r = child_process::spawn(ioc.get_executor(),
                                component_spec{"x", "acp-no-such-command-xyz", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::no_such_file_or_directory);
  EXPECT_EQ(r.error().message, "no such command: acp-no-such-command-xyz");

  auto abs = child_process::spawn(ioc.get_executor(), component_spec{"x", "/nonexistent/agent", {}, {}});
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

TEST_F(child_process_test, non_executable_file_is_a_clean_error) {
  temp_file f("#!/bin/sh\necho hi\n", 0644);
  auto r = child_process::spawn(ioc.get_executor(), component_spec{"x", f.path(), {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::permission_denied);
  EXPECT_EQ(r.error().message, "not executable: " + f.path());
}

TEST_F(child_process_test, exec_failure_is_a_clean_error_without_zombie) {
  temp_file f(std::string("\x7f" "ELF garbage", 11), 0755); // executable bit, not a program
  auto r = child_process::spawn(ioc.get_executor(), component_spec{"x", f.path(), {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot execute " + f.path() + ": Exec format error");
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1); // the forked child was reaped
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(child_process_test, child_runs_in_its_own_process_group) {
  auto child = spawn_ok(ioc, sh("read x"));
  EXPECT_EQ(::getpgid(child.pid()), child.pid());
  EXPECT_NE(::getpgid(child.pid()), ::getpgrp());
}

TEST_F(child_process_test, only_stdio_descriptors_leak_into_the_child) {
  const int leaky = ::open("/dev/null", O_RDONLY); // deliberately without O_CLOEXEC
  ASSERT_GE(leaky, 0);
  auto child = spawn_ok(ioc, sh("ls /proc/$$/fd"));
  auto out = run(ioc, read_all(child.stdout_pipe()));
  ::close(leaky);
  EXPECT_EQ(out, "0\n1\n2\n");
}

TEST_F(child_process_test, terminate_closes_stdin_and_waits_for_a_clean_exit) {
  auto child = spawn_ok(ioc, sh("read x; exit 7"));
  const auto start = std::chrono::steady_clock::now();
  auto st = run(ioc, child.terminate(5000ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 7");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(child_process_test, terminate_kills_the_group_including_grandchildren) {
  auto child = spawn_ok(ioc, sh("sleep 100 & echo $!; wait"));
  std::string buf;
  auto line = run(ioc, read_line(child.stdout_pipe(), buf));
  ASSERT_TRUE(line);
  const pid_t grandchild = std::stoi(*line);
  ASSERT_EQ(::kill(grandchild, 0), 0);
  auto st = run(ioc, child.terminate(100ms, 1000ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 15");
  EXPECT_TRUE(wait_gone(grandchild, 2000ms)) << "grandchild " << grandchild << " survived";
}

TEST_F(child_process_test, terminate_kills_grandchildren_of_an_exited_leader) {
  // The leader exits on stdin EOF but leaves a grandchild in its group.
  auto child = spawn_ok(ioc, sh("sleep 100 </dev/null >/dev/null 2>&1 & echo $!; read x; exit 0"));
  std::string buf;
  auto line = run(ioc, read_line(child.stdout_pipe(), buf));
  ASSERT_TRUE(line);
  const pid_t grandchild = std::stoi(*line);
  auto st = run(ioc, child.terminate(2000ms, 1000ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "exited with status 0");
  EXPECT_TRUE(wait_gone(grandchild, 2000ms)) << "grandchild " << grandchild << " survived";
}

TEST_F(child_process_test, terminate_escalates_to_sigkill) {
  auto child = spawn_ok(ioc, sh("trap '' TERM; sleep 100 & echo $!; wait; wait"));
  std::string buf;
  auto line = run(ioc, read_line(child.stdout_pipe(), buf));
  ASSERT_TRUE(line);
  const pid_t grandchild = std::stoi(*line);
  auto st = run(ioc, child.terminate(100ms, 200ms));
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 9");
  EXPECT_TRUE(wait_gone(grandchild, 2000ms));
}

TEST_F(child_process_test, kill_group_is_synchronous_sigkill) {
  auto child = spawn_ok(ioc, component_spec{"sleep", "sleep", {"100"}, {}});
  child.kill_group();
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(to_string(*st), "killed by signal 9");
}

TEST_F(child_process_test, destructor_kills_and_reaps) {
  pid_t pid = -1;
  {
    auto child = spawn_ok(ioc, component_spec{"sleep", "sleep", {"100"}, {}});
    pid = child.pid();
  }
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  ioc.restart();
  ioc.run_for(50ms); // internal coroutines finish without touching anything freed
}

TEST_F(child_process_test, handle_can_be_moved) {
  auto first = spawn_ok(ioc, sh("exit 5"));
  child_process second = std::move(first);
  auto st = run(ioc, second.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(st->value, 5);
  EXPECT_EQ(second.name(), "sh");
}

} // namespace
} // namespace acp::conductor
