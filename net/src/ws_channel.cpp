// The WebSocket message channel: one JSON-RPC message (or batch) per text frame, framed here
// (ws_framing.hpp) over a byte transport; Beast only does the server's side of the HTTP upgrade.
//
// After the upgrade the TCP socket, or the TLS stream, becomes a byte transport, and what the
// upgrade's HTTP reader read past the HTTP message is read first: on the client (connect.cpp,
// which does the upgrade itself), frames the server sent right behind its 101 answer; on the
// server (listen_handshake.cpp; Beast's `async_accept` of a request already read reads nothing
// more), frames a client sent without waiting for the 101.
//
// Reading: 64 KiB per transport read, every complete frame buffered decoded by `poll` without a
// wait. Writing: `queue` frames each message into one output string, and `flush` writes all of
// it with one write. Control frames (pong, ping, the close reply, the close of
// `shutdown_write`) are written by a small writer of their own when no flush is writing, and
// otherwise by the flush in progress (after its data); the two never write at once (`busy`).
// Keep-alive: a ping after `ping_interval` without input while a read is pending; after twice
// the interval without any, reading ends with `read_error` ("no answer to ping").
//
// The transport and the write state are shared with the control writer and the keep-alive
// timer, so the channel can be destroyed at any time (the destructor closes the transport).

#include "prefixed_transport.hpp"
#include "streams.hpp"
#include "ws_framing.hpp"

#include <acp/protocol/json_write.hpp>

#include <acp/sdk/log.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <memory>
#include <utility>

namespace acp::net::detail {
namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t keep_buffer_capacity = std::size_t{1} << 20;
using clock = std::chrono::steady_clock;

/// What the channel shares with its control writer and keep-alive timer.
struct shared_state {
  shared_state(asio::any_io_executor e, transport_ptr tr, ws_role r)
      : ex(std::move(e)), t(std::move(tr)), role(r), wake(ex), keep_alive(ex) {}
  ws_masker* masker() noexcept { return role == ws_role::client ? &mask : nullptr; }

  asio::any_io_executor ex;
  std::shared_ptr<transport> t;
  ws_role role;
  ws_masker mask;
  asio::steady_timer wake;       // wakes a flush waiting for the control writer
  asio::steady_timer keep_alive; // the ping timer
  std::string control;           // control frames waiting to be written
  bool busy = false;             // a write is in progress (a flush or the control writer)
  bool close_sent = false;       // a close frame is written or waiting: nothing after it
  bool close_pending = false;    // shutdown_write: a close frame after the queued output
  bool shut_after = false;       // shut the transport's writing once `control` is written
  bool closed = false;           // close()
  bool reading = false;          // a transport read is pending
  bool pinged = false;           // a ping went out since the last input
  bool dead = false;             // no answer to ping
  clock::time_point last_input = clock::now();
};

/// After a write: shut the transport's writing when the close frame has gone out.
void after_write(shared_state& s) {
  if (s.shut_after && s.control.empty()) {
    s.shut_after = false;
    s.t->shutdown_write();
  }
}

/// A coroutine of the channel failed (logged by log::on_failure): nothing more is written or read.
void fail_hard(shared_state& s) noexcept {
  s.closed = true;
  s.busy = false;
  s.t->close();
  s.wake.cancel();
}

void start_control_writer(const std::shared_ptr<shared_state>& s) {
  if (s->busy || s->closed || s->control.empty()) return;
  s->busy = true;
  asio::co_spawn(
      s->ex,
      [s]() -> asio::awaitable<void> {
        std::string writing;
        while (!s->control.empty() && !s->closed) {
          writing.clear();
          std::swap(writing, s->control);
          if (co_await s->t->write_all(std::span<const char>(writing.data(), writing.size()))) {
            s->control.clear();
            break;
          }
        }
        s->busy = false;
        after_write(*s);
        s->wake.cancel();
      },
      log::on_failure("websocket", "writing a control frame", [s] { fail_hard(*s); }));
}

/// Queues a control frame; written now when nothing else is writing.
void send_control(const std::shared_ptr<shared_state>& s, ws_opcode op, std::string_view payload) {
  if (s->closed || s->close_sent) return;
  append_ws_frame(s->control, op, payload, s->masker());
  start_control_writer(s);
}

void send_close(const std::shared_ptr<shared_state>& s, std::uint16_t code) {
  if (s->closed || s->close_sent) return;
  s->close_sent = true;
  s->close_pending = false;
  s->shut_after = true;
  append_ws_close(s->control, code, s->masker());
  start_control_writer(s);
}

/// Pings after `interval` without input (while a read is pending); after twice the interval
/// without any, ends reading.
void start_keep_alive(const std::shared_ptr<shared_state>& s, std::chrono::milliseconds interval) {
  asio::co_spawn(
      s->ex,
      [s, interval]() -> asio::awaitable<void> {
        while (!s->closed && !s->dead) {
          const auto now = clock::now();
          if (!s->reading) s->last_input = now, s->pinged = false;
          const auto idle = now - s->last_input;
          if (idle >= 2 * interval) {
            s->dead = true;
            s->t->close_read();
            co_return;
          }
          if (idle >= interval && !s->pinged) {
            s->pinged = true;
            send_control(s, ws_opcode::ping, {});
          }
          s->keep_alive.expires_at(s->last_input + (s->pinged ? 2 * interval : interval));
          (void)co_await s->keep_alive.async_wait(use_tuple);
        }
      },
      log::on_failure("websocket", "keep-alive", [s] { fail_hard(*s); }));
}

class ws_channel final : public message_channel {
public:
  ws_channel(const asio::any_io_executor& ex, transport_ptr t, ws_channel_options options)
      : s_(std::make_shared<shared_state>(ex, std::move(t), options.role)), max_(options.max_message_bytes),
        decoder_(options.role, options.max_message_bytes), description_(std::move(options.description)),
        observe_(std::move(options.observe)) {
    if (options.ping_interval.count() > 0) start_keep_alive(s_, options.ping_interval);
  }
  ~ws_channel() override { close(); }
  ws_channel(const ws_channel&) = delete;
  ws_channel& operator=(const ws_channel&) = delete;

