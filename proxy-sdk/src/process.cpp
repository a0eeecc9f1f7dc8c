// Starting a child process (command lookup, environment, pipes, the fork/exec hooks) and the
// handle's own operations. Watching a running child is in process_watch.cpp.
#include "process_state.hpp"

#include <acp/sdk/detail/boost_process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace acp {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using boost::system::error_code;

exit_status exit_status::from_wait_status(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return {kind::exited, WEXITSTATUS(wait_status)};
  if (WIFSIGNALED(wait_status)) return {kind::signaled, WTERMSIG(wait_status)};
  return {};
}

std::string to_string(const exit_status& s) {
  switch (s.how) {
  case exit_status::kind::exited:
    return "exited with status " + std::to_string(s.value);
  case exit_status::kind::signaled:
    return "killed by signal " + std::to_string(s.value);
  case exit_status::kind::unknown:
    break;
  }
  return "exit status unknown";
}

void throw_exception_from_error(const spawn_error& e, const boost::source_location& loc) {
  boost::throw_with_location(boost::system::system_error(e.code, e.message), loc);
}

void unique_fd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

namespace {

error_code errno_code(int e = errno) { return {e, boost::system::system_category()}; }

struct pipe_pair {
  unique_fd read_end, write_end;
};

error_code make_pipe(pipe_pair& p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_code();
  p.read_end.reset(fds[0]);
  p.write_end.reset(fds[1]);
#if defined(F_SETPIPE_SZ)
  // A larger pipe (1 MiB, the default maximum for unprivileged processes) moves a large
  // message in 16x fewer wake-ups. Best effort: the default size works too.
  (void)::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
#endif
  return {};
}

// Closes every descriptor not in `keep` (sorted in place). Runs in the forked child: no
// allocation, only async-signal-safe calls. Boost 1.81's own close_all skips the gaps between
// whitelisted fds.
void close_fds_except(std::vector<int>& keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 0;
  auto close_span = [](unsigned from, unsigned to) {
    if (from > to) return;
#if defined(SYS_close_range)
    if (::syscall(SYS_close_range, from, to, 0u) == 0) return;
#endif
    const long max_fd = std::min<long>(::sysconf(_SC_OPEN_MAX), 65536);
    for (long fd = from; fd <= static_cast<long>(to) && fd < max_fd; ++fd) ::close(static_cast<int>(fd));
  };
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < lo) continue;
    if (static_cast<unsigned>(fd) > lo) close_span(lo, static_cast<unsigned>(fd) - 1);
    lo = static_cast<unsigned>(fd) + 1;
  }
  close_span(lo, ~0u);
}

// Launcher hooks. The variadic signatures match both forms Boost 1.81's launcher probes
// (`on_error` / `on_exec_error` are detected with a different argument list than they are
// called with).
struct child_setup {
  pid_t parent = ::getpid();
  const char* working_directory = nullptr; ///< chdir here before exec (null: stay)

  // In the child, after the stdio dup2s and before exec.
  template <typename Launcher, typename... Rest> error_code on_exec_setup(Launcher& launcher, Rest&&...) {
    if (::setpgid(0, 0) != 0) return errno_code();
    if (working_directory != nullptr && ::chdir(working_directory) != 0) return errno_code();
    // The watchdog: SIGKILL when the thread that forked us ends (with the whole process, also on
    // a SIGKILL of it). The parent may already be gone: then we were re-parented and must go.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno_code();
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    close_fds_except(launcher.fd_whitelist); // {0, 1, 2, exec-error pipe}; sorted in place
    return {};
  }
  // In the child when exec failed (errno already reported to the parent): leave without
  // running the parent's atexit handlers or flushing its stdio buffers.
  template <typename Launcher, typename... Rest> void on_exec_error(Launcher&, Rest&&...) { ::_exit(127); }
  // In the parent on success: set the group from this side too, so no signal can race it.
  template <typename Launcher, typename... Rest> void on_success(Launcher& launcher, Rest&&...) {
    if (launcher.pid > 0) (void)::setpgid(launcher.pid, launcher.pid); // EACCES once the child has exec'd: fine
  }
  // In the parent on failure: reap the child that could not exec (no zombie).
  template <typename Launcher, typename... Rest> void on_error(Launcher& launcher, Rest&&...) {
    if (launcher.pid <= 0) return;
    int st = 0;
    while (::waitpid(launcher.pid, &st, 0) < 0 && errno == EINTR) {
    }
    launcher.pid = -1;
  }
};

