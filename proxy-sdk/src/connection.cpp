#include <acp/sdk/connection.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/json/array.hpp>

namespace acp {
namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

namespace {
constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t large_read_chunk = 1024 * 1024; // while a large line is coming in
constexpr std::size_t keep_buffer_capacity = 1 << 20;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
} // namespace

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

std::string_view to_string(close_reason r) noexcept {
  switch (r) {
  case close_reason::eof: return "eof";
  case close_reason::read_error: return "read_error";
  case close_reason::write_error: return "write_error";
  case close_reason::oversized_message: return "oversized_message";
  case close_reason::closed_locally: return "closed_locally";
  }
  return "unknown";
}

// ---- connection --------------------------------------------------------------------------

std::shared_ptr<connection> connection::create(asio::any_io_executor ex, transport_ptr transport,
                                               connection_options options) {
  return std::shared_ptr<connection>(new connection(std::move(ex), std::move(transport), std::move(options)));
}

connection::connection(asio::any_io_executor ex, transport_ptr transport, connection_options options)
    : ex_(std::move(ex)), transport_(std::move(transport)), options_(std::move(options)),
      gate_(options_.gate ? options_.gate : std::make_shared<flow_gate>(ex_)),
      decoder_(options_.max_message_bytes), writer_wake_(ex_), closed_wake_(ex_) {
  // These timers never expire; cancel() is the wake-up (see flow_gate).
  writer_wake_.expires_at(asio::steady_timer::time_point::max());
  closed_wake_.expires_at(asio::steady_timer::time_point::max());
}

connection::~connection() {
  relieve_congestion();
  if (transport_) transport_->close();
}

void connection::start() {
  if (started_) return;
  started_ = true;
  reading_ = true;
  auto self = shared_from_this();
  asio::co_spawn(ex_, [self]() -> asio::awaitable<void> { co_await self->read_loop(); },
                 log::on_failure(name(), "reader", [self] {
                   self->reading_ended({close_reason::read_error, {}, "internal error in reader"});
                 }));
  asio::co_spawn(ex_, [self]() -> asio::awaitable<void> { co_await self->write_loop(); },
                 log::on_failure(name(), "writer", [self] {
                   self->writer_done_ = true;
                   self->notify_closed();
                 }));
}

asio::awaitable<void> connection::read_loop() {
  while (reading_) {
    while (reading_ && !may_read()) co_await gate_->wait_open();
    if (!reading_) break;
    // Inside a large line, read in larger pieces: fewer system calls and fewer buffer checks.
    auto buf = decoder_.prepare(decoder_.buffered_bytes() >= large_read_chunk ? large_read_chunk : read_chunk);
    error_code ec;
    const std::size_t n = co_await transport_->read_some(buf, ec);
    decoder_.commit(n);
    stats_.bytes_in += n;
    while (reading_) {
      auto f = decoder_.next();
      if (!f) break;
      handle_frame(*f);
    }
    if (ec) {
      if (!reading_) break;
      if (ec == asio::error::eof) {
        if (auto last = decoder_.finish()) handle_frame(*last);
        reading_ended({close_reason::eof, ec, "end of stream"});
      } else if (ec == asio::error::operation_aborted && closing_) {
        reading_ended({close_reason::closed_locally, {}, "closed"});
      } else {
        reading_ended({close_reason::read_error, ec, ec.message()});
      }
    }
  }
  if (!close_info_) reading_ended({close_reason::closed_locally, {}, "closed"});
}

void connection::handle_frame(const framing::frame& f) {
  switch (f.type) {
  case framing::frame::kind::line: {
    if (f.text.size() < text_buffer::large_bytes) return handle_line(f.text, nullptr);
    // A large line: its message takes the decoder's buffer instead of copying it.
    std::size_t offset = 0;
    auto owner = decoder_.take_buffer(f, offset);
    if (owner.empty()) return handle_line(f.text, nullptr);
    return handle_line(std::string_view(owner.data() + offset, f.text.size()), &owner);
  }
  case framing::frame::kind::header: {
    json::object data;
    data["line"] = jsonrpc::utf8_sample(f.text, 128);
    data["reason"] = "content_length_framing";
    log::warn(name(), "received a Content-Length header: ACP uses one JSON message per line, not LSP framing");
    send_error(nullptr, rpc_error::parse_error("Parse error: Content-Length framing is not supported; send one JSON "
                                               "message per line",
                                               json::value(std::move(data))));
    return;
  }
  case framing::frame::kind::oversized: {
    json::object data;
    data["reason"] = "message_too_large";
    data["limit"] = options_.max_message_bytes;
    data["size_at_least"] = f.size;
    const std::string detail = "incoming message exceeds the limit of " +
                               std::to_string(options_.max_message_bytes) + " bytes";
    log::error(name(), detail + "; closing the connection");
    send_error(nullptr, rpc_error::invalid_request("Invalid request: " + detail, json::value(std::move(data))));
    reading_ended({close_reason::oversized_message, {}, detail});
    return;
  }
  }
}

void connection::handle_line(std::string_view line, text_buffer* owner) {
  ++stats_.messages_in;
  auto parsed = parser_.parse(line, owner);
  if (!parsed.batch) {
    auto& item = parsed.items.front();
    if (auto* bad = std::get_if<jsonrpc::invalid_message>(&item)) return handle_invalid(std::move(*bad), false);
    auto& msg = std::get<jsonrpc::message>(item);
    if (msg.is_response()) return handle_response(std::move(msg));
    if (on_message_) on_message_(std::move(msg));
    else if (msg.is_request()) send_error(msg.id(), rpc_error::method_not_found(msg.method()));
    return;
  }
  // A batch: register its requests first so responses sent while dispatching are collected.
  auto b = std::make_shared<batch>();
  for (auto& item : parsed.items) {
    if (auto* msg = std::get_if<jsonrpc::message>(&item); msg && msg->is_request()) {
      auto [it, inserted] = batch_ids_.emplace(jsonrpc::id_key(msg->id()), b);
      if (inserted) ++b->outstanding;
    } else if (auto* bad = std::get_if<jsonrpc::invalid_message>(&item); bad && !bad->response_shaped) {
      b->responses.push_back(jsonrpc::message::error_response(bad->id, bad->error).json());
    }
  }
  for (auto& item : parsed.items) {
    if (auto* bad = std::get_if<jsonrpc::invalid_message>(&item)) {
      if (bad->response_shaped) handle_invalid(std::move(*bad), true);
      continue;
    }
    auto& msg = std::get<jsonrpc::message>(item);
    if (msg.is_response()) handle_response(std::move(msg));
    else if (on_message_) on_message_(std::move(msg));
    else if (msg.is_request()) send_error(msg.id(), rpc_error::method_not_found(msg.method()));
  }
  if (b->outstanding == 0 && !b->responses.empty()) {
    json::value arr(std::move(b->responses));
    framing::append_line(out_, arr);
    message_queued();
  }
}

void connection::handle_invalid(jsonrpc::invalid_message bad, bool in_batch) {
  log::warn(name(), bad.error.message);
  if (!bad.response_shaped) {
    if (!in_batch) send_error(std::move(bad.id), bad.error);
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
      cb(jsonrpc::message::error_response(bad.id, rpc_error::internal_error("invalid response from " + name(),
                                                                              json::value(std::move(data)))));
    }
  }
}

