// The WebSocket message channel: one JSON-RPC message (or batch) per text frame (Boost.Beast).
//
// Beast allows one read, one write and one close in flight. Reading is the owner's one reader.
// Writing is the owner's one writer (`flush`), and the close frame of `shutdown_write` waits for
// the flush in progress and the frames still queued, so frames and the close frame never overlap. Pings are Beast's own
// (stream_base::timeout with keep_alive_pings): a ping after `ping_interval` without input, the
// connection dropped after another interval without any; reading then ends with `read_error`.
//
// The stream lives in a shared state that a close in progress keeps alive, so the channel can
// be destroyed at any time (the destructor closes the socket; pending operations complete).

#include "streams.hpp"

#include <acp/protocol/json_write.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <array>
#include <deque>
#include <memory>
#include <utility>

namespace acp::net::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t keep_buffer_capacity = std::size_t{1} << 20;
constexpr std::size_t write_batch_bytes = std::size_t{256} * 1024; // small frames taken by one flush

/// The bytes of a frame header for a payload of `n` bytes (without a mask): for the byte counts.
std::size_t header_bytes(std::size_t n) noexcept { return n < 126 ? 2 : n < 65536 ? 4 : 10; }

/// One text frame waiting to be written: `text`, or, for a large text message queued without a
/// copy, `text` (the head), `size` bytes of `buffer` from `offset`, and `}`.
struct out_frame {
  std::string text;
  text_buffer buffer;
  std::size_t offset = 0;
  std::size_t size = 0;
  [[nodiscard]] std::size_t payload() const noexcept { return text.size() + (size != 0 ? size + 1 : 0); }
  [[nodiscard]] std::size_t wire() const noexcept { return payload() + header_bytes(payload()); }
};

