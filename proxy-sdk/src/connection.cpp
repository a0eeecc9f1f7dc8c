#include <acp/sdk/connection.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>

#include <vector>

namespace acp {
namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The connections whose output waits for the end of the read being handled on this thread.
struct read_batch {
  int depth = 0;
  std::vector<std::shared_ptr<connection>> waiting;
};
thread_local read_batch current_read;
} // namespace

/// While a reader handles what one read brought in: output queued on an idle link meanwhile is
/// written when the read is handled (connection::write_directly), not by waking its writer.
class read_scope {
public:
  read_scope() noexcept { ++current_read.depth; }
  ~read_scope() {
    if (--current_read.depth != 0) return;
    // Writing runs no handler and the depth is 0: nothing registers while the list is walked.
    for (const auto& c : current_read.waiting) c->write_directly();
    current_read.waiting.clear();
  }
  read_scope(const read_scope&) = delete;
  read_scope& operator=(const read_scope&) = delete;
};

// ---- flow_gate ---------------------------------------------------------------------------

flow_gate::flow_gate(const asio::any_io_executor& ex) : wake_(ex) {
  // Never expires: waiters are woken by cancel(). Re-arming per wait would cancel the other
  // waiters' waits, and two paused readers would then wake each other forever.
  wake_.expires_at(asio::steady_timer::time_point::max());
}

void flow_gate::congest() noexcept { ++congested_; }

void flow_gate::relieve() noexcept {
  if (congested_ == 0) return;
  --congested_;
  // Wake every waiter on each change: a reader that ignores its own link's congestion may
  // be free to go before the gate is fully open.
  ++generation_;
  wake_.cancel();
}

void flow_gate::interrupt() noexcept {
  ++generation_;
  wake_.cancel();
}

asio::awaitable<void> flow_gate::wait_open() {
  const auto generation = generation_;
  while (congested_ > 0 && generation == generation_) (void)co_await wake_.async_wait(use_tuple);
}

// ---- connection --------------------------------------------------------------------------

std::shared_ptr<connection> connection::create(asio::any_io_executor ex, message_channel_ptr channel,
                                               connection_options options) {
  return std::shared_ptr<connection>(new connection(std::move(ex), std::move(channel), std::move(options)));
}

std::shared_ptr<connection> connection::create(asio::any_io_executor ex, transport_ptr transport,
                                               connection_options options) {
  auto channel = make_ndjson_channel(ex, std::move(transport), {.max_message_bytes = options.max_message_bytes});
  return create(std::move(ex), std::move(channel), std::move(options));
}

connection::connection(asio::any_io_executor ex, message_channel_ptr channel, connection_options options)
    : ex_(std::move(ex)), channel_(std::move(channel)), options_(std::move(options)),
      gate_(options_.gate ? options_.gate : std::make_shared<flow_gate>(ex_)), writer_wake_(ex_), closed_wake_(ex_) {
  // These timers never expire; cancel() is the wake-up (see flow_gate).
  writer_wake_.expires_at(asio::steady_timer::time_point::max());
  closed_wake_.expires_at(asio::steady_timer::time_point::max());
}

connection::~connection() {
  relieve_congestion();
  if (channel_) channel_->close();
}

void connection::start() {
  if (started_) return;
  started_ = true;
  reading_ = true;
  // Each coroutine and its failure handler hold the connection: a failure path never touches a
  // connection its owner has already let go of.
  auto self = shared_from_this();
  asio::co_spawn(
      ex_, [self]() -> asio::awaitable<void> { co_await self->read_loop(); }, log::on_failure(name(), "reader", [self] {
        self->reading_ended({close_reason::read_error, {}, "internal error in reader"});
      }));
  asio::co_spawn(
      ex_, [self]() -> asio::awaitable<void> { co_await self->write_loop(); },
      log::on_failure(name(), "writer", [self] {
        self->writer_failed({close_reason::write_error, {}, "internal error in writer"});
      }));
}

