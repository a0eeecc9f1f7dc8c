// acp-bench-relay: the benchmarks' floor. It copies bytes without looking at them, in the same
// process topology as `acp-conductor agent P0 … Pk-1 AGENT`:
//
//   acp-bench-relay hub K AGENT [ARGS...]   a hub: spawns K relays and the agent, and copies
//       stdin → R0 → R1 → … → agent (each relay's fd 0 → fd 1) and
//       agent → Rk-1 → … → R0 → stdout (each relay's fd 3 → fd 4),
//       so every message crosses the hub K+1 times and each relay once, as with the conductor.
//   acp-bench-relay pipe                   a relay: copies fd 0 → fd 1 and fd 3 → fd 4.
// One thread, one io_context, 64 KiB reads; end of input closes the matching output.
#include "proc_util.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> copy(std::shared_ptr<stream_descriptor> in, std::shared_ptr<stream_descriptor> out) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await in->async_read_some(asio::buffer(buf), use_tuple);
    if (ec) break;
    auto [wec, written] = co_await asio::async_write(*out, asio::buffer(buf.data(), n), use_tuple);
    if (wec) break;
  }
  boost::system::error_code ignored;
  out->close(ignored);
  in->close(ignored);
}

void relay(asio::io_context& io, int from, int to) {
  auto in = std::make_shared<stream_descriptor>(io, from);
  auto out = std::make_shared<stream_descriptor>(io, to);
  // A relay that failed would leave the benchmark waiting: log it and stop the relay (its peers
  // then see end of stream and the run fails visibly).
  asio::co_spawn(io, copy(in, out), acp::log::on_failure("acp-bench-relay", "copying", [&io] { io.stop(); }));
}

int hub(int k, std::vector<std::string> agent) {
  asio::io_context io;
  std::vector<pid_t> children;
  int from_prev = ::fcntl(0, F_DUPFD_CLOEXEC, 0); // what comes from the client side, read by the hub
  const std::string self = "/proc/self/exe";
  std::vector<std::pair<int, int>> back; // relay i: (write end into its fd 3, read end of its fd 4)
  for (int i = 0; i <= k; ++i) {
    int in[2], out[2];
    if (!acp::bench::make_pipe(in) || !acp::bench::make_pipe(out)) return 1;
    std::vector<std::pair<int, int>> fds{{in[0], 0}, {out[1], 1}};
    int back_in[2] = {-1, -1}, back_out[2] = {-1, -1};
    const bool is_agent = i == k;
    if (!is_agent) {
      if (!acp::bench::make_pipe(back_in) || !acp::bench::make_pipe(back_out)) return 1;
      fds.emplace_back(back_in[0], 3);
      fds.emplace_back(back_out[1], 4);
    }
    std::vector<std::string> argv = is_agent ? agent : std::vector<std::string>{self, "pipe"};
    if (!is_agent) {
      char path[4096];
      const auto len = ::readlink(self.c_str(), path, sizeof path - 1);
      argv[0] = std::string(path, len > 0 ? static_cast<std::size_t>(len) : 0);
    }
    const pid_t pid = acp::bench::spawn_with_fds(argv, fds);
    if (pid < 0) {
      std::perror("acp-bench-relay: spawn");
      return 1;
    }
    children.push_back(pid);
    ::close(in[0]);
    ::close(out[1]);
    relay(io, from_prev, in[1]); // toward the agent
    from_prev = out[0];
    if (!is_agent) {
      ::close(back_in[0]);
      ::close(back_out[1]);
    }
    // Backward pipes are connected after the loop: agent → Rk-1 … → R0 → stdout.
    back.emplace_back(is_agent ? -1 : back_in[1], is_agent ? out[0] : back_out[0]);
    if (is_agent) {
      // The agent's stdout (now `from_prev`) goes into relay k-1's fd 3, … R0's fd 4 goes to stdout.
      int source = out[0];
      for (int j = k - 1; j >= 0; --j) {
        relay(io, source, back[static_cast<std::size_t>(j)].first);
        source = back[static_cast<std::size_t>(j)].second;
      }
      relay(io, source, ::fcntl(1, F_DUPFD_CLOEXEC, 0));
    }
  }
  io.run();
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "pipe") {
    asio::io_context io;
    relay(io, 0, 1);
    relay(io, 3, 4);
    io.run();
    return 0;
  }
  if (mode == "hub" && argc > 3) return hub(std::atoi(argv[2]), std::vector<std::string>(argv + 3, argv + argc));
  std::fprintf(stderr, "usage: acp-bench-relay hub K AGENT [ARGS...] | acp-bench-relay pipe\n");
  return 2;
}
