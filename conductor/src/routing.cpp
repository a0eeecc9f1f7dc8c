// Routing (docs/PROTOCOL.md §4): every message a link reads comes through `on_message`, in arrival
// order, and leaves through `send_to` (which only queues on the target's FIFO writer).

#include "router_impl.hpp"

#include <acp/sdk/log.hpp>

namespace acp::conductor {
namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using jsonrpc::message;

namespace {
/// The `requestId` of a `$/cancel_request`, or null.
const json::value* cancelled_id(const message& msg) {
  const auto* params = msg.params();
  const auto* obj = params ? params->if_object() : nullptr;
  return obj ? obj->if_contains("requestId") : nullptr;
}

constexpr bool is_cancel(std::string_view method) noexcept { return method == "$/cancel_request"; }
} // namespace

void router::reply(link_id to, message answer) {
  // Relayed answers were traced as they arrived; the conductor's own are traced here, under the
  // id their request was traced with.
  if (trace_ && own_from_ && !at(to).conn->closed()) {
    if (answer.is_response()) {
      const auto it = traced_ids_.find({to, answer.id()});
      trace_->response(*own_from_, trace_endpoint(to, false), it == traced_ids_.end() ? answer.id() : it->second,
                       answer);
      if (it != traced_ids_.end()) traced_ids_.erase(it);
    } else {
      trace_->message(*own_from_, trace_endpoint(to, false), answer);
    }
  }
  at(to).conn->send(std::move(answer));
}

const json::value& router::traced_id(link_id from, const json::value& id) const {
  const auto it = traced_ids_.find({from, id});
  return it == traced_ids_.end() ? id : it->second;
}

void router::reject(link_id from, const message& msg, const rpc_error& e, toward dir) {
  if (msg.is_request())
    send_own_error(from, msg.id(), e, dir);
  else
    log::warn(at(from).name, e.message);
}

void router::send_own_error(link_id to, const json::value& id, const rpc_error& e, toward dir) {
  auto answer = message::error_response(id, e);
  if (trace_ && !at(to).conn->closed()) trace_->message(own_endpoint(to, dir), trace_endpoint(to, false), answer);
  at(to).conn->send(std::move(answer));
}

chain_position router::own_endpoint(link_id to, toward dir) const {
  if (const auto via = next_hop(dir, to)) return trace_endpoint(via->to, dir == toward::agent && via->to == upstream);
  return dir == toward::agent ? chain_position::agent() : chain_position::client();
}

chain_position router::trace_endpoint(link_id l, bool successor_side) const {
  if (l == upstream) return successor_side ? chain_position::agent() : chain_position::client();
  return at(l).proxy ? chain_position::proxy(at(l).position) : chain_position::agent();
}

// ---- incoming ----------------------------------------------------------------------------

void router::on_message(link_id from, message&& msg) {
  if (from != upstream) wake_drain(); // runs after this message is handled (a posted completion)
  // Reading a text message's DOM (params of a cancel, the older handshake's `_meta`, a traced
  // error) can only fail on a broken invariant or memory exhaustion; that message is refused,
  // the link and the chain go on.
  std::optional<json::value> id; // a request's, to answer it if routing fails
  if (msg.is_request()) id = msg.id();
  try {
    dispatch(from, std::move(msg));
  } catch (const std::exception& e) {
    log::error(at(from).name, std::string("a message could not be routed: ") + e.what());
    if (id)
      send_own_error(from, *id, rpc_error::internal_error(std::string("cannot route: ") + e.what()),
                     from == upstream ? toward::agent : toward::client);
  }
}

void router::dispatch(link_id from, message&& msg) {
  // Shutting down: the editor is not heard any more; components are while a turn is cancelled.
  if (stopping_ && (from == upstream || !draining_)) {
    if (msg.is_request()) reject(from, msg, rpc_error::internal_error("the conductor is shutting down"));
    return;
  }
  if (from == upstream && !started_) {
    if (starting_) return early_.push_back(std::move(msg)); // remote components are being reached
    return on_first_message(std::move(msg));
  }
  // Plain messages travel toward the agent from the upstream link and toward the client from a
  // component; `_proxy/successor` reverses that (from a component: toward its successor; from
  // the parent, in proxy mode: from our own successor, toward the client).
  toward dir = from == upstream ? toward::agent : toward::client;
  const bool enveloped = (from != upstream || !agent_mode()) && pp::is_successor_method(msg.method());
  if (enveloped) {
    std::string why;
    std::optional<json::value> id; // to answer a request whose envelope is refused
    if (msg.is_request()) id = msg.id();
    auto inner = pp::unwrap_message(std::move(msg), &why);
    if (!inner) {
      if (id)
        send_own_error(from, *id, rpc_error::invalid_params("Invalid params: " + why),
                       from == upstream ? toward::client : toward::agent);
      return;
    }
    dir = from == upstream ? toward::client : toward::agent;
    if (from != upstream && pp::is_proxy_initialize_method(inner->method()))
      return on_forwarded_proxy_initialize(from, *inner);
    return route(from, dir, std::move(*inner));
  }
  if (from == upstream && !agent_mode() && pp::is_proxy_initialize_method(msg.method())) {
    msg.set_method("initialize");
  }
  route(from, dir, std::move(msg));
}

void router::on_first_message(message&& msg) {
  const bool expected = agent_mode() ? msg.method() == "initialize" : pp::is_proxy_initialize_method(msg.method());
  if (!expected || !msg.is_request()) {
    return reject(upstream, msg,
                  rpc_error::invalid_request(agent_mode() ? "Invalid request: expected `initialize` first"
                                                          : "Invalid request: expected `_proxy/initialize` first"));
  }
  msg.set_method("initialize");
  const bool any_remote =
      std::any_of(opts_.components.begin(), opts_.components.end(), [](const auto& c) { return c.remote(); });
  if (!any_remote) return begin_chain(std::move(msg));
  connect_then_begin(std::move(msg));
}

void router::begin_chain(message&& init) {
  starting_ = false;
  std::string error;
  json::object data;
  if (!start_components(error, data)) {
    reject(upstream, init, rpc_error::internal_error(error, json::value(data)));
    for (const auto& m : std::exchange(early_, {}))
      if (m.is_request()) reject(upstream, m, rpc_error::internal_error(error, json::value(data)));
    shutdown(1, "spawn_failed", error);
    return;
  }
  started_ = true;
  route(upstream, toward::agent, std::move(init));
  for (auto& m : std::exchange(early_, {})) dispatch(upstream, std::move(m));
}

void router::route(link_id from, toward dir, message&& msg) {
  if (is_cancel(msg.method())) {
    const auto* id = cancelled_id(msg);
    if (!id) return log::warn(at(from).name, "$/cancel_request without requestId");
    if (!inbound_.cancel(from, *id)) return; // already answered, nothing to do
    // Still unanswered: it had left, and the cancel went after it (re-issued by `forward` with
    // the id used there; traced so, as its request was).
    if (trace_ && inbound_.find(from, *id)) {
      if (const auto via = next_hop(dir, from)) {
        json::value params = json::object{{"requestId", traced_id(from, *id)}};
        trace_->notification(trace_endpoint(from, dir == toward::client),
                             trace_endpoint(via->to, dir == toward::agent && via->to == upstream), msg.method(),
                             &params);
      }
    }
    return;
  }
  auto via = next_hop(dir, from);
  if (!via) return reject(from, msg, rpc_error::method_not_found("_proxy/successor"), dir);
  if (bridge_link_ != 0 && dir == toward::agent) {
    if (auto b = bridge_hop(*via, msg)) via = b;
  }
  if (stopping_ && via->to == upstream) {
    // Shutting down: the editor has had its answers and hears nothing more.
    if (msg.is_request()) reject(from, msg, rpc_error::internal_error("the conductor is shutting down"), dir);
    return;
  }
  inbound_ptr in;
  if (msg.is_request()) {
    in = inbound_.accept(from, msg);
    if (!in) return send_own_error(from, msg.id(), inbound_table::duplicate_id_error(msg.id()), dir);
    if (from == upstream && msg.method() == "session/prompt") note_prompt(in, msg);
  }
  deliver(*via, dir, std::move(msg), std::move(in), from);
}

std::optional<hop> router::next_hop(toward dir, link_id from) const {
  if (chain_.empty()) {
    // Proxy mode with no components: a pass-through between the parent and our successor.
    if (agent_mode()) return std::nullopt;
    return dir == toward::agent ? hop{upstream, true} : hop{upstream, false};
  }
  if (from == upstream) {
    // From the editor: the first component. From our successor (proxy mode): the last one.
    return dir == toward::agent ? hop{chain_.front(), false} : hop{chain_.back(), true};
  }
  const std::size_t i = at(from).position;
  if (dir == toward::client) return i == 0 ? hop{upstream, false} : hop{chain_[i - 1], true};
  if (i + 1 < chain_.size()) return hop{chain_[i + 1], false};
  if (agent_mode()) return std::nullopt; // the agent has no successor
  return hop{upstream, true};            // our successor, through the parent
}

// ---- delivery ----------------------------------------------------------------------------

void router::deliver(hop via, toward dir, message&& msg, inbound_ptr in, link_id origin) {
  const bool is_init = dir == toward::agent && msg.is_request() && msg.method() == "initialize";
  // An older-generation proxy may forward its own role flag; it is hop-scoped.
  // An older-generation proxy may forward its own role flag (in `_meta` and in
  // `clientCapabilities._meta.symposium`); it is hop-scoped, so it goes before the next hop.
  if (is_init && at(origin).generation == pp::generation::legacy) {
    auto* params = msg.params();
    (void)take_proxy_flag(params);
    auto* obj = params ? params->if_object() : nullptr;
    if (auto* caps = obj ? obj->if_contains("clientCapabilities") : nullptr) (void)take_proxy_flag(caps);
  }
  if (is_init && via.to != upstream && at(via.to).proxy) msg.set_method(pp::initialize_method);
  auto& target = at(via.to);
  if (!target.initialized && !is_init) {
    // Never pipeline ahead of an unanswered `initialize` (some agents reject that).
    return hold(target, {via, dir, std::move(msg), std::move(in), origin});
  }
  send_to(via, dir, std::move(msg), std::move(in), origin, is_init);
}

void router::hold(link& target, link::held_delivery d) {
  if (d.in) {
    // Cancelled while held: it never left, so it is answered here and not sent.
    d.in->on_cancel([weak = weak_from_this(), to = target.id, raw = d.in.get(), dir = d.dir] {
      auto self = weak.lock();
      if (!self) return;
      auto& held = self->at(to).held;
      for (auto it = held.begin(); it != held.end(); ++it) {
        if (it->in.get() != raw) continue;
        auto in = std::move(it->in);
        held.erase(it);
        self->answering_as(self->own_endpoint(in->link(), dir), [&] {
          (void)in->answer_error(rpc_error::request_cancelled("Request cancelled before it was delivered"));
        });
        return;
      }
    });
  }
  target.held.push_back(std::move(d));
}

void router::send_to(hop via, toward dir, message&& msg, inbound_ptr in, link_id origin, bool is_init) {
  auto& dest = at(via.to);
  const auto gen = dest.generation;
  const bool to_successor_side = dir == toward::agent && via.to == upstream;
  std::optional<json::value> origin_id; // a traced request's id from `origin`
  if (trace_) {
    if (msg.is_request()) {
      // Traced under the id `forward` is about to give it on `dest`: the id its receiver sees.
      const json::value wire(dest.conn->next_request_id());
      trace_call(trace_endpoint(origin, dir == toward::client), trace_endpoint(via.to, to_successor_side), msg, &wire);
      origin_id = msg.id();
      traced_ids_.insert_or_assign({origin, msg.id()}, wire);
    } else {
      trace_call(trace_endpoint(origin, dir == toward::client), trace_endpoint(via.to, to_successor_side), msg);
    }
  }
  if (bridge_link_ != 0) bridge_declarations(via, dir, msg); // after the trace: it adds a secret
  if (!msg.is_request()) {
    dest.conn->send(via.wrapped ? pp::wrap_message(std::move(msg), std::nullopt, gen) : std::move(msg));
    return;
  }
  if (is_init && via.to != upstream && dest.proxy && gen == pp::generation::current)
    dest.init_request = msg; // for the older handshake, should it answer -32601
  forward_options fo;
  if (via.wrapped) fo.wrap = [gen](message m) { return pp::wrap_message(std::move(m), std::nullopt, gen); };
  fo.on_response = [self = shared_from_this(), via, dir, origin, is_init, in_weak = std::weak_ptr(in),
                    origin_id = std::move(origin_id)](message& resp, const json::value& wire_id) {
    auto request = in_weak.lock();
    if (origin_id) self->traced_ids_.erase({origin, *origin_id});
    self->wake_drain(); // a request the drain may wait on is answered (woken once this returns)
    // Answered meanwhile by the conductor (shutting down): there is nothing left to relay.
    if (request && request->answered()) return false;
    if (is_init && self->is_agent_link(via.to) && !resp.is_error()) {
      if (auto* result = resp.json().if_contains("result")) self->maybe_bridge_mcp(*result);
    }
    if (is_init && via.to != upstream && request && !self->on_initialize_answer(via.to, request, origin, resp, wire_id))
      return false;
    if (self->trace_ && !self->at(origin).conn->closed()) { // closed: nobody receives it
      // From the response's text: no DOM per traced message.
      self->trace_->response(self->trace_endpoint(via.to, dir == toward::agent && via.to == upstream),
                             self->trace_endpoint(origin, dir == toward::client), wire_id, resp);
    }
    return true;
  };
  auto outgoing = via.wrapped ? pp::wrap_message(std::move(msg), json::value(0), gen) : std::move(msg);
  (void)forward(in, *dest.conn, std::move(outgoing), std::move(fo));
}

} // namespace acp::conductor
