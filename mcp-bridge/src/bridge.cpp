// The bridge's core: capabilities, declarations, sessions and the relay to the providers.

#include "core.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <random>

namespace acp::mcp_bridge {

namespace {
constexpr std::string_view where = "mcp-bridge";

const json::object* member_object(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  if (!o) return nullptr;
  const auto* m = o->if_contains(key);
  return m ? m->if_object() : nullptr;
}

const json::object* mcp_capabilities(const json::value& initialize_result) {
  const auto* caps = member_object(initialize_result, "agentCapabilities");
  if (!caps) return nullptr;
  const auto* m = caps->if_contains("mcpCapabilities");
  return m ? m->if_object() : nullptr;
}

bool flag(const json::object* o, std::string_view key) {
  if (!o) return false;
  const auto* v = o->if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

json::object& object_member(json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object()) v = json::object{};
  return v.get_object();
}

std::string_view string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

rpc_error session_error(std::string_view why) {
  return rpc_error::internal_error(std::string(why), json::object{{"reason", "mcp_session_closed"}});
}
} // namespace

bool agent_speaks_acp(const json::value& initialize_result) { return flag(mcp_capabilities(initialize_result), "acp"); }

void advertise_acp(json::value& initialize_result) {
  if (!initialize_result.is_object()) initialize_result = json::object{};
  auto& caps = object_member(initialize_result.get_object(), "agentCapabilities");
  object_member(caps, "mcpCapabilities")["acp"] = true;
}

mode choose_mode(const json::value& initialize_result) {
  return flag(mcp_capabilities(initialize_result), "http") ? mode::http : mode::stdio;
}

std::string random_hex(std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  out.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; i += 4) {
    auto word = static_cast<std::uint32_t>(rd());
    for (std::size_t k = 0; k < 4 && i + k < bytes; ++k, word >>= 8) {
      out += digits[(word >> 4) & 0xf];
      out += digits[word & 0xf];
    }
  }
  return out;
}

bool equal_secret(std::string_view a, std::string_view b) noexcept {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

json::object error_response(const json::value& id, const rpc_error& e) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", e.to_json()}};
}

// ---- bridge::impl -----------------------------------------------------------------------------

std::shared_ptr<const declaration> bridge::impl::find_declaration(std::string_view id) const {
  auto it = decls.find(std::string(id));
  return it == decls.end() ? nullptr : it->second;
}

std::shared_ptr<session> bridge::impl::find_session(std::string_view key) const {
  auto it = sessions.find(std::string(key));
  return it == sessions.end() ? nullptr : it->second;
}

std::shared_ptr<session> bridge::impl::open_session(const std::shared_ptr<const declaration>& decl, std::string& why) {
  if (closed) {
    why = "the MCP bridge is closed";
    return nullptr;
  }
  if (sessions.size() >= opt.max_sessions) {
    why = "too many MCP sessions open (max_sessions)";
    return nullptr;
  }
  auto s = std::make_shared<session>();
  s->key = random_hex(16);
  s->decl = decl;
  sessions.emplace(s->key, s);
  connect(s);
  return s;
}

