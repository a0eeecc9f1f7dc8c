#pragma once
// acp-transcript-proxy: writes a readable Markdown record of every session, observing only.
//
// Every message passes through exactly as received; the proxy reads copies with the typed
// decoders. It needs to see a few responses (the agent's `initialize` result, the session id
// of `session/new`, the stop reason of `session/prompt`, the editor's permission choice), so it
// forwards those requests itself and relays the answers unchanged; everything else takes the
// default forwarding.
//
// Files: `DIR/<session id>.md` (the id made safe for a file name, `transcript_file_name`),
// created with mode 0600 (transcripts hold prompts and file contents), always appended to:
// `session/load` continues the record of the session, and a new session whose file exists
// (an agent reusing ids) adds a new header below the old record. Each turn is written when it
// ends (the prompt already when it is sent); a turn still open at exit is written as
// unfinished. A failing write is logged once per file and never disturbs the traffic.
//
// While `session/load` is in progress the agent replays the conversation as updates; they are
// not recorded again.

#include <acp/sdk/endpoint.hpp>

#include <string>
#include <string_view>

namespace acp::examples {

struct transcript_options {
  std::string dir; ///< where the `.md` files go; see `prepare_transcript_dir`
};

/// Creates `dir` and its parents (a directory it creates gets mode 0700) and checks that it is
/// a writable directory. Returns one line describing the problem, or "" when it is usable.
[[nodiscard]] std::string prepare_transcript_dir(const std::string& dir);

/// The file name for a session id: ASCII letters, digits, `-`, `_` and `.` are kept, other
/// bytes become `_`, a leading `.` becomes `_`, at most 100 characters; when anything had to
/// change, an 8-hex-digit hash of the original id is appended, so different ids never share a
/// file. Ends in ".md".
[[nodiscard]] std::string transcript_file_name(std::string_view session_id);

/// The proxy; `options.dir` must have passed `prepare_transcript_dir`.
[[nodiscard]] proxy_builder make_transcript_proxy(transcript_options options);

} // namespace acp::examples
