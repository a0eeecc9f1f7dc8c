#include "policy.hpp"

#include <acp/protocol/types.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <iostream>
#include <memory>

#include <climits>

namespace acp::examples {
namespace json = boost::json;

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

constexpr std::size_t max_title = 64 * 1024;

} // namespace

std::string normalise_title(std::string_view title) {
  std::string out;
  bool space = false;
  for (const char c : title) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// ---- permissions --------------------------------------------------------------------------------

namespace {

bool rule_matches(const permission_rule& rule, const tool_call_update& call) {
  if (rule.kind && (!call.kind || call.kind->str() != *rule.kind)) return false;
  if (rule.title && (!call.title || !glob_match(*rule.title, normalise_title(*call.title), false))) return false;
  if (rule.paths.empty()) return true;
  if (!call.locations || call.locations->empty()) return false;
  for (const auto& location : *call.locations) {
    if (location.path.size() >= PATH_MAX) return false;
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

std::optional<std::string> pick_option(const request_permission_request& request,
                                       permission_option_kind::constant first,
                                       permission_option_kind::constant second) {
  for (const auto kind : {first, second})
    for (const auto& o : request.options)
      if (o.kind == kind) return o.option_id;
  return std::nullopt;
}

} // namespace

permission_verdict decide_permission(const policy_options& options, const request_permission_request& request) {
  permission_verdict v;
  // Texts too long to match in reasonable time are the editor's to judge: a rule that does not
  // match an overlong title must not let a later, broader rule decide.
  bool overlong = request.tool_call.title && request.tool_call.title->size() > max_title;
  if (request.tool_call.locations)
    for (const auto& location : *request.tool_call.locations) overlong = overlong || location.path.size() >= PATH_MAX;
  if (overlong) {
    v.reason = "title or location too long to match";
    return v;
  }
  for (std::size_t i = 0; i < options.permissions.size(); ++i) {
    const auto& rule = options.permissions[i];
    if (!rule_matches(rule, request.tool_call)) continue;
    v.rule = i + 1;
    v.reason = "rule " + std::to_string(v.rule);
    v.action = rule.action;
    using k = permission_option_kind;
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

namespace {

/// `text` with control characters, '"' and '\' escaped: one line, one quoted field.
std::string escape_for_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

std::string decision_line(const policy_decision& d) {
  return "policy: " + d.action + " " + d.method + " \"" + escape_for_line(d.subject) + "\" (" +
         escape_for_line(d.reason) + ")";
}

namespace {

/// A decision on an fs or terminal message: `why` set when denied; `data` for the error.
struct judgement {
  policy_decision decision;
  std::optional<std::string> why;
  json::object data;
};

struct policy_state {
  policy_options options;

  void log(const policy_decision& d) const {
    if (options.log_to_stderr) std::cerr << decision_line(d) + "\n" << std::flush;
    if (options.on_decision) options.on_decision(d);
  }

  json::object roots_data(std::string_view path) const {
    json::array roots;
    for (const auto& root : *options.roots) roots.emplace_back(root);
    return json::object{{"path", path}, {"roots", std::move(roots)}};
  }

  /// nullopt when the policy has nothing to say about this method (it passes untouched).
  std::optional<judgement> judge(const jsonrpc::message& msg) const {
    const auto* p = msg.params() ? msg.params()->if_object() : nullptr;
    const std::string method(msg.method());
    if (method == "terminal/create") {
      if (!options.allowed_commands && !options.roots) return std::nullopt;
      const auto* command = p ? p->if_contains("command") : nullptr;
      const std::string name = command && command->is_string() ? std::string(command->get_string()) : "";
      judgement j{
          {"", method, session_of(msg), name, "", 0}, terminal_error(options, p), json::object{{"command", name}}};
      if (j.why && options.roots) {
        const auto* cwd = p ? p->if_contains("cwd") : nullptr;
        if (cwd && cwd->is_string() && j.why->rfind("cwd ", 0) == 0) j.data = roots_data(cwd->get_string());
      }
      return j;
    }
    if (!options.roots) return std::nullopt;
    const auto* path = p ? p->if_contains("path") : nullptr;
    const std::string target = path && path->is_string() ? std::string(path->get_string()) : "";
    auto why = path && !path->is_string() ? std::optional<std::string>("the path is not a string")
                                          : confinement_error(*options.roots, target);
    if (why) *why += " (" + join(*options.roots) + ")";
    return judgement{{"", method, session_of(msg), target, "", 0}, std::move(why), roots_data(target)};
  }

  static std::string session_of(const jsonrpc::message& msg) {
    const auto* p = msg.params() ? msg.params()->if_object() : nullptr;
    const auto* s = p ? p->if_contains("sessionId") : nullptr;
    return s && s->is_string() ? std::string(s->get_string()) : std::string();
  }
};

} // namespace

proxy_builder make_policy_proxy(policy_options options) {
  proxy_builder proxy;
  auto st = std::make_shared<const policy_state>(policy_state{std::move(options)});

  // A typed deciding handler: a permission the policy settles is answered here and never reaches
  // the editor; one it leaves to the user returns `no` and is forwarded as received (params that
  // are not a permission request are answered -32602 with their JSON path).
  proxy.on_receive_request_from(acp::agent, [st](request_permission_request& request, responder& r, context&) {
    const auto v = decide_permission(st->options, request);
    const char* action = v.action == policy_action::allow    ? "allow"
                         : v.action == policy_action::reject ? "reject"
                                                             : "ask";
    st->log({action, "session/request_permission", request.session_id,
             request.tool_call.title.value_or(request.tool_call.tool_call_id), v.reason, v.rule});
    if (!v.option_id) return handled::no;
    r.respond(request_permission_response{.outcome = selected_permission_outcome{.option_id = *v.option_id}});
    return handled::yes;
  });

  // Raw handlers for the file system and terminals: the policy judges what the agent sent even
  // when it is not a valid request (a notification that fails to decode would otherwise pass on
  // untyped, unjudged); one it lets through returns `no` and is forwarded as received.
  for (const char* method : {"fs/read_text_file", "fs/write_text_file", "terminal/create"}) {
    proxy.on_receive_request_from(acp::agent, method, [st](jsonrpc::message& msg, responder& r, context&) {
      auto j = st->judge(msg);
      if (!j) return handled::no;
      j->decision.action = j->why ? "deny" : "allow";
      j->decision.reason = j->why ? *j->why : "allowed";
      st->log(j->decision);
      if (!j->why) return handled::no; // forwarded untouched by the default behaviour
      j->data["reason"] = "policy";
      r.respond_error(rpc_error::invalid_params(
          "policy: " + j->decision.method + " \"" + j->decision.subject + "\": " + *j->why, std::move(j->data)));
      return handled::yes;
    });
    // The same messages as notifications (alone or in a batch): judged alike; a denied one cannot
    // be answered, so it is dropped, and its decision line says so.
    proxy.on_receive_notification_from(acp::agent, method, [st](jsonrpc::message& msg, context&) {
      auto j = st->judge(msg);
      if (!j) return handled::no;
      j->decision.action = j->why ? "deny" : "allow";
      j->decision.reason = j->why ? *j->why + "; a notification: dropped" : "allowed; a notification";
      st->log(j->decision);
      return j->why ? handled::yes : handled::no;
    });
  }
  return proxy;
}

} // namespace acp::examples
