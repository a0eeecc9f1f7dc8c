// acp::child_process's stderr: sinks, tail, modes, and the default forwarder that never blocks
// the executor (a reader of our stderr that does not keep up loses lines, not time).
#include "process_support.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <csignal>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>

namespace acp::process_test {
namespace {

/// Points fd 2 at a pipe that nobody reads until `drain` is called; restores fd 2 when done.
/// A watchdog thread starts reading after `patience` (well within `run`'s 10 s), so code that
/// blocks on fd 2 makes the test fail (`restore()` says it was rescued) instead of hanging it.
class unread_stderr {
public:
  explicit unread_stderr(std::chrono::milliseconds patience = 5s) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
    read_fd_ = p[0];
    (void)::fcntl(read_fd_, F_SETFL, O_NONBLOCK);
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(p[1], STDERR_FILENO);
    ::close(p[1]);
    old_sigpipe_ = std::signal(SIGPIPE, SIG_IGN);
    watchdog_ = std::thread([this, patience] {
      const auto deadline = std::chrono::steady_clock::now() + patience;
      while (!finished_ && std::chrono::steady_clock::now() < deadline) ::usleep(10000);
      if (finished_) return;
      rescued_ = true;
      char buf[65536];
      while (!finished_) {
        if (::read(read_fd_, buf, sizeof buf) <= 0) ::usleep(1000);
      }
    });
  }
  ~unread_stderr() {
    restore();
    ::close(read_fd_);
    std::signal(SIGPIPE, old_sigpipe_);
  }
  /// Puts fd 2 back and stops the watchdog. Returns whether the watchdog had to read.
  bool restore() {
    if (saved_ >= 0) {
      finished_ = true;
      watchdog_.join();
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
    return rescued_;
  }
  /// Reads what is in the pipe now (never blocks).
  std::string drain() {
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(read_fd_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

private:
  int read_fd_ = -1;
  int saved_ = -1;
  std::thread watchdog_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> rescued_{false};
  void (*old_sigpipe_)(int) = SIG_DFL;
};

/// Reads the pipe while `ioc` runs, until `until` is found in what was read (at most 5 s).
std::string read_until(asio::io_context& ioc, unread_stderr& err, std::string_view until) {
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (seen.find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    seen += err.drain();
    ioc.restart();
    ioc.run_for(5ms);
  }
  return seen;
}

TEST_F(process_fixture, forwards_stderr_lines_with_name) {
  std::vector<std::string> lines;
  stderr_options opts;
  opts.sink = [&](std::string_view name, std::string_view line) {
    lines.push_back(std::string(name) + ":" + std::string(line));
  };
  auto child = spawn_ok(ioc, sh("echo one >&2; printf 'two\\r\\n' >&2; printf partial >&2", "agent"), opts);
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(lines, (std::vector<std::string>{"agent:one", "agent:two", "agent:partial"}));
  EXPECT_EQ(child.stderr_tail(), "one\ntwo\npartial");
}

TEST_F(process_fixture, default_sink_writes_prefixed_lines_to_stderr) {
  testing::internal::CaptureStderr();
  {
    auto child = spawn_ok(ioc, sh("echo hello >&2; echo world >&2", "p0"));
    auto st = run(ioc, child.async_wait());
    ASSERT_TRUE(st);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "[p0] hello\n[p0] world\n");
}

TEST_F(process_fixture, tail_only_keeps_lines_silently) {
  int forwarded = 0;
  stderr_options opts{stderr_mode::tail_only, [&](std::string_view, std::string_view) { ++forwarded; }};
  auto child = spawn_ok(ioc, sh("echo a >&2; echo b >&2; exit 1"), opts);
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_EQ(forwarded, 0);
  EXPECT_EQ(child.stderr_tail(), "a\nb");
}

TEST_F(process_fixture, discard_keeps_nothing_but_still_drains) {
  int forwarded = 0;
  stderr_options opts{stderr_mode::discard, [&](std::string_view, std::string_view) { ++forwarded; }};
  // 1 MiB on stderr: more than a pipe buffer, so the child only exits if stderr is drained.
  auto child = spawn_ok(ioc, sh("head -c 1048576 /dev/zero >&2; echo done"), opts);
  EXPECT_EQ(stdout_of(ioc, child), "done\n");
  auto st = run(ioc, child.async_wait());
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success());
  EXPECT_EQ(forwarded, 0);
  EXPECT_EQ(child.stderr_tail(), "");
}

TEST_F(process_fixture, tail_is_bounded_by_lines_and_bytes) {
  auto child = spawn_ok(ioc, sh("i=0; while [ $i -lt 50 ]; do echo line$i >&2; i=$((i+1)); done"),
                        stderr_options{stderr_mode::tail_only, {}});
  ASSERT_TRUE(run(ioc, child.async_wait()));
  std::string expected;
  for (int i = 30; i < 50; ++i) expected += (expected.empty() ? "" : "\n") + std::string("line") + std::to_string(i);
  EXPECT_EQ(child.stderr_tail(), expected);

  auto big = spawn_ok(ioc, sh("head -c 20000 /dev/zero | tr '\\0' x >&2; echo >&2; echo end >&2"),
                      stderr_options{stderr_mode::tail_only, {}});
  ASSERT_TRUE(run(ioc, big.async_wait()));
  const std::string tail = big.stderr_tail();
  EXPECT_LE(tail.size(), 8 * 1024 + 8);
  EXPECT_EQ(tail.substr(tail.size() - 4), "\nend");
}

TEST_F(process_fixture, inherit_mode_lets_the_child_write_our_stderr) {
  testing::internal::CaptureStderr();
  {
    auto child = spawn_ok(ioc, sh("echo straight >&2", "p1"), stderr_options{stderr_mode::inherit, {}});
    auto st = run(ioc, child.async_wait());
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->success());
    EXPECT_EQ(child.stderr_tail(), "");
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "straight\n");
}

TEST_F(process_fixture, failing_sink_is_logged_and_stderr_still_drained) {
  int calls = 0;
  stderr_options opts;
  opts.sink = [&](std::string_view, std::string_view) {
    ++calls;
    throw std::runtime_error("sink broke");
  };
  testing::internal::CaptureStderr();
  // 1 MiB of lines after the failure: the child only finishes if stderr is still drained, and
  // `tr` only succeeds if the pipe is still open.
  auto child = spawn_ok(ioc, sh("echo first >&2; head -c 1048576 /dev/zero | tr '\\0' '\\n' >&2; echo done $?", "p2"),
                        std::move(opts));
  const auto out = stdout_of(ioc, child);
  auto st = run(ioc, child.async_wait());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "done 0\n");
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success());
  EXPECT_EQ(calls, 1);
  EXPECT_NE(err.find("p2: reading its stderr failed: sink broke"), std::string::npos) << err;
}

