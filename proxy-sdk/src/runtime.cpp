#include "runtime.hpp"

#include <acp/protocol/envelope.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

namespace acp::detail {
namespace asio = boost::asio;
namespace json = boost::json;
namespace pp = acp::proxy_protocol;

namespace {
/// A notification (a cancel) toward the agent, inside `_proxy/successor`.
jsonrpc::message wrap_notification(jsonrpc::message m) { return pp::wrap_message(std::move(m), std::nullopt); }
} // namespace

runtime::runtime(chain_role r)
    : role_(r), inbound_([this](link_id, jsonrpc::message answer) { reply(std::move(answer)); }) {}

void runtime::start(const asio::any_io_executor& ex, message_channel_ptr channel) {
  ex_ = ex;
  self_ = shared_from_this();
  done_wake_ = std::make_unique<asio::steady_timer>(ex_);
  done_wake_->expires_at(asio::steady_timer::time_point::max()); // woken by cancel()
  auto copts = opts_.connection;
  if (copts.name == "peer")
    copts.name = role_ == chain_role::agent ? "client" : role_ == chain_role::client ? "agent" : "conductor";
  conn_ = connection::create(ex_, std::move(channel), std::move(copts));
  // Weak: the connection holds its handlers until it has closed; the runtime may go first.
  conn_->on_message([weak = weak_from_this()](jsonrpc::message msg) {
    if (auto self = weak.lock()) self->on_message(std::move(msg));
  });
  conn_->on_close([weak = weak_from_this()](const close_info& info) {
    if (auto self = weak.lock()) self->on_closed(info);
  });
  conn_->start();
}

const std::optional<close_info>& runtime::close_status() const noexcept { return status_; }

// ---- incoming ----------------------------------------------------------------------------

void runtime::on_message(jsonrpc::message msg) {
  if (shutting_down_ && msg.is_request()) {
    conn_->send_error(msg.id(), rpc_error::internal_error("shutting down"));
    return;
  }
  peer from = only_peer();
  if (role_ == chain_role::proxy) {
    if (pp::is_successor_method(msg.method())) {
      std::string why;
      const bool is_request = msg.is_request();
      const json::value id = msg.id();
      auto inner = pp::unwrap_message(std::move(msg), &why);
      if (!inner) {
        log::warn(conn_->name(), "malformed _proxy/successor envelope: " + why);
        if (is_request) conn_->send_error(id, rpc_error::invalid_params("Invalid params: " + why));
        return;
      }
      msg = std::move(*inner);
      from = peer::agent;
    } else {
      from = peer::client;
      if (msg.method() == "initialize" && msg.is_request()) {
        conn_->send_error(msg.id(), rpc_error::invalid_request(
                                        "Invalid request: proxies must be initialized with `_proxy/initialize`"));
        return;
      }
      if (pp::is_proxy_initialize_method(msg.method())) msg.set_method("initialize");
    }
  }
  if (msg.method() == "$/cancel_request") return handle_cancel(from, msg);
  if (msg.is_request())
    dispatch_request(from, msg);
  else
    dispatch_notification(from, msg);
}

void runtime::dispatch_request(peer from, jsonrpc::message& msg) {
  auto in = inbound_.accept(link_of(from), msg);
  if (!in) {
    log::warn(conn_->name(), "request id " + jsonrpc::id_key(msg.id()) + " is already in use; refused");
    return inbound_.reply_now(link_of(from), msg.id(), inbound_table::duplicate_id_error(msg.id()));
  }
  responder r(std::move(in));
  context cx(shared_from_this());
  if (auto session = session_handlers_for(msg)) {
    if (run_request_handlers(session->requests, from, msg, r, cx)) return;
  }
  if (run_request_handlers(requests_, from, msg, r, cx)) return;
  // Default behaviour.
  if (role_ == chain_role::proxy) return forward_default(from, std::move(msg), std::move(r));
  r.respond_error(rpc_error::method_not_found(msg.method()));
}

void runtime::forward_default(peer from, jsonrpc::message msg, responder r) {
  // Unhandled: passed on with the forwarding core (fresh id, cancel re-issued, answered once).
  auto in = std::move(r).release();
  if (!in) return;
  const peer to = from == peer::client ? peer::agent : peer::client;
  forward_options fo;
  if (wraps(to)) {
    fo.wrap = wrap_notification;
    (void)forward(in, *conn_, pp::wrap_message(std::move(msg), json::value(0)), std::move(fo));
  } else {
    (void)forward(in, *conn_, std::move(msg), std::move(fo));
  }
}

void runtime::dispatch_notification(peer from, jsonrpc::message& msg) {
  context cx(shared_from_this());
  if (auto session = session_handlers_for(msg)) {
    if (run_notification_handlers(session->notifications, from, msg, cx)) return;
  }
  if (run_notification_handlers(notifications_, from, msg, cx)) return;
  if (role_ == chain_role::proxy) {
    send_notification(from == peer::client ? peer::agent : peer::client, std::move(msg));
    return;
  }
  log::debug(conn_->name(), "ignoring notification " + std::string(msg.method()));
}

void runtime::handle_cancel(peer from, const jsonrpc::message& msg) {
  const auto* params = msg.params();
  const auto* id = params && params->is_object() ? params->get_object().if_contains("requestId") : nullptr;
  if (!id) {
    log::warn(conn_->name(), "$/cancel_request without requestId");
    return;
  }
  (void)inbound_.cancel(link_of(from), *id); // false: already answered, nothing to do
}

void runtime::reply(jsonrpc::message answer) {
  if (closed_ && !conn_->reading() && conn_->closed()) {
    log::debug("responder", "connection closed; an answer was not sent");
    return;
  }
  conn_->send(std::move(answer));
}

// ---- handler chains ----------------------------------------------------------------------

bool runtime::run_request_handlers(const std::vector<request_entry>& chain, peer from, jsonrpc::message& msg,
                                   responder& r, context& cx) {
  for (const auto& h : chain) {
    if (h.from != from || (!h.method.empty() && h.method != msg.method())) continue;
    handled verdict = handled::yes;
    try {
      verdict = h.fn(msg, r, cx);
    } catch (const std::exception& e) {
      log::error(conn_->name(), "handler for " + std::string(msg.method()) + " failed: " + e.what());
      if (r) r.respond_error(rpc_error::internal_error(std::string("handler failed: ") + e.what()));
      return true;
    }
    if (verdict == handled::yes) return true; // an untaken responder answers -32603 as it goes
    if (!r) {
      log::error(conn_->name(), "a handler for " + std::string(msg.method()) +
                                    " took the responder but returned handled::no; dispatch stops");
      return true;
    }
  }
  return false;
}

bool runtime::run_notification_handlers(const std::vector<notification_entry>& chain, peer from, jsonrpc::message& msg,
                                        context& cx) {
  for (const auto& h : chain) {
    if (h.from != from || (!h.method.empty() && h.method != msg.method())) continue;
    try {
      if (h.fn(msg, cx) == handled::yes) return true;
    } catch (const std::exception& e) {
      log::error(conn_->name(), "handler for " + std::string(msg.method()) + " failed: " + e.what());
      return true;
    }
  }
  return false;
}

std::shared_ptr<const session_handlers> runtime::session_handlers_for(const jsonrpc::message& msg) const {
  if (sessions_.empty()) return nullptr;
  const auto* params = msg.params();
  const auto* obj = params ? params->if_object() : nullptr;
  const auto* id = obj ? obj->if_contains("sessionId") : nullptr;
  if (!id || !id->is_string()) return nullptr;
  auto it = sessions_.find(std::string(id->get_string()));
  return it == sessions_.end() ? nullptr : it->second; // a copy: handlers may change the table
}

void runtime::add_session_request_handler(std::string session_id, request_entry entry) {
  if (done_) return; // the endpoint has finished: nothing would run it, and it could hold the runtime
  auto& slot = sessions_[std::move(session_id)];
  auto next = std::make_shared<session_handlers>(slot ? *slot : session_handlers{});
  next->requests.push_back(std::move(entry));
  slot = std::move(next);
}

void runtime::add_session_notification_handler(std::string session_id, notification_entry entry) {
  if (done_) return; // the endpoint has finished: nothing would run it, and it could hold the runtime
  auto& slot = sessions_[std::move(session_id)];
  auto next = std::make_shared<session_handlers>(slot ? *slot : session_handlers{});
  next->notifications.push_back(std::move(entry));
  slot = std::move(next);
}

void runtime::forget_session(const std::string& session_id) { sessions_.erase(session_id); }

// ---- outgoing ----------------------------------------------------------------------------

sent_request runtime::send_request(peer to, jsonrpc::message request) {
  auto st = std::make_shared<sent_state>();
  st->rt = weak_from_this();
  st->to = to;
  if (role_ != chain_role::proxy && to != only_peer()) {
    st->response =
        jsonrpc::message::error_response(nullptr, rpc_error::internal_error(std::string("this endpoint has no ") +
                                                                            std::string(to_string(to)) + " peer"));
    return sent_request(st);
  }
  auto on_response = [st](jsonrpc::message resp) { st->complete(std::move(resp)); };
  if (wraps(to))
    st->wire_id = conn_->send_request(pp::wrap_message(std::move(request), json::value(0)), std::move(on_response));
  else
    st->wire_id = conn_->send_request(std::move(request), std::move(on_response));
  return sent_request(st);
}

void runtime::send_notification(peer to, jsonrpc::message notification) {
  if (role_ != chain_role::proxy && to != only_peer()) {
    log::error(conn_->name(), std::string("this endpoint has no ") + std::string(to_string(to)) + " peer");
    return;
  }
  if (wraps(to))
    conn_->send(pp::wrap_message(std::move(notification), std::nullopt));
  else
    conn_->send(std::move(notification));
}

void runtime::cancel_sent(const sent_state& st) {
  if (wraps(st.to))
    (void)issue_cancel(*conn_, st.wire_id, wrap_notification);
  else
    (void)issue_cancel(*conn_, st.wire_id);
}

// ---- tasks and shutdown ------------------------------------------------------------------

void runtime::spawn(asio::awaitable<void> task) {
  if (shutting_down_ && closed_) {
    // Nothing may start any more; the task's responders (if any) answer -32603 as it is dropped.
    log::warn(conn_->name(), "a task spawned after the connection closed was not started");
    return;
  }
  if (shutting_down_) {
    // Shutdown has begun: the waiting queue is never drained again, so the task starts now and
    // gets what is left of the grace period (cancelled at once if that has already ended).
    start_task(std::move(task));
    if (grace_expired_) tasks_.back().emit(asio::cancellation_type::terminal);
    return;
  }
  if (tasks_.size() < std::max<std::size_t>(opts_.max_running_tasks, 1)) return start_task(std::move(task));
  waiting_.push_back(std::move(task));
  if (!reading_paused_ && waiting_.size() >= opts_.max_waiting_tasks) {
    reading_paused_ = true;
    conn_->gate().congest();
  }
}

void runtime::start_task(asio::awaitable<void> task) {
  auto it = tasks_.emplace(tasks_.end());
  asio::co_spawn(ex_, std::move(task),
                 asio::bind_cancellation_slot(it->slot(), [self = shared_from_this(), it](std::exception_ptr e) {
                   if (e) log::on_failure(self->conn_->name(), "spawned task")(e);
                   // Erase after the signal's handler has returned.
                   asio::post(self->ex_, [self, it] {
                     self->tasks_.erase(it);
                     self->task_finished();
                   });
                 }));
}

void runtime::on_closed(const close_info& info) {
  status_ = info;
  begin_shutdown();
}

void runtime::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  // Tasks that never started are dropped: their responders answer -32603 as they go.
  waiting_.clear();
  if (reading_paused_) {
    reading_paused_ = false;
    conn_->gate().relieve();
  }
  if (tasks_.empty()) return finish_shutdown();
  grace_timer_.emplace(ex_);
  grace_timer_->expires_after(opts_.grace_period);
  grace_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    self->grace_expired_ = true;
    if (!self->tasks_.empty())
      log::warn(self->conn_->name(),
                std::to_string(self->tasks_.size()) + " task(s) still running after the grace period; cancelling");
    for (auto& sig : self->tasks_) sig.emit(asio::cancellation_type::terminal);
  });
}

