#pragma once
// Child processes speaking ACP over their stdio: an agent a client starts, the components a
// conductor chains. A child is started without a shell, in its own process group, with
// stdin/stdout as the protocol pipes and stderr drained continuously.
//
// Threading: everything runs on the executor passed to `spawn` (one io_context, one thread).
// Nothing here throws; failures are error codes / results.
//
// Watchdog: every child is started with PR_SET_PDEATHSIG(SIGKILL), so the kernel kills it when
// this process dies, even by SIGKILL (when no orderly stop can run). Strictly, the signal comes
// when the *thread* that called `spawn` ends: spawn from the thread that runs the executor for
// the children's whole life (the usual one-thread io_context does). The death signal covers the
// child itself, not its own children: after a SIGKILL of this process those live on unless they
// end on their own (most do, at EOF on the pipes they share), and so do those that left the
// group (setsid, double fork) even after an orderly stop. Run under a cgroup-managed unit
// (`systemd-run --user --pipe --wait ...`, a container) when nothing may survive. A set-uid or
// file-capability program clears the setting when it is executed.
//
// Ownership: `child_process` is a move-only handle. It owns the protocol pipes until they are
// handed over (`take_transport()`, or `release()` on a pipe); it owns the child until the child
// is reaped. Destroying a handle whose child has not been reaped kills the child's whole process
// group (SIGKILL) and reaps the child; call `terminate()` first for an orderly stop.
//
// Exit and reaping: an internal watcher notices the exit without reaping the child, so the
// child's pid, and with it the process-group id, stay reserved while the group may still be
// signalled; the child is reaped only after the last signal to its group (by `terminate()` or
// the destructor). `async_wait()` completes once the child has exited *and* its stderr has
// reached EOF (or 200 ms have passed since the exit, if a grandchild keeps stderr open), so
// `stderr_tail()` is complete when an exit is reported.

#include <acp/sdk/process_spec.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
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

namespace acp {

/// How a child ended.
struct exit_status {
  enum class kind { exited, signaled, unknown };
  kind how = kind::unknown;
  int value = 0; ///< the exit code for `exited`, the signal number for `signaled`

  /// From a `waitpid` status.
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

/// Receives one stderr line of the child called `name`, without its newline.
using stderr_sink = std::function<void(std::string_view name, std::string_view line)>;

/// At most this many bytes of forwarded stderr wait for a slow reader (see
/// `make_stderr_forwarder`); lines beyond are dropped and counted.
inline constexpr std::size_t default_stderr_queue_bytes = 1024 * 1024;

struct stderr_options {
  stderr_mode mode = stderr_mode::forward;
  /// Receives each line in `forward` mode, on the executor's thread (it must not block).
  /// Default: the executor's shared stderr forwarder (`make_stderr_forwarder`), which writes
  /// `[name] line\n` to this process's stderr without ever blocking the caller.
  stderr_sink sink;
  /// Bounds of the kept tail: the last `tail_lines` lines, at most `tail_bytes` bytes in all.
  std::size_t tail_lines = 20;
  std::size_t tail_bytes = 8 * 1024;
};

/// A sink that writes `[name] line\n` to this process's stderr (fd 2) without blocking the
/// caller. When fd 2 is a pipe, a terminal or a socket, lines are queued and written by a
/// coroutine on `ex` through a descriptor of its own that never blocks (fd 2's own flags are left
/// alone); at most `max_queued_bytes` wait, and lines beyond are dropped, counted, and announced
/// by one line `[stderr] dropped N lines: ...` once the reader has caught up. A regular file is
/// written directly (it never blocks for long). What is still queued when the last copy of the
/// sink is gone is flushed, waiting at most 500 ms for the reader.
///
/// Each call makes a new forwarder; `spawn` shares one per execution context among the children
/// that use the default sink, so their lines never interleave.
[[nodiscard]] stderr_sink make_stderr_forwarder(const boost::asio::any_io_executor& ex,
                                                std::size_t max_queued_bytes = default_stderr_queue_bytes);

/// An owned file descriptor, closed on destruction.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  /// Gives the descriptor up (the caller closes it); -1 when there is none.
  [[nodiscard]] int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes the descriptor held (if any) and holds `fd` instead.
  void reset(int fd = -1) noexcept;

private:
  int fd_ = -1;
};

class child_process {
public:
  /// Starts `spec.command` with `spec.args`. A command without `/` is looked up in PATH (the
  /// PATH of `spec.env` when it sets one, else this process's). `spec.env` entries are added to
  /// the inherited environment. The child gets its own process group, SIGPIPE reset to default
  /// and an empty signal mask; no descriptors other than its stdio leak into it.
  ///
  /// Errors: `no such command: NAME`, `not executable: PATH`, `cannot execute PATH: REASON`, or a
  /// pipe/fork failure. A failed start leaves no process (and no zombie) behind.
  [[nodiscard]] static boost::system::result<child_process, spawn_error>
  spawn(const boost::asio::any_io_executor& executor, const process_spec& spec, stderr_options stderr_opts = {});

