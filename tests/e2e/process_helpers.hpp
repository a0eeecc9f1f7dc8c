#pragma once
// Subprocess helpers for the end-to-end tests: run a program to completion with a deadline, or
// drive one line by line over pipes. Every wait is bounded; a child still running at the
// deadline is killed (the test then fails on `timed_out`, never hangs).

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace acp::e2e {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

struct run_result {
  int exit_code = -1;  ///< the exit status, or -1 when killed by a signal
  int term_signal = 0; ///< the signal that ended it, 0 if it exited
  bool timed_out = false;
  std::string out, err;
  clock::duration elapsed{};
};

namespace detail {

inline std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view kv(*e);
    const auto name = kv.substr(0, kv.find('=') + 1);
    bool replaced = false;
    for (const auto& x : extra) replaced = replaced || std::string_view(x).substr(0, x.find('=') + 1) == name;
    if (!replaced) env.emplace_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

inline std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// Starts `argv` with the given pipe ends as stdin/stdout/stderr (-1: /dev/null for stdin,
/// inherit for the others). Returns the pid or -1.
inline pid_t spawn(std::vector<std::string> argv, int in_fd, int out_fd, int err_fd,
                   const std::vector<std::string>& extra_env) {
  auto env = environment_with(extra_env);
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0)
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, c_argv[0], &fa, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

inline void decode_status(int st, run_result& r) {
  if (WIFEXITED(st))
    r.exit_code = WEXITSTATUS(st);
  else if (WIFSIGNALED(st))
    r.term_signal = WTERMSIG(st);
}

} // namespace detail

/// Runs `argv` to completion (stdin /dev/null), collecting stdout and stderr, killing it at
/// `timeout`.
inline run_result run(std::vector<std::string> argv, clock::duration timeout = 20s,
                      const std::vector<std::string>& extra_env = {}) {
  run_result r;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return r;
  const auto start = clock::now();
  const pid_t pid = detail::spawn(std::move(argv), -1, out[1], err[1], extra_env);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    return r;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  const auto deadline = start + timeout;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  // stdout/stderr closed: the process is ending (or was killed); wait, bounded.
  int st = 0;
  const auto wait_deadline = clock::now() + 10s;
  for (;;) {
    const pid_t w = ::waitpid(pid, &st, WNOHANG);
    if (w == pid) {
      detail::decode_status(st, r);
      break;
    }
    if (w < 0 && errno != EINTR) break;
    if (clock::now() > wait_deadline) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      (void)::waitpid(pid, &st, 0);
      detail::decode_status(st, r);
      break;
    }
    ::usleep(2000);
  }
  r.elapsed = clock::now() - start;
  return r;
}

/// A child driven line by line: we write its stdin and read its stdout; stderr is inherited.
class line_child {
public:
  explicit line_child(std::vector<std::string> argv, const std::vector<std::string>& extra_env = {}) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = detail::spawn(std::move(argv), in[0], out[1], -1, extra_env);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~line_child() {
    close_stdin();
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      (void)::waitpid(pid_, &st, 0);
    }
  }
  line_child(const line_child&) = delete;
  line_child& operator=(const line_child&) = delete;

  [[nodiscard]] bool started() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  bool send(std::string line) {
    line += '\n';
    std::string_view rest(line);
    while (!rest.empty()) {
      const auto n = ::write(to_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// The next line of stdout (without '\n'), or nullopt at end of stream or after `timeout`.
  std::optional<std::string> read_line(clock::duration timeout = 5s) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[65536];
      const auto n = ::read(from_, buf, sizeof buf);
      if (n > 0)
        buffer_.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR)
        eof_ = true;
    }
  }

  void close_stdin() {
    if (to_ >= 0) ::close(to_);
    to_ = -1;
  }

  /// The wait status once it has exited, polling up to `timeout`.
  std::optional<int> wait_exit(clock::duration timeout = 5s) {
    if (status_) return status_;
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
      int st = 0;
      const pid_t w = ::waitpid(pid_, &st, WNOHANG);
      if (w == pid_) {
        status_ = st;
        return status_;
      }
      ::usleep(2000);
    }
    return std::nullopt;
  }

private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
  bool eof_ = false;
  std::optional<int> status_;
};

/// Processes of ours whose environment holds `marker` (a NAME=value string).
inline std::vector<pid_t> processes_with_env(const std::string& marker) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(entry.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::size_t pos = 0;
    while (pos < env.size()) {
      const auto end = env.find('\0', pos);
      if (env.compare(pos, (end == std::string::npos ? env.size() : end) - pos, marker) == 0) {
        found.push_back(static_cast<pid_t>(std::stoi(name)));
        break;
      }
      if (end == std::string::npos) break;
      pos = end + 1;
    }
  }
  return found;
}

/// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "acp-e2e-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

inline std::string read_whole(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_whole(const std::filesystem::path& p, std::string_view text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

} // namespace acp::e2e
