#include <acp/conductor/child_process.hpp>

#include <acp/sdk/detail/boost_process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <list>
#include <map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace acp::conductor {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using boost::system::error_code;
using namespace std::chrono_literals;

exit_status exit_status::from_wait_status(int wait_status) noexcept {
  if (WIFEXITED(wait_status))
    return {kind::exited, WEXITSTATUS(wait_status)};
  if (WIFSIGNALED(wait_status))
    return {kind::signaled, WTERMSIG(wait_status)};
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

namespace {

error_code errno_code(int e = errno) { return {e, boost::system::system_category()}; }

// A file descriptor closed on scope exit.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

struct pipe_pair {
  unique_fd read_end, write_end;
};

error_code make_pipe(pipe_pair& p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return errno_code();
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
// allocation, only async-signal-safe calls. Boost 1.81's own close_all skips the gaps between whitelisted fds.
void close_fds_except(std::vector<int>& keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 0;
  auto close_span = [](unsigned from, unsigned to) {
    if (from > to)
      return;
#if defined(SYS_close_range)
    if (::syscall(SYS_close_range, from, to, 0u) == 0)
      return;
#endif
    const long max_fd = std::min<long>(::sysconf(_SC_OPEN_MAX), 65536);
    for (long fd = from; fd <= static_cast<long>(to) && fd < max_fd; ++fd)
      ::close(static_cast<int>(fd));
  };
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < lo)
      continue;
    if (static_cast<unsigned>(fd) > lo)
      close_span(lo, static_cast<unsigned>(fd) - 1);
    lo = static_cast<unsigned>(fd) + 1;
  }
  close_span(lo, ~0u);
}

// Launcher hooks. The variadic signatures match both forms Boost 1.81's launcher probes
// (`on_error` / `on_exec_error` are detected with a different argument list than they are
// called with).
struct child_setup {
  // In the child, after the stdio dup2s and before exec.
  template <typename Launcher, typename... Rest>
  error_code on_exec_setup(Launcher& launcher, Rest&&...) {
    if (::setpgid(0, 0) != 0)
      return errno_code();
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    close_fds_except(launcher.fd_whitelist); // {0, 1, 2, exec-error pipe}; sorted in place
    return {};
  }
  // In the child when exec failed (errno already reported to the parent): leave without
  // running the parent's atexit handlers or flushing its stdio buffers.
  template <typename Launcher, typename... Rest>
  void on_exec_error(Launcher&, Rest&&...) {
    ::_exit(127);
  }
  // In the parent on success: set the group from this side too, so no signal can race it.
  template <typename Launcher, typename... Rest>
  void on_success(Launcher& launcher, Rest&&...) {
    if (launcher.pid > 0)
      (void)::setpgid(launcher.pid, launcher.pid); // EACCES once the child has exec'd: fine
  }
  // In the parent on failure: reap the child that could not exec (no zombie).
  template <typename Launcher, typename... Rest>
  void on_error(Launcher& launcher, Rest&&...) {
    if (launcher.pid <= 0)
      return;
    int st = 0;
    while (::waitpid(launcher.pid, &st, 0) < 0 && errno == EINTR) {
    }
    launcher.pid = -1;
  }
};

bool is_executable_file(const std::string& path, bool& exists) {
  struct stat st{};
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
    if (is_executable_file(command, exists))
      return command;
    if (!exists)
      return spawn_error{make_error_code(errc::no_such_file_or_directory),
                         "no such command: " + command};
    return spawn_error{make_error_code(errc::permission_denied), "not executable: " + command};
  }
  std::string found_not_executable;
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos)
      end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty())
      dir = ".";
    std::string candidate = dir + "/" + command;
    bool exists = false;
    if (is_executable_file(candidate, exists))
      return candidate;
    struct stat st{};
    if (exists && found_not_executable.empty() && ::stat(candidate.c_str(), &st) == 0 &&
        S_ISREG(st.st_mode))
      found_not_executable = candidate;
    start = end + 1;
  }
  if (!found_not_executable.empty())
    return spawn_error{make_error_code(errc::permission_denied),
                       "not executable: " + found_not_executable};
  return spawn_error{make_error_code(errc::no_such_file_or_directory),
                     "no such command: " + command};
}

void write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

} // namespace

struct child_process::state {
  state(const asio::any_io_executor& ex, std::string n, stderr_options o)
      : name(std::move(n)), opts(std::move(o)), in(ex), out(ex), err(ex), drain_timer(ex),
        handle(ex) {}

  std::string name;
  stderr_options opts;
  int pid = -1;
  asio::writable_pipe in;
  asio::readable_pipe out;
  asio::readable_pipe err;
  asio::steady_timer drain_timer; // the reaper waits on it for stderr EOF
  bp::basic_process_handle<asio::any_io_executor> handle;

