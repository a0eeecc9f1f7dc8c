#pragma once
// The shared state behind a child_process handle, and the coroutines that watch the child
// (private to the SDK; process.cpp starts children, process_watch.cpp watches them).

#include <acp/sdk/process.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace acp {

/// Lives as long as the handle or a watcher coroutine needs it. Touched only on the executor.
struct child_process::state {
  state(const boost::asio::any_io_executor& executor, std::string n, stderr_options o);

  boost::asio::any_io_executor ex;
  std::string name;
  stderr_options opts; // `sink` resolved: set whenever mode is `forward`
  int pid = -1;
  unique_fd in;                                  // write end of the child's stdin, until handed over
  unique_fd out;                                 // read end of the child's stdout, until handed over
  boost::asio::readable_pipe err;                // read end of the child's stderr (closed in `inherit` mode)
  boost::asio::steady_timer drain_timer;         // the exit watcher waits on it for stderr EOF
  boost::asio::posix::stream_descriptor exit_fd; // a pidfd: readable once the child has exited

  bool exited = false;                 // the exit has been seen; the child stays a zombie until reaped
  bool reaped = false;                 // waited for: from now on the pid may belong to someone else
  bool stderr_eof = false;             // the drain has finished
  bool stopped = false;                // the handle is gone (emergency_stop ran)
  exit_status raw;                     // valid once exited
  std::optional<exit_status> reported; // set once the exit is published
  std::list<boost::asio::steady_timer*> waiters;

  std::deque<std::string> tail;
  std::size_t tail_size = 0;

  /// A line of stderr: to the sink (forward mode) and the tail.
  void keep_line(std::string_view line);
  /// Reports `raw` to every waiter. Once.
  void publish();
  /// `sig` to the child's process group. Only while the child is unreaped: its zombie keeps the
  /// group id from being reused.
  void signal_group(int sig) noexcept;

  enum class probe { running, exited, failed };
  /// Looks for the exit without reaping (waitid ... WNOWAIT); sets `exited`/`raw` when seen.
  /// `failed` when the child cannot be waited for (someone else reaped it): the status is lost.
  probe probe_exit() noexcept;
  /// Reaps the child if it has exited (never blocks). True once reaped (or found gone).
  bool reap() noexcept;
  /// Synchronous: closes the pipes, SIGKILL to the group, reaps (waiting at most 2 s).
  void emergency_stop() noexcept;
};

/// Starts the coroutine that drains stderr into the sink and the tail (not in `inherit` mode).
void start_stderr_drain(const std::shared_ptr<child_process::state>& s);
/// Starts the coroutine that notices the exit (without reaping) and publishes it.
void start_exit_watch(const std::shared_ptr<child_process::state>& s);
/// Waits for the published exit, at most `timeout`.
boost::asio::awaitable<std::optional<exit_status>> wait_published(std::shared_ptr<child_process::state> s,
                                                                  std::chrono::steady_clock::duration timeout);
/// Whether a process of group `pgid` other than its (zombie) leader is still alive. True when it
/// cannot be told (no /proc).
bool group_has_live_members(int pgid) noexcept;

/// The sink shared by the children of one execution context that use the default sink.
stderr_sink shared_stderr_forwarder(const boost::asio::any_io_executor& ex);

} // namespace acp
