#pragma once
// acp-prompt: a one-shot ACP client.
//
// Spawns the agent command (its own process group; stdin/stdout are the protocol pipes, stderr
// is inherited), sends `initialize` (fs read/write, no terminal), `session/new` and one
// `session/prompt`, prints the text of every agent_message_chunk to stdout as it streams and
// every tool call as "[tool] TITLE" on stderr. It answers `session/request_permission` with the
// first allow (or reject) option and serves `fs/read_text_file` / `fs/write_text_file` from the
// local file system. When the turn ends it closes the agent's stdin, waits for it to exit and
// kills its process group after a grace period.

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace acp::examples {

struct prompt_options {
  std::string prompt;
  std::vector<std::string> command;                ///< the agent: program (PATH lookup) and arguments
  std::string cwd;                                 ///< the session's directory; empty: the current one
  std::optional<boost::json::object> session_meta; ///< `_meta` of session/new
  bool allow = true;                               ///< permission requests: allow, else reject
  std::chrono::milliseconds timeout{60'000};       ///< for the whole exchange
  std::chrono::milliseconds exit_grace{2'000};     ///< after closing the agent's stdin, before SIGKILL
};

/// Runs the exchange; returns the exit status: 0 when the turn ended with "end_turn", 1 for any
/// other stop reason, an error response, a dead agent or the timeout (each explained on stderr).
int run_prompt(const prompt_options& options);

} // namespace acp::examples