void bridge::impl::connect(const std::shared_ptr<session>& s) {
  const bool current = s->decl->gen == generation::current;
  if (!cx) {
    end_session(s, false, "the MCP bridge has not started");
    return;
  }
  auto params = current ? json::object{{"serverId", s->decl->target}} : json::object{{"acp_url", s->decl->target}};
  std::weak_ptr<session> weak = s;
  std::weak_ptr<impl> self = weak_from_this();
  cx->send_request_to(upstream, current ? "mcp/connect" : "_mcp/connect", json::value(std::move(params)))
      .on_receiving_result([weak, self, current](rpc_result outcome) {
        auto me = self.lock();
        auto ss = weak.lock();
        if (!me || !ss) return;
        std::string id;
        if (outcome && outcome->is_object())
          id = std::string(string_member(outcome->get_object(), current ? "connectionId" : "connection_id"));
        if (ss->st == session::state::closed) { // the client went away meanwhile
          if (!id.empty() && me->cx) {
            if (current)
              me->cx->send_request_to(me->upstream, "mcp/disconnect", json::object{{"connectionId", id}})
                  .on_receiving_result([](rpc_result) {});
            else
              me->cx->send_notification_to(me->upstream, "_mcp/disconnect", json::object{{"connection_id", id}});
          }
          return;
        }
        if (id.empty()) {
          const auto e = outcome ? rpc_error::internal_error("the MCP server's connect result has no connection id")
                                 : outcome.error();
          log::warn(where, "connecting to MCP server " + ss->decl->target + " failed: " + e.message);
          auto waiting = std::move(ss->waiting);
          for (auto& h : waiting)
            if (h.done && h.msg.contains("id")) h.done(error_response(h.msg.at("id"), e));
          me->end_session(ss, false, "connecting to the MCP server failed: " + e.message);
          return;
        }
        ss->connection_id = id;
        ss->st = session::state::open;
        me->by_connection[id] = ss;
        auto waiting = std::move(ss->waiting);
        for (auto& h : waiting) me->from_client(ss, std::move(h.msg), std::move(h.done));
        ss->call_done();
      });
}

void bridge::impl::from_client(const std::shared_ptr<session>& s, json::object msg, reply_fn done) {
  s->last_active = std::chrono::steady_clock::now();
  if (s->st == session::state::closed) {
    if (done && msg.contains("method") && msg.contains("id"))
      done(error_response(msg.at("id"), session_error("the MCP session has ended")));
    return;
  }
  if (s->st == session::state::connecting) {
    if (s->waiting.size() >= opt.max_queued_messages) {
      log::warn(where, "the MCP client sent too much before its connection was open; a message is refused");
      if (done && msg.contains("method") && msg.contains("id"))
        done(error_response(msg.at("id"), rpc_error::internal_error("the MCP connection is still being opened")));
      return;
    }
    s->waiting.push_back({std::move(msg), std::move(done)});
    return;
  }
  const bool has_method = msg.contains("method");
  if (!has_method) { // a response to a server-initiated request
    const auto* id = msg.if_contains("id");
    auto it = id ? s->server_requests.find(jsonrpc::id_key(*id)) : s->server_requests.end();
    if (it == s->server_requests.end()) {
      log::warn(where, "the MCP client answered a request the bridge did not send; dropped");
      return;
    }
    auto r = std::move(it->second);
    s->server_requests.erase(it);
    if (const auto* err = msg.if_contains("error")) {
      auto e = rpc_error::from_json(*err);
      r.respond_error(e ? *e : rpc_error::internal_error("the MCP client answered with an invalid error"));
    } else if (const auto* result = msg.if_contains("result")) {
      r.respond(*result);
    } else {
      r.respond_error(rpc_error::internal_error("the MCP client's response has neither result nor error"));
    }
    return;
  }
  if (string_member(msg, "method") == "notifications/cancelled" && !msg.contains("id")) {
    // The upstream request is cancelled with $/cancel_request (its MCP id is the ACP request).
    if (const auto* p = msg.if_contains("params"); p && p->is_object())
      if (const auto* rid = p->get_object().if_contains("requestId")) abandon(s, *rid);
    return;
  }
  relay(s, std::move(msg), std::move(done));
}