  // ---- reading ----

  asio::awaitable<channel_input> read() override {
    auto s = s_;
    for (;;) {
      if (auto in = poll()) co_return std::move(*in);
      auto buf = decoder_.prepare(read_chunk);
      s->reading = true;
      s->last_input = clock::now();
      s->pinged = false;
      const auto [ec, n] = co_await s->t->read_some(buf);
      s->reading = false;
      decoder_.commit(n);
      bytes_read_ += n;
      if (n != 0) {
        s->last_input = clock::now();
        s->pinged = false;
      }
      if (ec) reading_failed(ec);
    }
  }

  std::optional<channel_input> poll() override {
    if (s_->closed || read_closed_) end_reading(close_info{close_reason::closed_locally, {}, "closed"});
    if (end_) return ended();
    while (auto ev = decoder_.next()) {
      switch (ev->type) {
      case ws_event::kind::text:
        seen(true, ev->payload);
        return channel_input{.parsed = parser_.parse(ev->payload)};
      case ws_event::kind::binary: {
        seen(true, ev->payload);
        channel_input in;
        auto error = rpc_error::parse_error("Parse error: a binary frame (one JSON-RPC message per text frame)");
        in.parsed.items.emplace_back(jsonrpc::invalid_message{std::move(error), nullptr, false});
        return in;
      }
      case ws_event::kind::ping:
        send_control(s_, ws_opcode::pong, ev->payload);
        continue;
      case ws_event::kind::pong:
        continue;
      case ws_event::kind::close:
        // Answered once (with the peer's code); a close frame ends the stream properly.
        send_close(s_, ev->code == 1005 ? std::uint16_t{1000} : ev->code);
        end_reading(close_info{close_reason::eof, {}, "closed by the peer"});
        return ended();
      case ws_event::kind::oversized:
        send_close(s_, 1009);
        end_reading(close_info{close_reason::read_error, make_error_code(channel_errc::message_too_large),
                               "a message over the limit of " + std::to_string(max_) + " bytes"});
        return channel_input{.type = channel_input::kind::oversized, .size = ev->size};
      case ws_event::kind::violation:
        send_close(s_, 1002);
        end_reading(close_info{close_reason::read_error, make_error_code(asio::error::invalid_argument),
                               "WebSocket protocol error: " + std::string(ev->detail)});
        return ended();
      }
    }
    return std::nullopt;
  }

  // ---- writing ----

  queue_result queue(jsonrpc::message& msg) override {
    scratch_.clear();
    msg.write_to(scratch_);
    return push();
  }
  queue_result queue(const json::object& msg) override {
    scratch_.clear();
    json_write::append(scratch_, msg);
    return push();
  }
  queue_result queue(const json::array& batch) override {
    scratch_.clear();
    json_write::append(scratch_, json::value(batch));
    return push();
  }

