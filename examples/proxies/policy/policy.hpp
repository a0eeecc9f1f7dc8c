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
//       Titles are written by the agent: they are matched trimmed, with every run of whitespace
//       as one space (and so are title globs), but a title says what the agent chooses to say — a
//       `reject` by title is a hint, not a boundary. A title over 64 KiB or a location over 4 KiB
//       matches no rule's condition on it and the request is asked (forwarded).
//   fs/read_text_file, fs/write_text_file  With `roots`, the path must be absolute, free of NUL,
//       shorter than PATH_MAX, and inside a root in three forms: as written with `.`/`..` removed
//       textually, resolved as the kernel would, and the textual form resolved (an editor may
//       normalise before opening). Resolving follows every symlink of every existing component
//       (dangling ones by their target); a component that does not exist is taken as the plain
//       directory `mkdir -p` would create, so a later `..` comes back to existing ground and
//       resolution resumes there (`ROOT/new/../link/x` is judged by where `link` points). A path
//       that cannot be resolved (loop, a file used as a directory, no permission) is denied.
//       Otherwise the agent gets -32602 naming the path and the roots; nothing is forwarded.
//   terminal/create  With `allowedCommands` (or `commands`), the command must be listed: a plain
//       name, or an absolute path in a directory of the proxy's own PATH and outside the roots;
//       a command with `args` rules in `commands` must have every argument match one of its
//       globs. `env` entries that change what runs (PATH, LD_*, most GIT_*, HOME, BASH_ENV, …:
//       see `dangerous_env`) are denied unless matched by `allowedEnv`. With `roots`: `cwd` must
//       be a string inside a root (a missing one is denied: the editor would pick its own), and
//       with `confineArgs` (the default) every argument, and every option's value (`--x=V`,
//       `-xV`), taken as a path relative to `cwd`, must be inside a root. A config that allows a
//       command which runs other commands (`runs_other_commands`) without `args` rules is refused.
//   Notifications  fs/* and terminal/create sent as notifications (alone or in a batch) are
//       judged the same way; a denied one is dropped (it cannot be answered) with its decision
//       line.
//
// Each decision is one line on stderr: `policy: allow session/request_permission "Write file"
// (rule 2)`, with control characters, quotes and backslashes in the subject and reason escaped,
// and optionally a JSON line in a decision log. Everything else passes through.
//
// Limits: the check and the editor's open are separate moments (a link swapped in between is not
// seen); an allowed command may read or write files by means the policy cannot see (its own
// config files, names built at run time); the editor may run commands through a shell. Against a
// hostile agent, run the agent (or the editor's terminals) in a sandbox or container as well.

#include <acp/protocol/types/permission.hpp>
#include <acp/sdk/endpoint.hpp>

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <functional>
#include <map>
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

/// Argument rules of one command: every argument must match one of `args` (globs, `*` any text).
struct command_rule {
  std::vector<std::string> args;
};

struct policy_options {
  std::optional<std::vector<std::string>> roots;            ///< resolved; nullopt: fs unconfined
  std::optional<std::vector<std::string>> allowed_commands; ///< nullopt: any command
  std::map<std::string, command_rule> commands;             ///< argument rules by command name
  std::vector<std::string> allowed_env;                     ///< globs of names allowed despite `dangerous_env`
  bool confine_args = true;                                 ///< with roots: arguments as paths inside them
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

/// Reads a JSON config: {"roots": [DIR…], "allowedCommands": [NAME…], "commands": {NAME: {"args":
/// [GLOB…]}…}, "allowedEnv": [GLOB…], "confineArgs": BOOL, "permissions": [{"kind", "title",
/// "paths", "action", "always"}…]}; every key optional, no other keys. Roots must be existing
/// directories; relative path globs need roots; a command in `commands` is allowed too; an
/// allowed command that runs other commands needs `args` rules. Errors name the file and the key.
[[nodiscard]] policy_result<policy_options> load_policy_config(const std::string& path);
/// The same from a JSON text (`where` names it in errors).
[[nodiscard]] policy_result<policy_options> parse_policy_config(std::string_view json_text, const std::string& where);

/// Opens (creates with mode 0600, appends) a JSON-lines decision log.
[[nodiscard]] policy_result<std::function<void(const policy_decision&)>> open_decision_log(const std::string& path);

/// Glob matching over the whole text. In `path_mode`, `*`, `?` and classes never match '/', `**`
/// does, and `/**/` also matches a single '/'. Linear: O(pattern × text) time, O(pattern) memory.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text, bool path_mode);

/// A title as rules see it: trimmed, every run of whitespace one space.
[[nodiscard]] std::string normalise_title(std::string_view title);

/// An absolute path with `.` and `..` removed textually (`..` at "/" stays at "/").
[[nodiscard]] std::string lexically_normal_path(std::string_view path);

/// `path` resolved as the kernel would after `mkdir -p` of its missing directories: `.` skipped;
/// every existing component's symlinks followed (dangling ones by their target); a missing
/// component kept as a plain directory; `..` the parent of what precedes it. nullopt for a
/// relative path, a NUL, a symlink loop, or a component that cannot be examined (no permission,
/// a file used as a directory).
[[nodiscard]] std::optional<std::string> resolve_path(std::string_view path);

/// The forms of `path` every check must accept: lexically normalised, resolved, and the
/// normalised form resolved (duplicates removed; the first is the normalised one). Empty when
/// any cannot be computed.
[[nodiscard]] std::vector<std::string> path_forms(std::string_view path);

/// Why `path` may not be used under `roots`, or nullopt when it may: absolute, no NUL, shorter
/// than PATH_MAX, and every one of `path_forms` inside a root.
[[nodiscard]] std::optional<std::string> confinement_error(const std::vector<std::string>& roots,
                                                           std::string_view path);

/// Environment variables that change what a command runs or loads (PATH, LD_*, GIT_* but the
/// author/committer ones, HOME, BASH_ENV, ENV, PYTHON*, PERL5*, NODE_OPTIONS, RUBYOPT, IFS, …),
/// and names that are not valid (empty, with '=' or NUL).
[[nodiscard]] bool dangerous_env(std::string_view name);

/// Commands that can run other commands given suitable arguments (env, find, xargs, git, shells,
/// interpreters, make, awk, sed, nice, timeout, nohup, sudo, ssh, …).
[[nodiscard]] bool runs_other_commands(std::string_view name);

/// Why the terminal/create `params` may not run, or nullopt when they may (see the header).
[[nodiscard]] std::optional<std::string> terminal_error(const policy_options& options,
                                                        const boost::json::object* params);

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

/// The stderr line of a decision, without the newline; the subject and reason are escaped
/// (`\n`, `\"`, `\\`, `\xHH` for other control characters), so the line stays one line.
[[nodiscard]] std::string decision_line(const policy_decision& d);

} // namespace acp::examples
