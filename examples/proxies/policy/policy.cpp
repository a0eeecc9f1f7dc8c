#include "policy.hpp"

#include <acp/protocol/types.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>

#include <climits>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {
namespace json = boost::json;

// ---- globs --------------------------------------------------------------------------------------

namespace {

/// Memoised backtracking: (pattern position, text position) -> result, so `*a*a*a*` stays O(p·t).
class glob_matcher {
public:
  glob_matcher(std::string_view p, std::string_view t, bool path_mode)
      : p_(p), t_(t), path_(path_mode), memo_((p.size() + 1) * (t.size() + 1), -1) {}

  bool match(std::size_t pi, std::size_t ti) {
    auto& m = memo_[pi * (t_.size() + 1) + ti];
    if (m < 0) m = compute(pi, ti) ? 1 : 0;
    return m == 1;
  }

private:
  bool separator(std::size_t ti) const { return path_ && t_[ti] == '/'; }

  bool compute(std::size_t pi, std::size_t ti) {
    if (pi == p_.size()) return ti == t_.size();
    const char c = p_[pi];
    if (c == '*') {
      const bool globstar = path_ && pi + 1 < p_.size() && p_[pi + 1] == '*';
      const std::size_t next = globstar ? pi + 2 : pi + 1;
      if (globstar && next < p_.size() && p_[next] == '/' && match(next + 1, ti)) return true; // "/**/" as "/"
      for (std::size_t k = ti;; ++k) {
        if (match(next, k)) return true;
        if (k == t_.size() || (!globstar && separator(k))) return false;
      }
    }
    if (ti == t_.size()) return false;
    if (c == '?') return !separator(ti) && match(pi + 1, ti + 1);
    if (c == '[') {
      std::size_t end = 0;
      const auto in = in_class(pi, t_[ti], end);
      if (end != 0) return in && !separator(ti) && match(end + 1, ti + 1);
      // No closing ']': a literal '['.
    }
    std::size_t lit = pi;
    if (c == '\\' && pi + 1 < p_.size()) ++lit;
    return p_[lit] == t_[ti] && match(lit + 1, ti + 1);
  }

  /// Whether `ch` is in the class starting at p_[pi] == '['; `end` gets the index of its ']' (0
  /// when unterminated).
  bool in_class(std::size_t pi, char ch, std::size_t& end) const {
    std::size_t i = pi + 1;
    const bool negate = i < p_.size() && (p_[i] == '!' || p_[i] == '^');
    if (negate) ++i;
    bool found = false;
    for (bool first = true; i < p_.size(); first = false) {
      if (p_[i] == ']' && !first) {
        end = i;
        return found != negate;
      }
      const char lo = p_[i];
      if (i + 2 < p_.size() && p_[i + 1] == '-' && p_[i + 2] != ']') {
        found = found || (lo <= ch && ch <= p_[i + 2]);
        i += 3;
      } else {
        found = found || lo == ch;
        ++i;
      }
    }
    end = 0;
    return false;
  }

  std::string_view p_, t_;
  bool path_;
  std::vector<signed char> memo_;
};

std::string lexical(std::string_view path) {
  auto s = std::filesystem::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool inside(const std::string& root, const std::string& path) {
  return root == "/" || path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

/// The forms of `path` every check must accept: as written (lexically normalised) and resolved.
std::vector<std::string> path_forms(std::string_view path) {
  auto resolved = resolve_path(path);
  if (!resolved) return {};
  auto written = lexical(path);
  if (written == *resolved) return {std::move(written)};
  return {std::move(written), std::move(*resolved)};
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view text, bool path_mode) {
  return glob_matcher(pattern, text, path_mode).match(0, 0);
}

// ---- paths --------------------------------------------------------------------------------------

std::optional<std::string> resolve_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::deque<std::string> todo;
  auto push_front_components = [&todo](std::string_view p) {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < p.size();) {
      const auto j = std::min(p.find('/', i), p.size());
      if (j > i) parts.emplace_back(p.substr(i, j - i));
      i = j + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
  };
  push_front_components(path);
  std::string current;  // "" is "/"
  bool missing = false; // past a component that does not exist: the rest is lexical
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      current.erase(current.rfind('/') == std::string::npos ? 0 : current.rfind('/'));
      continue;
    }
    std::string candidate = current + "/" + part;
    struct stat st {};
    if (!missing && ::lstat(candidate.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++links > 40) return std::nullopt; // ELOOP, as the kernel would say
      std::string target(PATH_MAX, '\0');
      const auto n = ::readlink(candidate.c_str(), target.data(), target.size());
      if (n < 0) return std::nullopt;
      target.resize(static_cast<std::size_t>(n));
      if (!target.empty() && target.front() == '/') current.clear();
      push_front_components(target);
      continue;
    }
    if (!missing && ::lstat(candidate.c_str(), &st) != 0) missing = true;
    current = std::move(candidate);
  }
  return current.empty() ? std::string("/") : current;
}

