// acp-fanout's face toward the client: initialize, sessions, prompts (see acp/fanout/fanout.hpp).
#include "state.hpp"

#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <boost/json/value.hpp>

#include <algorithm>

namespace acp::fanout::detail {
namespace {
namespace json = boost::json;

json::object params_of(const jsonrpc::message& msg) {
  const auto* p = msg.params();
  return p && p->is_object() ? p->get_object() : json::object{};
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// `params` for each agent that has a session in `s`, with that agent's session id.
std::vector<std::pair<std::size_t, json::object>> per_agent(const session& s, const json::object& params) {
  std::vector<std::pair<std::size_t, json::object>> asks;
  for (std::size_t i = 0; i < s.ids.size(); ++i) {
    if (!s.in(i)) continue;
    auto p = params;
    p["sessionId"] = s.ids[i];
    asks.emplace_back(i, std::move(p));
  }
  return asks;
}

session& add_session(const state_ptr& st, const std::string& up_id, std::vector<std::string> ids) {
  auto& s = st->sessions[up_id];
  s.ids = std::move(ids);
  s.config_ids.resize(s.ids.size());
  s.dropping.assign(s.ids.size(), false);
  s.waiting.assign(s.ids.size(), nullptr);
  s.deadlines.assign(s.ids.size(), nullptr);
  s.left_out.assign(s.ids.size(), std::nullopt);
  for (std::size_t i = 0; i < s.ids.size(); ++i)
    if (!s.ids[i].empty()) st->upstream_of[i][s.ids[i]] = up_id;
  return s;
}

void on_initialize(const state_ptr& st, const json::object& params, responder r, context& cx) {
  if (st->stage != state::phase::fresh) {
    r.respond_error(rpc_error::invalid_request("acp-fanout: initialize was already sent"));
    return;
  }
  st->stage = state::phase::initializing;
  st->up = cx;
  for (std::size_t i = 0; i < st->members.size(); ++i) {
    std::string error;
    if (!start_member(st, i, cx.get_executor(), error)) {
      st->stage = state::phase::failed;
      r.respond_error(rpc_error::internal_error("cannot start agent " + st->names[i] + ": " + error,
                                                json::value(json::object{{"agent", st->names[i]}})));
      return;
    }
  }
  std::vector<std::pair<std::size_t, json::object>> asks;
  for (std::size_t i = 0; i < st->members.size(); ++i) asks.emplace_back(i, params);
  gather(st, std::move(asks), "initialize", [st, r = std::move(r)](outcomes o) mutable {
    if (auto e = first_failure(st, o, "initialize")) {
      st->stage = state::phase::failed;
      return r.respond_error(*e);
    }
    std::vector<json::object> results;
    for (auto& x : o) results.push_back(x->value().is_object() ? x->value().get_object() : json::object{});
    st->stage = state::phase::ready;
    r.respond(json::value(merge_initialize(st->names, results, ACP_VERSION)));
  });
}

/// When every agent refused session/new: the first refusal as the agent sent it (an
/// authentication error reaches the editor intact), with the others in `data.fanout.agents`
/// when there are several and its `data` is absent or an object.
rpc_error all_refused(const state_ptr& st, const outcomes& o) {
  std::optional<rpc_error> first;
  json::object agents;
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (!o[i] || o[i]->has_value()) continue;
    if (!first) first = o[i]->error();
    agents[st->names[i]] = o[i]->error().to_json();
  }
  if (!first) return rpc_error::internal_error("acp-fanout: no agent created a session");
  if (o.size() > 1 && (!first->data || first->data->is_object() || first->data->is_null())) {
    json::object data = first->data && first->data->is_object() ? first->data->get_object() : json::object{};
    data["fanout"] = json::object{{"agents", std::move(agents)}};
    first->data = json::value(std::move(data));
  }
  return *first;
}

/// session/new: a session in every agent. An agent that refuses is left out of the session
/// (shown as an update after the answer, in `_meta.fanout.refused`); only when every agent
/// refused is the request an error.
void on_new_session(const state_ptr& st, const json::object& params, responder r) {
  std::vector<std::pair<std::size_t, json::object>> asks;
  for (std::size_t i = 0; i < st->members.size(); ++i) asks.emplace_back(i, params);
  gather(st, std::move(asks), "session/new", [st, r = std::move(r)](outcomes o) mutable {
    std::vector<std::string> ids;
    std::vector<const json::object*> results;
    for (auto& x : o) {
      const auto* obj = x->has_value() ? x->value().if_object() : nullptr;
      auto id = obj ? string_at(*obj, "sessionId") : std::string();
      if (x->has_value() && id.empty()) *x = rpc_error::internal_error("its session/new answer has no sessionId");
      results.push_back(id.empty() ? nullptr : obj);
      ids.push_back(std::move(id));
    }
    if (std::all_of(ids.begin(), ids.end(), [](const auto& id) { return id.empty(); }))
      return r.respond_error(all_refused(st, o));
    const auto up_id = encode_session_id(ids);
    auto& s = add_session(st, up_id, ids);
    json::object refused;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i]) s.config_ids[i] = config_option_ids(*results[i]);
      if (!o[i]->has_value()) refused[st->names[i]] = o[i]->error().to_json();
    }
    auto answer = merge_session_results(st->names, results, up_id, ids);
    if (!refused.empty()) answer["_meta"].as_object()["fanout"].as_object()["refused"] = refused;
    r.respond(json::value(std::move(answer)));
    for (std::size_t i = 0; i < o.size(); ++i) { // after the answer: the client knows the session
      if (o[i]->has_value()) continue;
      const auto& name = st->names[i];
      const auto& e = o[i]->error();
      const auto text = s.framing.notice("[" + name + "] refused the session: " + e.message);
      auto update = text_update(up_id, text, json::object{{"agent", name}, {"failed", true}, {"error", e.to_json()}});
      st->up->send_notification_to(acp::client, "session/update", json::value(std::move(update)));
    }
  });
}

