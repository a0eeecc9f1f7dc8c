// `acp-conductor trace stats` (acp/conductor/trace_tools.hpp). Placeholder until it is written in
// this session: it says so and fails.
#include <acp/conductor/trace_tools.hpp>

#include <cstdio>

namespace acp::conductor {

int run_trace_stats(const trace_command&) {
  std::fputs("acp-conductor: trace stats: not built yet\n", stderr);
  return 1;
}

} // namespace acp::conductor
