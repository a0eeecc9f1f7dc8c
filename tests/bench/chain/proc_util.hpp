#pragma once
// Process helpers for the chain benchmarks: spawn a command with pipes, find a process tree,
// read its memory and CPU figures from /proc.

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace acp::bench {

/// `dup2` pairs (from, to) applied in the child; everything else is close-on-exec.
/// Returns the pid or -1 (errno set).
inline pid_t spawn_with_fds(const std::vector<std::string>& argv, const std::vector<std::pair<int, int>>& fds) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (auto [from, to] : fds) posix_spawn_file_actions_adddup2(&actions, from, to);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

/// A pipe whose both ends are close-on-exec: {read, write}.
inline bool make_pipe(int (&p)[2]) { return ::pipe2(p, O_CLOEXEC) == 0; }

struct proc_memory {
  pid_t pid = 0;
  std::string name;
  long rss_kb = 0;  ///< VmRSS now
  long hwm_kb = 0;  ///< VmHWM: peak resident set
  double cpu_s = 0; ///< user + system CPU time so far, all threads
};

/// User + system CPU seconds `pid` has used so far (all its threads).
inline double cpu_seconds_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) rest >> skip; // state .. cmajflt
  long utime = 0;
  long stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline pid_t parent_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  char state = 0;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

inline proc_memory memory_of(pid_t pid) {
  proc_memory m;
  m.pid = pid;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Name:", 0) == 0)
      m.name = line.substr(line.find_first_not_of(" \t", 5));
    else if (line.rfind("VmRSS:", 0) == 0)
      m.rss_kb = std::stol(line.substr(6));
    else if (line.rfind("VmHWM:", 0) == 0)
      m.hwm_kb = std::stol(line.substr(6));
  }
  m.cpu_s = cpu_seconds_of(pid);
  return m;
}

/// `root` and every process descending from it, now.
inline std::vector<proc_memory> tree_memory(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> all; // pid, ppid
  if (DIR* d = ::opendir("/proc")) {
    while (auto* e = ::readdir(d)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid > 0) all.emplace_back(pid, parent_of(pid));
    }
    ::closedir(d);
  }
  std::vector<pid_t> tree{root};
  for (std::size_t i = 0; i < tree.size(); ++i)
    for (auto [pid, ppid] : all)
      if (ppid == tree[i]) tree.push_back(pid);
  std::vector<proc_memory> out;
  for (pid_t p : tree) out.push_back(memory_of(p));
  return out;
}

} // namespace acp::bench
