// Lifecycle (docs/PROTOCOL.md §6): links and components start, a component fails, the chain shuts
// down; and the entry points.

#include "router_impl.hpp"

#include <acp/protocol/json_scan.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <csignal>

namespace acp::conductor {
namespace asio = boost::asio;
namespace json = boost::json;
using jsonrpc::message;
using namespace std::chrono_literals;

namespace {
/// How long traced events may gather on the routing thread before they go to the trace's writer
/// thread (which gathers for 5 ms more before it writes).
constexpr std::chrono::milliseconds trace_publish_delay{1};
} // namespace

router::router(asio::io_context& io, const conductor_options& opts, transport_ptr upstream_transport,
               std::optional<trace_writer> trace, std::vector<transport_ptr> in_process)
    : router(io, opts, message_channel_ptr(), std::move(trace)) {
  // The editor's link is made here, so that --debug-dir sees its bytes (what the editor sent
  // and what it was answered, on the conductor's own stdin and stdout).
  auto& up = at(upstream);
  auto file = debug_file_for(up.name, "C", "the conductor's stdin and stdout");
  auto tapped = tap_transport(std::move(upstream_transport), file, debug_file::stream::in, debug_file::stream::out);
  up.conn = connection::create(ex_, make_ndjson_channel(ex_, std::move(tapped), {opts_.max_message_size}),
                               link_options(up.name));
  for (auto& t : in_process) ready_.push_back(make_ndjson_channel(ex_, std::move(t), {opts.max_message_size}));
}

router::router(asio::io_context& io, const conductor_options& opts, message_channel_ptr upstream_channel,
               std::optional<trace_writer> trace)
    : io_(io), ex_(io.get_executor()), opts_(opts), gate_(std::make_shared<flow_gate>(ex_)),
      inbound_([this](link_id to, message answer) { reply(to, std::move(answer)); }), trace_(std::move(trace)),
      on_end_([&io] { io.stop(); }) {
  link up;
  up.id = upstream;
  up.name = agent_mode() ? "editor" : "parent";
  if (upstream_channel) up.conn = connection::create(ex_, std::move(upstream_channel), link_options(up.name));
  links_.push_back(std::move(up));
  if (opts_.debug_dir) {
    if (auto d = debug_log::open(*opts_.debug_dir)) {
      debug_ = std::move(*d);
      log::info("", "debug logs in " + debug_->dir());
    } else {
      debug_error_ = d.error();
    }
  }
}

std::shared_ptr<debug_file> router::debug_file_for(std::string_view name, std::string label, std::string_view about) {
  if (!debug_) return nullptr;
  auto f = debug_->create_file(name, std::move(label), about);
  if (!f) {
    log::warn(std::string(name), "no debug log: " + f.error());
    return nullptr;
  }
  return std::move(*f);
}

connection_options router::link_options(std::string name) const {
  connection_options o;
  o.name = std::move(name);
  o.max_message_bytes = opts_.max_message_size;
  o.gate = gate_;
  o.fail_pending_on_close = false;
  o.pause_on_own_congestion = false; // links forward to each other: see connection_options
  return o;
}

void router::start() {
  if (!debug_error_.empty()) { // --debug-dir was asked for and cannot be had: nothing runs
    log::error("", debug_error_);
    exit_code_ = 2;
    end_reason_ = "debug_log_failed";
    stopping_ = true;
    if (auto end = std::exchange(on_end_, nullptr)) asio::post(ex_, std::move(end));
    return;
  }
  if (trace_) {
    // Traced events go to the trace's writer thread in batches: when 64 KiB have gathered, or
    // 1 ms after the first event of a batch (one lock per batch, not per event, and one timer per
    // millisecond at most: docs/PERFORMANCE.md, "Tracing").
    trace_->publish_on_request([weak = weak_from_this(), timer = std::make_shared<asio::steady_timer>(ex_)] {
      timer->expires_after(trace_publish_delay);
      timer->async_wait([weak](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock(); self && self->trace_) self->trace_->publish();
      });
    });
  }
  auto& up = *at(upstream).conn;
  up.on_message([weak = weak_from_this()](message&& msg) {
    if (auto self = weak.lock()) self->on_message(upstream, std::move(msg));
  });
  up.on_close([weak = weak_from_this()](const close_info& info) {
    auto self = weak.lock();
    if (!self || self->stopping_) return;
    const bool clean = info.reason == close_reason::eof || info.reason == close_reason::closed_locally;
    self->shutdown(clean ? 0 : 1, "incoming_transport_closed", info.detail);
  });
  trace_own_messages(upstream);
  up.start();
}

