#pragma once
// The Markdown of acp-transcript-proxy: what one turn of a session looks like on paper.
//
// A turn is recorded in two parts, written as they complete: the user's prompt when it is sent
// (so it survives a crash of the agent), and the agent's side when the `session/prompt`
// response arrives. The agent's side lists what happened in the order it happened: each agent
// message in its own block (chunks are joined until something recorded comes between them or the
// chunk's `messageId` changes), thoughts likewise in collapsed <details>, tool calls with their
// status history and locations, permission requests with the option the editor chose, the
// agent's `fs/read_text_file` / `fs/write_text_file` requests and terminals (`terminal/*`) with
// the editor's answers; then the latest plan and the stop reason. Pure functions: no I/O.
//
// What the agent and the editor choose cannot change the record's structure. Free text (the
// prompt's text, the agent's message and thoughts, attached file contents, the start of a file
// written, the end of a terminal's output) is written inside a fenced code block whose fence is
// longer than any run of backticks in the text, so no line of it can close the block, start a
// heading, fake a "**User**" turn or be read as raw HTML; it is shown verbatim. Single values
// (ids, paths, titles, commands and arguments, option names, statuses, errors, plan entries) are
// put on one line (control characters become spaces) as code spans, or with the Markdown
// characters that could open HTML, links, code or headings backslash-escaped (`escape_inline`).

#include <acp/protocol/types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace acp::examples {

/// One agent message (or one run of thoughts): chunks of text joined in order.
struct text_record {
  bool thought = false;
  std::string text;
  std::optional<std::string> message_id; ///< of its chunks; a different one starts a new record
};

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

/// How much of a file written or of a terminal's output the record keeps.
inline constexpr std::size_t excerpt_max_bytes = 2048;
inline constexpr std::size_t excerpt_max_lines = 40;

/// An `fs/read_text_file` or `fs/write_text_file` request of the agent and the editor's answer.
struct file_record {
  bool write = false;
  std::string path;
  std::optional<std::uint32_t> line;  ///< reads: the first line asked for
  std::optional<std::uint32_t> limit; ///< reads: at most this many lines
  std::size_t bytes = 0;              ///< the content written, or read (once answered)
  std::size_t lines = 0;
  std::string excerpt; ///< writes: the start of the content (`excerpt_head`)
  std::string answer;  ///< "" while pending, "ok", "error: …", "invalid answer"
};

/// A terminal the agent created (`terminal/create`) and what it learnt of it.
struct terminal_record {
  std::string terminal_id; ///< empty until `terminal/create` is answered
  std::string command;     ///< empty for a terminal created before this turn
  std::vector<std::string> args;
  std::string cwd;
  std::string error;  ///< "error: …" when `terminal/create` failed
  std::string output; ///< the end of the latest `terminal/output` result (`excerpt_tail`)
  std::size_t output_bytes = 0;
  bool truncated = false; ///< the editor cut the output (its `truncated` flag)
  std::string exit;       ///< "exit code N", "signal SIG…"; empty while unknown
  bool killed = false;    ///< `terminal/kill` was sent
};

using turn_entry = std::variant<text_record, tool_call_record, permission_record, file_record, terminal_record>;

/// What the agent did in one turn (or between turns, when `in_turn` is false), in order.
struct turn_record {
  bool in_turn = false;
  std::vector<turn_entry> entries;
  std::optional<std::vector<plan_entry>> plan; ///< the latest; shown after the entries

  /// Records an update. Message and thought chunks join the open text record of their kind and
  /// `messageId`; anything recorded in between (a tool call or its update, a permission or
  /// editor request) ends it. User message chunks and informational updates are ignored.
  void apply(const session_update& update);
  /// Appends an entry (ending the open text record); returns its index in `entries`.
  std::size_t add(turn_entry entry);
  /// The entry at `index` when it holds a `T`, else null.
  template <class T> [[nodiscard]] T* at(std::size_t index) noexcept {
    return index < entries.size() ? std::get_if<T>(&entries[index]) : nullptr;
  }
  /// The terminal with this id; one is added (without its command) when the turn has none.
  /// Finding it does not end the open text record (the editor's answers are not the agent's
  /// stream).
  terminal_record& terminal(std::string_view terminal_id);
  /// Adds a permission request; returns its index in `entries`.
  std::size_t add_permission(const request_permission_request& request);
  /// Sets the choice of permission `index` from the editor's answer.
  void answer_permission(std::size_t index, const request_permission_request& request,
                         const request_permission_response* response, std::string_view error);
  [[nodiscard]] bool empty() const noexcept;

private:
  bool text_open_ = false; ///< the last entry is a text record that chunks may still extend
};

/// `text`'s first `excerpt_max_lines` lines, at most `excerpt_max_bytes` (cut before a UTF-8
/// sequence, never inside one); `excerpt_tail` keeps the last ones instead.
[[nodiscard]] std::string excerpt_head(std::string_view text);
[[nodiscard]] std::string excerpt_tail(std::string_view text);
/// Lines in `text`: its line breaks, plus one for a last line without one.
[[nodiscard]] std::size_t count_lines(std::string_view text) noexcept;

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
