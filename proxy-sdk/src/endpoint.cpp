#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/log.hpp>

#include "runtime.hpp"

#include <acp/protocol/envelope.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdlib>
#include <stdexcept>

namespace acp {
namespace asio = boost::asio;
namespace json = boost::json;
using detail::runtime;

rpc_exception::rpc_exception(rpc_error e) : std::runtime_error(e.message), error(std::move(e)) {}

void throw_exception_from_error(const rpc_error& e, const boost::source_location&) { throw rpc_exception(e); }

rpc_result outcome_of(const jsonrpc::message& response) {
  if (auto e = response.error()) return *e;
  if (const auto* r = response.result()) return *r;
  return json::value(nullptr);
}

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The outcome, taken out of a response nobody needs any more: its text is let go once the DOM is
/// built and the result is moved, not copied (a large result is held once, not three times).
rpc_result take_outcome(jsonrpc::message&& response) {
  if (auto e = response.error()) return *e;
  if (!response.is_response()) return json::value(nullptr);
  auto obj = std::move(response).release();
  if (auto* r = obj.if_contains("result")) return std::move(*r);
  return json::value(nullptr);
}
} // namespace

// ---- responder ---------------------------------------------------------------------------

responder& responder::operator=(responder&& other) noexcept {
  if (this != &other) {
    drop();
    st_ = std::move(other.st_);
  }
  return *this;
}

responder::~responder() { drop(); }

void responder::drop() noexcept {
  if (!st_) return;
  auto st = std::move(st_);
  if (st->answered()) return;
  try {
    log::error("responder", "request " + st->method() + " (id " + jsonrpc::id_key(st->id()) +
                                ") was dropped without an answer; answering -32603");
    json::object data;
    data["reason"] = "responder_dropped";
    data["method"] = st->method();
    (void)st->answer_error(
        rpc_error::internal_error("request dropped without an answer", json::value(std::move(data))));
  } catch (...) {
    // out of memory while answering: the entry answers -32603 itself as it goes
  }
}

void responder::finish(jsonrpc::message response) {
  auto st = std::move(st_);
  if (!st) {
    log::error("responder", "a second answer to one request was not sent");
    return;
  }
  (void)st->answer(std::move(response)); // the id becomes the peer's own
}

void responder::respond(json::value result) { finish(jsonrpc::message::response(id(), std::move(result))); }

void responder::respond_error(rpc_error error) { finish(jsonrpc::message::error_response(id(), error)); }

void responder::respond_with(rpc_result outcome) {
  if (outcome.has_value())
    respond(std::move(*outcome));
  else
    respond_error(std::move(outcome.error()));
}

void responder::relay(jsonrpc::message response) { finish(std::move(response)); }

const json::value& responder::id() const noexcept {
  static const json::value null_id;
  return st_ ? st_->id() : null_id;
}

std::string_view responder::method() const noexcept {
  return st_ ? std::string_view(st_->method()) : std::string_view();
}

bool responder::cancelled() const noexcept { return st_ && st_->cancelled(); }

void responder::on_cancel(unique_function<void()> f) {
  if (st_) st_->on_cancel(std::move(f));
}

void responder::on_answer(unique_function<void(const jsonrpc::message&)> f) {
  if (st_) st_->on_answer(std::move(f));
}

// ---- sent_request ------------------------------------------------------------------------

void detail::sent_state::complete(jsonrpc::message msg) {
  if (consumer) {
    auto c = std::move(consumer);
    c(std::move(msg));
    return;
  }
  response = std::move(msg);
  if (waiter) waiter->cancel();
}

namespace {
// Relays the response to `r` through `relay` (which answers `r`), and cancels the request sent
// when `r` is cancelled.
void relay_to(const std::shared_ptr<detail::sent_state>& st, responder r,
              unique_function<void(responder&, jsonrpc::message)> relay) {
  r.on_cancel([weak = std::weak_ptr<detail::sent_state>(st)] {
    if (auto s = weak.lock()) sent_request(s).cancel();
  });
  auto consumer = [r = std::move(r), relay = std::move(relay)](jsonrpc::message msg) mutable {
    try {
      relay(r, std::move(msg));
    } catch (const std::exception& e) {
      log::error("sdk", "an observer of the response to " + std::string(r.method()) + " failed: " + e.what());
      if (r) r.respond_error(rpc_error::internal_error(std::string("observer failed: ") + e.what()));
    }
  };
  if (st->response) {
    auto msg = std::move(*st->response);
    st->response.reset();
    consumer(std::move(msg));
  } else {
    st->consumer = std::move(consumer);
  }
}
} // namespace