asio::awaitable<void> connection::read_loop() {
  while (reading_) {
    while (reading_ && !may_read()) co_await gate_->wait_open();
    if (!reading_) break;
    auto input = co_await channel_->read();
    const read_scope scope;
    handle_input(std::move(input));
    // What the same read brought in is handled before the gate is looked at again.
    while (reading_) {
      auto more = channel_->poll();
      if (!more) break;
      handle_input(std::move(*more));
    }
  }
  if (!close_info_) reading_ended({close_reason::closed_locally, {}, "closed"});
}

void connection::handle_input(channel_input&& in) {
  if (!reading_) return; // closed by a handler of an earlier message
  switch (in.type) {
  case channel_input::kind::messages:
    return handle_messages(in.parsed);
  case channel_input::kind::content_length_header: {
    json::object data;
    data["line"] = std::move(in.sample);
    data["reason"] = "content_length_framing";
    log::warn(name(), "received a Content-Length header: ACP uses one JSON message per line, not LSP framing");
    send_own_error(nullptr,
                   rpc_error::parse_error("Parse error: Content-Length framing is not supported; send one JSON "
                                          "message per line",
                                          json::value(std::move(data))));
    return;
  }
  case channel_input::kind::oversized: {
    const auto limit = channel_->max_message_bytes();
    json::object data;
    data["reason"] = "message_too_large";
    data["limit"] = limit;
    data["size_at_least"] = in.size;
    const std::string detail = "incoming message exceeds the limit of " + std::to_string(limit) + " bytes";
    log::error(name(), detail + "; closing the connection");
    send_own_error(nullptr, rpc_error::invalid_request("Invalid request: " + detail, json::value(std::move(data))));
    reading_ended({close_reason::oversized_message, {}, detail});
    return;
  }
  case channel_input::kind::ended:
    reading_ended(std::move(in.end));
    return;
  }
}

void connection::handle_messages(jsonrpc::parsed_line& parsed) {
  ++stats_.messages_in;
  if (!parsed.batch) {
    if (parsed.items.empty()) return;
    auto& item = parsed.items.front();
    if (auto* bad = std::get_if<jsonrpc::invalid_message>(&item)) return handle_invalid(std::move(*bad), false);
    auto& msg = std::get<jsonrpc::message>(item);
    if (msg.is_response()) return handle_response(std::move(msg));
    if (on_message_)
      on_message_(std::move(msg));
    else if (msg.is_request())
      send_own_error(msg.id(), rpc_error::method_not_found(msg.method()));
    return;
  }
  // A batch: register its requests first so responses sent while dispatching are collected.
  auto b = std::make_shared<batch>();
  for (auto& item : parsed.items) {
    if (auto* msg = std::get_if<jsonrpc::message>(&item); msg && msg->is_request()) {
      auto [it, inserted] = batch_ids_.emplace(jsonrpc::id_key(msg->id()), b);
      if (inserted) ++b->outstanding;
    } else if (auto* bad = std::get_if<jsonrpc::invalid_message>(&item); bad && !bad->response_shaped) {
      auto answer = jsonrpc::message::error_response(bad->id, bad->error);
      if (on_own_message_) on_own_message_(answer);
      b->responses.push_back(std::move(answer).release());
    }
  }
  for (auto& item : parsed.items) {
    if (auto* bad = std::get_if<jsonrpc::invalid_message>(&item)) {
      if (bad->response_shaped) handle_invalid(std::move(*bad), true);
      continue;
    }
    auto& msg = std::get<jsonrpc::message>(item);
    if (msg.is_response())
      handle_response(std::move(msg));
    else if (on_message_)
      on_message_(std::move(msg));
    else if (msg.is_request())
      send_own_error(msg.id(), rpc_error::method_not_found(msg.method()));
  }
  if (b->outstanding == 0 && !b->responses.empty()) queue_batch(std::move(b->responses));
}

void connection::handle_invalid(jsonrpc::invalid_message bad, bool in_batch) {
  log::warn(name(), bad.error.message);
  if (!bad.response_shaped) {
    if (!in_batch) send_own_error(std::move(bad.id), bad.error);
    return;
  }
  // A malformed response: never answer it, but resolve the request it meant to answer.
  if (bad.id.is_int64()) {
    if (auto it = pending_.find(bad.id.get_int64()); it != pending_.end()) {
      auto cb = std::move(it->second);
      pending_.erase(it);
      json::object data;
      data["reason"] = "invalid_response";
      data["detail"] = bad.error.message;
      cb(jsonrpc::message::error_response(
          bad.id, rpc_error::internal_error("invalid response from " + name(), json::value(std::move(data)))));
    }
  }
}

