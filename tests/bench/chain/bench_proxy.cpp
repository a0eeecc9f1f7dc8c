// acp-bench-proxy: an empty proxy built with the SDK (pure pass-through), for the benchmarks.
#include <acp/sdk.hpp>

#include <csignal>

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  return acp::proxy_builder().run_stdio();
}