  asio::awaitable<error_code> flush() override {
    auto s = s_;
    std::swap(out_, writing_);
    out_.clear();
    while (s->busy && !s->closed) {
      s->wake.expires_at(asio::steady_timer::time_point::max());
      (void)co_await s->wake.async_wait(use_tuple);
    }
    error_code ec;
    if (s->closed || s->close_sent) {
      ec = asio::error::broken_pipe;
    } else {
      // Control frames waiting go out behind the data; the close of shutdown_write last.
      writing_ += s->control;
      s->control.clear();
      if (s->close_pending && out_.empty()) {
        s->close_pending = false;
        s->close_sent = true;
        s->shut_after = true;
        append_ws_close(writing_, 1000, s->masker());
      }
      s->busy = true;
      ec = co_await s->t->write_all(std::span<const char>(writing_.data(), writing_.size()));
      s->busy = false;
      if (!ec) bytes_written_ += writing_.size();
      after_write(*s);
      s->wake.cancel();
      start_control_writer(s);
    }
    if (writing_.capacity() > keep_buffer_capacity)
      std::string().swap(writing_);
    else
      writing_.clear();
    co_return ec;
  }

  std::size_t queued_bytes() const noexcept override { return out_.size(); }
  std::size_t flushing_bytes() const noexcept override { return writing_.size(); }
  void drop_queued() noexcept override {
    std::string().swap(out_);
    if (s_->close_pending && !s_->busy) send_close(s_, 1000);
  }

  // ---- ending ----

  void shutdown_write() noexcept override {
    auto& s = s_;
    if (s->closed || s->close_sent || s->close_pending) return;
    // After the flush in progress and what is still queued (the owner's writer flushes it).
    if (!s->busy && out_.empty())
      send_close(s, 1000);
    else
      s->close_pending = true;
  }
  void close_read() noexcept override {
    read_closed_ = true;
    s_->t->close_read();
  }
  void close() noexcept override {
    auto& s = *s_;
    if (s.closed) return;
    s.closed = true;
    s.t->close();
    s.keep_alive.cancel();
    s.wake.cancel();
  }

  std::size_t max_message_bytes() const noexcept override { return max_; }
  std::uint64_t bytes_read() const noexcept override { return bytes_read_; }
  std::uint64_t bytes_written() const noexcept override { return bytes_written_; }
  std::string_view describe() const noexcept override { return description_; }

private:
  queue_result push() {
    const auto size = scratch_.size();
    if (size > max_) return {channel_errc::message_too_large, size};
    seen(false, scratch_);
    append_ws_frame(out_, ws_opcode::text, scratch_, s_->masker());
    if (scratch_.capacity() > keep_buffer_capacity) std::string().swap(scratch_);
    return {{}, size};
  }

  void seen(bool incoming, std::string_view text) {
    if (!observe_) return;
    observe_(incoming, text);
    observe_(incoming, "\n");
  }

  channel_input ended() const { return channel_input{.type = channel_input::kind::ended, .end = *end_}; }
  void end_reading(close_info info) {
    if (!end_) end_ = std::move(info);
  }

  void reading_failed(const error_code& ec) {
    if (s_->closed || read_closed_)
      end_reading(close_info{close_reason::closed_locally, {}, "closed"});
    else if (s_->dead)
      end_reading(close_info{close_reason::read_error, ec, "no answer to ping"});
    else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
             ec == asio::error::connection_reset || ec == asio::error::not_connected)
      end_reading(close_info{close_reason::eof, ec, "end of stream without a close frame"});
    else
      end_reading(close_info{close_reason::read_error, ec, ec.message()});
  }

  std::shared_ptr<shared_state> s_;
  std::size_t max_;
  ws_decoder decoder_;
  std::string description_;
  byte_observer observe_;

  jsonrpc::line_parser parser_;
  bool read_closed_ = false;
  std::optional<close_info> end_;

  std::string scratch_; // a message's text before it is framed
  std::string out_;     // framed, waiting for a flush
  std::string writing_; // being written
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
};

message_channel_ptr wrap(const asio::any_io_executor& ex, transport_ptr t, ws_channel_options options) {
  const auto idle = options.idle_timeout;
  message_channel_ptr ch = std::make_unique<ws_channel>(ex, std::move(t), std::move(options));
  return idle.count() > 0 ? with_idle_timeout(ex, std::move(ch), idle) : std::move(ch);
}

} // namespace

message_channel_ptr make_ws_channel(tcp_socket socket, std::string already_read, ws_channel_options options) {
  const asio::any_io_executor ex = socket.get_executor();
  error_code ec;
  const auto fd = socket.release(ec);
  transport_ptr t;
  if (!ec) {
    auto made = make_socket_transport(ex, fd, options.description);
    if (made) t = std::move(*made);
  }
  if (!t) t = make_fd_transport(ex, -1, -1, options.description); // every operation fails
  return wrap(ex, make_prefixed_transport(std::move(already_read), std::move(t)), std::move(options));
}

message_channel_ptr make_ws_channel(tls_socket stream, std::string already_read, ws_channel_options options) {
  const asio::any_io_executor ex = stream.get_executor();
  auto t = make_tls_transport(std::move(stream), options.description);
  return wrap(ex, make_prefixed_transport(std::move(already_read), std::move(t)), std::move(options));
}

} // namespace acp::net::detail