void connection::handle_response(jsonrpc::message&& msg) {
  const auto& id = msg.id();
  if (id.is_int64()) {
    if (auto it = pending_.find(id.get_int64()); it != pending_.end()) {
      auto cb = std::move(it->second);
      pending_.erase(it);
      cb(std::move(msg));
      return;
    }
  }
  log::warn(name(), "dropping a response with unknown id " + jsonrpc::id_key(id));
}

void connection::reading_ended(close_info info) {
  if (close_info_) return;
  reading_ = false;
  gate_->interrupt(); // the reader may be paused at the gate (a write error ends reading too)
  close_info_ = info;
  reader_done_ = true;
  if (info.reason != close_reason::closed_locally && info.reason != close_reason::eof)
    log::warn(name(), std::string("connection ended: ") + std::string(to_string(info.reason)) + ": " + info.detail);
  if (on_close_) on_close_(info);
  if (options_.fail_pending_on_close && !pending_.empty()) {
    json::object data;
    data["reason"] = info.reason == close_reason::eof ? "connection_closed" : std::string(to_string(info.reason));
    data["peer"] = name();
    data["detail"] = info.detail;
    fail_pending(rpc_error::internal_error("connection to " + name() + " closed before the response arrived",
                                           json::value(std::move(data))));
  }
  notify_closed();
}

void connection::fail_pending(const rpc_error& error) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, cb] : pending) cb(jsonrpc::message::error_response(id, error));
}

// ---- sending -----------------------------------------------------------------------------

void connection::send(jsonrpc::message msg) {
  if (msg.is_response() && !batch_ids_.empty()) {
    if (auto it = batch_ids_.find(jsonrpc::id_key(msg.id())); it != batch_ids_.end()) {
      auto b = it->second;
      batch_ids_.erase(it);
      b->responses.push_back(std::move(msg).release());
      if (--b->outstanding == 0) queue_batch(std::move(b->responses));
      return;
    }
  }
  enqueue(msg, false);
}

void connection::send(const json::object& msg) {
  const auto* id = msg.if_contains("id");
  if (id && !batch_ids_.empty() && !msg.contains("method")) {
    if (auto c = jsonrpc::check(json::value(msg)); std::holds_alternative<jsonrpc::message>(c))
      return send(std::get<jsonrpc::message>(std::move(c)));
  }
  if (!writable()) return;
  if (const auto q = channel_->queue(msg); q.ec && !replace_refused(q, id, id && !msg.contains("method"), false))
    return;
  message_queued();
}

void connection::enqueue(jsonrpc::message& msg, bool ours) {
  if (!writable()) {
    // No response can come: answer our request now (posted), or it would wait forever.
    if (ours) fail_later(msg.id(), closed_error());
    return;
  }
  const bool response = msg.is_response();
  json::value id; // our request's id, kept only when no response can come to it
  if (ours && close_info_ && options_.fail_pending_on_close) id = msg.id();
  // On success the channel may have taken the message's buffer: `msg` is not used after.
  if (const auto q = channel_->queue(msg); q.ec) {
    if (!replace_refused(q, msg.is_notification() ? nullptr : &msg.id(), response, ours)) return;
  } else if (!id.is_null()) {
    // Written, but reading has ended: its response can never be read.
    fail_later(id, closed_error());
  }
  message_queued();
}

void connection::queue_batch(json::array responses) {
  if (!writable()) return;
  if (const auto q = channel_->queue(responses); q.ec) {
    // Rare: the answers to a batch together exceed the limit. One error says so.
    const json::value none;
    if (!replace_refused(q, &none, true, false)) return;
  }
  message_queued();
}

bool connection::writable() {
  // After close() the writer still flushes what is queued, answers to pending requests included;
  // only once it has finished (or after abort) is output dropped.
  if (writer_done_ || aborted_) {
    log::debug(name(), "dropping a message: the connection is closed");
    return false;
  }
  return true;
}

