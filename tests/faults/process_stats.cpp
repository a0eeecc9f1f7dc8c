#include "process_stats.hpp"

#include <fstream>
#include <sstream>

namespace acp::test {

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string process_name(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

memory_watch::memory_watch(std::vector<pid_t> pids) : pids_(std::move(pids)) {
  for (auto p : pids_) names_[p] = process_name(p);
  sample();
}

void memory_watch::sample() {
  for (auto p : pids_) {
    const long r = rss_kib(p);
    if (r < 0) continue;
    last_[p] = r;
    first_.try_emplace(p, r);
    if (r > peak_[p]) peak_[p] = r;
  }
}

long memory_watch::peak_kib(pid_t pid) const {
  auto it = peak_.find(pid);
  return it == peak_.end() ? -1 : it->second;
}

long memory_watch::last_kib(pid_t pid) const {
  auto it = last_.find(pid);
  return it == last_.end() ? -1 : it->second;
}

long memory_watch::first_kib(pid_t pid) const {
  auto it = first_.find(pid);
  return it == first_.end() ? -1 : it->second;
}

std::string memory_watch::describe() const {
  std::ostringstream out;
  for (auto p : pids_) {
    out << names_.at(p) << "[" << p << "] first " << first_kib(p) << " KiB, peak " << peak_kib(p) << " KiB, last "
        << last_kib(p) << " KiB; ";
  }
  return out.str();
}

std::string delay_proxy_path() { return ACP_DELAY_PROXY_BIN; }

} // namespace acp::test