  bool reaped = false;     // waitpid has collected the child
  bool stderr_eof = false; // the drain has finished
  bool group_killed = false;
  exit_status raw;                     // valid once reaped
  std::optional<exit_status> reported; // set once the exit is published
  std::list<asio::steady_timer*> waiters;

  std::deque<std::string> tail;
  std::size_t tail_size = 0;

  void keep_line(std::string_view line) {
    if (opts.mode == stderr_mode::discard)
      return;
    if (opts.mode == stderr_mode::forward) {
      if (opts.sink) {
        opts.sink(name, line);
      } else {
        std::string out_line;
        out_line.reserve(name.size() + line.size() + 4);
        out_line.append("[").append(name).append("] ").append(line).append("\n");
        write_all(STDERR_FILENO, out_line);
      }
    }
    std::string kept(line);
    if (opts.tail_bytes > 0 && kept.size() > opts.tail_bytes) {
      kept.resize(opts.tail_bytes);
      kept += "\u2026";
    }
    tail_size += kept.size();
    tail.push_back(std::move(kept));
    while (!tail.empty() && (tail.size() > opts.tail_lines || tail_size > opts.tail_bytes)) {
      tail_size -= tail.front().size();
      tail.pop_front();
    }
  }

  void publish() {
    if (reported)
      return;
    reported = raw;
    for (auto* t : waiters)
      t->cancel();
  }

  void signal_group(int sig) noexcept {
    if (pid > 0)
      (void)::kill(-pid, sig);
  }

  // Synchronous: SIGKILL to the group, then reap the leader if nobody has (bounded poll).
  void emergency_stop() noexcept {
    error_code ignored;
    in.close(ignored);
    out.close(ignored);
    err.close(ignored);
    if (pid <= 0)
      return;
    if (!reaped || !group_killed) {
      signal_group(SIGKILL);
      group_killed = true;
    }
    if (reaped)
      return;
    for (int i = 0; i < 2000; ++i) {
      int st = 0;
      const pid_t r = ::waitpid(pid, &st, WNOHANG);
      if (r == pid) {
        reaped = true;
        raw = exit_status::from_wait_status(st);
        return;
      }
      if (r < 0 && errno != EINTR)
        return;
      ::usleep(1000);
    }
  }
};

namespace {

// Drains stderr to EOF, line by line, into the sink and the tail.
asio::awaitable<void> drain_stderr(std::shared_ptr<child_process::state> s) {
  std::array<char, 4096> buf;
  std::string partial;
  const std::size_t max_line = std::max<std::size_t>(s->opts.tail_bytes, 1024);
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    s->keep_line(line);
  };
  for (;;) {
    auto [ec, n] = co_await s->err.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (n > 0 && s->opts.mode != stderr_mode::discard) {
      partial.append(buf.data(), n);
      std::size_t start = 0;
      for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1)
        emit(std::string_view(partial).substr(start, nl - start));
      partial.erase(0, start);
      if (partial.size() > max_line) { // an endless line: pass it on in pieces
        emit(partial);
        partial.clear();
      }
    }
    if (ec)
      break;
  }
  if (!partial.empty())
    emit(partial);
  s->stderr_eof = true;
  s->drain_timer.cancel();
}

