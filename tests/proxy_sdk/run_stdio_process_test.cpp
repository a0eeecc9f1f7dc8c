// run_stdio as a process: SIGPIPE is ignored only when the options say so, and SIGTERM/SIGINT
// shut it down in order (tasks get the grace period, answers are flushed, exit 128 + signal);
// a second signal ends it at once. Each case runs run_stdio in a forked child on pipes.

#include <acp/sdk.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acp::test {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// A forked child whose stdin/stdout are our pipes; `body` is its whole life (its value the exit code).
class child {
public:
  explicit child(const std::function<int()>& body) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd); // our ends too: EOF and EPIPE must happen
      std::_Exit(body());
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    close_input();
    if (from_ >= 0) ::close(from_);
  }

  [[nodiscard]] bool started() const { return pid_ > 0; }
  void send(std::string_view line) {
    std::string l(line);
    l += '\n';
    ASSERT_EQ(::write(to_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  void close_input() {
    if (to_ >= 0) ::close(to_);
    to_ = -1;
  }
  void close_output() {
    if (from_ >= 0) ::close(from_);
    from_ = -1;
  }
  void signal(int sig) const { ::kill(pid_, sig); }

  /// Reads until `text` has appeared in the output (true) or `timeout` passed / end of output.
  bool read_until(std::string_view text, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = clock_type::now() + timeout;
    while (output.find(text) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  /// Reads to the end of the output (true) or until `timeout` (false).
  bool read_to_end(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = clock_type::now() + timeout;
    while (read_some(deadline)) {
    }
    return eof_;
  }
  /// Waits for the exit, at most `timeout`; the wait status.
  std::optional<int> wait(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = clock_type::now() + timeout;
    while (!status_ && clock_type::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_)
        status_ = st;
      else
        std::this_thread::sleep_for(5ms);
    }
    return status_;
  }

  std::string output;

private:
  bool read_some(clock_type::time_point deadline) {
    if (eof_ || from_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    if (left <= 0) return false;
    pollfd p{from_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[4096];
    const auto n = ::read(from_, buf, sizeof buf);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    output.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  bool eof_ = false;
  std::optional<int> status_;
};

/// An agent whose `slow` request is answered by a task after `delay` (or at once with
/// "cancelled" when the task is cancelled); it says `task/started` when the task runs.
int slow_agent(std::chrono::milliseconds delay, std::chrono::milliseconds grace) {
  agent_builder agent;
  endpoint_options o;
  o.grace_period = grace;
  agent.options(o);
  agent.on_receive_request_from(acp::client, "slow", [delay](jsonrpc::message&, responder& r, context& cx) {
    cx.spawn([delay, r = std::move(r), cx]() mutable -> asio::awaitable<void> {
      cx.send_notification_to(acp::client, "task/started", std::nullopt);
      asio::steady_timer t(co_await asio::this_coro::executor, delay);
      co_await asio::this_coro::throw_if_cancelled(false);
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      r.respond(json::value{{"done", ec ? "cancelled" : "finished"}});
    });
    return handled::yes;
  });
  return agent.run_stdio();
}

constexpr std::string_view slow_request = R"({"jsonrpc":"2.0","id":1,"method":"slow","params":{}})";

TEST(run_stdio_process_test, sigterm_lets_the_running_task_finish_flushes_its_answer_and_exits_143) {
  child c([] { return slow_agent(300ms, 5s); });
  ASSERT_TRUE(c.started());
  c.send(slow_request);
  ASSERT_TRUE(c.read_until("task/started")) << c.output;
  const auto start = clock_type::now();
  c.signal(SIGTERM);
  ASSERT_TRUE(c.read_to_end()) << c.output;
  auto st = c.wait();
  ASSERT_TRUE(st.has_value()) << "run_stdio did not exit after SIGTERM";
  ASSERT_TRUE(WIFEXITED(*st)) << "killed by signal " << WTERMSIG(*st);
  EXPECT_EQ(WEXITSTATUS(*st), 128 + SIGTERM);
  EXPECT_LT(clock_type::now() - start, 3s); // the task's 300 ms, not the 5 s grace period
  EXPECT_NE(c.output.find(R"("id":1,"result":{"done":"finished"})"), std::string::npos) << c.output;
}

TEST(run_stdio_process_test, sigint_cancels_a_task_after_the_grace_period_and_its_answer_is_flushed) {
  child c([] { return slow_agent(60s, 200ms); });
  ASSERT_TRUE(c.started());
  c.send(slow_request);
  ASSERT_TRUE(c.read_until("task/started")) << c.output;
  c.signal(SIGINT);
  ASSERT_TRUE(c.read_to_end()) << c.output;
  auto st = c.wait();
  ASSERT_TRUE(st.has_value()) << "run_stdio did not exit after SIGINT";
  ASSERT_TRUE(WIFEXITED(*st)) << "killed by signal " << WTERMSIG(*st);
  EXPECT_EQ(WEXITSTATUS(*st), 128 + SIGINT);
  EXPECT_NE(c.output.find(R"("id":1,"result":{"done":"cancelled"})"), std::string::npos) << c.output;
}

TEST(run_stdio_process_test, a_second_signal_ends_the_process_at_once) {
  child c([] { return slow_agent(60s, 30s); });
  ASSERT_TRUE(c.started());
  c.send(slow_request);
  ASSERT_TRUE(c.read_until("task/started")) << c.output;
  c.signal(SIGTERM);
  EXPECT_FALSE(c.wait(200ms).has_value()); // the task has 30 s of grace
  const auto start = clock_type::now();
  c.signal(SIGINT);
  auto st = c.wait(3s);
  ASSERT_TRUE(st.has_value()) << "a second signal did not end run_stdio";
  EXPECT_LT(clock_type::now() - start, 2s);
  ASSERT_TRUE(WIFEXITED(*st));
  EXPECT_EQ(WEXITSTATUS(*st), 128 + SIGINT);
}

/// An agent that answers `ping`; its SIGPIPE disposition is the default before run_stdio.
int pinged_agent(bool ignore_sigpipe) {
  std::signal(SIGPIPE, SIG_DFL);
  agent_builder agent;
  endpoint_options o;
  o.ignore_sigpipe = ignore_sigpipe;
  agent.options(o);
  agent.on_receive_request_from(acp::client, "ping", [](jsonrpc::message&, responder& r, context&) {
    r.respond(json::value("pong"));
    return handled::yes;
  });
  return agent.run_stdio();
}

TEST(run_stdio_process_test, by_default_a_vanished_reader_is_a_failed_write_not_sigpipe) {
  child c([] { return pinged_agent(true); });
  ASSERT_TRUE(c.started());
  c.close_output(); // nobody reads the answer
  c.send(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{}})");
  c.close_input();
  auto st = c.wait();
  ASSERT_TRUE(st.has_value());
  ASSERT_TRUE(WIFEXITED(*st)) << "killed by signal " << WTERMSIG(*st);
  // It exits (0 or 1: the end of its input may be read before the failed write); not a signal.
  EXPECT_LE(WEXITSTATUS(*st), 1);
}

TEST(run_stdio_process_test, ignore_sigpipe_false_leaves_the_process_disposition_alone) {
  child c([] { return pinged_agent(false); });
  ASSERT_TRUE(c.started());
  c.close_output();
  c.send(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{}})");
  c.close_input();
  auto st = c.wait();
  ASSERT_TRUE(st.has_value());
  ASSERT_TRUE(WIFSIGNALED(*st)) << "exited with " << WEXITSTATUS(*st) << "; SIGPIPE was ignored anyway";
  EXPECT_EQ(WTERMSIG(*st), SIGPIPE);
}

} // namespace
} // namespace acp::test