// ---- components --------------------------------------------------------------------------

namespace {
/// `command args...` for a debug log's header (the environment is left out: it may hold secrets).
std::string describe_command(const component_spec& spec) {
  std::string text = spec.command;
  for (const auto& a : spec.args) text += " " + a;
  return text;
}
} // namespace

bool router::start_components(std::string& error, json::object& data) {
  stderr_options err_opts;
  err_opts.mode = opts_.stderr_mode;
  // --debug-dir records each component's stderr too, whatever --stderr says; forwarded lines
  // still go to this process's stderr through one forwarder.
  stderr_sink forward;
  if (debug_ && err_opts.mode == stderr_mode::forward) forward = make_stderr_forwarder(ex_);
  if (debug_) err_opts.mode = stderr_mode::forward;
  const auto count = opts_.components.size();
  for (std::size_t k = 0; k < count; ++k) {
    const auto& spec = opts_.components[k];
    link l;
    l.id = static_cast<link_id>(links_.size());
    l.name = spec.name;
    l.position = k;
    l.proxy = !agent_mode() || k + 1 < count;
    l.initialized = false;
    l.remote = spec.remote();
    if (k < ready_.size() && ready_[k]) { // connected (remote), or the test seam's in-process link
      l.conn = connection::create(ex_, std::move(ready_[k]), link_options(spec.name));
    } else {
      auto file = debug_file_for(spec.name, std::to_string(k), describe_command(spec));
      if (debug_) err_opts.sink = tap_stderr(file, forward);
      auto child = child_process::spawn(ex_, spec, err_opts);
      if (!child) {
        error = "cannot start component '" + spec.name + "': " + child.error().message;
        data["reason"] = "spawn_failed";
        data["component"] = spec.name;
        data["detail"] = child.error().message;
        return false;
      }
      auto tapped =
          tap_transport(child->take_transport(), std::move(file), debug_file::stream::out, debug_file::stream::in);
      l.conn = connection::create(ex_, std::move(tapped), link_options(spec.name));
      l.child.emplace(std::move(*child));
    }
    chain_.push_back(l.id);
    links_.push_back(std::move(l));
  }
  for (const auto id : chain_) attach(id);
  return true;
}

void router::trace_own_messages(link_id id) {
  if (!trace_) return;
  // What a link's connection answers by itself (a line it could not read, ...) is traced as the
  // conductor's own answers are: from what that peer talks to, to the peer.
  at(id).conn->on_own_message([weak = weak_from_this(), id](const message& m) {
    auto self = weak.lock();
    if (!self || !self->trace_) return;
    self->trace_->message(self->own_endpoint(id, id == upstream ? toward::agent : toward::client),
                          self->trace_endpoint(id, false), m);
  });
}

void router::attach(link_id id) {
  auto weak = weak_from_this();
  auto& l = at(id);
  l.conn->on_message([weak, id](message&& msg) {
    if (auto self = weak.lock()) self->on_message(id, std::move(msg));
  });
  l.conn->on_close([weak, id](const close_info& info) {
    auto self = weak.lock();
    if (!self) return;
    if (info.reason != close_reason::eof && info.reason != close_reason::closed_locally)
      self->at(id).closed_why = info.detail;
    self->component_ended(id);
  });
  trace_own_messages(id);
  l.conn->start();
  if (!l.child) return;
  auto self = shared_from_this();
  asio::co_spawn(
      ex_,
      [self, id]() -> asio::awaitable<void> {
        (void)co_await self->at(id).child->async_wait();
        self->component_ended(id);
      },
      log::on_failure(l.name, "watching for the component's exit", [self, id] { self->component_ended(id); }));
}

