// The policy proxy's terminal/create decision: command, arguments, environment, cwd (see policy.hpp).
#include "policy.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace acp::examples {
namespace json = boost::json;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

template <std::size_t N> bool one_of(std::string_view s, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

// Names that choose the program, the libraries it loads, the files it sources at start, or the
// helpers it runs (pagers, editors, askpass, ssh).
constexpr std::array<std::string_view, 44> env_names = {"PATH",
                                                        "BASH_ENV",
                                                        "ENV",
                                                        "IFS",
                                                        "SHELLOPTS",
                                                        "BASHOPTS",
                                                        "PS4",
                                                        "PROMPT_COMMAND",
                                                        "CDPATH",
                                                        "GLOBIGNORE",
                                                        "HOME",
                                                        "ZDOTDIR",
                                                        "XDG_CONFIG_HOME",
                                                        "XDG_CONFIG_DIRS",
                                                        "XDG_DATA_HOME",
                                                        "XDG_DATA_DIRS",
                                                        "EDITOR",
                                                        "VISUAL",
                                                        "PAGER",
                                                        "MANPAGER",
                                                        "LESSOPEN",
                                                        "LESSCLOSE",
                                                        "LESSKEY",
                                                        "INPUTRC",
                                                        "SSH_ASKPASS",
                                                        "SUDO_ASKPASS",
                                                        "SHELL",
                                                        "GCONV_PATH",
                                                        "LOCPATH",
                                                        "NLSPATH",
                                                        "HOSTALIASES",
                                                        "TERMINFO",
                                                        "TERMINFO_DIRS",
                                                        "NODE_OPTIONS",
                                                        "RUBYOPT",
                                                        "MAKEFLAGS",
                                                        "MFLAGS",
                                                        "GNUMAKEFLAGS",
                                                        "TAR_OPTIONS",
                                                        "JAVA_TOOL_OPTIONS",
                                                        "_JAVA_OPTIONS",
                                                        "JDK_JAVA_OPTIONS",
                                                        "CLASSPATH",
                                                        "TMPDIR"};
constexpr std::array<std::string_view, 16> env_prefixes = {
    "LD_",   "DYLD_", "GIT_",       "PYTHON", "PERL5", "PERL_",   "PERLLIB", "RUBY",
    "NODE_", "NPM_",  "BASH_FUNC_", "LUA_",   "GEM_",  "BUNDLE_", "CARGO_",  "RUSTC"};
// The GIT_* that only name people and dates.
constexpr std::array<std::string_view, 6> safe_git_env = {"GIT_AUTHOR_NAME",     "GIT_AUTHOR_EMAIL",
                                                          "GIT_AUTHOR_DATE",     "GIT_COMMITTER_NAME",
                                                          "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE"};

constexpr std::array<std::string_view, 78> runner_names = {
    "env",    "find",   "xargs", "git",     "sh",     "bash",     "dash",   "zsh",        "ksh",   "mksh",
    "csh",    "tcsh",   "fish",  "busybox", "perl",   "node",     "nodejs", "deno",       "bun",   "ruby",
    "irb",    "php",    "lua",   "tclsh",   "wish",   "expect",   "make",   "gmake",      "cmake", "ninja",
    "awk",    "gawk",   "mawk",  "nawk",    "sed",    "vi",       "vim",    "nvim",       "emacs", "less",
    "more",   "man",    "nice",  "ionice",  "chrt",   "taskset",  "nohup",  "timeout",    "time",  "stdbuf",
    "setsid", "sudo",   "su",    "doas",    "ssh",    "scp",      "rsync",  "tar",        "zip",   "watch",
    "strace", "ltrace", "gdb",   "script",  "flock",  "parallel", "npm",    "npx",        "yarn",  "pnpm",
    "cargo",  "go",     "java",  "docker",  "podman", "tmux",     "screen", "systemd-run"};
constexpr std::array<std::string_view, 6> runner_prefixes = {"python", "pypy", "perl", "ruby", "php", "git-"};

std::string basename_of(std::string_view command) {
  const auto slash = command.rfind('/');
  return std::string(slash == std::string_view::npos ? command : command.substr(slash + 1));
}

/// A command given with a '/' must be an absolute path in one of the proxy's own PATH
/// directories and outside the roots: a program the agent planted must not run by its path.
std::optional<std::string> command_path_error(const policy_options& options, const std::string& command) {
  if (command.find('/') == std::string::npos) return std::nullopt;
  if (command.front() != '/' || command.find('\0') != std::string::npos)
    return "a command with '/' must be an absolute path";
  const auto resolved = resolve_path(command);
  if (!resolved) return "cannot resolve the command's path";
  if (options.roots)
    for (const auto& root : *options.roots)
      if (!confinement_error({root}, command)) return "the command lives inside the roots";
  const auto dir = lexically_normal_path(command.substr(0, command.rfind('/')));
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "/usr/bin:/bin";
  for (std::size_t i = 0; i <= path.size();) {
    const auto j = std::min(path.find(':', i), path.size());
    const auto entry = path.substr(i, j - i);
    if (!entry.empty() && entry.front() == '/') {
      if (lexically_normal_path(entry) == dir) return std::nullopt;
      const auto entry_resolved = resolve_path(entry);
      if (entry_resolved && resolve_path(dir) == entry_resolved) return std::nullopt;
    }
    i = j + 1;
  }
  return "a command given by path must be in a directory of the proxy's PATH";
}

/// The texts of an argument that name files: the argument; for an option, its value (`--x=V`,
/// `-xV`).
std::vector<std::string_view> path_texts(std::string_view arg) {
  if (arg.size() < 2 || arg.front() != '-') return {arg};
  const auto eq = arg.find('=');
  if (eq != std::string_view::npos) return {arg.substr(eq + 1)};
  if (arg[1] != '-' && arg.size() > 2) return {arg.substr(2)};
  return {};
}

std::optional<std::string> env_error(const policy_options& options, const json::value* env) {
  if (!env || env->is_null()) return std::nullopt;
  const auto* entries = env->if_array();
  if (!entries) return "env must be an array of {name, value}";
  for (const auto& e : *entries) {
    const auto* o = e.if_object();
    const auto* name = o ? o->if_contains("name") : nullptr;
    if (!name || !name->is_string()) return "env entries must have a string name";
    const std::string_view n = name->get_string();
    if (!dangerous_env(n)) continue;
    const bool allowed = std::any_of(options.allowed_env.begin(), options.allowed_env.end(),
                                     [&](const std::string& glob) { return glob_match(glob, n, false); });
    if (!allowed || n.empty() || n.find_first_of(std::string_view("=\0", 2)) != std::string_view::npos)
      return "env " + std::string(n) + " changes what runs (not in allowedEnv)";
  }
  return std::nullopt;
}

} // namespace