void runtime::task_finished() {
  if (!waiting_.empty() && !shutting_down_) {
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    start_task(std::move(next));
  }
  if (reading_paused_ && waiting_.size() <= opts_.max_waiting_tasks / 2) {
    reading_paused_ = false;
    conn_->gate().relieve();
  }
  if (shutting_down_ && tasks_.empty()) finish_shutdown();
}

void runtime::finish_shutdown() {
  if (closed_) return;
  closed_ = true;
  if (grace_timer_) grace_timer_->cancel();
  conn_->close();
  asio::co_spawn(
      ex_,
      [self = shared_from_this()]() -> asio::awaitable<void> {
        co_await self->conn_->wait_closed();
        if (!self->status_) self->status_ = self->conn_->close_status();
        self->done_ = true;
        self->done_wake_->cancel();
        // Break the cycle connection -> handlers -> runtime once nothing runs any more.
        self->conn_->on_message(nullptr);
        self->conn_->on_close(nullptr);
        self->release_handlers();
        self->self_.reset();
      },
      log::on_failure(conn_->name(), "closing", [self = shared_from_this()] {
        self->done_ = true;
        self->done_wake_->cancel();
        self->release_handlers();
        self->self_.reset();
      }));
}

void runtime::release_handlers() {
  // A handler may hold a `context`, which owns this runtime: with the tables gone, the runtime
  // lives only as long as the endpoints and contexts outside it. Moved out first, so that a
  // handler's destructor that reaches back here finds empty tables.
  auto requests = std::move(requests_);
  auto notifications = std::move(notifications_);
  auto sessions = std::move(sessions_);
  requests_.clear();
  notifications_.clear();
  sessions_.clear();
}

} // namespace acp::detail
