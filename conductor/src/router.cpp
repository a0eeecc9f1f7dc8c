#include <acp/conductor/router.hpp>

#include <acp/conductor/child_process.hpp>
#include <acp/conductor/trace.hpp>
#include <acp/protocol/envelope.hpp>
#include <acp/sdk/connection.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <csignal>
#include <functional>
#include <unordered_map>

namespace acp::conductor {
namespace asio = boost::asio;
namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using jsonrpc::message;

namespace {

enum class toward { agent, client };

constexpr std::size_t upstream_node = 0;

struct node {
  std::string name;
  std::shared_ptr<connection> conn;
  std::optional<child_process> child;
  bool proxy = false;      // speaks the proxy protocol
  bool initialized = true; // answered `initialize` (components start false)
  struct held_delivery {
    bool wrapped;
    message msg;
    std::size_t origin;
  };
  std::vector<held_delivery> held; // deliveries waiting for that answer
  pp::generation generation = pp::generation::current; // envelope spelling (docs/PROTOCOL.md §4.7)
  std::optional<message> init_request; // the `_proxy/initialize` sent, kept for the older handshake
};

/// The older generation's handshake (docs/PROTOCOL.md §4.7): a plain `initialize` whose params carry
/// the proxy flag, in `_meta` and in `clientCapabilities._meta.symposium`.
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

/// Removes the older generation's proxy flag from `obj._meta` (and `_meta.symposium`); true when
/// it was set. An `_meta` left empty by the removal goes too.
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

struct inflight {
  std::size_t origin;
  json::value origin_id;
  std::size_t dest;
  json::value wire_id;
  bool wrapped;
};

std::string inflight_key(std::size_t origin, const json::value& id) {
  return std::to_string(origin) + ":" + jsonrpc::id_key(id);
}

} // namespace

class router : public std::enable_shared_from_this<router> {
public:
  router(asio::io_context& io, const conductor_options& opts, transport_ptr upstream,
         std::optional<trace_writer> trace, std::vector<transport_ptr> in_process = {})
      : io_(io), ex_(io.get_executor()), opts_(opts), gate_(std::make_shared<flow_gate>(ex_)),
        trace_(std::move(trace)), in_process_(std::move(in_process)) {
    node up;
    up.name = opts_.mode == conductor_options::mode::agent ? "editor" : "parent";
    up.conn = connection::create(ex_, std::move(upstream), link_options(up.name));
    nodes_.push_back(std::move(up));
  }

  void start() {
    auto self = shared_from_this();
    auto& up = *nodes_[upstream_node].conn;
    up.on_message([self](message msg) { self->on_upstream(std::move(msg)); });
    up.on_close([self](const close_info& info) {
      if (self->stopping_) return;
      const bool clean = info.reason == close_reason::eof || info.reason == close_reason::closed_locally;
      self->shutdown(clean ? 0 : 1, "incoming_transport_closed", info.detail);
    });
    up.start();
  }

  void shutdown(int code, std::string reason, std::string detail);
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

private:
  [[nodiscard]] std::size_t count() const noexcept { return opts_.components.size(); }
  [[nodiscard]] bool agent_mode() const noexcept { return opts_.mode == conductor_options::mode::agent; }

  connection_options link_options(std::string name) const {
    connection_options o;
    o.name = std::move(name);
    o.max_message_bytes = opts_.max_message_size;
    o.gate = gate_;
    o.fail_pending_on_close = false;
    o.pause_on_own_congestion = false; // links forward to each other: see connection_options
    return o;
  }

  void on_upstream(message msg);
  void on_component(std::size_t k, message msg);
  bool start_components(std::string& error, json::object& data);
  void deliver(long position, toward dir, message msg, std::size_t origin);
  void send_to(std::size_t dest, bool wrapped, message msg, std::size_t origin, bool is_init);
  void on_response(const std::string& key, const json::value& wire_id, bool is_init, message resp);
  void handle_cancel(std::size_t origin, const message& msg);
  void reply_error(std::size_t origin, const message& msg, const rpc_error& e) {
    if (msg.is_request()) nodes_[origin].conn->send_error(msg.id(), e);
    else log::warn(nodes_[origin].name, e.message);
  }
  /// The trace name of a node: the editor side, the successor side (wrapped on the upstream
  /// link in proxy mode), or a component.
  [[nodiscard]] endpoint trace_endpoint(std::size_t node, bool successor_side) const {
    if (node == upstream_node) return successor_side ? endpoint::agent() : endpoint::client();
    return nodes_[node].proxy ? endpoint::proxy(node - 1) : endpoint::agent();
  }
  void component_ended(std::size_t k);
  asio::awaitable<void> fail_component(std::size_t k);
  asio::awaitable<void> shutdown_sequence(std::string reason, std::string detail);
  void fail_upstream_requests(const rpc_error& e);

