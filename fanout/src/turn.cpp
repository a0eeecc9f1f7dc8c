// One prompt turn across every agent of a session: `all` and `first` modes, failures, cancels.
#include "state.hpp"

#include <acp/sdk/log.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <utility>

namespace acp::fanout::detail {
namespace {
namespace json = boost::json;

struct turn {
  state_ptr st;
  std::string up_id;
  responder r;
  std::vector<std::pair<std::size_t, std::string>> asked; // agent, its session id
  std::vector<std::string> reasons;                       // of the agents that ended
  std::size_t failures = 0;
  std::size_t left = 0;
  json::object agents; // _meta.fanout.agents: per name, {stopReason} or {error}
  std::string errors;  // "a: message; b: message"
  bool answered = false;
};
using turn_ptr = std::shared_ptr<turn>;

session* session_of(const turn& t) {
  const auto it = t.st->sessions.find(t.up_id);
  return it == t.st->sessions.end() ? nullptr : &it->second;
}

void notify(const turn& t, json::object update) {
  if (t.st->up) t.st->up->send_notification_to(acp::client, "session/update", json::value(std::move(update)));
}

/// Agent `i` failed mid-turn: an update naming it, and the record in `_meta`.
void failed(const turn_ptr& t, std::size_t i, const rpc_error& e) {
  const auto& name = t->st->names[i];
  ++t->failures;
  t->agents[name] = json::object{{"error", e.to_json()}};
  t->errors += (t->errors.empty() ? "" : "; ") + name + ": " + e.message;
  auto* s = session_of(*t);
  if (!s || (i < s->dropping.size() && s->dropping[i])) return; // a cancelled loser: nothing to show
  const auto text = s->framing.notice("[" + name + "] failed: " + e.message);
  notify(*t, text_update(t->up_id, text, json::object{{"agent", name}, {"failed", true}, {"error", e.to_json()}}));
}

json::object answer_meta(const turn& t) { return json::object{{"fanout", json::object{{"agents", t.agents}}}}; }

/// The turn is over for the client: `first` mode cancels the agents still running.
void answer(const turn_ptr& t, json::object result) {
  t->answered = true;
  t->r.respond(json::value(std::move(result)));
  auto* s = session_of(*t);
  for (const auto& [i, own_id] : t->asked) {
    if (t->agents.contains(t->st->names[i])) continue; // it has ended
    t->agents[t->st->names[i]] = json::object{{"cancelled", true}};
    if (s) s->dropping[i] = true; // its late updates are dropped
    send_cancel(t->st, i, own_id);
    if (s && !s->deadlines[i]) start_deadline(t->st, t->up_id, i); // one deadline per cancelled turn
  }
}

void ended(const turn_ptr& t, std::size_t i, rpc_result outcome) {
  const auto& name = t->st->names[i];
  auto* s = session_of(*t);
  const bool was_loser = s && s->dropping[i];
  if (outcome) {
    const auto* obj = outcome->if_object();
    const auto reason = obj && obj->if_contains("stopReason") && obj->at("stopReason").is_string()
                            ? std::string(obj->at("stopReason").get_string())
                            : std::string("end_turn");
    if (!t->answered) t->agents[name] = json::object{{"stopReason", reason}};
    t->reasons.push_back(reason);
    if (!t->answered && t->st->opts.mode == turn_mode::first) {
      json::object result = obj ? *obj : json::object{};
      result["stopReason"] = reason;
      auto meta = answer_meta(*t);
      meta["fanout"].get_object()["winner"] = name;
      result["_meta"] = std::move(meta);
      answer(t, std::move(result));
    }
  } else if (!t->answered) {
    failed(t, i, outcome.error());
  }
  if (was_loser) { // its cancelled turn is over: the prompt held for it goes now
    s->dropping[i] = false;
    s->deadlines[i].reset(); // cancels the deadline
    if (auto next = std::exchange(s->waiting[i], nullptr)) next(nullptr);
  }
  if (--t->left > 0 || t->answered) return;
  if (t->failures == t->asked.size()) {
    t->answered = true;
    t->r.respond_error(
        rpc_error::internal_error("every agent failed: " + t->errors,
                                  json::value(json::object{{"fanout", json::object{{"agents", t->agents}}}})));
    return;
  }
  json::object result{{"stopReason", merge_stop_reasons(t->reasons)}};
  result["_meta"] = answer_meta(*t);
  t->answered = true;
  t->r.respond(json::value(std::move(result)));
}

} // namespace

void start_deadline(const state_ptr& st, const std::string& up_id, std::size_t i) {
  if (!st->up) return;
  auto& s = st->sessions[up_id];
  auto timer = std::make_shared<boost::asio::steady_timer>(st->up->get_executor(), st->opts.grace);
  s.deadlines[i] = timer;
  timer->async_wait([w = std::weak_ptr<state>(st), up_id, i, id = timer.get()](boost::system::error_code ec) {
    const auto sp = w.lock();
    if (ec || !sp) return;
    const auto it = sp->sessions.find(up_id);
    if (it == sp->sessions.end() || it->second.deadlines[i].get() != id || !it->second.dropping[i]) return;
    auto& sess = it->second;
    const auto& name = sp->names[i];
    const auto e = rpc_error::internal_error("agent " + name + " did not end its cancelled turn within " +
                                             std::to_string(sp->opts.grace.count()) + " ms; left out of this session");
    sess.dropping[i] = false;
    sess.left_out[i] = e;
    sess.deadlines[i].reset();
    if (auto next = std::exchange(sess.waiting[i], nullptr)) return next(&e); // that turn shows and records it
    const auto text = sess.framing.notice("[" + name + "] failed: " + e.message);
    auto update = text_update(up_id, text, json::object{{"agent", name}, {"failed", true}, {"error", e.to_json()}});
    sp->up->send_notification_to(acp::client, "session/update", json::value(std::move(update)));
  });
}

void send_cancel(const state_ptr& st, std::size_t i, const std::string& own_id) {
  auto& m = st->members[i];
  if (m.alive())
    m.ep->cx().send_notification_to(acp::agent, "session/cancel", json::value(json::object{{"sessionId", own_id}}));
}

void run_turn(const state_ptr& st, const std::string& up_id, const json::object& params, responder r) {
  auto& s = st->sessions[up_id];
  auto t = std::make_shared<turn>();
  t->st = st;
  t->up_id = up_id;
  s.framing.reset();
  for (std::size_t i = 0; i < s.ids.size(); ++i) {
    if (s.in(i)) {
      t->asked.emplace_back(i, s.ids[i]);
    } else if (s.left_out[i]) { // recorded in every answer's _meta, never asked
      const auto& name = st->names[i];
      t->agents[name] = json::object{{"error", s.left_out[i]->to_json()}, {"leftOut", true}};
      t->errors += (t->errors.empty() ? "" : "; ") + name + ": " + s.left_out[i]->message;
    }
  }
  t->left = t->asked.size();
  // A cancel of the prompt itself reaches every agent as session/cancel.
  r.on_cancel([w = std::weak_ptr<turn>(t)] {
    if (auto tt = w.lock())
      for (const auto& [i, own_id] : tt->asked) send_cancel(tt->st, i, own_id);
  });
  t->r = std::move(r);
  if (t->asked.empty()) {
    t->r.respond_error(
        rpc_error::internal_error(t->errors.empty() ? std::string("acp-fanout: no agent has this session")
                                                    : "acp-fanout: no agent is left in this session: " + t->errors,
                                  json::value(json::object{{"fanout", json::object{{"agents", t->agents}}}})));
    return;
  }
  const auto asked = t->asked;
  for (const auto& [i, own_id] : asked) {
    auto p = params;
    p["sessionId"] = own_id;
    auto send = [t, i = i, p = std::move(p)](const rpc_error* give_up) {
      auto& m = t->st->members[i];
      if (give_up) return ended(t, i, *give_up);
      if (t->answered) // a held prompt whose turn another agent has won meanwhile: never sent
        return ended(t, i, rpc_error::internal_error("agent " + m.name + ": the turn ended before it was asked"));
      if (!m.alive()) return ended(t, i, rpc_error::internal_error("agent " + m.name + " has ended"));
      m.ep->cx()
          .send_request_to(acp::agent, "session/prompt", json::value(p))
          .on_receiving_result([t, i](rpc_result outcome) { ended(t, i, std::move(outcome)); });
    };
    if (!s.dropping[i]) {
      send(nullptr);
      continue;
    }
    // A `first`-mode loser still ending its cancelled turn: its late updates are still dropped,
    // and this prompt waits until that turn has ended.
    if (auto older = std::exchange(s.waiting[i], std::move(send))) {
      const auto superseded = rpc_error::internal_error("agent " + st->names[i] + ": superseded by a newer prompt");
      older(&superseded);
    }
  }
}

} // namespace acp::fanout::detail