void connection::message_queued() {
  ++stats_.messages_out;
  if (!direct_pending_) {
    if (may_write_directly()) {
      direct_pending_ = true;
      current_read.waiting.push_back(shared_from_this());
    } else {
      wake_writer();
    }
  }
  update_congestion();
}

bool connection::may_write_directly() const noexcept {
  if (current_read.depth == 0 || !writer_idle_ || options_.direct_write_after_idle.count() < 0) return false;
  return std::chrono::steady_clock::now() - last_write_ >= options_.direct_write_after_idle;
}

void connection::write_directly() noexcept {
  direct_pending_ = false;
  if (writer_done_ || aborted_) return;
  // The writer may have been woken meanwhile (close, end_output): it is then not idle, and it
  // writes everything itself.
  if (writer_idle_ && !closing_ && !ending_ && channel_->write_now()) {
    last_write_ = std::chrono::steady_clock::now();
    update_congestion();
    return;
  }
  wake_writer(); // what did not fit (or an error, which the writer's flush meets and reports)
}

bool connection::replace_refused(const queue_result& refused, const json::value* id, bool response, bool ours) {
  const std::string why = refused.ec == channel_errc::message_too_large
                              ? "outgoing message of " + std::to_string(refused.size) + " bytes exceeds the limit of " +
                                    std::to_string(channel_->max_message_bytes())
                              : "outgoing message not sent: " + refused.ec.message();
  log::error(name(), why);
  if (id && response) {
    // A response: answer with an error instead, so the request is not left hanging.
    json::object data;
    data["reason"] = refused.ec == channel_errc::message_too_large ? "message_too_large" : "not_sent";
    const auto error =
        jsonrpc::message::error_response(*id, rpc_error::internal_error(why, json::value(std::move(data))));
    if (on_own_message_) on_own_message_(error);
    return !channel_->queue(error.json()).ec;
  }
  if (id && ours) fail_later(*id, rpc_error::internal_error(why)); // one of our requests: resolve it locally
  return false;
}

void connection::fail_later(const json::value& id, rpc_error error) {
  if (!id.is_int64()) return;
  auto it = pending_.find(id.get_int64());
  if (it == pending_.end()) return;
  auto cb = std::make_shared<response_callback>(std::move(it->second));
  pending_.erase(it);
  // Posted: the caller (inside send_request) is not re-entered. Holds the callback, not us.
  asio::post(ex_, [cb, rid = id, error = std::move(error)] { (*cb)(jsonrpc::message::error_response(rid, error)); });
}

rpc_error connection::closed_error() const {
  json::object data;
  data["reason"] = "connection_closed";
  data["peer"] = name();
  data["detail"] = close_info_ ? close_info_->detail : std::string("closed");
  return rpc_error::internal_error("connection to " + name() + " is closed: no response can arrive",
                                   json::value(std::move(data)));
}

json::value connection::send_request(std::string_view method, std::optional<json::value> params,
                                     response_callback on_response) {
  const auto id = ++next_id_;
  pending_.emplace(id, std::move(on_response));
  auto msg = jsonrpc::message::request(id, method, std::move(params));
  enqueue(msg, true);
  return id;
}

json::value connection::send_request(jsonrpc::message request, response_callback on_response) {
  const auto id = ++next_id_;
  pending_.emplace(id, std::move(on_response));
  request.make_request(id);
  enqueue(request, true);
  return id;
}

void connection::send_notification(std::string_view method, std::optional<json::value> params) {
  send(jsonrpc::message::notification(method, std::move(params)));
}

void connection::send_result(json::value id, json::value result) {
  send(jsonrpc::message::response(std::move(id), std::move(result)));
}

void connection::send_error(json::value id, const rpc_error& error) {
  send(jsonrpc::message::error_response(std::move(id), error));
}

void connection::send_own_error(json::value id, const rpc_error& error) {
  auto answer = jsonrpc::message::error_response(std::move(id), error);
  if (on_own_message_ && !writer_done_ && !aborted_) on_own_message_(answer); // only what is written
  send(std::move(answer));
}

bool connection::cancel_request(const json::value& id) {
  if (!id.is_int64() || !pending_.contains(id.get_int64())) return false;
  json::object params;
  params["requestId"] = id;
  send_notification("$/cancel_request", json::value(std::move(params)));
  return true;
}

