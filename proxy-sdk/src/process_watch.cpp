// Watching a running child: its stderr drain, its exit (noticed without reaping, so the process
// group can still be signalled safely), waiting for the published exit, and the emergency stop.
#include "process_state.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acp {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

child_process::state::state(const asio::any_io_executor& executor, std::string n, stderr_options o)
    : ex(executor), name(std::move(n)), opts(std::move(o)), err(executor), drain_timer(executor), exit_fd(executor) {}

void child_process::state::keep_line(std::string_view line) {
  if (opts.mode == stderr_mode::discard || opts.mode == stderr_mode::inherit) return;
  if (opts.mode == stderr_mode::forward && opts.sink) opts.sink(name, line);
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

void child_process::state::publish() {
  if (reported) return;
  reported = raw;
  for (auto* t : waiters) t->cancel();
}

void child_process::state::signal_group(int sig) noexcept {
  if (pid > 0 && !reaped) (void)::kill(-pid, sig);
}

child_process::state::probe child_process::state::probe_exit() noexcept {
  if (exited) return probe::exited;
  siginfo_t info{};
  int tries = 0;
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR || ++tries == 100) return probe::failed;
    info = {};
  }
  if (info.si_pid != pid) return probe::running;
  exited = true;
  if (info.si_code == CLD_EXITED)
    raw = {exit_status::kind::exited, info.si_status};
  else if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED)
    raw = {exit_status::kind::signaled, info.si_status};
  return probe::exited;
}

bool child_process::state::reap() noexcept {
  if (reaped) return true;
  for (int tries = 0; tries < 100; ++tries) {
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == 0) return false;
    if (r < 0 && errno == EINTR) continue;
    reaped = true;
    if (!exited && r == pid) raw = exit_status::from_wait_status(st);
    exited = true; // on ECHILD someone else reaped it: the status is lost
    return true;
  }
  return false;
}

void child_process::state::emergency_stop() noexcept {
  stopped = true;
  in.reset();
  out.reset();
  error_code ignored;
  err.close(ignored);
  exit_fd.close(ignored); // the watcher wakes up, finds the child reaped and publishes
  if (pid <= 0 || reaped) return;
  signal_group(SIGKILL);
  if (!exited) (void)::kill(pid, SIGKILL); // should it have left its group
  for (int i = 0; i < 2000 && !reap(); ++i) ::usleep(1000);
}

namespace {

// Drains stderr to EOF, line by line, into the sink and the tail.
asio::awaitable<void> drain_stderr(std::shared_ptr<child_process::state> s) {
  std::array<char, 4096> buf;
  std::string partial;
  const std::size_t max_line = std::max<std::size_t>(s->opts.tail_bytes, 1024);
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    s->keep_line(line);
  };
  for (;;) {
    auto [ec, n] = co_await s->err.async_read_some(asio::buffer(buf), use_tuple);
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
    if (ec) break;
  }
  if (!partial.empty()) emit(partial);
  s->stderr_eof = true;
  s->drain_timer.cancel();
}

// Notices the exit without reaping the child, lets stderr finish (briefly), then publishes it.
asio::awaitable<void> watch_exit(std::shared_ptr<child_process::state> s) {
  if (s->exit_fd.is_open()) {
    auto [ec] = co_await s->exit_fd.async_wait(asio::posix::descriptor_base::wait_read, use_tuple);
    if (ec && ec != asio::error::operation_aborted)
      log::debug(s->name, "waiting on the process descriptor failed (" + ec.message() + "); polling instead");
  }
  asio::steady_timer poll(s->ex);
  while (!s->reaped) { // emergency_stop may have reaped it already
    const auto seen = s->probe_exit();
    if (seen == child_process::state::probe::exited) {
      if (s->stopped) (void)s->reap(); // the handle is gone: nobody else will
      break;
    }
    if (seen == child_process::state::probe::failed) {
      log::warn(s->name, "cannot wait for process " + std::to_string(s->pid) + " (" + std::strerror(errno) +
                             "); its exit status is lost");
      s->exited = s->reaped = true; // no more signals to a pid we cannot pin
      break;
    }
    poll.expires_after(20ms); // without a process descriptor: poll
    (void)co_await poll.async_wait(use_tuple);
  }
  error_code ignored;
  s->exit_fd.close(ignored);
  if (!s->stderr_eof) {
    s->drain_timer.expires_after(200ms);
    (void)co_await s->drain_timer.async_wait(use_tuple);
  }
  s->publish();
}

} // namespace

void start_stderr_drain(const std::shared_ptr<child_process::state>& s) {
  asio::co_spawn(s->ex, drain_stderr(s), log::on_failure(s->name, "reading its stderr", [s] {
                   if (s->opts.mode != stderr_mode::discard) {
                     // Keep the pipe drained so the child never blocks on it; only the lines are lost.
                     log::warn(s->name, "its stderr is discarded from now on");
                     s->opts.mode = stderr_mode::discard;
                     start_stderr_drain(s);
                     return;
                   }
                   error_code ignored;
                   s->err.close(ignored);
                   s->stderr_eof = true;
                   s->drain_timer.cancel();
                 }));
}

void start_exit_watch(const std::shared_ptr<child_process::state>& s) {
  asio::co_spawn(s->ex, watch_exit(s), log::on_failure(s->name, "watching for its exit", [s] {
                   // It can no longer be supervised: stop it, and release the waiters.
                   if (!s->reaped) {
                     s->signal_group(SIGKILL);
                     (void)s->reap();
                   }
                   s->exited = true;
                   s->publish();
                 }));
}

asio::awaitable<std::optional<exit_status>> wait_published(std::shared_ptr<child_process::state> s,
                                                           std::chrono::steady_clock::duration timeout) {
  if (s->reported) co_return s->reported;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  s->waiters.push_back(&timer);
  struct unregister {
    child_process::state& st;
    std::list<asio::steady_timer*>::iterator it;
    ~unregister() { st.waiters.erase(it); }
  } guard{*s, std::prev(s->waiters.end())};
  (void)co_await timer.async_wait(use_tuple);
  co_return s->reported;
}

bool group_has_live_members(int pgid) noexcept {
  DIR* proc = ::opendir("/proc");
  if (!proc) return true;
  bool alive = false;
  while (!alive) {
    const dirent* e = ::readdir(proc);
    if (!e) break;
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == pgid) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue; // gone meanwhile
    char stat[512];
    const ssize_t n = ::read(fd, stat, sizeof stat - 1);
    ::close(fd);
    if (n <= 0) continue;
    stat[n] = '\0';
    // "pid (comm) state ppid pgrp ...": comm may hold anything, so parse after the last ')'.
    const char* after = std::strrchr(stat, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (after && std::sscanf(after + 1, " %c %d %d", &state, &ppid, &pgrp) == 3)
      alive = pgrp == pgid && state != 'Z' && state != 'X';
  }
  ::closedir(proc);
  return alive;
}

} // namespace acp