// Reaps the child, lets stderr finish (briefly), then publishes the exit.
asio::awaitable<void> reap(std::shared_ptr<child_process::state> s) {
  auto [ec, native] = co_await s->handle.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!ec && !s->reaped) {
    s->reaped = true;
    s->raw = exit_status::from_wait_status(native);
  }
  // No pidfd (or it failed): poll instead of claiming an exit that has not happened.
  asio::steady_timer poll(s->drain_timer.get_executor());
  while (!s->reaped) {
    int st = 0;
    const pid_t r = ::waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
      s->reaped = true;
      s->raw = exit_status::from_wait_status(st);
    } else if (r < 0 && errno != EINTR) {
      s->reaped = true; // someone else reaped it: the status is lost
    } else {
      poll.expires_after(20ms);
      (void)co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (!s->stderr_eof) {
    s->drain_timer.expires_after(200ms);
    (void)co_await s->drain_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  s->publish();
}

// Waits for the published exit, at most `timeout`.
asio::awaitable<std::optional<exit_status>> wait_published(std::shared_ptr<child_process::state> s,
                                                           std::chrono::steady_clock::duration timeout) {
  if (s->reported)
    co_return s->reported;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  s->waiters.push_back(&timer);
  struct unregister {
    child_process::state& st;
    std::list<asio::steady_timer*>::iterator it;
    ~unregister() { st.waiters.erase(it); }
  } guard{*s, std::prev(s->waiters.end())};
  (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return s->reported;
}

// Whether any process of the group still exists.
bool group_alive(int pgid) noexcept { return pgid > 0 && (::kill(-pgid, 0) == 0 || errno == EPERM); }

} // namespace

boost::system::result<child_process, spawn_error>
child_process::spawn(const asio::any_io_executor& executor, const component_spec& spec,
                     stderr_options stderr_opts) {
  // Environment: inherited, with spec.env added or replacing (last one wins).
  std::map<std::string, std::string, std::less<>> overrides;
  for (const auto& [k, v] : spec.env)
    overrides[k] = v;
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const std::string_view key = kv.substr(0, kv.find('='));
    if (!overrides.contains(key))
      env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : overrides)
    env_strings.push_back(k + "=" + v);
  std::vector<const char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (const auto& s : env_strings)
    envp.push_back(s.c_str());
  envp.push_back(nullptr);

  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  if (auto it = overrides.find("PATH"); it != overrides.end())
    path_var = it->second;
  else if (const char* p = ::getenv("PATH"))
    path_var = p;
  auto executable = resolve_command(spec.command, path_var);
  if (!executable)
    return executable.error();

  pipe_pair in, out, err;
  for (auto* p : {&in, &out, &err})
    if (auto ec = make_pipe(*p))
      return spawn_error{ec, "cannot create pipes for " + spec.name + ": " + ec.message()};

  auto s = std::make_shared<state>(executor, spec.name, std::move(stderr_opts));
  error_code ec;
  s->in.assign(in.write_end.release(), ec);
  if (!ec)
    s->out.assign(out.read_end.release(), ec);
  if (!ec)
    s->err.assign(err.read_end.release(), ec);
  if (ec)
    return spawn_error{ec, "cannot set up pipes for " + spec.name + ": " + ec.message()};

  bp::posix::default_launcher launcher;
  launcher.env = envp.data();
  auto proc = launcher(executor, ec, std::filesystem::path(*executable), spec.args,
                       bp::process_stdio{in.read_end.get(), out.write_end.get(), err.write_end.get()},
                       child_setup{});
  // The child's ends are the child's now (or nobody's, on failure).
  in.read_end.reset();
  out.write_end.reset();
  err.write_end.reset();
  if (ec)
    return spawn_error{ec, "cannot execute " + *executable + ": " + ec.message()};

  s->pid = proc.id();
  s->handle = std::move(proc.handle()); // leaves `proc` empty: its destructor must not kill
  // Neither coroutine reports errors (they use as_tuple); an exception could only be
  // bad_alloc, and then the child is still killed by the handle's destructor.
  asio::co_spawn(executor, drain_stderr(s), [](const std::exception_ptr&) {});
  asio::co_spawn(executor, reap(s), [](const std::exception_ptr&) {});
  return child_process(std::move(s));
}

child_process::child_process(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
child_process::child_process(child_process&&) noexcept = default;
child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (state_)
      state_->emergency_stop();
    state_ = std::move(other.state_);
  }
  return *this;
}
child_process::~child_process() {
  if (state_)
    state_->emergency_stop();
}

const std::string& child_process::name() const noexcept { return state_->name; }
int child_process::pid() const noexcept { return state_->pid; }
asio::writable_pipe& child_process::stdin_pipe() noexcept { return state_->in; }
asio::readable_pipe& child_process::stdout_pipe() noexcept { return state_->out; }

void child_process::close_stdin() noexcept {
  error_code ignored;
  state_->in.close(ignored);
}

asio::awaitable<exit_status> child_process::async_wait() {
  auto s = state_;
  for (;;) {
    if (auto st = co_await wait_published(s, std::chrono::hours(24)))
      co_return *st;
  }
}

asio::awaitable<std::optional<exit_status>>
child_process::async_wait_for(std::chrono::steady_clock::duration timeout) {
  return wait_published(state_, timeout);
}

std::optional<exit_status> child_process::status() const noexcept { return state_->reported; }

std::string child_process::stderr_tail() const {
  std::string out;
  for (const auto& line : state_->tail) {
    if (!out.empty())
      out += '\n';
    out += line;
  }
  return out;
}

asio::awaitable<exit_status> child_process::terminate(std::chrono::milliseconds grace,
                                                      std::chrono::milliseconds term_wait) {
  auto s = state_;
  {
    error_code ignored;
    s->in.close(ignored);
  }
  std::optional<exit_status> st = co_await wait_published(s, grace);
  // SIGTERM to the group, even if the leader is gone: grandchildren may remain.
  s->signal_group(SIGTERM);
  if (!st) {
    st = co_await wait_published(s, term_wait);
  } else {
    asio::steady_timer poll(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + term_wait;
    while (group_alive(s->pid) && std::chrono::steady_clock::now() < deadline) {
      poll.expires_after(10ms);
      (void)co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  s->signal_group(SIGKILL);
  s->group_killed = true;
  if (!st)
    st = co_await wait_published(s, 5s);
  co_return st.value_or(exit_status{});
}

void child_process::kill_group() noexcept {
  if (state_)
    state_->signal_group(SIGKILL);
}

} // namespace acp::conductor