bool dangerous_env(std::string_view name) {
  if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string_view::npos) return true;
  if (one_of(name, safe_git_env)) return false;
  if (one_of(name, env_names)) return true;
  return std::any_of(env_prefixes.begin(), env_prefixes.end(),
                     [&](std::string_view p) { return starts_with(name, p); });
}

bool runs_other_commands(std::string_view name) {
  if (one_of(name, runner_names)) return true;
  return std::any_of(runner_prefixes.begin(), runner_prefixes.end(),
                     [&](std::string_view p) { return starts_with(name, p); });
}

std::optional<std::string> terminal_error(const policy_options& options, const json::object* params) {
  const auto* command = params ? params->if_contains("command") : nullptr;
  if (!command || !command->is_string()) return "the command is not a string";
  const std::string name(command->get_string());
  const auto base = basename_of(name);
  if (const auto& allowed = options.allowed_commands) {
    if (std::find(allowed->begin(), allowed->end(), base) == allowed->end()) {
      std::string list;
      for (const auto& a : *allowed) list += (list.empty() ? "" : ", ") + a;
      return "not in allowedCommands (" + list + ")";
    }
    if (auto bad = command_path_error(options, name)) return *bad;
  }

  const auto* args_value = params->if_contains("args");
  std::vector<std::string_view> args;
  if (args_value && !args_value->is_null()) {
    const auto* a = args_value->if_array();
    if (!a) return "args must be an array of strings";
    for (const auto& v : *a) {
      if (!v.is_string()) return "args must be an array of strings";
      args.emplace_back(v.get_string());
    }
  }
  if (const auto rule = options.commands.find(base); rule != options.commands.end()) {
    for (const auto arg : args) {
      const auto& globs = rule->second.args;
      if (std::none_of(globs.begin(), globs.end(), [&](const std::string& g) { return glob_match(g, arg, false); }))
        return "argument \"" + std::string(arg) + "\" matches none of the args rules of " + base;
    }
  }
  if (auto bad = env_error(options, params->if_contains("env"))) return bad;

  if (!options.roots) return std::nullopt;
  const auto& roots = *options.roots;
  const auto* cwd = params->if_contains("cwd");
  if (!cwd || cwd->is_null()) return "no cwd (the editor would choose one)";
  if (!cwd->is_string()) return "cwd is not a string";
  const std::string dir(cwd->get_string());
  if (auto bad = confinement_error(roots, dir)) {
    std::string list;
    for (const auto& r : roots) list += (list.empty() ? "" : ", ") + r;
    return "cwd " + dir + ": " + *bad + " (" + list + ")";
  }
  if (!options.confine_args) return std::nullopt;
  for (const auto arg : args) {
    for (const auto text : path_texts(arg)) {
      if (text.empty()) continue;
      const std::string path = text.front() == '/' ? std::string(text) : dir + "/" + std::string(text);
      if (auto bad = confinement_error(roots, path))
        return "argument \"" + std::string(arg) + "\": " + *bad + " (confineArgs)";
    }
  }
  return std::nullopt;
}

} // namespace acp::examples
