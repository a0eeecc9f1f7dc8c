#pragma once
// What the conductor runs: one component of the chain, parsed from a command-line string.
//
// A component string is split into words the way a POSIX shell would, but no shell is ever run:
//   - 'single quotes' keep everything literally;
//   - "double quotes" keep everything except the escapes \\ \" \$ \` (and \newline, removed);
//   - outside quotes a backslash escapes the next character (\newline is removed);
//   - adjacent quoted and unquoted parts join into one word ("a"'b'c is the word abc);
//   - nothing is expanded: no globbing, no $VAR, no ~, no command substitution.
// Leading NAME=value words (NAME matching [A-Za-z_][A-Za-z0-9_]*) become environment variables
// for the child; the first other word is the command, the rest its arguments.
//
// A string whose first non-space character is `{` is a JSON spec instead:
//   {"command": "...", "args": ["..."], "env": {"NAME": "value"}, "name": "..."}
// `command` is required; `args`, `env` and `name` are optional; any other key is an error.
// The older form the reference conductor accepted (an MCP server's stdio entry) works too:
//   {"type": "stdio", "name": "...", "command": "...", "args": [...],
//    "env": [{"name": "NAME", "value": "value"}, ...]}
// `type` is optional and must be "stdio" (another type is an error naming it); `env` may be
// either an object or that array, whose entries are added in order.
//
// `name` (used to prefix the component's stderr lines and in error messages) defaults to the
// basename of the command.
//
// A string that is an address (`tcp://host:port`, `unix:/path`, `tls://host:port`,
// `ws://host:port/path`, `wss://…`; acp/net/url.hpp), or the JSON spec {"url": "...", "name": "..."},
// is a remote component: the conductor connects to it instead of spawning a process. Its name
// defaults to the address (`ws://build-box:8700/acp`).

#include <acp/sdk/process_spec.hpp>

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace acp::conductor {

/// A parsed component: what to run (acp/sdk/process_spec.hpp), or where to connect.
struct component_spec : acp::process_spec {
  /// A remote component's address (a URL, validated); empty for a process.
  std::string address;
  [[nodiscard]] bool remote() const noexcept { return !address.empty(); }
  friend bool operator==(const component_spec&, const component_spec&) = default;
};

/// What happens to a component's stderr lines (acp/sdk/process_spec.hpp); the conductor offers
/// `forward`, `tail_only` and `discard`.
using acp::stderr_mode;

/// Parses a component string (see the top of this file). On failure the error is one clear
/// sentence, e.g. `unterminated single quote (opened at position 4)` or
/// `env.FOO: expected string`. Never throws.
///
/// The error type is a plain string: test with `has_value()`, read with `*r` / `r.error()`
/// (`value()` is not available for this error type).
[[nodiscard]] boost::system::result<component_spec, std::string> parse_component(std::string_view text);

/// Splits `text` into words by the quoting rules above (exposed for tests and tools).
[[nodiscard]] boost::system::result<std::vector<std::string>, std::string> split_words(std::string_view text);

/// The component's display name: the basename of `command` (`/usr/bin/node` → `node`).
[[nodiscard]] std::string default_component_name(std::string_view command);

} // namespace acp::conductor