std::optional<std::string> confinement_error(const std::vector<std::string>& roots, std::string_view path) {
  if (path.empty() || path.front() != '/') return "not an absolute path";
  const auto forms = path_forms(path);
  if (forms.empty()) return "cannot resolve the path (symlink loop)";
  for (const auto& form : forms) {
    bool ok = false;
    for (const auto& root : roots) ok = ok || inside(root, form);
    if (!ok)
      return forms.size() > 1 && form == forms.back() ? "resolves to " + form + ", outside the allowed roots"
                                                      : std::string("outside the allowed roots");
  }
  return std::nullopt;
}

// ---- permissions --------------------------------------------------------------------------------

namespace {

bool rule_matches(const permission_rule& rule, const tool_call_update& call) {
  if (rule.kind && call.kind != rule.kind) return false;
  if (rule.title && (!call.title || !glob_match(*rule.title, *call.title, false))) return false;
  if (rule.paths.empty()) return true;
  if (!call.locations || call.locations->empty()) return false;
  for (const auto& location : *call.locations) {
    const auto forms = path_forms(location.path);
    if (forms.empty()) return false;
    for (const auto& form : forms) {
      bool ok = false;
      for (const auto& glob : rule.paths) ok = ok || glob_match(glob, form, true);
      if (!ok) return false;
    }
  }
  return true;
}

std::optional<std::string> pick_option(const request_permission_request& request, std::string_view first,
                                       std::string_view second) {
  for (const auto kind : {first, second})
    for (const auto& o : request.options)
      if (o.kind == kind) return o.option_id;
  return std::nullopt;
}

} // namespace

permission_verdict decide_permission(const policy_options& options, const request_permission_request& request) {
  permission_verdict v;
  for (std::size_t i = 0; i < options.permissions.size(); ++i) {
    const auto& rule = options.permissions[i];
    if (!rule_matches(rule, request.tool_call)) continue;
    v.rule = i + 1;
    v.reason = "rule " + std::to_string(v.rule);
    v.action = rule.action;
    namespace k = permission_option_kind;
    if (rule.action == policy_action::allow)
      v.option_id = rule.always ? pick_option(request, k::allow_always, k::allow_once)
                                : pick_option(request, k::allow_once, k::allow_always);
    else if (rule.action == policy_action::reject)
      v.option_id = rule.always ? pick_option(request, k::reject_always, k::reject_once)
                                : pick_option(request, k::reject_once, k::reject_always);
    if (rule.action != policy_action::ask && !v.option_id) {
      v.action = policy_action::ask; // the agent offered no such option: the editor decides
      v.reason += ", but the request has no matching option";
    }
    return v;
  }
  v.reason = "no rule";
  return v;
}

// ---- the proxy ----------------------------------------------------------------------------------

std::string decision_line(const policy_decision& d) {
  return "policy: " + d.action + " " + d.method + " \"" + d.subject + "\" (" + d.reason + ")";
}

namespace {

struct policy_state {
  policy_options options;

  void log(const policy_decision& d) const {
    if (options.log_to_stderr) std::cerr << decision_line(d) + "\n" << std::flush;
    if (options.on_decision) options.on_decision(d);
  }

