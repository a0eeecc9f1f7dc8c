#pragma once
// The trace viewer's page (conductor/viewer/, embedded at build time): one self-contained HTML
// file, inline style and script, nothing fetched from the network.
//
// Events are embedded as data, never as markup: a `<script type="application/json"
// id="acp-trace">` element holds {"file": NAME, "events": [EVENT, ...], "skipped": N}, where each
// EVENT is a trace line as written (acp/conductor/trace.hpp) with `<`, `>`, `&`, U+2028 and
// U+2029 spelled as JSON escapes (\u003c ...), so that no string in a trace can close the element.
// The page reads it with JSON.parse and builds its DOM with textContent only.
//
// Without embedded events (`live_viewer_page`), the page opens
// `new EventSource('events' + location.search)`: each message's data is one trace event (a line
// of the file), an event named `skipped` carries the number of lines skipped so far.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace acp::conductor {

/// Appends `json` (the text of a valid JSON value) to `out` with `<`, `>`, `&`, U+2028 and U+2029
/// escaped: safe inside a script element. Outside strings those characters cannot occur in valid
/// JSON; inside strings the escapes denote the same characters.
void append_script_safe_json(std::string& out, std::string_view json);

/// Writes a trace page piece by piece to `sink` (a file, a socket): the events are not held.
/// Call `begin`, `event` per trace line (a valid JSON object), then `finish`.
class trace_page_writer {
public:
  using sink = std::function<void(std::string_view)>;
  explicit trace_page_writer(sink out) : out_(std::move(out)) {}

  /// The page up to the first event; `file_name` is shown in the page (any bytes: it is escaped).
  void begin(std::string_view file_name);
  /// One event: the line's text.
  void event(std::string_view line);
  /// The rest of the page; `skipped`: lines of the trace that were not events.
  void finish(std::uint64_t skipped);

private:
  sink out_;
  std::string buffer_;
  bool first_ = true;
};

/// The whole page in memory: for small traces and tests.
[[nodiscard]] std::string render_trace_page(std::string_view file_name, const std::vector<std::string>& lines,
                                            std::uint64_t skipped);

/// The live page, without events: it reads them from `events` (server-sent events) next to it.
[[nodiscard]] std::string live_viewer_page();

} // namespace acp::conductor