bool is_executable_file(const std::string& path, bool& exists) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    exists = false;
    return false;
  }
  exists = true;
  return S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

boost::system::result<std::string, spawn_error> resolve_command(const std::string& command,
                                                                const std::string& path_var) {
  using boost::system::errc::make_error_code;
  namespace errc = boost::system::errc;
  if (command.find('/') != std::string::npos) {
    bool exists = false;
    if (is_executable_file(command, exists)) return command;
    if (!exists) return spawn_error{make_error_code(errc::no_such_file_or_directory), "no such command: " + command};
    return spawn_error{make_error_code(errc::permission_denied), "not executable: " + command};
  }
  std::string found_not_executable;
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + command;
    bool exists = false;
    if (is_executable_file(candidate, exists)) return candidate;
    struct stat st {};
    if (exists && found_not_executable.empty() && ::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      found_not_executable = candidate;
    start = end + 1;
  }
  if (!found_not_executable.empty())
    return spawn_error{make_error_code(errc::permission_denied), "not executable: " + found_not_executable};
  return spawn_error{make_error_code(errc::no_such_file_or_directory), "no such command: " + command};
}

// The child's environment: this process's, with `additions` added or replacing (last one wins).
struct environment {
  explicit environment(const std::vector<std::pair<std::string, std::string>>& additions) {
    std::map<std::string, std::string, std::less<>> overrides;
    for (const auto& [k, v] : additions) overrides[k] = v;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      if (!overrides.contains(kv.substr(0, kv.find('=')))) strings.emplace_back(kv);
    }
    for (const auto& [k, v] : overrides) strings.push_back(k + "=" + v);
    pointers.reserve(strings.size() + 1);
    for (const auto& s : strings) pointers.push_back(s.c_str());
    pointers.push_back(nullptr);
    if (auto it = overrides.find("PATH"); it != overrides.end())
      path = it->second;
    else if (const char* p = ::getenv("PATH"))
      path = p;
  }
  std::vector<std::string> strings;
  std::vector<const char*> pointers;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
};

} // namespace

boost::system::result<child_process, spawn_error>
child_process::spawn(const asio::any_io_executor& executor, const process_spec& spec, stderr_options stderr_opts) {
  const environment env(spec.env);
  auto executable = resolve_command(spec.command, env.path);
  if (!executable) return executable.error();

  const bool pipe_stderr = stderr_opts.mode != stderr_mode::inherit;
  pipe_pair in, out, err;
  for (auto* p : {&in, &out, &err}) {
    if (p == &err && !pipe_stderr) continue;
    if (auto ec = make_pipe(*p)) return spawn_error{ec, "cannot create pipes for " + spec.name + ": " + ec.message()};
  }
  if (stderr_opts.mode == stderr_mode::forward && !stderr_opts.sink)
    stderr_opts.sink = shared_stderr_forwarder(executor);

  auto s = std::make_shared<state>(executor, spec.name, std::move(stderr_opts));
  error_code ec;
  if (pipe_stderr) s->err.assign(err.read_end.release(), ec);
  if (ec) return spawn_error{ec, "cannot set up pipes for " + spec.name + ": " + ec.message()};

  bp::posix::default_launcher launcher;
  launcher.env = env.pointers.data();
  // In `inherit` mode the child's fd 2 is ours (dup2(2, 2) leaves it as it is).
  auto proc = launcher(
      executor, ec, std::filesystem::path(*executable), spec.args,
      bp::process_stdio{in.read_end.get(), out.write_end.get(), pipe_stderr ? err.write_end.get() : STDERR_FILENO},
      child_setup{.working_directory = spec.working_directory.empty() ? nullptr : spec.working_directory.c_str()});
  // The child's ends are the child's now (or nobody's, on failure).
  in.read_end.reset();
  out.write_end.reset();
  err.write_end.reset();
  if (ec) return spawn_error{ec, "cannot execute " + *executable + ": " + ec.message()};

  s->pid = proc.id();
  // Boost's handle would reap the child (and kill it on destruction): we watch it ourselves.
  (void)proc.detach();
  s->in = std::move(in.write_end);
  s->out = std::move(out.read_end);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, s->pid, 0));
  if (pidfd >= 0) {
    s->exit_fd.assign(pidfd, ec);
    if (ec) ::close(pidfd); // the watcher polls instead
  }
  if (pipe_stderr)
    start_stderr_drain(s);
  else
    s->stderr_eof = true;
  start_exit_watch(s);
  return child_process(std::move(s));
}

