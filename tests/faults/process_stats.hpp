#pragma once
// Memory of the processes of a chain, for flood and soak tests: VmRSS from /proc/<pid>/status,
// sampled periodically, with the peak kept per process.

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace acp::test {

/// VmRSS of `pid` in KiB, or -1 when the process is gone.
long rss_kib(pid_t pid);
/// The process's name (/proc/<pid>/comm), "" when gone.
std::string process_name(pid_t pid);

/// Peak and last RSS of a fixed set of processes (e.g. a conductor and its descendants).
class memory_watch {
public:
  explicit memory_watch(std::vector<pid_t> pids);
  /// Reads every process's RSS now; keeps the peaks.
  void sample();
  [[nodiscard]] long peak_kib(pid_t pid) const;
  [[nodiscard]] long last_kib(pid_t pid) const;
  /// The first sample (taken by the constructor).
  [[nodiscard]] long first_kib(pid_t pid) const;
  [[nodiscard]] const std::vector<pid_t>& pids() const noexcept { return pids_; }
  /// "acp-conductor[123] peak 5120 KiB, ..." for test messages and logs.
  [[nodiscard]] std::string describe() const;

private:
  std::vector<pid_t> pids_;
  std::map<pid_t, std::string> names_;
  std::map<pid_t, long> first_, peak_, last_;
};

/// acp-fault-delay-proxy (a pass-through proxy with random delays).
std::string delay_proxy_path();

} // namespace acp::test
