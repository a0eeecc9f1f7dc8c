#pragma once
// One running component: a child process started without a shell, in its own process group,
// with stdin/stdout as the protocol pipes and stderr drained continuously.
//
// Threading: everything runs on the executor passed to `spawn` (one io_context, one thread).
// None of the functions here throws; failures are error codes / results.
//
// Ownership: `child_process` is a move-only handle. The protocol pipes belong to it; the router
// reads `stdout_pipe()` and writes `stdin_pipe()` while the handle is alive. Destroying a handle
// whose child still runs kills the child's whole process group (SIGKILL) and reaps the child;
// call `terminate()` first for an orderly stop.
//
// Exit: the child is reaped by an internal coroutine; `async_wait()` completes once it has
// exited *and* its stderr has reached EOF (or 200 ms have passed since the exit, if a
// grandchild keeps stderr open), so `stderr_tail()` is complete when an exit is reported.

#include <acp/conductor/component.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace acp::conductor {

/// How a child ended.
struct exit_status {
  enum class kind { exited, signaled, unknown };
  kind how = kind::unknown;
  int value = 0; ///< the exit code for `exited`, the signal number for `signaled`

  [[nodiscard]] static exit_status from_wait_status(int wait_status) noexcept;
  [[nodiscard]] bool success() const noexcept { return how == kind::exited && value == 0; }
  friend bool operator==(const exit_status&, const exit_status&) = default;
};

/// "exited with status 3", "killed by signal 9", "exit status unknown".
[[nodiscard]] std::string to_string(const exit_status& s);

/// Why a child could not be started: `code` is an errno-style code
/// (`errc::no_such_file_or_directory` for an unknown command, `errc::permission_denied` for a
/// file that cannot be executed, ...) and `message` one clear sentence naming the command, e.g.
/// `no such command: foo`.
struct spawn_error {
  boost::system::error_code code;
  std::string message;
};

/// Lets `result<child_process, spawn_error>::value()` throw a `system_error` (for callers that
/// want it; the library itself never calls it).
[[noreturn]] void throw_exception_from_error(const spawn_error& e, const boost::source_location& loc);

struct stderr_options {
  stderr_mode mode = stderr_mode::forward;
  /// Receives each forwarded line (without its newline) in `forward` mode. Default: writes
  /// `[name] line\n` to the conductor's stderr (fd 2) in one write.
  std::function<void(std::string_view name, std::string_view line)> sink;
  /// Bounds of the kept tail: the last `tail_lines` lines, at most `tail_bytes` bytes in all.
  std::size_t tail_lines = 20;
  std::size_t tail_bytes = 8 * 1024;
};

class child_process {
public:
  /// Starts `spec.command` with `spec.args`. A command without `/` is looked up in PATH (the
  /// PATH of `spec.env` when it sets one, else the conductor's). `spec.env` entries are added to
  /// the inherited environment. The child gets its own process group, SIGPIPE reset to default
  /// and an empty signal mask; no descriptors other than its stdio leak into it.
  ///
  /// Errors: `no such command: NAME`, `not executable: PATH`, `cannot execute PATH: REASON`, or a
  /// pipe/fork failure. A failed start leaves no process (and no zombie) behind.
  [[nodiscard]] static boost::system::result<child_process, spawn_error>
  spawn(const boost::asio::any_io_executor& executor, const component_spec& spec,
        stderr_options stderr_opts = {});

  child_process(child_process&&) noexcept;
  child_process& operator=(child_process&&) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  /// Kills the process group (SIGKILL) if the child has not been reaped yet, and reaps it.
  ~child_process();

  [[nodiscard]] const std::string& name() const noexcept;
  /// The child's pid; also its process-group id.
  [[nodiscard]] int pid() const noexcept;

  /// Protocol pipes: the conductor writes the child's stdin and reads its stdout.
  [[nodiscard]] boost::asio::writable_pipe& stdin_pipe() noexcept;
  [[nodiscard]] boost::asio::readable_pipe& stdout_pipe() noexcept;
  /// Closes the child's stdin (EOF for the child). Idempotent.
  void close_stdin() noexcept;

  /// Completes with the exit status once the child has exited (see the top of this file). Any
  /// number of coroutines may wait; after the exit it completes immediately.
  [[nodiscard]] boost::asio::awaitable<exit_status> async_wait();
  /// As `async_wait`, but gives up after `timeout` and returns nullopt if the child still runs.
  [[nodiscard]] boost::asio::awaitable<std::optional<exit_status>>
  async_wait_for(std::chrono::steady_clock::duration timeout);
  /// The status once the exit has been reported, else nullopt.
  [[nodiscard]] std::optional<exit_status> status() const noexcept;

  /// The last lines of the child's stderr (empty in `discard` mode), newline-separated; a line
  /// longer than the byte bound is cut and marked with "…".
  [[nodiscard]] std::string stderr_tail() const;

  /// Orderly stop: close stdin, wait up to `grace` for the exit, then SIGTERM to the whole
  /// process group, wait up to `term_wait`, then SIGKILL to the group. The group is signalled
  /// even when the leader has already exited, so grandchildren die too. Completes with the exit
  /// status (the `unknown` kind only if the child could not be reaped).
  [[nodiscard]] boost::asio::awaitable<exit_status>
  terminate(std::chrono::milliseconds grace,
            std::chrono::milliseconds term_wait = std::chrono::milliseconds{500});

  /// Emergency stop for destructors and at-exit paths: SIGKILL to the whole process group, now,
  /// synchronously. Does not reap. Safe to call any number of times.
  void kill_group() noexcept;

  struct state;

private:
  explicit child_process(std::shared_ptr<state> s) noexcept;
  std::shared_ptr<state> state_;
};

} // namespace acp::conductor