child_process::child_process(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
child_process::child_process(child_process&&) noexcept = default;
child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (state_) state_->emergency_stop();
    state_ = std::move(other.state_);
  }
  return *this;
}
child_process::~child_process() {
  if (state_) state_->emergency_stop();
}

const std::string& child_process::name() const noexcept { return state_->name; }
int child_process::pid() const noexcept { return state_->pid; }
unique_fd& child_process::stdin_pipe() noexcept { return state_->in; }
unique_fd& child_process::stdout_pipe() noexcept { return state_->out; }
void child_process::close_stdin() noexcept { state_->in.reset(); }

transport_ptr child_process::take_transport() {
  if (!state_->in.is_open() || !state_->out.is_open()) return nullptr;
  return make_fd_transport(state_->ex, state_->out.release(), state_->in.release(), "process " + state_->name);
}

asio::awaitable<exit_status> child_process::async_wait() {
  auto s = state_;
  for (;;)
    if (auto st = co_await wait_published(s, std::chrono::hours(24))) co_return *st;
}

asio::awaitable<std::optional<exit_status>> child_process::async_wait_for(std::chrono::steady_clock::duration timeout) {
  return wait_published(state_, timeout);
}

std::optional<exit_status> child_process::status() const noexcept { return state_->reported; }

std::string child_process::stderr_tail() const {
  std::string out;
  for (const auto& line : state_->tail) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

asio::awaitable<exit_status> child_process::terminate(std::chrono::milliseconds grace,
                                                      std::chrono::milliseconds term_wait) {
  using namespace std::chrono_literals;
  auto s = state_;
  s->in.reset();
  std::optional<exit_status> st = co_await wait_published(s, grace);
  // SIGTERM to the group, even if the child has exited: grandchildren may remain. The child is
  // not reaped yet, so the group id is still the group's.
  s->signal_group(SIGTERM);
  if (!st) {
    st = co_await wait_published(s, term_wait);
  } else {
    asio::steady_timer poll(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + term_wait;
    while (!s->reaped && group_has_live_members(s->pid) && std::chrono::steady_clock::now() < deadline) {
      poll.expires_after(10ms);
      (void)co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  s->signal_group(SIGKILL);
  if (!st) st = co_await wait_published(s, 5s);
  // The last signal has been sent: now the pid may go.
  if (s->exited) (void)s->reap();
  co_return st.value_or(exit_status{});
}

void child_process::kill_group() noexcept {
  if (!state_ || state_->reaped) return;
  state_->signal_group(SIGKILL);
  if (!state_->exited && state_->pid > 0) (void)::kill(state_->pid, SIGKILL); // should it have left the group
}

} // namespace acp
