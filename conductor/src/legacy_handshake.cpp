// `initialize` answers and the older generation's handshake (docs/PROTOCOL.md §4.7).

#include "router_impl.hpp"

#include <acp/sdk/log.hpp>

namespace acp::conductor {
namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using jsonrpc::message;

message legacy_initialize(message msg) {
  msg.set_method("initialize");
  auto& params = msg.json()["params"];
  if (!params.is_object()) params = json::object();
  auto& p = params.get_object();
  if (!p["_meta"].is_object()) p["_meta"] = json::object();
  p["_meta"].get_object()["proxy"] = true;
  if (!p["clientCapabilities"].is_object()) p["clientCapabilities"] = json::object();
  auto& caps = p["clientCapabilities"].get_object();
  if (!caps["_meta"].is_object()) caps["_meta"] = json::object();
  auto& symposium = caps["_meta"].get_object()["symposium"];
  if (!symposium.is_object()) symposium = json::object();
  symposium.get_object()["proxy"] = true;
  return msg;
}

bool take_proxy_flag(json::value* obj) {
  auto* o = obj ? obj->if_object() : nullptr;
  auto* meta = o ? o->if_contains("_meta") : nullptr;
  auto* m = meta ? meta->if_object() : nullptr;
  if (!m) return false;
  bool flag = false;
  if (auto* f = m->if_contains("proxy")) {
    flag = f->is_bool() && f->get_bool();
    m->erase("proxy");
  }
  if (auto* sym = m->if_contains("symposium"); sym && sym->is_object()) {
    if (auto* f = sym->get_object().if_contains("proxy")) {
      flag = flag || (f->is_bool() && f->get_bool());
      sym->get_object().erase("proxy");
      if (sym->get_object().empty()) m->erase("symposium");
    }
  }
  if (m->empty()) o->erase("_meta");
  return flag;
}

void router::on_forwarded_proxy_initialize(link_id from, const message& inner) {
  auto& l = at(from);
  if (!l.initialized && l.proxy && l.generation == pp::generation::current && l.init_request) {
    // A generic older-generation proxy forwards what it does not know, `_proxy/initialize`
    // included. Answer it "method not found": the proxy relays that as its own answer, and the
    // older handshake follows (on_initialize_answer).
    log::info(l.name, "forwarded `_proxy/initialize`: an older-generation proxy; using the older handshake");
    return reject(from, inner, rpc_error::method_not_found(pp::initialize_method));
  }
  reject(from, inner,
         rpc_error::invalid_request("Invalid request: a proxy must forward `initialize` to its successor, not "
                                    "`_proxy/initialize`"));
}

bool router::on_initialize_answer(link_id dest_id, const inbound_ptr& in, link_id origin, message& resp,
                                  const json::value& wire_id) {
  auto& dest = at(dest_id);
  const auto e = resp.error();
  const bool refused = e && e->code == error_codes::method_not_found;
  if (dest.proxy && refused && dest.generation == pp::generation::current && dest.init_request && !stopping_) {
    // Perhaps a proxy of the older generation (§4.7): retry with its handshake. The refusal is
    // traced as the answer to the first request, so that every traced request has its response.
    if (trace_ && !at(origin).conn->closed())
      trace_->response(trace_endpoint(dest_id, false), trace_endpoint(origin, false), wire_id, resp);
    dest.generation = pp::generation::legacy;
    auto retry = legacy_initialize(std::move(*dest.init_request));
    dest.init_request.reset();
    send_to(hop{dest_id, false}, toward::agent, std::move(retry), in, origin, true);
    return false;
  }
  dest.init_request.reset();
  const bool legacy = dest.generation == pp::generation::legacy;
  // The older handshake succeeded only when the proxy echoed the flag in its result's `_meta`.
  const bool accepted = !legacy || (!e && take_proxy_flag(resp.json().if_contains("result")));
  if (dest.proxy && (refused || !accepted)) {
    json::object data;
    data["reason"] = "not_a_proxy";
    data["component"] = dest.name;
    data["detail"] = e ? e->message : std::string("the `initialize` result does not echo `_meta.proxy`");
    resp = message::error_response(
        nullptr, rpc_error::internal_error(
                     "component '" + dest.name +
                         "' does not speak the proxy protocol (it answered -32601 to `_proxy/initialize`" +
                         (legacy ? std::string(" and did not accept the older `initialize` with `_meta.proxy`")
                                 : std::string()) +
                         "); only the last component may be an agent",
                     json::value(std::move(data))));
  }
  dest.initialized = true;
  auto held = std::move(dest.held);
  dest.held.clear();
  for (auto& h : held) {
    if (stopping_) {
      // Shutting down (this may be the failure of the `initialize` itself): nothing new is sent;
      // a request sent now would wait on a link whose pending requests were already failed.
      if (h.in && !h.in->answered())
        answering_as(own_endpoint(h.in->link(), h.dir),
                     [&] { (void)h.in->answer_error(rpc_error::internal_error("the conductor is shutting down")); });
      continue;
    }
    send_to(h.via, h.dir, std::move(h.msg), std::move(h.in), h.origin, false);
  }
  return true;
}

} // namespace acp::conductor
