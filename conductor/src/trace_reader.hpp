#pragma once
// Reading a trace file (acp/conductor/trace.hpp) for the trace tools: line by line, in bounded
// memory, tolerant of what a killed chain leaves behind. A line that is not a JSON object with a
// string `type` (truncated, garbage, longer than the limit) is skipped and counted, never fatal.

#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace acp::conductor {

struct trace_read_result {
  std::uint64_t events = 0;             ///< lines handed to the callback
  std::uint64_t skipped = 0;            ///< lines that were not events (empty lines are not counted)
  std::uint64_t first_skipped_line = 0; ///< 1-based; 0: none
  boost::system::error_code error;      ///< a read error (the events before it were delivered)
};

/// Called for each event with its DOM and its line's text (without the newline).
using trace_event_handler = std::function<void(const boost::json::object& event, std::string_view line)>;

/// Reads `in` to its end. Lines longer than `max_line` bytes are skipped without being held in
/// memory; memory stays within about `max_line` plus one event's DOM.
[[nodiscard]] trace_read_result read_trace(std::FILE* in, const trace_event_handler& on_event,
                                           std::size_t max_line = std::size_t{256} << 20);

/// Opens `path` for `read_trace` (`-`: standard input, not closed by `close_trace_input`).
/// Null with `error` set when it cannot be opened (a directory is refused too).
[[nodiscard]] std::FILE* open_trace_input(const std::string& path, boost::system::error_code& error);
void close_trace_input(std::FILE* in);

/// "skipped 3 lines that are not trace events (the first: line 17)", or empty when none were.
[[nodiscard]] std::string skipped_summary(const trace_read_result& r);

} // namespace acp::conductor