void sent_request::forward_response_to(responder r) && {
  relay_to(st_, std::move(r), [](responder& to, jsonrpc::message msg) { to.relay(std::move(msg)); });
}

void sent_request::relay_observed(responder r, unique_function<void(const rpc_result&)> observe) && {
  relay_to(st_, std::move(r), [observe = std::move(observe)](responder& to, jsonrpc::message msg) mutable {
    observe(outcome_of(msg));
    to.relay(std::move(msg)); // as it came: the observer only read it
  });
}

void sent_request::relay_edited(responder r, unique_function<void(rpc_result&)> edit) && {
  relay_to(st_, std::move(r), [edit = std::move(edit)](responder& to, jsonrpc::message msg) mutable {
    auto outcome = outcome_of(msg);
    edit(outcome);
    to.respond_with(std::move(outcome));
  });
}

void sent_request::on_receiving_result(unique_function<void(rpc_result)> f) && {
  auto st = st_;
  if (st->response) {
    auto msg = std::move(*st->response);
    st->response.reset();
    f(take_outcome(std::move(msg)));
    return;
  }
  st->consumer = [f = std::move(f)](jsonrpc::message msg) mutable { f(take_outcome(std::move(msg))); };
}

namespace {
// A coroutine of its own holding the state by value: `response()` may be awaited after the
// sent_request it was called on has gone.
asio::awaitable<rpc_result> await_response(std::shared_ptr<detail::sent_state> st) {
  while (!st->response) {
    if (!st->waiter) {
      st->waiter = std::make_unique<asio::steady_timer>(co_await asio::this_coro::executor);
      st->waiter->expires_at(asio::steady_timer::time_point::max()); // woken by cancel()
    }
    auto [ec] = co_await st->waiter->async_wait(use_tuple);
    if (ec && !st->response &&
        (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
      sent_request(st).cancel();
      co_return rpc_error::request_cancelled("cancelled while waiting for the response");
    }
  }
  co_return outcome_of(*st->response);
}
} // namespace

asio::awaitable<rpc_result> sent_request::response() && { return await_response(st_); }

void sent_request::cancel() const {
  if (auto rt = st_->rt.lock()) rt->cancel_sent(*st_);
}

// ---- context -----------------------------------------------------------------------------

sent_request context::send_request_to(peer to, std::string_view method, std::optional<json::value> params) {
  return rt_->send_request(to, jsonrpc::message::request(nullptr, method, std::move(params)));
}

sent_request context::forward_request_to(peer to, jsonrpc::message request) {
  return rt_->send_request(to, std::move(request));
}

void context::send_notification_to(peer to, std::string_view method, std::optional<json::value> params) {
  rt_->send_notification(to, jsonrpc::message::notification(method, std::move(params)));
}

void context::spawn(asio::awaitable<void> task) { rt_->spawn(std::move(task)); }

void context::on_session_request(std::string session_id, peer from, std::string method, raw_request_handler f) {
  rt_->add_session_request_handler(std::move(session_id), {from, std::move(method), std::move(f)});
}

void context::on_session_notification(std::string session_id, peer from, std::string method,
                                      raw_notification_handler f) {
  rt_->add_session_notification_handler(std::move(session_id), {from, std::move(method), std::move(f)});
}

void context::forget_session(const std::string& session_id) { rt_->forget_session(session_id); }
chain_role context::endpoint_role() const noexcept { return rt_->role_; }
asio::any_io_executor context::get_executor() const { return rt_->ex_; }
void context::shutdown() const { rt_->begin_shutdown(); }
connection& context::conn() const { return *rt_->conn_; }

// ---- endpoint ----------------------------------------------------------------------------

asio::awaitable<void> endpoint::wait_done() const {
  auto rt = rt_;
  while (rt->done_wake_ && !rt->done_) {
    (void)co_await rt->done_wake_->async_wait(use_tuple);
  }
}

const std::optional<close_info>& endpoint::close_status() const noexcept { return rt_->close_status(); }
bool endpoint::done() const noexcept { return rt_->done_; }

// ---- builder -----------------------------------------------------------------------------

endpoint_builder::endpoint_builder(chain_role r) : rt_(std::make_shared<runtime>(r)) {}
endpoint_builder::~endpoint_builder() = default;
endpoint_builder::endpoint_builder(endpoint_builder&&) noexcept = default;
endpoint_builder& endpoint_builder::operator=(endpoint_builder&&) noexcept = default;

endpoint_builder& endpoint_builder::on_receive_request_from(peer from, std::string method, raw_request_handler f) {
  rt_->requests_.push_back({from, std::move(method), std::move(f)});
  return *this;
}

endpoint_builder& endpoint_builder::on_receive_notification_from(peer from, std::string method,
                                                                 raw_notification_handler f) {
  rt_->notifications_.push_back({from, std::move(method), std::move(f)});
  return *this;
}

endpoint_builder& endpoint_builder::options(endpoint_options o) {
  rt_->opts_ = std::move(o);
  return *this;
}

const endpoint_options& endpoint_builder::options() const noexcept { return rt_->opts_; }

endpoint endpoint_builder::connect_to(const asio::any_io_executor& ex, transport_ptr transport) {
  const auto max = rt_->opts_.connection.max_message_bytes;
  return connect_to(ex, make_ndjson_channel(ex, std::move(transport), {.max_message_bytes = max}));
}

endpoint endpoint_builder::connect_to(const asio::any_io_executor& ex, message_channel_ptr channel) {
  auto rt = std::move(rt_);
  rt_ = std::make_shared<runtime>(rt->role_);
  rt_->requests_ = rt->requests_;
  rt_->notifications_ = rt->notifications_;
  rt_->opts_ = rt->opts_;
  rt->start(ex, std::move(channel));
  return endpoint(rt);
}

int endpoint_builder::run_stdio() {
  const bool ignore_sigpipe = rt_->opts_.ignore_sigpipe;
  const bool handle_signals = rt_->opts_.handle_signals;
  // A peer that went away must be a write error, not a signal that kills the process.
  if (ignore_sigpipe) std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io;
  auto ep = connect_to(io.get_executor(), make_stdio_transport(io.get_executor()));
  int signalled = 0;
  std::optional<asio::signal_set> signals;
  if (handle_signals) {
    signals.emplace(io, SIGINT, SIGTERM);
    signals->async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      signalled = sig;
      log::info(ep.cx().conn().name(),
                std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ": shutting down (a second signal ends at once)");
      ep.shutdown();
      signals->async_wait([](boost::system::error_code ec2, int sig2) {
        if (!ec2) std::_Exit(128 + sig2);
      });
    });
    // The signal wait must not keep the loop alive once the endpoint has finished.
    asio::co_spawn(
        io, [ep]() -> asio::awaitable<void> { co_await ep.wait_done(); },
        [&](const std::exception_ptr&) { signals->cancel(); });
  }
  io.run();
  signals.reset(); // back to the default dispositions
  if (signalled != 0) return 128 + signalled;
  const auto& status = ep.close_status();
  if (!status) return 1;
  return status->reason == close_reason::eof || status->reason == close_reason::closed_locally ? 0 : 1;
}

void endpoint_builder::run_main(asio::io_context& io, transport_ptr transport,
                                unique_function<asio::awaitable<void>(context)> main) {
  auto ep = connect_to(io.get_executor(), std::move(transport));
  struct outcome {
    bool done = false;
    std::exception_ptr failure;
  };
  // Shared: when `io` stops early, main's completion may run after this function has returned.
  auto out = std::make_shared<outcome>();
  // co_spawn keeps the function object (and so `main` and its captures) alive until it ends.
  asio::co_spawn(
      io, [main = std::move(main), cx = ep.cx()]() mutable -> asio::awaitable<void> { co_await main(cx); },
      [out, ep](std::exception_ptr e) {
        out->failure = std::move(e);
        out->done = true;
        ep.shutdown();
      });
  if (io.stopped()) io.restart();
  while (!out->done || !ep.done()) {
    if (io.run_one() == 0) break; // stopped, or nothing left that could finish it
  }
  if (!out->done) {
    ep.shutdown();
    throw std::runtime_error("run_until: the io_context stopped before main completed");
  }
  if (out->failure) std::rethrow_exception(out->failure);
}

} // namespace acp
