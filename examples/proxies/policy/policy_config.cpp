// The policy proxy's configuration file and decision log.
#include "policy.hpp"

#include <acp/protocol/json_write.hpp>
#include <acp/sdk/private_file.hpp>

#include <boost/json/parse.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {
namespace json = boost::json;

void throw_exception_from_error(const policy_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}

namespace {

constexpr std::array<std::string_view, 10> tool_kinds = {"read",    "edit",  "delete", "move",        "search",
                                                         "execute", "think", "fetch",  "switch_mode", "other"};

std::optional<std::vector<std::string>> string_array(const json::value& v) {
  const auto* a = v.if_array();
  if (!a) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& s : *a) {
    if (!s.is_string()) return std::nullopt;
    out.emplace_back(s.get_string());
  }
  return out;
}

// A glob's directory part before its first wildcard is resolved like a path (roots are resolved,
// and so are the paths matched against it): "/link/**" matches what lives under the link's target.
std::string resolve_glob_prefix(const std::string& pattern) {
  const auto meta = pattern.find_first_of("*?[\\");
  const auto slash = pattern.rfind('/', meta == std::string::npos ? std::string::npos : meta);
  if (slash == std::string::npos || slash == 0) return pattern;
  auto dir = resolve_path(pattern.substr(0, slash));
  if (!dir) return pattern;
  return (*dir == "/" ? "" : *dir) + pattern.substr(slash);
}

policy_result<permission_rule> parse_rule(const json::value& v, const std::string& where,
                                          const std::optional<std::vector<std::string>>& roots) {
  if (!v.is_object()) return policy_error{where + "must be an object"};
  permission_rule rule;
  bool has_action = false;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "kind") {
      const auto* s = value.if_string();
      if (!s || std::find(tool_kinds.begin(), tool_kinds.end(), std::string_view(*s)) == tool_kinds.end())
        return policy_error{where + "\"kind\" must be one of read, edit, delete, move, search, execute, think, "
                                    "fetch, switch_mode, other"};
      rule.kind = std::string(*s);
    } else if (key == "title") {
      if (!value.is_string()) return policy_error{where + "\"title\" must be a string (a glob)"};
      rule.title = normalise_title(value.get_string()); // titles are matched normalised too
    } else if (key == "paths") {
      auto paths = string_array(value);
      if (!paths) return policy_error{where + "\"paths\" must be an array of strings (globs)"};
      for (auto& p : *paths) {
        if (p.empty()) return policy_error{where + "empty path pattern"};
        if (p.front() == '/') {
          rule.paths.push_back(resolve_glob_prefix(p));
          continue;
        }
        if (!roots) return policy_error{where + "path pattern \"" + p + "\" is relative but there are no \"roots\""};
        for (const auto& root : *roots) rule.paths.push_back((root == "/" ? "" : root) + "/" + p);
      }
    } else if (key == "action") {
      const auto* s = value.if_string();
      if (!s || (*s != "allow" && *s != "reject" && *s != "ask"))
        return policy_error{where + "\"action\" must be \"allow\", \"reject\" or \"ask\""};
      rule.action = *s == "allow" ? policy_action::allow : *s == "reject" ? policy_action::reject : policy_action::ask;
      has_action = true;
    } else if (key == "always") {
      if (!value.is_bool()) return policy_error{where + "\"always\" must be true or false"};
      rule.always = value.get_bool();
    } else {
      return policy_error{where + "unknown key \"" + std::string(key) +
                          "\" (known: kind, title, paths, action, always)"};
    }
  }
  if (!has_action) return policy_error{where + "missing \"action\" (\"allow\", \"reject\" or \"ask\")"};
  return rule;
}

} // namespace