TEST_F(process_fixture, children_start_while_our_stderr_is_dev_null) {
  // epoll refuses /dev/null; a forwarder that handed it to the reactor anyway made every spawn
  // after it fail in the forked child ("epoll re-registration: Operation not permitted"), so
  // `acp-conductor ... 2>/dev/null` answered initialize with an error.
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_TRUE(saved >= 0 && null >= 0);
  ::dup2(null, STDERR_FILENO);
  ::close(null);
  std::vector<std::string> outs;
  {
    asio::io_context local;
    for (int i = 0; i < 3; ++i) { // the first makes the shared forwarder; it writes a line
      auto r = child_process::spawn(local.get_executor(), sh("echo into-the-void >&2; echo ok" + std::to_string(i)));
      if (!r) {
        outs.push_back("spawn failed: " + r.error().message);
        continue;
      }
      outs.push_back(stdout_of(local, *r));
      (void)run(local, r->async_wait());
    }
  }
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  EXPECT_EQ(outs, (std::vector<std::string>{"ok0\n", "ok1\n", "ok2\n"}));
}

TEST_F(process_fixture, forwarder_never_blocks_and_counts_what_it_drops) {
  std::optional<unread_stderr> err(std::in_place);
  asio::io_context local; // destroyed before `err`: nothing writes to a closed pipe
  auto sink = make_stderr_forwarder(local.get_executor(), 4096);
  const std::string filler(60, '.');
  constexpr int lines = 3000; // ~200 KiB: more than the pipe (64 KiB) and the queue (4 KiB) hold
  for (int i = 0; i < lines; ++i) sink("t", std::to_string(i) + filler);
  EXPECT_FALSE(err->restore()) << "the sink blocked on a full stderr";

  const std::string seen = read_until(local, *err, " lines: this process's stderr is not being read fast enough\n");
  // Whole lines, in order, from the first; then the note with the number of the others.
  int next = 0;
  std::size_t pos = 0;
  for (std::size_t nl; (nl = seen.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    const std::string line = seen.substr(pos, nl - pos);
    if (line.starts_with("[stderr] dropped ")) {
      EXPECT_EQ(line, "[stderr] dropped " + std::to_string(lines - next) +
                          " lines: this process's stderr is not being read fast enough");
      EXPECT_EQ(nl + 1, seen.size()) << "nothing after the note";
      break;
    }
    ASSERT_EQ(line, "[t] " + std::to_string(next) + filler);
    ++next;
  }
  EXPECT_GT(next, 0);
  EXPECT_LT(next, lines);
}

TEST_F(process_fixture, unread_stderr_does_not_stall_the_executor) {
  std::optional<unread_stderr> err(std::in_place);
  asio::io_context local; // destroyed before `err`
  // ~4 MiB of stderr lines with the default sink, then a line on stdout.
  auto child = spawn_ok(
      local, sh("yes 'a line of stderr that nobody reads, over and over' | head -n 80000 >&2; echo done", "spewer"));
  int ticks = 0;
  asio::steady_timer heartbeat(local);
  std::function<void()> tick = [&] {
    heartbeat.expires_after(5ms);
    heartbeat.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      ++ticks;
      tick();
    });
  };
  tick();
  const auto out = stdout_of(local, child);
  auto st = run(local, child.async_wait());
  heartbeat.cancel();
  EXPECT_FALSE(err->restore()) << "forwarding blocked on a full stderr";
  EXPECT_EQ(out, "done\n");
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success());
  EXPECT_GT(ticks, 0);
  const std::string seen = read_until(local, *err, "this process's stderr is not being read fast enough\n");
  EXPECT_TRUE(seen.starts_with("[spewer] a line of stderr that nobody reads, over and over\n")) << seen.substr(0, 200);
  EXPECT_NE(seen.find("\n[stderr] dropped "), std::string::npos);
}

} // namespace
} // namespace acp::process_test
