#pragma once
// The trace tools: `acp-conductor trace view` and `acp-conductor trace stats` (acp-conductor(1)).
// Each reads a trace file written by `--trace` (acp/conductor/trace.hpp), skips lines that are
// not events (a chain killed mid-write leaves a truncated last line) and says how many it
// skipped on standard error; it returns the process's exit code (0, 1 when the file cannot be
// read or the output cannot be written).

#include <acp/conductor/options.hpp>

namespace acp::conductor {

/// `trace view FILE [-o OUT.html]`: one self-contained HTML page (no network) showing the trace
/// as a sequence diagram.
[[nodiscard]] int run_trace_view(const trace_command& command);

/// `trace stats FILE [--json] [--slowest N]`: per method and hop, count, bytes, latency
/// percentiles and errors; the slowest requests. Streams the file in bounded memory.
[[nodiscard]] int run_trace_stats(const trace_command& command);

} // namespace acp::conductor
