#pragma once
// What to run as a child process, and what to do with its stderr (see acp/sdk/process.hpp).
// No Asio here: command-line parsers (the conductor's component strings) include only this.

#include <string>
#include <utility>
#include <vector>

namespace acp {

/// One program to start, without a shell.
struct process_spec {
  /// Display name: prefixes forwarded stderr lines (`[name] line`) and appears in errors.
  std::string name;
  /// The program: a path, or a bare name looked up in PATH.
  std::string command;
  std::vector<std::string> args;
  /// Added to (or replacing entries of) the inherited environment, in this order.
  std::vector<std::pair<std::string, std::string>> env;
  /// The child's working directory; empty: this process's. A directory that cannot be entered
  /// fails the start (`cannot execute …: <reason>`). A relative `command` with a `/` is still
  /// found from this process's working directory.
  std::string working_directory;

  friend bool operator==(const process_spec&, const process_spec&) = default;
};

/// What happens to the lines a child writes on its stderr. In every mode but `inherit` stderr is
/// a pipe drained continuously (a child never blocks on a full stderr pipe).
enum class stderr_mode {
  forward,   ///< each line goes to the sink (default: this process's stderr as `[name] line`); a tail is kept
  tail_only, ///< lines are only kept in the bounded tail (for error messages)
  discard,   ///< lines are read and dropped; no tail
  inherit,   ///< the child writes to this process's stderr directly; no pipe, no tail
};

} // namespace acp