void router::component_ended(link_id id) {
  wake_drain();
  if (stopping_ || failed_) return;
  failed_ = true;
  auto self = shared_from_this();
  asio::co_spawn(ex_, fail_component(id), log::on_failure(at(id).name, "reporting the component's failure", [self] {
                   self->shutdown(1, "internal_error", "failure report failed");
                 }));
}

asio::awaitable<void> router::fail_component(link_id id) {
  auto self = shared_from_this(); // the router outlives this coroutine
  auto& n = at(id);
  std::optional<exit_status> status;
  if (n.child) status = co_await n.child->async_wait_for(std::chrono::seconds(1));
  const std::string how = n.remote   ? "closed the connection" + (n.closed_why.empty() ? "" : ": " + n.closed_why)
                          : !n.child ? "closed its link"
                          : status   ? to_string(*status)
                                     : "closed its output but is still running";
  json::object data;
  data["reason"] = "component_exited";
  data["component"] = n.name;
  data["exit_status"] = how;
  data["stderr_tail"] = n.child ? n.child->stderr_tail() : std::string();
  const auto err = rpc_error::internal_error("component '" + n.name + "' " + how, json::value(data));
  log::error(n.name, "component " + how + "; shutting down the chain");
  // Requests waiting on the component are answered (their senders learn which one failed),
  // then every editor request still in flight elsewhere.
  n.conn->fail_pending(err);
  fail_upstream(err);
  shutdown(1, "component_exited", how);
}

void router::fail_held(const rpc_error& e) {
  // Requests held for a component that never answered `initialize` never left: answer them.
  for (auto id : chain_) {
    auto held = std::move(at(id).held);
    at(id).held.clear();
    for (auto& h : held)
      if (h.in && !h.in->answered())
        answering_as(own_endpoint(h.in->link(), h.dir), [&] { (void)h.in->answer_error(e); });
  }
}

void router::fail_upstream(const rpc_error& e) {
  answering_as(own_endpoint(upstream, toward::agent), [&] { inbound_.fail_link(upstream, e); });
}

// ---- turns in flight ---------------------------------------------------------------------

namespace {
/// `params.sessionId` as JSON text; empty when it is not a string.
std::string session_of(const message& msg) {
  if (const auto text = msg.payload_text()) {
    if (text->empty() || text->front() != '{') return {};
    const auto m = json_scan::find_member_of_valid_object(*text, "sessionId");
    return m && !m->value.empty() && m->value.front() == '"' ? std::string(m->value) : std::string();
  }
  const auto* params = msg.params();
  const auto* obj = params ? params->if_object() : nullptr;
  const auto* id = obj ? obj->if_contains("sessionId") : nullptr;
  return id && id->is_string() ? json::serialize(*id) : std::string();
}

bool unanswered(const std::weak_ptr<inbound_request>& weak) {
  const auto in = weak.lock();
  return in && !in->answered();
}
} // namespace

void router::note_prompt(const inbound_ptr& in, const message& msg) {
  std::erase_if(prompts_, [](const auto& p) { return !unanswered(p.first); });
  auto session = session_of(msg);
  if (!session.empty()) prompts_.emplace_back(in, std::move(session));
}

std::vector<std::string> router::prompting_sessions() {
  std::vector<std::string> out;
  for (const auto& [weak, session] : prompts_)
    if (unanswered(weak) && std::find(out.begin(), out.end(), session) == out.end()) out.push_back(session);
  prompts_.clear();
  return out;
}

// ---- shutdown ----------------------------------------------------------------------------