  asio::io_context& io_;
  asio::any_io_executor ex_;
  conductor_options opts_;
  std::shared_ptr<flow_gate> gate_;
  std::vector<node> nodes_; // [0] upstream, [1 + k] component k
  std::unordered_map<std::string, inflight> inflight_;
  std::optional<trace_writer> trace_;
  std::vector<transport_ptr> in_process_; // test seam: component links instead of spawned children
  bool started_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  int exit_code_ = 0;
};

// ---- incoming ----------------------------------------------------------------------------

void router::on_upstream(message msg) {
  if (stopping_) {
    if (msg.is_request()) reply_error(upstream_node, msg, rpc_error::internal_error("the conductor is shutting down"));
    return;
  }
  if (!started_) {
    const bool expected = agent_mode() ? msg.method() == "initialize" : pp::is_proxy_initialize_method(msg.method());
    if (!expected || !msg.is_request()) {
      reply_error(upstream_node, msg,
                  rpc_error::invalid_request(agent_mode() ? "Invalid request: expected `initialize` first"
                                                          : "Invalid request: expected `_proxy/initialize` first"));
      return;
    }
    std::string error;
    json::object data;
    if (!start_components(error, data)) {
      reply_error(upstream_node, msg, rpc_error::internal_error(error, json::value(std::move(data))));
      shutdown(1, "spawn_failed", error);
      return;
    }
    started_ = true;
    msg.set_method("initialize");
    deliver(0, toward::agent, std::move(msg), upstream_node);
    return;
  }
  if (!agent_mode() && pp::is_successor_method(msg.method())) {
    // From our own successor, through the parent: toward the client, to the last component.
    std::string why;
    const bool is_request = msg.is_request();
    const json::value id = msg.id();
    auto inner = pp::unwrap_message(std::move(msg), &why);
    if (!inner) {
      if (is_request) nodes_[upstream_node].conn->send_error(id, rpc_error::invalid_params("Invalid params: " + why));
      return;
    }
    if (inner->method() == "$/cancel_request") return handle_cancel(upstream_node, *inner);
    deliver(static_cast<long>(count()) - 1, toward::client, std::move(*inner), upstream_node);
    return;
  }
  if (msg.method() == "$/cancel_request") return handle_cancel(upstream_node, msg);
  if (!agent_mode() && pp::is_proxy_initialize_method(msg.method())) msg.set_method("initialize");
  deliver(0, toward::agent, std::move(msg), upstream_node);
}

void router::on_component(std::size_t k, message msg) {
  const std::size_t origin = k + 1;
  if (stopping_) {
    if (msg.is_request()) reply_error(origin, msg, rpc_error::internal_error("the conductor is shutting down"));
    return;
  }
  if (pp::is_successor_method(msg.method())) {
    std::string why;
    const bool is_request = msg.is_request();
    const json::value id = msg.id();
    auto inner = pp::unwrap_message(std::move(msg), &why);
    if (!inner) {
      if (is_request) nodes_[origin].conn->send_error(id, rpc_error::invalid_params("Invalid params: " + why));
      return;
    }
    if (pp::is_proxy_initialize_method(inner->method())) {
      return reply_error(origin, *inner,
                         rpc_error::invalid_request("Invalid request: a proxy must forward `initialize` to its "
                                                    "successor, not `_proxy/initialize`"));
    }
    if (agent_mode() && k + 1 == count()) {
      return reply_error(origin, *inner, rpc_error::method_not_found("_proxy/successor"));
    }
    if (inner->method() == "$/cancel_request") return handle_cancel(origin, *inner);
    deliver(static_cast<long>(k) + 1, toward::agent, std::move(*inner), origin);
    return;
  }
  if (msg.method() == "$/cancel_request") return handle_cancel(origin, msg);
  deliver(static_cast<long>(k) - 1, toward::client, std::move(msg), origin);
}

// ---- delivery ----------------------------------------------------------------------------

void router::deliver(long position, toward dir, message msg, std::size_t origin) {
  std::size_t dest = upstream_node;
  bool wrapped = false;
  if (position < 0) {
    dest = upstream_node; // the client side: plain to the editor / parent
  } else if (static_cast<std::size_t>(position) >= count()) {
    dest = upstream_node; // proxy mode: our successor, through the parent
    wrapped = true;
  } else {
    dest = static_cast<std::size_t>(position) + 1;
    wrapped = dir == toward::client;
  }
  const bool is_init = dir == toward::agent && msg.is_request() && msg.method() == "initialize";
  // An older-generation proxy may forward its own role flag; it is hop-scoped.
  if (is_init && nodes_[origin].generation == pp::generation::legacy) (void)take_proxy_flag(msg.params());
  if (is_init && dest != upstream_node && nodes_[dest].proxy) msg.set_method(pp::initialize_method);
  auto& target = nodes_[dest];
  if (!target.initialized && !is_init) {
    // Never pipeline ahead of an unanswered `initialize` (some agents reject that).
    target.held.push_back({wrapped, std::move(msg), origin});
    return;
  }
  send_to(dest, wrapped, std::move(msg), origin, is_init);
}

void router::send_to(std::size_t dest, bool wrapped, message msg, std::size_t origin, bool is_init) {
  auto& conn = *nodes_[dest].conn;
  // A message delivered wrapped travels toward the client, so it came from the successor side.
  if (trace_) trace_->message(trace_endpoint(origin, wrapped || dest < origin), trace_endpoint(dest, wrapped && dest == upstream_node), msg);
  if (!msg.is_request()) {
    conn.send(wrapped ? pp::wrap_message(std::move(msg), std::nullopt, nodes_[dest].generation) : std::move(msg));
    return;
  }
  if (is_init && dest != upstream_node && nodes_[dest].proxy && nodes_[dest].generation == pp::generation::current)
    nodes_[dest].init_request = msg; // for the older handshake, should it answer -32601
  const json::value origin_id = msg.id();
  auto key = inflight_key(origin, origin_id);
  auto self = shared_from_this();
  auto outgoing = wrapped ? pp::wrap_message(std::move(msg), json::value(0), nodes_[dest].generation) : std::move(msg);
  auto wire = std::make_shared<json::value>();
  *wire = conn.send_request(std::move(outgoing), [self, key, wire, is_init](message resp) {
    self->on_response(key, *wire, is_init, std::move(resp));
  });
  inflight_[key] = inflight{origin, origin_id, dest, *wire, wrapped};
}

void router::on_response(const std::string& key, const json::value& wire_id, bool is_init, message resp) {
  auto it = inflight_.find(key);
  if (it == inflight_.end() || it->second.wire_id != wire_id) return; // already answered (a failure)
  const inflight entry = std::move(it->second);
  inflight_.erase(it);
  auto& dest = nodes_[entry.dest];
  if (is_init && entry.dest != upstream_node) {
    const auto e = resp.error();
    const bool refused = e && e->code == error_codes::method_not_found;
    if (dest.proxy && refused && dest.generation == pp::generation::current && dest.init_request) {
      // Perhaps a proxy of the older generation (docs/PROTOCOL.md §4.7): retry with its handshake.
      dest.generation = pp::generation::legacy;
      auto retry = legacy_initialize(std::move(*dest.init_request));
      dest.init_request.reset();
      send_to(entry.dest, false, std::move(retry), entry.origin, true);
      return;
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
    for (auto& h : held) {
      if (stopping_) {
        // Shutting down (this may be the failure of the `initialize` itself): nothing new is sent;
        // a request sent now would wait on a link whose pending requests were already failed.
        if (h.msg.is_request())
          nodes_[h.origin].conn->send_error(h.msg.id(), rpc_error::internal_error("the conductor is shutting down"));
        continue;
      }
      send_to(entry.dest, h.wrapped, std::move(h.msg), h.origin, false);
    }
  }
  if (stopping_ && entry.origin != upstream_node) return;
  resp.set_id(entry.origin_id);
  if (trace_) {
    const bool to_client = entry.wrapped || entry.dest < entry.origin;
    const auto* payload = resp.is_error() ? resp.json().if_contains("error") : resp.result();
    trace_->response(trace_endpoint(entry.dest, entry.wrapped && entry.dest == upstream_node),
                     trace_endpoint(entry.origin, to_client), entry.origin_id, resp.is_error(),
                     payload ? *payload : json::value(nullptr));
  }
  nodes_[entry.origin].conn->send(std::move(resp));
}

void router::handle_cancel(std::size_t origin, const message& msg) {
  const auto* params = msg.params();
  const auto* id = params && params->is_object() ? params->get_object().if_contains("requestId") : nullptr;
  if (!id) return log::warn(nodes_[origin].name, "$/cancel_request without requestId");
  auto it = inflight_.find(inflight_key(origin, *id));
  if (it == inflight_.end()) return; // already answered
  const auto& entry = it->second;
  json::object p;
  p["requestId"] = entry.wire_id;
  auto cancel = message::notification("$/cancel_request", json::value(std::move(p)));
  nodes_[entry.dest].conn->send(entry.wrapped ? pp::wrap_message(std::move(cancel), std::nullopt, nodes_[entry.dest].generation)
                                              : std::move(cancel));
}

// ---- components --------------------------------------------------------------------------

bool router::start_components(std::string& error, json::object& data) {
  stderr_options err_opts;
  err_opts.mode = opts_.stderr_mode;
  for (std::size_t k = 0; k < count(); ++k) {
    const auto& spec = opts_.components[k];
    if (k < in_process_.size()) { // test seam (start_in_process): no process, just the link
      node n;
      n.name = spec.name;
      n.proxy = !agent_mode() || k + 1 < count();
      n.initialized = false;
      n.conn = connection::create(ex_, std::move(in_process_[k]), link_options(spec.name));
      nodes_.push_back(std::move(n));
      continue;
    }
    auto child = child_process::spawn(ex_, spec, err_opts);
    if (!child) {
      error = "cannot start component '" + spec.name + "': " + child.error().message;
      data["reason"] = "spawn_failed";
      data["component"] = spec.name;
      data["detail"] = child.error().message;
      return false;
    }
    node n;
    n.name = spec.name;
    n.proxy = !agent_mode() || k + 1 < count();
    n.initialized = false;
    const int out_fd = child->stdout_pipe().release();
    const int in_fd = child->stdin_pipe().release();
    n.conn = connection::create(ex_, make_fd_transport(ex_, out_fd, in_fd, "component " + spec.name),
                                link_options(spec.name));
    n.child.emplace(std::move(*child));
    nodes_.push_back(std::move(n));
  }
  auto self = shared_from_this();
  for (std::size_t k = 0; k < count(); ++k) {
    auto& conn = *nodes_[k + 1].conn;
    conn.on_message([self, k](message msg) { self->on_component(k, std::move(msg)); });
    conn.on_close([self, k](const close_info&) { self->component_ended(k); });
    conn.start();
    if (!nodes_[k + 1].child) continue;
    asio::co_spawn(ex_, [self, k]() -> asio::awaitable<void> {
      (void)co_await self->nodes_[k + 1].child->async_wait();
      self->component_ended(k);
    }, log::on_failure(nodes_[k + 1].name, "watching for the component's exit", [self, k] { self->component_ended(k); }));
  }
  return true;
}

void router::component_ended(std::size_t k) {
  if (stopping_ || failed_) return;
  failed_ = true;
  auto self = shared_from_this();
  asio::co_spawn(ex_, fail_component(k), log::on_failure(nodes_[k + 1].name, "reporting the component's failure", [self] {
                   self->shutdown(1, "internal_error", "failure report failed");
                 }));
}

asio::awaitable<void> router::fail_component(std::size_t k) {
  auto self = shared_from_this();
  auto& n = nodes_[k + 1];
  std::optional<exit_status> status;
  if (n.child) status = co_await n.child->async_wait_for(std::chrono::seconds(1));
  const std::string how = !n.child ? "closed its link"
                          : status ? to_string(*status)
                                   : "closed its output but is still running";
  json::object data;
  data["reason"] = "component_exited";
  data["component"] = n.name;
  data["exit_status"] = how;
  data["stderr_tail"] = n.child ? n.child->stderr_tail() : std::string();
  const auto err = rpc_error::internal_error("component '" + n.name + "' " + how, json::value(data));
  log::error(n.name, "component " + how + "; shutting down the chain");
  n.conn->fail_pending(err);
  fail_upstream_requests(err);
  shutdown(1, "component_exited", how);
}

void router::fail_upstream_requests(const rpc_error& e) {
  std::vector<std::pair<std::string, inflight>> failed;
  for (auto& [key, entry] : inflight_)
    if (entry.origin == upstream_node) failed.emplace_back(key, entry);
  for (auto& [key, entry] : failed) {
    inflight_.erase(key);
    nodes_[upstream_node].conn->send_error(entry.origin_id, e);
  }
}

// ---- shutdown ----------------------------------------------------------------------------

void router::shutdown(int code, std::string reason, std::string detail) {
  if (stopping_) return;
  stopping_ = true;
  exit_code_ = code;
  // If the orderly sequence itself fails, stop hard: kill every child's group and end the loop.
  auto self = shared_from_this();
  asio::co_spawn(ex_, shutdown_sequence(std::move(reason), std::move(detail)),
                 log::on_failure("", "orderly shutdown", [self] {
                   for (auto& n : self->nodes_)
                     if (n.child) n.child->kill_group();
                   self->exit_code_ = 1;
                   self->io_.stop();
                 }));
}

asio::awaitable<void> router::shutdown_sequence(std::string reason, std::string detail) {
  auto self = shared_from_this();
  json::object data;
  data["reason"] = reason;
  if (!detail.empty()) data["detail"] = detail;
  const auto err = rpc_error::internal_error("the chain is shutting down (" + reason + ")", json::value(data));
  fail_upstream_requests(err);
  nodes_[upstream_node].conn->fail_pending(err);
  for (std::size_t i = 1; i < nodes_.size(); ++i) nodes_[i].conn->fail_pending(err);
  // Requests still held for a component that never answered `initialize` are answered too.
  for (std::size_t i = 1; i < nodes_.size(); ++i) {
    auto held = std::move(nodes_[i].held);
    for (auto& h : held)
      if (h.msg.is_request()) nodes_[h.origin].conn->send_error(h.msg.id(), err);
  }

  // Flush what the editor is owed, then give every child EOF, the grace period, TERM, KILL.
  nodes_[upstream_node].conn->close();
  std::size_t running = 0;
  asio::steady_timer all_done(ex_, asio::steady_timer::time_point::max());
  for (std::size_t i = 1; i < nodes_.size(); ++i) {
    nodes_[i].conn->close();
    if (!nodes_[i].child) continue;
    ++running;
    asio::co_spawn(ex_, [self, i, &running, &all_done]() -> asio::awaitable<void> {
      (void)co_await self->nodes_[i].child->terminate(self->opts_.grace_period);
      if (--running == 0) all_done.cancel();
    }, log::on_failure(nodes_[i].name, "stopping the component", [self, i, &running, &all_done] {
      self->nodes_[i].child->kill_group();
      if (--running == 0) all_done.cancel();
    }));
  }
  if (running > 0) (void)co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  auto flush_limit = std::make_shared<asio::steady_timer>(ex_, opts_.grace_period);
  auto up = nodes_[upstream_node].conn;
  if (!up->closed()) {
    // Give the editor's writer the grace period to drain; then stop regardless.
    asio::co_spawn(ex_, [up, flush_limit]() -> asio::awaitable<void> {
      co_await up->wait_closed();
      flush_limit->cancel();
    }, log::on_failure(up->name(), "flushing the output", [flush_limit] { flush_limit->cancel(); }));
    (void)co_await flush_limit->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  io_.stop();
}

// ---- entry points ------------------------------------------------------------------------

namespace {
/// Opens the trace file, if any. False (and a message on stderr) when it cannot be created.
bool open_trace(const conductor_options& options, std::optional<trace_writer>& out) {
  if (!options.trace_file) return true;
  auto t = trace_writer::open(*options.trace_file);
  if (!t) {
    log::error("", "cannot create trace file " + *options.trace_file + ": " + t.error().message());
    return false;
  }
  out.emplace(std::move(*t));
  return true;
}
} // namespace

int run(const conductor_options& options, transport_ptr upstream) {
  std::optional<trace_writer> trace;
  if (!open_trace(options, trace)) return 2;
  asio::io_context io;
  auto r = std::make_shared<router>(io, options, std::move(upstream), std::move(trace));
  r->start();
  io.run();
  return r->exit_code();
}

std::shared_ptr<router> start_in_process(asio::io_context& io, const conductor_options& options,
                                         transport_ptr upstream, std::vector<transport_ptr> components) {
  auto r = std::make_shared<router>(io, options, std::move(upstream), std::nullopt, std::move(components));
  r->start();
  return r;
}

int run_stdio(const conductor_options& options) {
  std::signal(SIGPIPE, SIG_IGN);
  std::optional<trace_writer> trace;
  if (!open_trace(options, trace)) return 2;
  asio::io_context io;
  auto r = std::make_shared<router>(io, options, make_stdio_transport(io.get_executor()), std::move(trace));
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([r](boost::system::error_code ec, int sig) {
    if (!ec) r->shutdown(0, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  r->start();
  io.run();
  return r->exit_code();
}

} // namespace acp::conductor