template <class Stream> class ws_channel final : public message_channel {
public:
  using ws_stream = websocket::stream<Stream>;

  ws_channel(ws_stream ws, ws_channel_options options)
      : state_(std::make_shared<state>(std::move(ws))), max_(options.max_message_bytes),
        description_(std::move(options.description)) {
    auto& w = state_->ws;
    w.text(true);
    w.auto_fragment(false); // one message, one frame
    w.write_buffer_bytes(64 * 1024);
    w.read_message_max(max_);
    websocket::stream_base::timeout t{};
    if (options.ping_interval.count() > 0) {
      t.handshake_timeout = options.ping_interval; // the close handshake
      t.idle_timeout = 2 * options.ping_interval;
      t.keep_alive_pings = true;
    } else {
      t.handshake_timeout = std::chrono::seconds(10);
      t.idle_timeout = websocket::stream_base::none();
      t.keep_alive_pings = false;
    }
    w.set_option(t);
  }
  ~ws_channel() override { close(); }
  ws_channel(const ws_channel&) = delete;
  ws_channel& operator=(const ws_channel&) = delete;

  // ---- reading ----

  asio::awaitable<channel_input> read() override {
    auto s = state_;
    if (s->closed || read_closed_) end_reading(close_info{close_reason::closed_locally, {}, "closed"});
    if (end_) co_return ended();
    // Beast's read runs on its own and wakes us through the timer, so that close_read can end
    // this read without cancelling Beast's (a cancelled Beast read may close the stream, and
    // writing goes on after close_read).
    s->read_done = false;
    s->ws.async_read(s->read_buf, [s](const error_code& ec, std::size_t n) {
      s->read_ec = ec;
      s->read_size = n;
      s->read_done = true;
      s->read_wake.cancel();
    });
    while (!s->read_done && !read_closed_ && !s->closed) {
      s->read_wake.expires_at(asio::steady_timer::time_point::max());
      (void)co_await s->read_wake.async_wait(use_tuple);
    }
    if (s->closed || read_closed_) end_reading(close_info{close_reason::closed_locally, {}, "closed"});
    if (end_) co_return ended();
    if (s->read_ec) co_return failed(s->read_ec);
    const auto n = s->read_size;
    bytes_read_ += n + header_bytes(n);
    auto& buf = s->read_buf;
    channel_input in;
    if (s->ws.got_text()) {
      const auto data = buf.cdata();
      in.parsed = parser_.parse(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else {
      auto error = rpc_error::parse_error("Parse error: a binary frame (one JSON-RPC message per text frame)");
      in.parsed.items.emplace_back(jsonrpc::invalid_message{std::move(error), nullptr, false});
    }
    buf.consume(buf.size());
    if (buf.capacity() > keep_buffer_capacity) buf = beast::flat_buffer();
    co_return in;
  }

  // ---- writing ----

  queue_result queue(jsonrpc::message& msg) override {
    if (const auto payload = msg.payload_text(); payload && payload->size() >= text_buffer::large_bytes) {
      // A large text message is written from its own buffer: its head, the payload, `}`.
      out_frame f;
      msg.write_head(f.text);
      const auto size = f.text.size() + payload->size() + 1;
      if (size > max_) return {channel_errc::message_too_large, size};
      const auto span = msg.payload_span();
      f.offset = span.offset;
      f.size = span.size;
      f.buffer = std::move(msg).take_text_buffer();
      return push(std::move(f));
    }
    out_frame f;
    msg.write_to(f.text);
    return push(std::move(f));
  }
  queue_result queue(const json::object& msg) override {
    out_frame f;
    json_write::append(f.text, msg);
    return push(std::move(f));
  }
  queue_result queue(const json::array& batch) override {
    out_frame f;
    json_write::append(f.text, json::value(batch));
    return push(std::move(f));
  }

  asio::awaitable<error_code> flush() override {
    auto s = state_;
    // Take the oldest frame, and the small ones after it up to a batch (a large one alone).
    std::deque<out_frame> taking;
    std::size_t taken = 0;
    while (!queued_.empty()) {
      const auto wire = queued_.front().wire();
      if (!taking.empty() && (queued_.front().size != 0 || taken + wire > write_batch_bytes)) break;
      taken += wire;
      taking.push_back(std::move(queued_.front()));
      queued_.pop_front();
      if (taking.back().size != 0) break;
    }
    queued_bytes_ -= taken;
    flushing_bytes_ = taken;
    error_code ec;
    if (s->closed || s->close_started) ec = asio::error::broken_pipe;
    s->writing = true;
    for (auto& f : taking) {
      if (ec) break;
      std::size_t n = 0;
      if (f.size == 0) {
        std::tie(ec, n) = co_await s->ws.async_write(asio::buffer(f.text), use_tuple);
      } else {
        const std::array<asio::const_buffer, 3> parts{
            asio::buffer(f.text), asio::buffer(f.buffer.data() + f.offset, f.size), asio::buffer("}", 1)};
        std::tie(ec, n) = co_await s->ws.async_write(parts, use_tuple);
      }
      if (!ec) bytes_written_ += f.wire();
      flushing_bytes_ -= f.wire();
      f = out_frame(); // free a large message's buffer now
    }
    s->writing = false;
    flushing_bytes_ = 0;
    if (s->close_pending && (ec || queued_.empty())) start_close(s);
    co_return ec;
  }

  std::size_t queued_bytes() const noexcept override { return queued_bytes_; }
  std::size_t flushing_bytes() const noexcept override { return flushing_bytes_; }
  void drop_queued() noexcept override {
    queued_.clear();
    queued_bytes_ = 0;
    if (state_->close_pending && !state_->writing) start_close(state_);
  }

  // ---- ending ----

  void shutdown_write() noexcept override {
    auto& s = state_;
    if (s->closed || s->close_started || s->close_pending) return;
    s->close_pending = true;
    // After the flush in progress and what is still queued (the owner's writer flushes it).
    if (!s->writing && queued_.empty()) start_close(s);
  }
  void close_read() noexcept override {
    read_closed_ = true;
    state_->read_wake.cancel();
  }
  void close() noexcept override {
    auto& s = *state_;
    if (s.closed) return;
    s.closed = true;
    error_code ignored;
    beast::get_lowest_layer(s.ws).close(ignored);
    s.read_wake.cancel();
  }

  std::size_t max_message_bytes() const noexcept override { return max_; }
  std::uint64_t bytes_read() const noexcept override { return bytes_read_; }
  std::uint64_t bytes_written() const noexcept override { return bytes_written_; }
  std::string_view describe() const noexcept override { return description_; }

private:
  struct state {
    explicit state(ws_stream w) : ws(std::move(w)), read_wake(ws.get_executor()) {}
    ws_stream ws;
    beast::flat_buffer read_buf;
    asio::steady_timer read_wake; // wakes `read` when Beast's read has ended (or on close)
    error_code read_ec;
    std::size_t read_size = 0;
    bool read_done = false;
    bool closed = false;        // close(): the socket is closed
    bool writing = false;       // a flush is writing
    bool close_pending = false; // shutdown_write waits for the flush in progress
    bool close_started = false; // the close frame is on its way
  };

  /// Sends the close frame; the operation keeps the state alive until it ends.
  static void start_close(const std::shared_ptr<state>& s) noexcept {
    s->close_pending = false;
    if (s->closed || s->close_started) return;
    s->close_started = true;
    s->ws.async_close(websocket::close_code::normal, [s](const error_code&) {});
  }

  queue_result push(out_frame f) {
    const auto size = f.payload();
    if (size > max_) return {channel_errc::message_too_large, size};
    queued_bytes_ += f.wire();
    queued_.push_back(std::move(f));
    return {{}, size};
  }

  channel_input ended() const { return channel_input{.type = channel_input::kind::ended, .end = *end_}; }
  void end_reading(close_info info) {
    if (!end_) end_ = std::move(info);
  }

  channel_input failed(const error_code& ec) {
    if (ec == websocket::error::message_too_big) {
      // Beast has answered with close code 1009 and closed the stream: nothing more to read.
      end_reading(
          close_info{close_reason::read_error, ec, "a message over the limit of " + std::to_string(max_) + " bytes"});
      return channel_input{.type = channel_input::kind::oversized, .size = max_ + 1};
    }
    // A close frame from the peer ends the stream properly even when answering it then failed
    // (the peer may drop the connection right after its close frame).
    if (ec == websocket::error::closed || state_->ws.reason().code != websocket::close_code::none)
      end_reading(close_info{close_reason::eof, ec, "closed by the peer"});
    else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
             ec == asio::error::connection_reset || ec == asio::error::not_connected)
      end_reading(close_info{close_reason::eof, ec, "end of stream without a close frame"});
    else if (ec == beast::error::timeout)
      end_reading(close_info{close_reason::read_error, ec, "no answer to ping"});
    else if (state_->close_started && ec == asio::error::operation_aborted)
      end_reading(close_info{close_reason::eof, ec, "closed"});
    else
      end_reading(close_info{close_reason::read_error, ec, ec.message()});
    return ended();
  }

  std::shared_ptr<state> state_;
  std::size_t max_;
  std::string description_;

  jsonrpc::line_parser parser_;
  bool read_closed_ = false;
  std::optional<close_info> end_;

  std::deque<out_frame> queued_;
  std::size_t queued_bytes_ = 0;
  std::size_t flushing_bytes_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
};

} // namespace

namespace {

template <class Stream> message_channel_ptr make(websocket::stream<Stream> ws, ws_channel_options options) {
  const asio::any_io_executor ex = ws.get_executor();
  const auto idle = options.idle_timeout;
  message_channel_ptr ch = std::make_unique<ws_channel<Stream>>(std::move(ws), std::move(options));
  return idle.count() > 0 ? with_idle_timeout(ex, std::move(ch), idle) : std::move(ch);
}

} // namespace

message_channel_ptr make_ws_channel(websocket::stream<tcp_socket> ws, ws_channel_options options) {
  return make(std::move(ws), std::move(options));
}

message_channel_ptr make_ws_channel(websocket::stream<tls_socket> ws, ws_channel_options options) {
  return make(std::move(ws), std::move(options));
}

} // namespace acp::net::detail