  /// Logs an fs/terminal decision; on a denial answers the agent and returns handled::yes.
  handled judge(responder& r, policy_decision d, std::optional<std::string> why, json::object data) const {
    d.action = why ? "deny" : "allow";
    d.reason = why ? *why : "allowed";
    log(d);
    if (!why) return handled::no; // forwarded untouched by the default behaviour
    data["reason"] = "policy";
    r.respond_error(
        rpc_error::invalid_params("policy: " + d.method + " \"" + d.subject + "\": " + *why, std::move(data)));
    return handled::yes;
  }

  json::object roots_data(std::string_view path) const {
    json::array roots;
    for (const auto& root : *options.roots) roots.emplace_back(root);
    return json::object{{"path", path}, {"roots", std::move(roots)}};
  }
};

std::string session_of(const jsonrpc::message& msg) {
  const auto* p = msg.params() ? msg.params()->if_object() : nullptr;
  const auto* s = p ? p->if_contains("sessionId") : nullptr;
  return s && s->is_string() ? std::string(s->get_string()) : std::string();
}

} // namespace

proxy_builder make_policy_proxy(policy_options options) {
  proxy_builder proxy;
  auto st = std::make_shared<const policy_state>(policy_state{std::move(options)});

  // Raw handlers throughout: a request the policy lets through returns `no` and is forwarded as
  // received; a request it decides is answered here and never reaches the editor.
  proxy.on_receive_request_from(
      acp::agent, "session/request_permission", [st](jsonrpc::message& msg, responder& r, context&) {
        auto request = decode_params<request_permission_request>(msg.params());
        if (!request) return handled::no; // malformed: the editor's answer will say so
        const auto v = decide_permission(st->options, *request);
        const char* action = v.action == policy_action::allow    ? "allow"
                             : v.action == policy_action::reject ? "reject"
                                                                 : "ask";
        st->log({action, "session/request_permission", request->session_id,
                 request->tool_call.title.value_or(request->tool_call.tool_call_id), v.reason, v.rule});
        if (!v.option_id) return handled::no;
        r.respond(json::object{{"outcome", json::object{{"outcome", "selected"}, {"optionId", *v.option_id}}}});
        return handled::yes;
      });

  for (const char* method : {"fs/read_text_file", "fs/write_text_file"}) {
    proxy.on_receive_request_from(acp::agent, method, [st](jsonrpc::message& msg, responder& r, context&) {
      if (!st->options.roots) return handled::no;
      const auto* p = msg.params() ? msg.params()->if_object() : nullptr;
      const auto* path = p ? p->if_contains("path") : nullptr;
      const std::string_view target = path && path->is_string() ? std::string_view(path->get_string()) : "";
      auto why = confinement_error(*st->options.roots, target);
      if (why) *why += " (" + join(*st->options.roots) + ")";
      return st->judge(r, {"", std::string(msg.method()), session_of(msg), std::string(target), "", 0}, why,
                       st->roots_data(target));
    });
  }

  proxy.on_receive_request_from(acp::agent, "terminal/create", [st](jsonrpc::message& msg, responder& r, context&) {
    const auto* p = msg.params() ? msg.params()->if_object() : nullptr;
    const auto* command = p ? p->if_contains("command") : nullptr;
    const std::string name = command && command->is_string() ? std::string(command->get_string()) : "";
    std::optional<std::string> why;
    json::object data{{"command", name}};
    if (const auto& allowed = st->options.allowed_commands) {
      const auto base = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
      if (std::find(allowed->begin(), allowed->end(), base) == allowed->end())
        why = "not in allowedCommands (" + join(*allowed) + ")";
    }
    const auto* cwd = p ? p->if_contains("cwd") : nullptr;
    if (!why && st->options.roots && cwd && cwd->is_string()) {
      if (auto bad = confinement_error(*st->options.roots, cwd->get_string())) {
        why = "cwd " + std::string(cwd->get_string()) + ": " + *bad + " (" + join(*st->options.roots) + ")";
        data = st->roots_data(cwd->get_string());
      }
    }
    if (!st->options.allowed_commands && !st->options.roots) return handled::no;
    return st->judge(r, {"", "terminal/create", session_of(msg), name, "", 0}, why, std::move(data));
  });
  return proxy;
}

} // namespace acp::examples