void on_load_session(const state_ptr& st, const json::object& params, responder r) {
  const auto up_id = string_at(params, "sessionId");
  auto ids = decode_session_id(up_id, st->members.size());
  if (!ids) {
    r.respond_error(rpc_error::invalid_params("acp-fanout: not a session of these agents: " + up_id));
    return;
  }
  auto& s = add_session(st, up_id, std::move(*ids)); // before the replay's updates arrive
  gather(st, per_agent(s, params), "session/load", [st, r = std::move(r), up_id](outcomes o) mutable {
    if (auto e = first_failure(st, o, "session/load")) return r.respond_error(*e);
    std::vector<const json::object*> results;
    for (auto& x : o) results.push_back(x ? x->value().if_object() : nullptr);
    auto& sess = st->sessions[up_id];
    for (std::size_t i = 0; i < results.size(); ++i)
      if (results[i]) sess.config_ids[i] = config_option_ids(*results[i]);
    r.respond(json::value(merge_session_results(st->names, results, "", sess.ids)));
  });
}

/// Answers with the first agent's result, or the first error when every agent failed.
void answer_any(const state_ptr& st, responder& r, const outcomes& o, std::string_view method) {
  std::vector<const json::object*> results;
  bool any = false;
  for (const auto& x : o) {
    results.push_back(x && x->has_value() ? x->value().if_object() : nullptr);
    any = any || (x && x->has_value());
  }
  if (!any) {
    if (auto e = first_failure(st, o, method)) return r.respond_error(*e);
    return r.respond(json::value(json::object{}));
  }
  r.respond(json::value(merge_session_results(st->names, results, "")));
}

/// session/set_config_option: only to the agents that offered the option.
void on_set_config_option(const state_ptr& st, session& s, const json::object& params, responder r) {
  const auto option = string_at(params, "configId");
  auto asks = per_agent(s, params);
  std::erase_if(asks, [&](const auto& ask) {
    const auto& ids = s.config_ids[ask.first];
    return std::find(ids.begin(), ids.end(), option) == ids.end();
  });
  if (asks.empty()) {
    r.respond_error(rpc_error::invalid_params("acp-fanout: no agent offers the option " + option));
    return;
  }
  gather(st, std::move(asks), "session/set_config_option",
         [st, r = std::move(r)](outcomes o) mutable { answer_any(st, r, o, "session/set_config_option"); });
}