void bridge::impl::relay(const std::shared_ptr<session>& s, json::object msg, reply_fn done) {
  const bool current = s->decl->gen == generation::current;
  const auto method_name = current ? std::string_view("mcp/message") : std::string_view("_mcp/message");
  json::object params{{"connectionId", s->connection_id}, {"method", msg.at("method")}};
  if (auto* p = msg.if_contains("params")) params["params"] = std::move(*p);
  const auto* id = msg.if_contains("id");
  if (!id) {
    cx->send_notification_to(upstream, method_name, json::value(std::move(params)));
    return;
  }
  const json::value client_id = *id;
  const auto key = jsonrpc::id_key(client_id);
  if (s->calls.contains(key)) {
    if (done) done(error_response(client_id, rpc_error::invalid_request("a request with this id is already pending")));
    return;
  }
  const bool is_initialize = string_member(msg, "method") == "initialize";
  auto sent = cx->send_request_to(upstream, method_name, json::value(std::move(params)));
  auto& c = s->calls[key];
  c.sent = sent;
  c.done = std::move(done);
  std::weak_ptr<session> weak = s;
  if (opt.call_timeout.count() > 0) {
    auto t = std::make_shared<boost::asio::steady_timer>(ex, opt.call_timeout);
    t->async_wait([weak, key, client_id](boost::system::error_code ec) {
      auto ss = weak.lock();
      if (ec || !ss) return;
      auto it = ss->calls.find(key);
      if (it == ss->calls.end()) return;
      auto expired = std::move(it->second);
      ss->calls.erase(it);
      if (expired.sent) expired.sent->cancel();
      if (expired.done)
        expired.done(error_response(client_id, rpc_error::internal_error("the MCP server did not answer in time",
                                                                         json::object{{"reason", "timeout"}})));
      ss->call_done();
    });
    c.timer = t;
  }
  std::move(sent).on_receiving_result([weak, key, client_id, is_initialize](rpc_result outcome) {
    auto ss = weak.lock();
    if (!ss) return;
    auto it = ss->calls.find(key);
    if (it == ss->calls.end()) return; // abandoned, timed out or the session ended: dropped
    auto answered = std::move(it->second);
    ss->calls.erase(it);
    if (answered.timer) static_cast<boost::asio::steady_timer*>(answered.timer.get())->cancel();
    if (!outcome) {
      if (answered.done) answered.done(error_response(client_id, outcome.error()));
    } else {
      if (is_initialize && outcome->is_object())
        ss->protocol_version = std::string(string_member(outcome->get_object(), "protocolVersion"));
      if (answered.done)
        answered.done(json::object{{"jsonrpc", "2.0"}, {"id", client_id}, {"result", std::move(*outcome)}});
    }
    ss->call_done();
  });
}

void bridge::impl::abandon(const std::shared_ptr<session>& s, const json::value& id) {
  auto it = s->calls.find(jsonrpc::id_key(id));
  if (it == s->calls.end()) return;
  auto c = std::move(it->second);
  s->calls.erase(it);
  if (c.timer) static_cast<boost::asio::steady_timer*>(c.timer.get())->cancel();
  if (c.sent) c.sent->cancel();
  if (c.done) c.done(std::nullopt);
  s->call_done();
}

