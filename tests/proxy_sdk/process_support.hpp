#pragma once
// Test support for acp/sdk/process.hpp: a fixture that adopts orphaned grandchildren, a bounded
// `run`, children started with /bin/sh, and line reads over the child's transport.

#include <acp/sdk/process.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acp::process_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Runs `aw` on `ioc` until it completes; fails the test (nullopt) after `timeout`.
template <typename T>
std::optional<T> run(asio::io_context& ioc, asio::awaitable<T> aw, std::chrono::steady_clock::duration timeout = 10s) {
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
    done = true;
    error = e;
    if (!e) result = std::move(v);
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ioc.restart();
  while (!done && std::chrono::steady_clock::now() < deadline) ioc.run_one_until(deadline);
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

inline process_spec sh(std::string script, std::string name = "sh") {
  return process_spec{std::move(name), "/bin/sh", {"-c", std::move(script)}, {}};
}

inline child_process spawn_ok(asio::io_context& ioc, const process_spec& spec, stderr_options opts = {}) {
  auto r = child_process::spawn(ioc.get_executor(), spec, std::move(opts));
  if (!r) {
    ADD_FAILURE() << "spawn failed: " << r.error().message;
    std::abort();
  }
  return std::move(*r);
}

/// One line read from `t` (without its newline), or "<error message>" at EOF/error.
inline asio::awaitable<std::string> read_line(transport& t, std::string& buf) {
  for (;;) {
    if (auto nl = buf.find('\n'); nl != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      co_return line;
    }
    char chunk[4096];
    const auto [ec, n] = co_await t.read_some(chunk);
    if (ec) co_return "<" + ec.message() + ">";
    buf.append(chunk, n);
  }
}

/// Everything `t` yields until EOF.
inline asio::awaitable<std::string> read_all(transport& t) {
  std::string out;
  for (;;) {
    char chunk[4096];
    const auto [ec, n] = co_await t.read_some(chunk);
    if (ec) co_return out;
    out.append(chunk, n);
  }
}

inline asio::awaitable<bool> write(transport& t, std::string text) {
  const auto ec = co_await t.write_all(text);
  co_return !ec;
}

/// Everything the child writes on stdout until EOF (takes its transport).
inline std::string stdout_of(asio::io_context& ioc, child_process& child) {
  auto t = child.take_transport();
  if (!t) return "<no transport>";
  return run(ioc, read_all(*t)).value_or("<timed out>");
}

/// The first line of the child's stdout, read directly from the pipe (the handle keeps both
/// pipes, so `terminate()` can still close stdin); "<...>" after 10 s or at EOF.
std::string first_line_of(child_process& child);

/// Whether `pid` is gone; reaps it first when it became our child (we are a subreaper).
inline bool process_gone(pid_t pid) {
  int st = 0;
  (void)::waitpid(pid, &st, WNOHANG);
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

inline bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_gone(pid)) return true;
    ::usleep(5000);
  }
  return process_gone(pid);
}

/// The state letter of /proc/PID/stat ('Z' for a zombie), or 0 when there is no such process.
char process_state(pid_t pid);

class process_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    // Orphaned grandchildren are re-parented to us so we can check (and reap) them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  asio::io_context ioc;
};

} // namespace acp::process_test