/// A request for a session (set_mode, close, extensions): to every agent in it.
void on_session_request(const state_ptr& st, session& s, const std::string& method, const json::object& params,
                        responder r) {
  const auto up_id = string_at(params, "sessionId");
  gather(st, per_agent(s, params), method, [st, r = std::move(r), method, up_id](outcomes o) mutable {
    answer_any(st, r, o, method);
    if (method != "session/close") return;
    const auto it = st->sessions.find(up_id); // closed: forget the mapping
    if (it == st->sessions.end()) return;
    for (std::size_t i = 0; i < it->second.ids.size(); ++i) st->upstream_of[i].erase(it->second.ids[i]);
    st->sessions.erase(it);
  });
}

void on_authenticate(const state_ptr& st, json::object params, responder r) {
  const auto id = string_at(params, "methodId");
  const auto target = split_prefixed_id(st->names, id);
  if (!target) {
    r.respond_error(rpc_error::invalid_params("acp-fanout: methodId names no agent (expected NAME/ID): " + id));
    return;
  }
  auto& m = st->members[target->first];
  if (!m.alive()) {
    r.respond_error(rpc_error::internal_error("agent " + m.name + " has ended"));
    return;
  }
  params["methodId"] = target->second;
  m.ep->cx()
      .send_request_to(acp::agent, "authenticate", json::value(std::move(params)))
      .forward_response_to(std::move(r));
}

} // namespace

agent_builder make_upstream(const state_ptr& st) {
  agent_builder a;
  a.on_receive_request_from(acp::client, "initialize", [st](jsonrpc::message& msg, responder& r, context& cx) {
    on_initialize(st, params_of(msg), std::move(r), cx);
    return handled::yes;
  });
  // Everything else needs initialized agents.
  a.on_receive_request_from(acp::client, "", [st](jsonrpc::message& msg, responder& r, context&) {
    if (st->stage != state::phase::ready) {
      r.respond_error(rpc_error::invalid_request("acp-fanout: send initialize first (and wait for its answer)"));
      return handled::yes;
    }
    const std::string method(msg.method());
    auto params = params_of(msg);
    if (method == "authenticate") {
      on_authenticate(st, std::move(params), std::move(r));
      return handled::yes;
    }
    if (method == "session/new") {
      on_new_session(st, params, std::move(r));
      return handled::yes;
    }
    if (method == "session/load") {
      on_load_session(st, params, std::move(r));
      return handled::yes;
    }
    const auto up_id = string_at(params, "sessionId");
    const auto it = st->sessions.find(up_id);
    if (up_id.empty() || it == st->sessions.end()) {
      if (up_id.empty())
        r.respond_error(rpc_error::method_not_found(method));
      else
        r.respond_error(rpc_error::invalid_params("acp-fanout: unknown session " + up_id));
      return handled::yes;
    }
    if (method == "session/prompt")
      run_turn(st, up_id, params, std::move(r));
    else if (method == "session/set_config_option")
      on_set_config_option(st, it->second, params, std::move(r));
    else
      on_session_request(st, it->second, method, params, std::move(r));
    return handled::yes;
  });
  // Notifications (session/cancel above all): to every agent of the session, or to all.
  a.on_receive_notification_from(acp::client, "", [st](jsonrpc::message& msg, context&) {
    const std::string method(msg.method());
    const auto params = params_of(msg);
    const auto it = st->sessions.find(string_at(params, "sessionId"));
    if (it != st->sessions.end()) {
      for (auto& [i, p] : per_agent(it->second, params))
        if (st->members[i].alive())
          st->members[i].ep->cx().send_notification_to(acp::agent, method, json::value(std::move(p)));
      return handled::yes;
    }
    for (auto& m : st->members)
      if (m.alive())
        m.ep->cx().send_notification_to(acp::agent, method,
                                        msg.params() ? std::optional<json::value>(*msg.params()) : std::nullopt);
    return handled::yes;
  });
  return a;
}

} // namespace acp::fanout::detail