void router::shutdown(int code, std::string reason, std::string detail) {
  if (stopping_) return;
  stopping_ = true;
  exit_code_ = code;
  end_reason_ = reason;
  // If the orderly sequence itself fails, stop hard: kill every child's group and end the loop.
  auto self = shared_from_this();
  asio::co_spawn(ex_, shutdown_sequence(std::move(reason), std::move(detail)),
                 log::on_failure("", "orderly shutdown", [self] {
                   for (auto& l : self->links_)
                     if (l.child) l.child->kill_group();
                   self->exit_code_ = 1;
                   if (auto end = std::exchange(self->on_end_, nullptr)) end();
                 }));
}

namespace {
// What the component stoppers share with the shutdown sequence. Held by every one of them, so
// it outlives whichever finishes last (never a reference to the sequence's own locals).
struct stop_count {
  explicit stop_count(const asio::any_io_executor& ex) : all_done(ex, asio::steady_timer::time_point::max()) {}
  std::size_t running = 0;
  asio::steady_timer all_done;
  void one_done() {
    if (--running == 0) all_done.cancel();
  }
};
} // namespace

namespace {
/// "2 s", "300 ms".
std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

/// How long a child gets after SIGTERM before SIGKILL.
constexpr std::chrono::milliseconds term_wait{500};
} // namespace

