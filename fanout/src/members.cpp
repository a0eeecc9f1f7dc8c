// The agents acp-fanout runs: starting them, relaying what they send to the client, stopping them.
#include "state.hpp"

#include <acp/sdk/log.hpp>

#include <boost/json/value.hpp>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete in coroutines.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::fanout::detail {
namespace json = boost::json;
namespace asio = boost::asio;

const std::string* upstream_session(const state& st, std::size_t i, std::string_view id) {
  const auto& map = st.upstream_of[i];
  const auto it = map.find(std::string(id));
  return it == map.end() ? nullptr : &it->second;
}

namespace {

std::optional<std::string> string_member(const json::value* params, std::string_view key) {
  if (!params || !params->is_object()) return std::nullopt;
  const auto* v = params->get_object().if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

/// A `session/update` from agent `i`: mapped, tagged, framed and sent to the client.
void relay_update(const state_ptr& st, std::size_t i, json::object params) {
  const auto* sid = params.if_contains("sessionId");
  if (!sid || !sid->is_string() || !st->up) return;
  const auto* up_id = upstream_session(*st, i, sid->get_string());
  if (!up_id) {
    log::debug(st->names[i], "session/update for an unknown session dropped");
    return;
  }
  const std::string upstream = *up_id;
  auto& s = st->sessions[upstream];
  if (i < s.dropping.size() && (s.dropping[i] || s.left_out[i])) return; // a loser's late update
  const auto& name = st->names[i];
  params["sessionId"] = upstream;
  if (const auto text = message_chunk_text(params)) {
    if (auto heading = s.framing.before_chunk(name)) {
      auto h = text_update(upstream, std::move(*heading), json::object{{"agent", name}, {"heading", true}});
      st->up->send_notification_to(acp::client, "session/update", json::value(std::move(h)));
    }
    s.framing.sent(*text);
  }
  tag_update(params, name);
  st->up->send_notification_to(acp::client, "session/update", json::value(std::move(params)));
}

client_builder make_member_client(const state_ptr& st, std::size_t i) {
  client_builder c;
  endpoint_options eo;
  eo.connection.name = st->names[i];
  eo.grace_period = st->opts.grace;
  c.options(eo);
  c.on_receive_notification_from(acp::agent, "session/update", [st, i](jsonrpc::message& msg, context&) {
    const auto* p = msg.params();
    if (p && p->is_object()) relay_update(st, i, p->get_object());
    return handled::yes;
  });
  // Other notifications: passed on, their session mapped.
  c.on_receive_notification_from(acp::agent, "", [st, i](jsonrpc::message& msg, context&) {
    if (!st->up) return handled::yes;
    auto* p = msg.params();
    if (p && p->is_object()) {
      if (const auto sid = string_member(p, "sessionId"))
        if (const auto* up_id = upstream_session(*st, i, *sid)) p->get_object()["sessionId"] = *up_id;
      tag_agent_request(msg.method(), p->get_object(), st->names[i]);
    }
    const std::string method(msg.method());
    st->up->send_notification_to(acp::client, method, p ? std::optional<json::value>(*p) : std::nullopt);
    return handled::yes;
  });
  // Requests (permission, fs/*, terminal/*, extensions): to the client, the answer back here.
  c.on_receive_request_from(acp::agent, "", [st, i](jsonrpc::message& msg, responder& r, context&) {
    if (!st->up) {
      r.respond_error(rpc_error::internal_error("acp-fanout: no client yet"));
      return handled::yes;
    }
    auto* p = msg.params();
    if (p && p->is_object()) {
      if (const auto sid = string_member(p, "sessionId")) {
        const auto* up_id = upstream_session(*st, i, *sid);
        if (!up_id) {
          r.respond_error(rpc_error::invalid_params("acp-fanout: unknown session " + *sid));
          return handled::yes;
        }
        p->get_object()["sessionId"] = *up_id;
      }
      tag_agent_request(msg.method(), p->get_object(), st->names[i]);
    }
    st->up->forward_request_to(acp::client, std::move(msg)).forward_response_to(std::move(r));
    return handled::yes;
  });
  return c;
}

} // namespace

void gather(const state_ptr& st, std::vector<std::pair<std::size_t, json::object>> asks, const std::string& method,
            unique_function<void(outcomes)> done) {
  struct pending {
    outcomes out;
    std::size_t left = 0;
    unique_function<void(outcomes)> done;
  };
  auto g = std::make_shared<pending>();
  g->out.resize(st->members.size());
  g->left = asks.size();
  g->done = std::move(done);
  if (asks.empty()) {
    g->done(std::move(g->out));
    return;
  }
  for (auto& [i, params] : asks) {
    const auto finish = [g, i = i](rpc_result r) {
      g->out[i] = std::move(r);
      if (--g->left == 0) g->done(std::move(g->out));
    };
    auto& m = st->members[i];
    if (!m.alive()) {
      finish(rpc_error::internal_error("agent " + m.name + " has ended"));
      continue;
    }
    m.ep->cx()
        .send_request_to(acp::agent, method, json::value(std::move(params)))
        .on_receiving_result(std::move(finish));
  }
}

std::optional<rpc_error> first_failure(const state_ptr& st, const outcomes& o, std::string_view method) {
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (!o[i] || o[i]->has_value()) continue;
    const auto& e = o[i]->error();
    rpc_error out = e;
    out.message = "agent " + st->names[i] + ": " + std::string(method) + " failed: " + e.message;
    json::object data{{"agent", st->names[i]}, {"error", e.to_json()}};
    out.data = json::value(std::move(data));
    return out;
  }
  return std::nullopt;
}

bool start_member(const state_ptr& st, std::size_t i, const asio::any_io_executor& ex, std::string& error) {
  auto& m = st->members[i];
  auto child = child_process::spawn(ex, m.spec, stderr_options{});
  if (!child) {
    error = child.error().message;
    return false;
  }
  auto transport = child->take_transport();
  m.child.emplace(std::move(*child));
  m.ep.emplace(make_member_client(st, i).connect_to(ex, std::move(transport)));
  return true;
}

asio::awaitable<void> stop_members(state_ptr st) {
  for (auto& m : st->members)
    if (m.ep) m.ep->shutdown(); // the agent reads the end of its input
  for (auto& m : st->members) {
    if (!m.child) continue;
    auto status = co_await m.child->terminate(st->opts.grace);
    if (!status.success()) log::debug(m.name, "ended: " + to_string(status));
  }
  for (auto& m : st->members)
    if (m.ep) co_await m.ep->wait_done();
}

} // namespace acp::fanout::detail
