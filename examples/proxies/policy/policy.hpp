#pragma once
// The policy proxy: answers the agent's permission requests by rules, and confines its file and
// terminal requests.
//
//   session/request_permission  The rules are tried in order; the first whose conditions all hold
//       decides (no rule: `ask`). Conditions: `kind` (the tool call's kind, exactly), `title` (a
//       glob over the whole title: `*` any text, `?` one character, `[abc]`/`[!abc]` a class,
//       `\` quotes), `paths` (globs over every `toolCall.locations[].path`: `*` stays within one
//       path segment, `**` crosses them; every location must match one glob, and a call without
//       locations does not match). `allow` answers the agent with its first allow_once option
//       (allow_always with `always`), `reject` with its first reject_once option (reject_always
//       with `always`), falling back to the other one of the pair; `ask` (or no such option)
//       forwards the request to the editor. The editor never sees an auto-answered request.
//   fs/read_text_file, fs/write_text_file  With `roots`, the path must be absolute and inside a
//       root both as written (`..` removed) and with every symlink resolved (dangling ones too).
//       Otherwise the agent gets -32602 naming the path and the roots; nothing is forwarded.
//   terminal/create  With `allowedCommands`, the command's basename must be listed (and with
//       `roots`, its `cwd` must be inside one); otherwise -32602.
//
// Each decision is one line on stderr: `policy: allow session/request_permission "Write file"
// (rule 2)`, and optionally a JSON line in a decision log. Everything else passes through.

#include <acp/protocol/types/permission.hpp>
#include <acp/sdk/endpoint.hpp>

#include <boost/system/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

enum class policy_action { allow, reject, ask };

struct permission_rule {
  std::optional<std::string> kind;
  std::optional<std::string> title; ///< a glob over the whole title
  std::vector<std::string> paths;   ///< absolute globs (relative ones are expanded per root on load)
  policy_action action = policy_action::ask;
  bool always = false; ///< prefer the *_always option
};

/// One decision, as logged.
struct policy_decision {
  std::string action; ///< allow, reject, ask (permissions); allow, deny (fs, terminal)
  std::string method;
  std::string session_id;
  std::string subject;  ///< the title, path or command
  std::string reason;   ///< "rule 2", "no rule", "outside the allowed roots", …
  std::size_t rule = 0; ///< 1-based; 0 when no rule decided
};

struct policy_options {
  std::optional<std::vector<std::string>> roots;            ///< resolved; nullopt: fs unconfined
  std::optional<std::vector<std::string>> allowed_commands; ///< nullopt: terminal/create unchecked
  std::vector<permission_rule> permissions;
  bool log_to_stderr = true;
  std::function<void(const policy_decision&)> on_decision; ///< e.g. `open_decision_log`
};

/// A configuration error: one line, meant for `PROGRAM: MESSAGE` on stderr.
struct policy_error {
  std::string message;
};
[[noreturn]] void throw_exception_from_error(const policy_error& e, const boost::source_location& loc);
template <class T> using policy_result = boost::system::result<T, policy_error>;

/// Reads a JSON config: {"roots": [DIR…], "allowedCommands": [NAME…], "permissions": [{"kind",
/// "title", "paths", "action", "always"}…]}; every key optional, no other keys. Roots must be
/// existing directories; relative path globs need roots. Errors name the file and the key.
[[nodiscard]] policy_result<policy_options> load_policy_config(const std::string& path);
/// The same from a JSON text (`where` names it in errors).
[[nodiscard]] policy_result<policy_options> parse_policy_config(std::string_view json_text, const std::string& where);

/// Opens (creates with mode 0600, appends) a JSON-lines decision log.
[[nodiscard]] policy_result<std::function<void(const policy_decision&)>> open_decision_log(const std::string& path);

/// Glob matching over the whole text. In `path_mode`, `*` and `?` never match '/', `**` does,
/// and `/**/` also matches a single '/'.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text, bool path_mode);

/// `path` with `.` and `..` removed and every symlink resolved, component by component, dangling
/// ones included (so a write through a dangling link is judged by where it lands). nullopt for a
/// relative path or a symlink loop.
[[nodiscard]] std::optional<std::string> resolve_path(std::string_view path);

/// Why `path` may not be used under `roots`, or nullopt when it may: absolute, and inside a root
/// both lexically normalised and resolved.
[[nodiscard]] std::optional<std::string> confinement_error(const std::vector<std::string>& roots,
                                                           std::string_view path);

/// The decision on a permission request: the action, the rule (1-based, 0 for none) and the
/// option to answer with (set for allow/reject only).
struct permission_verdict {
  policy_action action = policy_action::ask;
  std::size_t rule = 0;
  std::optional<std::string> option_id;
  std::string reason;
};
[[nodiscard]] permission_verdict decide_permission(const policy_options& options,
                                                   const request_permission_request& request);

/// A proxy with the policy handlers installed; run it with `run_stdio()` or `connect_to(...)`.
[[nodiscard]] proxy_builder make_policy_proxy(policy_options options);

/// The stderr line of a decision, without the newline.
[[nodiscard]] std::string decision_line(const policy_decision& d);

} // namespace acp::examples