asio::awaitable<void> router::shutdown_sequence(std::string reason, std::string detail) {
  auto self = shared_from_this();
  json::object data;
  data["reason"] = reason;
  if (!detail.empty()) data["detail"] = detail;
  const auto err = rpc_error::internal_error("the chain is shutting down (" + reason + ")", json::value(data));
  // The editor is answered at once: its requests in flight, and (towards the components, which
  // are still heard) the requests they had sent it. Then its link is flushed and closed.
  auto sessions = failed_ ? std::vector<std::string>() : prompting_sessions();
  if (starting_) fail_start(err); // still reaching remote components
  fail_upstream(err);
  at(upstream).conn->fail_pending(err);
  fail_held(err);
  at(upstream).conn->close();

  // A turn in flight ends as an editor ends it; the components are read all along (a component
  // writing into a closed pipe would fill the user's terminal with EPIPE errors).
  if (!sessions.empty()) co_await cancel_turns(std::move(sessions));

  // Then every child gets EOF, the grace period, TERM, KILL, and is read until it exits.
  auto stops = std::make_shared<stop_count>(ex_);
  for (auto id : chain_) {
    if (at(id).remote) { // its end of the stream (a close frame), and the grace period to answer it
      at(id).conn->end_output();
      ++stops->running;
      asio::co_spawn(
          ex_,
          [self, id, stops]() -> asio::awaitable<void> {
            co_await self->stop_remote(id);
            stops->one_done();
          },
          log::on_failure(at(id).name, "closing the connection", [self, id, stops] {
            self->at(id).conn->abort();
            stops->one_done();
          }));
      continue;
    }
    if (!at(id).child) { // in-process (tests): no process to wait for (close still flushes)
      at(id).conn->fail_pending(err);
      at(id).conn->close();
      continue;
    }
    at(id).conn->end_output();
    ++stops->running;
    asio::co_spawn(
        ex_,
        [self, id, stops]() -> asio::awaitable<void> {
          co_await self->stop_component(id);
          stops->one_done();
        },
        log::on_failure(at(id).name, "stopping the component", [self, id, stops] {
          self->at(id).child->kill_group();
          stops->one_done();
        }));
  }
  if (stops->running > 0) (void)co_await stops->all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  // The agent's MCP servers stay up while it exits (an agent whose server vanishes first reports
  // an error on its way out); then the bridge stops and answers what still waits on it.
  stop_bridge(err);
  // Only now, with no component left to answer late (a late answer to a request failed here
  // would be "a response with unknown id"), is what they still owed answered.
  for (auto id : chain_) at(id).conn->fail_pending(err);
  auto flush_limit = std::make_shared<asio::steady_timer>(ex_, opts_.grace_period);
  auto up = at(upstream).conn;
  if (!up->closed()) {
    // Give the editor's writer the grace period to drain; then stop regardless.
    asio::co_spawn(
        ex_,
        [up, flush_limit]() -> asio::awaitable<void> {
          co_await up->wait_closed();
          flush_limit->cancel();
        },
        log::on_failure(up->name(), "flushing the output", [flush_limit] { flush_limit->cancel(); }));
    (void)co_await flush_limit->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (auto end = std::exchange(on_end_, nullptr)) end();
}

asio::awaitable<void> router::cancel_turns(std::vector<std::string> sessions) {
  auto self = shared_from_this();
  draining_ = true;
  // The cancel goes down the chain like the editor's own: each proxy sees it and passes it on.
  for (const auto& session : sessions) {
    log::debug("", "ending the turn of session " + session + " with session/cancel");
    route(upstream, toward::agent,
          message::from_text(jsonrpc::message_kind::notification, nullptr, "session/cancel",
                             "{\"sessionId\":" + session + "}"));
  }
  // The turns' answers come back through the proxies (what reaches the editor's side is dropped).
  // A link that has stopped reading can answer nothing more.
  auto busy = [this] {
    return std::any_of(chain_.begin(), chain_.end(), [this](link_id id) {
      const auto& c = *at(id).conn;
      return c.pending_requests() > 0 && !c.close_status();
    });
  };
  // Woken by every message from a component and every link that closes (`wake_drain`); the
  // timer's own expiry is the deadline.
  drain_wake_ = std::make_shared<asio::steady_timer>(ex_, opts_.grace_period);
  const auto wake = drain_wake_;
  while (busy() && std::chrono::steady_clock::now() < wake->expiry())
    (void)co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
  drain_wake_.reset();
  if (busy())
    log::info("", "the turn did not end within " + duration_text(opts_.grace_period) +
                      " of session/cancel; stopping the components");
  draining_ = false;
}

asio::awaitable<void> router::stop_remote(link_id id) {
  auto self = shared_from_this();
  auto conn = at(id).conn;
  auto limit = std::make_shared<asio::steady_timer>(ex_, opts_.grace_period);
  asio::co_spawn(
      ex_,
      [conn, limit]() -> asio::awaitable<void> {
        co_await conn->wait_closed();
        limit->cancel();
      },
      log::on_failure(conn->name(), "closing the connection", [limit] { limit->cancel(); }));
  (void)co_await limit->async_wait(asio::as_tuple(asio::use_awaitable));
  if (conn->closed()) co_return;
  log::info(at(id).name, "the remote component did not close its connection within " +
                             duration_text(opts_.grace_period) + "; closing it");
  conn->abort();
}

asio::awaitable<void> router::stop_component(link_id id) {
  auto self = shared_from_this();
  auto& child = *at(id).child;
  const auto grace = opts_.grace_period;
  if (co_await child.async_wait_for(grace)) {
    (void)co_await child.terminate(0ms, term_wait); // what is left of its process group
    co_return;
  }
  // It ignores EOF: say so, or every shutdown costs a silent grace period.
  const auto who = std::string(at(id).proxy ? "proxy" : "agent") + " `" + at(id).name + "`";
  log::info("", who + " did not exit within " + duration_text(grace) + " of EOF; sending SIGTERM");
  const auto st = co_await child.terminate(0ms, term_wait);
  if (st == exit_status{exit_status::kind::signaled, SIGKILL})
    log::info("", who + " did not exit within " + duration_text(term_wait) + " of SIGTERM; ended by SIGKILL");
  else if (st == exit_status{exit_status::kind::signaled, SIGTERM})
    log::info("", who + " ended by SIGTERM");
  else
    log::info("", who + " " + to_string(st) + " after SIGTERM");
}

} // namespace acp::conductor