void bridge::impl::expire_idle_sessions() {
  if (opt.session_idle_timeout.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<session>> idle;
  for (const auto& [key, s] : sessions)
    if (!s->to_client && s->calls.empty() && s->waiting.empty() && now - s->last_active > opt.session_idle_timeout)
      idle.push_back(s);
  for (const auto& s : idle) end_session(s, true, "the MCP session was idle too long");
}

void bridge::impl::set_sink(const std::shared_ptr<session>& s, std::function<void(json::object)> sink) {
  s->last_active = std::chrono::steady_clock::now();
  s->to_client = std::move(sink);
  while (s->to_client && !s->queued.empty()) {
    auto m = std::move(s->queued.front());
    s->queued.pop_front();
    s->to_client(std::move(m));
  }
}

void bridge::impl::deliver(const std::shared_ptr<session>& s, json::object msg) {
  if (s->to_client) {
    s->to_client(std::move(msg));
    return;
  }
  if (s->queued.size() >= opt.max_queued_messages) {
    log::warn(where, "the MCP client has no open stream and " + std::to_string(s->queued.size()) +
                         " messages are queued; a server message is dropped");
    if (const auto* id = msg.if_contains("id")) {
      auto it = s->server_requests.find(jsonrpc::id_key(*id));
      if (it != s->server_requests.end()) {
        it->second.respond_error(rpc_error::internal_error("the MCP client's queue is full"));
        s->server_requests.erase(it);
      }
    }
    return;
  }
  s->queued.push_back(std::move(msg));
}

void bridge::impl::end_session(const std::shared_ptr<session>& s, bool tell_upstream, std::string_view why) {
  if (s->st == session::state::closed) return;
  const bool was_open = s->st == session::state::open;
  s->st = session::state::closed;
  sessions.erase(s->key);
  if (!s->connection_id.empty()) by_connection.erase(s->connection_id);
  auto calls = std::move(s->calls);
  s->calls.clear();
  for (auto& [key, c] : calls) {
    if (c.timer) static_cast<boost::asio::steady_timer*>(c.timer.get())->cancel();
    if (c.sent) c.sent->cancel();
    if (c.done) c.done(error_response(json::parse(key), session_error(why)));
  }
  auto waiting = std::move(s->waiting);
  s->waiting.clear();
  for (auto& h : waiting)
    if (h.done && h.msg.contains("id") && h.msg.contains("method"))
      h.done(error_response(h.msg.at("id"), session_error(why)));
  auto requests = std::move(s->server_requests);
  s->server_requests.clear();
  for (auto& [key, r] : requests) r.respond_error(session_error(why));
  s->queued.clear();
  s->to_client = nullptr;
  if (tell_upstream && was_open && cx) {
    if (s->decl->gen == generation::current)
      cx->send_request_to(upstream, "mcp/disconnect", json::object{{"connectionId", s->connection_id}})
          .on_receiving_result([](rpc_result) {});
    else
      cx->send_notification_to(upstream, "_mcp/disconnect", json::object{{"connection_id", s->connection_id}});
  }
  if (auto f = std::move(s->on_end)) f();
  s->call_done();
}

acp::handled bridge::impl::upstream_request(jsonrpc::message& msg, acp::responder& r, acp::context& c) {
  const auto* p = msg.params();
  const auto* o = p ? p->if_object() : nullptr;
  const auto id = o ? string_member(*o, "connectionId") : std::string_view{};
  auto it = by_connection.find(std::string(id));
  auto s = it == by_connection.end() ? nullptr : it->second.lock();
  if (!s || s->st != session::state::open) {
    if (c.endpoint_role() == chain_role::proxy) return acp::handled::no;
    r.respond_error(rpc_error::invalid_params("unknown MCP connection: " + std::string(id),
                                              json::object{{"reason", "unknown_connection"}}));
    return acp::handled::yes;
  }
  const auto method = string_member(*o, "method");
  if (method.empty()) {
    r.respond_error(rpc_error::invalid_params("params.method: expected string"));
    return acp::handled::yes;
  }
  json::value our_id(json::string("acp-bridge-" + std::to_string(++s->next_server_id)));
  json::object out{{"jsonrpc", "2.0"}, {"id", our_id}, {"method", method}};
  if (const auto* inner = o->if_contains("params")) out["params"] = *inner;
  s->server_requests.emplace(jsonrpc::id_key(our_id), std::move(r));
  deliver(s, std::move(out));
  return acp::handled::yes;
}

acp::handled bridge::impl::upstream_notification(jsonrpc::message& msg, acp::context& c) {
  const auto* p = msg.params();
  const auto* o = p ? p->if_object() : nullptr;
  const auto id = o ? string_member(*o, "connectionId") : std::string_view{};
  auto it = by_connection.find(std::string(id));
  auto s = it == by_connection.end() ? nullptr : it->second.lock();
  if (!s || s->st != session::state::open) {
    if (c.endpoint_role() == chain_role::proxy) return acp::handled::no;
    log::warn(where, "an MCP notification for unknown connection " + std::string(id) + " is dropped");
    return acp::handled::yes;
  }
  const auto method = string_member(*o, "method");
  if (method.empty()) return acp::handled::yes;
  json::object out{{"jsonrpc", "2.0"}, {"method", method}};
  if (const auto* inner = o->if_contains("params")) out["params"] = *inner;
  deliver(s, std::move(out));
  return acp::handled::yes;
}

// ---- bridge -----------------------------------------------------------------------------------

bridge::bridge(std::shared_ptr<impl> i) noexcept : impl_(std::move(i)) {}

bridge::~bridge() {
  impl_->cx.reset(); // no disconnects from a destructor
  close();
}

std::shared_ptr<bridge> bridge::create(boost::asio::any_io_executor ex, options o) {
  return std::shared_ptr<bridge>(new bridge(std::make_shared<impl>(std::move(ex), std::move(o))));
}

void bridge::install(acp::endpoint_builder& b, acp::peer upstream) {
  impl_->upstream = upstream;
  std::weak_ptr<impl> weak = impl_;
  for (const char* method : {"mcp/message", "_mcp/message"}) {
    b.on_receive_request_from(upstream, method, [weak](jsonrpc::message& m, responder& r, context& cx) {
      auto me = weak.lock();
      return me ? me->upstream_request(m, r, cx) : handled::no;
    });
    b.on_receive_notification_from(upstream, method, [weak](jsonrpc::message& m, context& cx) {
      auto me = weak.lock();
      return me ? me->upstream_notification(m, cx) : handled::no;
    });
  }
}

void bridge::start(acp::context cx) { impl_->cx = std::move(cx); }

std::size_t bridge::rewrite_declarations(json::value& params) {
  auto& b = *impl_;
  if (b.closed) return 0;
  auto* o = params.if_object();
  auto* servers = o ? o->if_contains("mcpServers") : nullptr;
  auto* list = servers ? servers->if_array() : nullptr;
  if (!list) return 0;
  std::size_t rewritten = 0;
  for (auto& entry : *list) {
    auto* e = entry.if_object();
    if (!e) continue;
    const auto type = string_member(*e, "type");
    declaration d;
    if (type == "acp" && !string_member(*e, "serverId").empty()) {
      d.gen = generation::current;
      d.target = std::string(string_member(*e, "serverId"));
    } else if (type == "http" && string_member(*e, "url").starts_with("acp:")) {
      d.gen = generation::older;
      d.target = std::string(string_member(*e, "url"));
    } else {
      continue;
    }
    if (b.opt.kind == mode::http) {
      if (!b.http) b.http = start_http_listener(impl_);
      if (!b.http) return rewritten;
    } else {
      if (b.opt.shim_program.empty()) {
        log::error(
            where,
            "stdio mode needs the path of acp-mcp-bridge (options::shim_program); declarations left as they are");
        return rewritten;
      }
      if (!b.unix_socket) b.unix_socket = start_unix_listener(impl_);
      if (!b.unix_socket) return rewritten;
    }
    d.id = random_hex(8);
    d.token = random_hex(16);
    const json::value name = e->contains("name") ? e->at("name") : json::value("mcp");
    if (b.opt.kind == mode::http) {
      entry = json::object{
          {"type", "http"},
          {"name", name},
          {"url", "http://127.0.0.1:" + std::to_string(port_of(*b.http)) + "/mcp/" + d.id},
          {"headers", json::array{json::object{{"name", "Authorization"}, {"value", "Bearer " + d.token}}}}};
    } else {
      entry = json::object{{"name", name},
                           {"command", b.opt.shim_program},
                           {"args", json::array{"--shim"}},
                           {"env", json::array{json::object{{"name", "ACP_MCP_BRIDGE_SOCKET"},
                                                            {"value", socket_path_of(*b.unix_socket)}},
                                               json::object{{"name", "ACP_MCP_BRIDGE_TOKEN"}, {"value", d.token}},
                                               json::object{{"name", "ACP_MCP_BRIDGE_SERVER"}, {"value", d.id}}}}};
    }
    auto id = d.id;
    b.decls.emplace(std::move(id), std::make_shared<const declaration>(std::move(d)));
    ++rewritten;
  }
  return rewritten;
}

void bridge::close() {
  auto& b = *impl_;
  if (b.closed) return;
  b.closed = true;
  if (b.http) close_listener(*b.http);
  if (b.unix_socket) close_listener(*b.unix_socket);
  auto sessions = b.sessions;
  for (auto& [key, s] : sessions) b.end_session(s, true, "the MCP bridge closed");
}

unsigned short bridge::http_port() const noexcept { return impl_->http ? port_of(*impl_->http) : 0; }

std::size_t bridge::open_sessions() const noexcept { return impl_->sessions.size(); }

} // namespace acp::mcp_bridge