policy_result<policy_options> parse_policy_config(std::string_view json_text, const std::string& where_name) {
  const std::string where = "config " + where_name + ": ";
  boost::system::error_code ec;
  const json::value v = json::parse(json_text, ec);
  if (ec) return policy_error{where + "invalid JSON: " + ec.message()};
  if (!v.is_object()) return policy_error{where + "expected a JSON object"};
  const auto& o = v.get_object();
  for (const auto& [key, value] : o)
    if (key != "roots" && key != "allowedCommands" && key != "commands" && key != "allowedEnv" &&
        key != "confineArgs" && key != "permissions")
      return policy_error{where + "unknown key \"" + std::string(key) +
                          "\" (known: roots, allowedCommands, commands, allowedEnv, confineArgs, permissions)"};

  policy_options out;
  // Roots first: relative path globs in the rules are expanded against them.
  if (const auto* r = o.if_contains("roots")) {
    auto roots = string_array(*r);
    if (!roots) return policy_error{where + "\"roots\" must be an array of strings"};
    out.roots.emplace();
    for (const auto& root : *roots) {
      if (root.empty() || root.front() != '/')
        return policy_error{where + "root \"" + root + "\" must be an absolute path"};
      auto resolved = resolve_path(root);
      struct stat st {};
      if (!resolved || ::stat(resolved->c_str(), &st) != 0)
        return policy_error{where + "root \"" + root + "\" does not exist"};
      if (!S_ISDIR(st.st_mode)) return policy_error{where + "root \"" + root + "\" is not a directory"};
      out.roots->push_back(std::move(*resolved));
    }
  }
  if (const auto* c = o.if_contains("allowedCommands")) {
    auto commands = string_array(*c);
    if (!commands) return policy_error{where + "\"allowedCommands\" must be an array of strings"};
    for (const auto& name : *commands)
      if (name.empty() || name.find('/') != std::string::npos)
        return policy_error{where + "allowed command \"" + name +
                            "\" must be a plain name (matched against the basename)"};
    out.allowed_commands = std::move(*commands);
  }
  if (const auto* c = o.if_contains("commands")) {
    if (!c->is_object()) return policy_error{where + "\"commands\" must be an object: {NAME: {\"args\": [GLOB…]}}"};
    if (!out.allowed_commands) out.allowed_commands.emplace();
    for (const auto& [name, rule] : c->get_object()) {
      const std::string n(name);
      const std::string at = where + "commands \"" + n + "\": ";
      if (n.empty() || n.find('/') != std::string::npos)
        return policy_error{at + "must be a plain name (matched against the basename)"};
      const auto* r = rule.if_object();
      if (!r) return policy_error{at + "must be an object: {\"args\": [GLOB…]}"};
      command_rule parsed;
      for (const auto& [key, value] : *r) {
        if (key != "args") return policy_error{at + "unknown key \"" + std::string(key) + "\" (known: args)"};
        auto globs = string_array(value);
        if (!globs) return policy_error{at + "\"args\" must be an array of strings (globs)"};
        parsed.args = std::move(*globs);
      }
      if (!r->contains("args")) return policy_error{at + "missing \"args\" (an array of globs)"};
      out.commands[n] = std::move(parsed);
      if (std::find(out.allowed_commands->begin(), out.allowed_commands->end(), n) == out.allowed_commands->end())
        out.allowed_commands->push_back(n);
    }
  }
  if (out.allowed_commands)
    for (const auto& name : *out.allowed_commands)
      if (runs_other_commands(name) && !out.commands.contains(name))
        return policy_error{where + "allowed command \"" + name +
                            "\" can run other commands: give it argument rules (\"commands\": {\"" + name +
                            "\": {\"args\": [GLOB…]}}) or remove it"};
  if (const auto* e = o.if_contains("allowedEnv")) {
    auto names = string_array(*e);
    if (!names) return policy_error{where + "\"allowedEnv\" must be an array of strings (globs of names)"};
    out.allowed_env = std::move(*names);
  }
  if (const auto* b = o.if_contains("confineArgs")) {
    if (!b->is_bool()) return policy_error{where + "\"confineArgs\" must be true or false"};
    out.confine_args = b->get_bool();
  }
  if (const auto* p = o.if_contains("permissions")) {
    if (!p->is_array()) return policy_error{where + "\"permissions\" must be an array of rules"};
    std::size_t n = 0;
    for (const auto& rule : p->get_array()) {
      auto parsed = parse_rule(rule, where + "permissions rule " + std::to_string(++n) + ": ", out.roots);
      if (!parsed) return parsed.error();
      out.permissions.push_back(std::move(*parsed));
    }
  }
  return out;
}

policy_result<policy_options> load_policy_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return policy_error{"config " + path + ": cannot read: " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_policy_config(text.str(), path);
}

policy_result<std::function<void(const policy_decision&)>> open_decision_log(const std::string& path) {
  // The log names files and commands of the project: private to the user, like a trace file,
  // and never appended through a link planted at the path (acp/sdk/private_file.hpp).
  const auto opened = open_private_file(path, {.append = true});
  if (!opened) return policy_error{"--decision-log " + path + ": " + opened.error().reason};
  const int fd = *opened;
  auto owned = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  return [owned](const policy_decision& d) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    json::object line{{"ts", std::chrono::duration<double>(now).count()},
                      {"action", d.action},
                      {"method", d.method},
                      {"subject", d.subject},
                      {"reason", d.reason}};
    if (!d.session_id.empty()) line["sessionId"] = d.session_id;
    if (d.rule != 0) line["rule"] = d.rule;
    const std::string text = json_write::to_string(line) + "\n";
    (void)!::write(*owned, text.data(), text.size()); // one write per line: lines never interleave
  };
}

} // namespace acp::examples