void connection::handle_response(jsonrpc::message msg) {
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
      if (--b->outstanding == 0) {
        json::value arr(std::move(b->responses));
        framing::append_line(out_, arr);
        message_queued();
      }
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
  if (writable()) {
    const auto before = out_.size();
    framing::append_line(out_, msg);
    enqueued(before, out_.size() - before - 1, id, id && !msg.contains("method"), false);
  }
}

void connection::enqueue(jsonrpc::message& msg, bool ours) {
  if (!writable()) return;
  const auto* id = msg.is_notification() ? nullptr : &msg.id();
  if (const auto payload = msg.payload_text(); payload && payload->size() >= text_buffer::large_bytes) {
    // A large text message is not copied: what is queued so far and the message's head are
    // sealed, the payload is written from the message's own buffer, `}` starts what follows.
    const auto before = out_.size();
    msg.write_head(out_);
    const auto size = out_.size() - before + payload->size() + 1;
    if (size <= options_.max_message_bytes) {
      const auto span = msg.payload_span();
      sealed_piece piece{std::move(out_), std::move(msg).take_text_buffer(), span.offset, span.size};
      out_.clear();
      sealed_bytes_ += piece.head.size() + piece.size;
      sealed_.push_back(std::move(piece));
      out_.append("}\n");
    }
    return enqueued(before, size, id, msg.is_response(), ours);
  }
  const auto before = out_.size();
  framing::append_line(out_, msg);
  enqueued(before, out_.size() - before - 1, id, msg.is_response(), ours);
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

void connection::enqueued(std::size_t before, std::size_t size, const json::value* id, bool response, bool ours) {
  if (size > options_.max_message_bytes) {
    out_.resize(before);
    if (!replace_oversized(size, id, response, ours)) return;
  }
  message_queued();
}

void connection::message_queued() {
  ++stats_.messages_out;
  wake_writer();
  update_congestion();
}

bool connection::replace_oversized(std::size_t size, const json::value* id, bool response, bool ours) {
  const std::string why = "outgoing message of " + std::to_string(size) + " bytes exceeds the limit of " +
                          std::to_string(options_.max_message_bytes);
  log::error(name(), why);
  if (id && response) {
    // A response: answer with an error instead, so the request is not left hanging.
    json::object data;
    data["reason"] = "message_too_large";
    framing::append_line(out_, jsonrpc::message::error_response(*id, rpc_error::internal_error(
                                                                             why, json::value(std::move(data))))
                                   .json());
    return true;
  }
  if (id && ours && id->is_int64()) {
    // One of our requests: resolve it locally (not re-entrantly).
    if (auto it = pending_.find(id->get_int64()); it != pending_.end()) {
      auto cb = std::make_shared<response_callback>(std::move(it->second));
      pending_.erase(it);
      asio::post(ex_, [cb, rid = *id, why] {
        (*cb)(jsonrpc::message::error_response(rid, rpc_error::internal_error(why)));
      });
    }
  }
  return false;
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

bool connection::cancel_request(const json::value& id) {
  if (!id.is_int64() || !pending_.contains(id.get_int64())) return false;
  json::object params;
  params["requestId"] = id;
  send_notification("$/cancel_request", json::value(std::move(params)));
  return true;
}

void connection::wake_writer() { writer_wake_.cancel(); }

void connection::reader_may_resume() {
  // Bytes were handed to the transport: a reader paused on its own congestion may go on now
  // (see may_read); wake it to look again.
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
    error_code ec;
    if (!sealed_.empty()) {
      // A large message: the bytes queued before it, then its payload from its own buffer.
      auto piece = std::move(sealed_.front());
      sealed_.pop_front();
      sealed_bytes_ -= piece.head.size() + piece.size;
      writing_big_ = piece.size;
      std::swap(piece.head, writing_);
      reader_may_resume();
      co_await transport_->write_all(std::span<const char>(writing_.data(), writing_.size()), ec);
      stats_.bytes_out += writing_.size();
      writing_.clear();
      if (!ec) {
        co_await transport_->write_all(std::span<const char>(piece.buffer.data() + piece.offset, piece.size), ec);
        stats_.bytes_out += piece.size;
      }
      writing_big_ = 0;
    } else if (!out_.empty()) {
      std::swap(out_, writing_);
      out_.clear();
      reader_may_resume();
      co_await transport_->write_all(std::span<const char>(writing_.data(), writing_.size()), ec);
      stats_.bytes_out += writing_.size();
      if (writing_.capacity() > keep_buffer_capacity) std::string().swap(writing_);
      else writing_.clear();
    } else {
      if (closing_) break;
      (void)co_await writer_wake_.async_wait(use_tuple);
      continue;
    }
    if (ec) {
      if (!aborted_) log::warn(name(), "write failed: " + ec.message());
      drop_output();
      writer_done_ = true;
      update_congestion();
      if (!close_info_) {
        transport_->close();
        if (aborted_) reading_ended({close_reason::closed_locally, {}, "aborted"});
        else reading_ended({close_reason::write_error, ec, ec.message()});
      }
      notify_closed();
      co_return;
    }
    update_congestion();
  }
  transport_->shutdown_write();
  writer_done_ = true;
  notify_closed();
}

void connection::drop_output() {
  std::string().swap(out_);
  sealed_.clear();
  sealed_bytes_ = 0;
}

void connection::close() {
  if (closing_) return;
  closing_ = true;
  if (reading_) {
    reading_ = false;
    transport_->close_read(); // the pending read completes with operation_aborted
    gate_->interrupt();       // or the reader is paused at the gate
  }
  if (!started_) {
    reader_done_ = writer_done_ = true;
    if (!close_info_) reading_ended({close_reason::closed_locally, {}, "closed"});
    transport_->close();
    return;
  }
  wake_writer();
}

void connection::abort() {
  if (aborted_) return;
  aborted_ = true;
  closing_ = true;
  reading_ = false;
  drop_output();
  transport_->close();
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
    if (transport_) transport_->close();
    closed_wake_.cancel();
    // Nothing will call the handlers again: release them (they may hold this connection, or
    // others that hold it). Destroyed from a fresh handler, never under their own call.
    if (on_message_ || on_close_)
      asio::post(ex_, [m = std::move(on_message_), c = std::move(on_close_)] {});
    on_message_ = nullptr;
    on_close_ = nullptr;
  }
}

asio::awaitable<void> connection::wait_closed() {
  while (!(reader_done_ && writer_done_)) {
    (void)co_await closed_wake_.async_wait(use_tuple);
  }
}

} // namespace acp
