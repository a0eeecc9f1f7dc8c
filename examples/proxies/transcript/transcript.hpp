#pragma once
// acp-transcript-proxy: writes a readable Markdown record of every session, observing only.
//
// Every message passes through exactly as received; the proxy reads copies with the typed
// decoders. It needs to see a few responses (the agent's `initialize` result, the session id
// of `session/new`, the stop reason of `session/prompt`, the editor's permission choice and its
// answers to the agent's `fs/read_text_file`, `fs/write_text_file`, `terminal/create`,
// `terminal/output`, `terminal/wait_for_exit` and `terminal/kill`), so it forwards those requests
// itself and relays the answers unchanged; everything else takes the default forwarding. An
// answer that arrives after its turn was written is not recorded.
//
// Files: `DIR/<session id>.md` (the id made safe for a file name, `transcript_file_name`),
// created with mode 0600 (transcripts hold prompts and file contents), always appended to:
// `session/load` continues the record of the session, and a new session whose file exists
// (an agent reusing ids) adds a new header below the old record. Each turn is written when it
// ends (the prompt already when it is sent); a turn still open at exit is written as
// unfinished. A failing write is logged once per file and never disturbs the traffic.
//
// DIR must be owned by the user and writable by nobody else (someone who can write to it can
// plant links there); a session file is opened relative to DIR without following a symbolic
// link, and refused (the session is not recorded, with a warning) when it is not a regular file,
// belongs to another user or has other hard links; its mode is set to 0600.
//
// The Markdown cannot be steered by the agent (see markdown.hpp): free text goes into fenced
// blocks it cannot close, single values are escaped.
//
// While `session/load` is in progress the agent replays the conversation as updates; they are
// not recorded again.

#include <acp/sdk/endpoint.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace acp::examples {

struct transcript_options {
  std::string dir; ///< where the `.md` files go; see `prepare_transcript_dir`
};

/// Creates `dir` and its parents (a directory it creates gets mode 0700) and checks that it is
/// a writable directory owned by this user and not writable by group or others. Returns one line
/// describing the problem (`--dir DIR: is writable by others; ...`), or "" when it is usable.
[[nodiscard]] std::string prepare_transcript_dir(const std::string& dir);

/// Encoded ids up to this length are the whole file name (before ".md").
inline constexpr std::size_t max_plain_name = 200;
/// Longer ones keep this much of their encoding as a readable prefix.
inline constexpr std::size_t long_name_prefix = 100;

/// The file name for a session id, one for each id (different ids never share a file): ASCII
/// letters, digits, `-`, `_` and `.` are kept, every other byte (and a leading `.`) is written
/// as `%XX` (uppercase hex; `%` itself is `%25`), so `a/b` is `a%2Fb.md`. The empty id is
/// `%-empty.md`. An encoding longer than `max_plain_name` is cut to its first `long_name_prefix`
/// characters followed by `%-` and the first 32 hex digits of the SHA-256 of the id (`%-` never
/// occurs in an encoding). Ends in ".md". Ids that differ only in case get different names, which
/// a case-insensitive file system would merge.
[[nodiscard]] std::string transcript_file_name(std::string_view session_id);

/// The proxy. `options.dir` should have passed `prepare_transcript_dir`; a directory that does
/// not (checked again here, once) is reported on stderr and nothing is recorded.
[[nodiscard]] proxy_builder make_transcript_proxy(transcript_options options);

} // namespace acp::examples