void connection::wake_writer() { writer_wake_.cancel(); }

void connection::reader_may_resume() {
  // Bytes were taken by a flush: a reader paused on its own congestion may go on now (see
  // may_read); wake it to look again.
  if (congested_ && options_.pause_on_own_congestion && may_read()) gate_->interrupt();
}

void connection::update_congestion() {
  const bool over = queued_bytes() > options_.write_high_watermark;
  const bool under = queued_bytes() <= options_.write_high_watermark / 2;
  if (!congested_ && over) {
    congested_ = true;
    gate_->congest();
  } else if (congested_ && under) {
    congested_ = false;
    gate_->relieve();
  }
}

asio::awaitable<void> connection::write_loop() {
  for (;;) {
    if (channel_->queued_bytes() == 0) {
      if (closing_ || ending_) break;
      writer_idle_ = true;
      (void)co_await writer_wake_.async_wait(use_tuple);
      writer_idle_ = false;
      continue;
    }
    // The flush takes its output before it first suspends; a reader paused on its own
    // congestion looks again right after (a posted check, which holds the connection).
    if (congested_ && options_.pause_on_own_congestion)
      asio::post(ex_, [self = shared_from_this()] { self->reader_may_resume(); });
    const auto ec = co_await channel_->flush();
    if (ec) {
      // The peer going away while we say goodbye is no news.
      if ((closing_ || ending_) && ec == asio::error::broken_pipe)
        log::debug(name(), "write failed: " + ec.message());
      else if (!aborted_)
        log::warn(name(), "write failed: " + ec.message());
      writer_failed({close_reason::write_error, ec, ec.message()});
      co_return;
    }
    last_write_ = std::chrono::steady_clock::now();
    update_congestion();
  }
  channel_->shutdown_write();
  writer_done_ = true;
  notify_closed();
}

void connection::writer_failed(close_info info) {
  if (writer_done_) return;
  channel_->drop_queued();
  writer_done_ = true;
  update_congestion();
  if (!close_info_) {
    channel_->close();
    if (aborted_)
      reading_ended({close_reason::closed_locally, {}, "aborted"});
    else
      reading_ended(std::move(info));
  }
  notify_closed();
}

void connection::close() {
  if (closing_) return;
  closing_ = true;
  if (reading_) {
    reading_ = false;
    channel_->close_read(); // the pending read completes (ended, closed_locally)
    gate_->interrupt();     // or the reader is paused at the gate
  }
  if (!started_) {
    reader_done_ = writer_done_ = true;
    if (!close_info_) reading_ended({close_reason::closed_locally, {}, "closed"});
    channel_->close();
    return;
  }
  wake_writer();
}

void connection::end_output() {
  if (ending_ || closing_) return;
  ending_ = true;
  if (!started_) return;
  wake_writer();
}

void connection::abort() {
  if (aborted_) return;
  aborted_ = true;
  closing_ = true;
  reading_ = false;
  channel_->drop_queued();
  channel_->close();
  gate_->interrupt();
  relieve_congestion();
  if (!started_) {
    reader_done_ = writer_done_ = true;
    if (!close_info_) reading_ended({close_reason::closed_locally, {}, "aborted"});
    return;
  }
  wake_writer();
}

void connection::relieve_congestion() {
  if (!congested_) return;
  congested_ = false;
  gate_->relieve();
}

void connection::notify_closed() {
  if (reader_done_ && writer_done_) {
    if (channel_) channel_->close();
    closed_wake_.cancel();
    // Nothing will call the handlers again: release them (they may hold this connection, or
    // others that hold it). Destroyed from a fresh handler, never under their own call.
    if (on_message_ || on_close_ || on_own_message_)
      asio::post(ex_, [m = std::move(on_message_), c = std::move(on_close_), o = std::move(on_own_message_)] {});
    on_message_ = nullptr;
    on_close_ = nullptr;
    on_own_message_ = nullptr;
  }
}

asio::awaitable<void> connection::wait_closed() {
  while (!(reader_done_ && writer_done_)) {
    (void)co_await closed_wake_.async_wait(use_tuple);
  }
}

} // namespace acp