  child_process(child_process&&) noexcept;
  /// Stops the child held before (as the destructor does), then takes `other`'s.
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  /// If the child has not been reaped: SIGKILL to its process group, then reaps it (waiting at
  /// most 2 s). Closes the pipes still held.
  ~child_process();

  [[nodiscard]] const std::string& name() const noexcept;
  /// The child's pid; also its process-group id.
  [[nodiscard]] int pid() const noexcept;

  /// The protocol pipes as one transport that reads the child's stdout and writes its stdin
  /// (`describe()` is `process NAME`). Hands both pipes over: afterwards ending the child's
  /// input is the transport's business (`shutdown_write()` / `close()`), and `close_stdin()` /
  /// `terminate()` no longer can. nullptr when either pipe has already been given up.
  [[nodiscard]] transport_ptr take_transport();

  /// The raw protocol pipes, for callers that build their own transport: the write end of the
  /// child's stdin and the read end of its stdout (closed once given up with `release()`).
  [[nodiscard]] unique_fd& stdin_pipe() noexcept;
  [[nodiscard]] unique_fd& stdout_pipe() noexcept;
  /// Closes the child's stdin (EOF for the child) if this handle still holds it. Idempotent.
  void close_stdin() noexcept;

  /// Completes with the exit status once the child has exited (see the top of this file). Any
  /// number of coroutines may wait; after the exit it completes immediately. The `unknown` kind
  /// means the status was lost (someone else reaped the child, or the watcher failed).
  [[nodiscard]] boost::asio::awaitable<exit_status> async_wait();
  /// As `async_wait`, but gives up after `timeout` and returns nullopt if the child still runs.
  [[nodiscard]] boost::asio::awaitable<std::optional<exit_status>>
  async_wait_for(std::chrono::steady_clock::duration timeout);
  /// The status once the exit has been reported, else nullopt.
  [[nodiscard]] std::optional<exit_status> status() const noexcept;

  /// The last lines of the child's stderr (empty in `discard` and `inherit` modes),
  /// newline-separated; a line longer than the byte bound is cut and marked with "…".
  [[nodiscard]] std::string stderr_tail() const;

  /// Orderly stop: close stdin (if still held), wait up to `grace` for the exit, then SIGTERM to
  /// the whole process group, wait up to `term_wait` (for the child, or for the rest of its group
  /// once the child has exited), then SIGKILL to the group, then reap the child. The group is
  /// signalled even when the child has already exited, so grandchildren die too. Completes with
  /// the exit status (the `unknown` kind only if the child could not be reaped).
  [[nodiscard]] boost::asio::awaitable<exit_status>
  terminate(std::chrono::milliseconds grace, std::chrono::milliseconds term_wait = std::chrono::milliseconds{500});

  /// Emergency stop for destructors and at-exit paths: SIGKILL to the whole process group (and
  /// to the child, should it have left the group), now, synchronously. Does not reap. Safe to
  /// call any number of times; does nothing once the child has been reaped.
  void kill_group() noexcept;

  struct state;

private:
  explicit child_process(std::shared_ptr<state> s) noexcept;
  std::shared_ptr<state> state_;
};

} // namespace acp
