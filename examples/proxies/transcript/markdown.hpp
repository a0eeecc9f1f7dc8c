#pragma once
// The Markdown of acp-transcript-proxy: what one turn of a session looks like on paper.
//
// A turn is recorded in two parts, written as they complete: the user's prompt when it is sent
// (so it survives a crash of the agent), and the agent's side when the `session/prompt`
// response arrives. The agent's side gathers the turn's `session/update`s: message chunks
// concatenated into one block, thoughts in a collapsed <details>, tool calls with their
// status history and locations, permission requests with the option the editor chose, the
// latest plan, and the stop reason. Pure functions: no I/O.
//
// What the agent and the editor choose cannot change the record's structure. Free text (the
// prompt's text, the agent's message and thoughts, attached file contents) is written inside a
// fenced code block whose fence is longer than any run of backticks in the text, so no line of it
// can close the block, start a heading, fake a "**User**" turn or be read as raw HTML; it is shown
// verbatim. Single values (ids, paths, titles, option names, statuses, plan entries) are put on
// one line (control characters become spaces) as code spans, or with the Markdown characters
// that could open HTML, links, code or headings backslash-escaped (`escape_inline`).

#include <acp/protocol/types.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

struct tool_call_record {
  std::string id;
  std::string title;
  std::string kind;
  std::vector<std::string> statuses;  ///< in order, repeats dropped
  std::vector<std::string> locations; ///< "path" or "path:line"
};

struct permission_record {
  std::string tool_call_id;
  std::string title;
  std::vector<std::string> options; ///< "name (kind)"
  std::string choice;               ///< the chosen option's name, "cancelled", "error: …"; empty while pending
};

/// What the agent did in one turn (or between turns, when `in_turn` is false).
struct turn_record {
  bool in_turn = false;
  std::string text;
  std::string thoughts;
  std::vector<tool_call_record> tool_calls;
  std::vector<permission_record> permissions;
  std::optional<std::vector<plan_entry>> plan;

  /// Records an update; user message chunks and informational updates are ignored.
  void apply(const session_update& update);
  /// Adds a permission request; returns its index in `permissions`.
  std::size_t add_permission(const request_permission_request& request);
  /// Sets the choice of permission `index` from the editor's answer.
  void answer_permission(std::size_t index, const request_permission_request& request,
                         const request_permission_response* response, std::string_view error);
  [[nodiscard]] bool empty() const noexcept;
};

/// Facts for a session's header.
struct session_header {
  std::string session_id;
  std::string cwd;
  std::string agent;   ///< "name version (title)", empty when unknown
  std::string client;  ///< same, for the editor
  bool loaded = false; ///< `session/load` (appended to an earlier record) rather than `session/new`
};

/// "2025-06-01 12:00:03 UTC"
[[nodiscard]] std::string format_time(std::chrono::system_clock::time_point t);
/// "name version (title)" of an `implementation`.
[[nodiscard]] std::string describe(const implementation& who);

/// `text` in a fenced code block that `text` cannot close (fence: at least three backticks, one
/// more than the longest run in `text`), ending with a newline.
[[nodiscard]] std::string fenced(std::string_view text);
/// `text` on one line for running Markdown text: control characters (line breaks included) become
/// spaces; `\ ` < > & [ ] # *` are backslash-escaped.
[[nodiscard]] std::string escape_inline(std::string_view text);
/// Reading a record back line by line: true for a line that starts a turn ("## Turn N"), false
/// for lines inside fenced blocks; `open_fence` carries the fence state from line to line.
[[nodiscard]] bool starts_turn(std::string_view line, std::string& open_fence);

[[nodiscard]] std::string render_header(const session_header& h, std::chrono::system_clock::time_point now);
[[nodiscard]] std::string render_prompt(int turn, const std::vector<content_block>& prompt,
                                        std::chrono::system_clock::time_point now);
/// The agent's side of a turn; `stop_reason` empty when the turn did not end (or was not one).
[[nodiscard]] std::string render_reply(const turn_record& turn, std::string_view heading, std::string_view stop_reason);

} // namespace acp::examples
