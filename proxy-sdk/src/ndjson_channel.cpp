// The NDJSON message channel: one JSON message per line over a byte transport.

#include <acp/sdk/channel.hpp>

#include <boost/asio/error.hpp>

#include <deque>
#include <utility>

namespace acp {
namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

namespace {

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t large_read_chunk = 1024 * 1024; // while a large line is coming in
// A written buffer up to this size is kept for the next output. A sender that queues a burst
// per turn (an agent streaming a reply in one go) otherwise grows a new buffer every turn, and
// the allocator may hand the old one back to the system in between: with 1 MiB the benchmark
// agent's 1.7 MB turns page-faulted all their memory afresh each time (2.5x its CPU).
constexpr std::size_t keep_buffer_capacity = 4 << 20;
// More than this is left to the writer by write_now: a pipe takes about this much at once, and
// a direct write of more would move the rest to the front of the buffer.
constexpr std::size_t direct_write_max = 64 * 1024;

class ndjson_channel final : public message_channel {
public:
  ndjson_channel(transport_ptr transport, const ndjson_options& options)
      : transport_(std::move(transport)), max_(options.max_message_bytes), decoder_(options.max_message_bytes),
        description_("ndjson over " + std::string(transport_->describe())) {}
  ~ndjson_channel() override { transport_->close(); }
  ndjson_channel(const ndjson_channel&) = delete;
  ndjson_channel& operator=(const ndjson_channel&) = delete;

  // ---- reading ----

  asio::awaitable<channel_input> read() override {
    for (;;) {
      if (auto in = poll()) co_return std::move(*in);
      // Inside a large line, read in larger pieces: fewer system calls and fewer buffer checks.
      auto buf = decoder_.prepare(decoder_.buffered_bytes() >= large_read_chunk ? large_read_chunk : read_chunk);
      const auto [ec, n] = co_await transport_->read_some(buf);
      decoder_.commit(n);
      bytes_read_ += n;
      if (ec) reading_failed(ec);
    }
  }

  std::optional<channel_input> poll() override {
    if (auto f = decoder_.next()) return input(*f);
    if (!end_) return std::nullopt;
    if (!finished_) {
      finished_ = true;
      if (auto last = decoder_.finish()) return input(*last);
    }
    return channel_input{.type = channel_input::kind::ended, .end = *end_};
  }

  // ---- writing ----

  queue_result queue(jsonrpc::message& msg) override {
    const auto before = out_.size();
    // Once: for a message edited through its DOM, deciding whether its text still says the same
    // parses that text again.
    const auto payload = msg.payload_text();
    if (payload && payload->size() < text_buffer::large_bytes) {
      out_.reserve(out_.size() + payload->size() + msg.method().size() + 64);
      msg.write_head(out_);
      out_.append(*payload);
      out_.append("}\n");
      return accounted(before);
    }
    if (payload) {
      // A large text message is not copied: what is queued so far and the message's head are
      // sealed, the payload is written from the message's own buffer, `}` starts what follows.
      msg.write_head(out_);
      const auto size = out_.size() - before + payload->size() + 1;
      if (size > max_) return refuse(before, size);
      const auto span = msg.payload_span();
      sealed_piece piece{std::move(out_), std::move(msg).take_text_buffer(), span.offset, span.size};
      out_.clear();
      sealed_bytes_ += piece.head.size() + piece.size;
      sealed_.push_back(std::move(piece));
      out_.append("}\n");
      return {{}, size};
    }
    framing::append_line(out_, std::as_const(msg).json()); // the DOM is the message
    return accounted(before);
  }
  queue_result queue(const json::object& msg) override {
    const auto before = out_.size();
    framing::append_line(out_, msg);
    return accounted(before);
  }
  queue_result queue(const json::array& batch) override {
    const auto before = out_.size();
    framing::append_line(out_, json::value(batch));
    return accounted(before);
  }

  asio::awaitable<error_code> flush() override {
    error_code ec;
    if (!sealed_.empty()) {
      // A large message: the bytes queued before it, then its payload from its own buffer.
      auto piece = std::move(sealed_.front());
      sealed_.pop_front();
      sealed_bytes_ -= piece.head.size() + piece.size;
      writing_big_ = piece.size;
      std::swap(piece.head, writing_);
      ec = co_await transport_->write_all(std::span<const char>(writing_.data(), writing_.size()));
      bytes_written_ += writing_.size();
      writing_.clear();
      if (!ec) {
        ec = co_await transport_->write_all(std::span<const char>(piece.buffer.data() + piece.offset, piece.size));
        bytes_written_ += piece.size;
      }
      writing_big_ = 0;
      co_return ec;
    }
    std::swap(out_, writing_);
    out_.clear();
    ec = co_await transport_->write_all(std::span<const char>(writing_.data(), writing_.size()));
    bytes_written_ += writing_.size();
    release(writing_);
    co_return ec;
  }

  bool write_now() noexcept override {
    // Only the small messages' buffer, and only between flushes: a flush in progress or a large
    // message queued before it must be written first.
    if (out_.empty() || !sealed_.empty() || !writing_.empty() || writing_big_ != 0) return queued_bytes() == 0;
    if (out_.size() > direct_write_max) return false;
    const auto n = transport_->try_write(std::span<const char>(out_.data(), out_.size()));
    bytes_written_ += n;
    if (n == out_.size()) {
      release(out_);
      return true;
    }
    out_.erase(0, n); // rare (the pipe was nearly full): the rest waits for the writer
    return false;
  }

  std::size_t queued_bytes() const noexcept override { return out_.size() + sealed_bytes_; }
  std::size_t flushing_bytes() const noexcept override { return writing_.size() + writing_big_; }
  void drop_queued() noexcept override {
    std::string().swap(out_);
    sealed_.clear();
    sealed_bytes_ = 0;
  }

  // ---- ending ----

  void shutdown_write() noexcept override { transport_->shutdown_write(); }
  void close_read() noexcept override {
    closed_locally_ = true;
    transport_->close_read();
  }
  void close() noexcept override {
    closed_locally_ = true;
    transport_->close();
  }

  std::size_t max_message_bytes() const noexcept override { return max_; }
  std::uint64_t bytes_read() const noexcept override { return bytes_read_; }
  std::uint64_t bytes_written() const noexcept override { return bytes_written_; }
  std::string_view describe() const noexcept override { return description_; }

private:
  channel_input input(const framing::frame& f) {
    switch (f.type) {
    case framing::frame::kind::line: {
      // The parsed line is built in place (no default-constructed input assigned to).
      if (f.text.size() < text_buffer::large_bytes) return {.parsed = parser_.parse(f.text)};
      // A large line: its message takes the decoder's buffer instead of copying it.
      std::size_t offset = 0;
      auto owner = decoder_.take_buffer(f, offset);
      if (owner.empty()) return {.parsed = parser_.parse(f.text)};
      return {.parsed = parser_.parse(std::string_view(owner.data() + offset, f.text.size()), &owner)};
    }
    case framing::frame::kind::header:
      return {.type = channel_input::kind::content_length_header, .sample = jsonrpc::utf8_sample(f.text, 128)};
    case framing::frame::kind::oversized:
      return {.type = channel_input::kind::oversized, .size = f.size};
    }
    return {};
  }

  void reading_failed(const error_code& ec) {
    if (end_) return;
    if (ec == asio::error::eof) {
      end_ = close_info{close_reason::eof, ec, "end of stream"};
      return; // the last line, if it had no '\n', is still read (poll)
    }
    finished_ = true;
    if (closed_locally_)
      end_ = close_info{close_reason::closed_locally, {}, "closed"};
    else
      end_ = close_info{close_reason::read_error, ec, ec.message()};
  }

  /// Empties a written buffer, keeping its memory unless it grew large.
  static void release(std::string& buffer) noexcept {
    if (buffer.capacity() > keep_buffer_capacity)
      std::string().swap(buffer);
    else
      buffer.clear();
  }

  queue_result accounted(std::size_t before) {
    const auto size = out_.size() - before - 1;
    if (size > max_) return refuse(before, size);
    return {{}, size};
  }
  queue_result refuse(std::size_t before, std::size_t size) {
    out_.resize(before);
    return {channel_errc::message_too_large, size};
  }

  transport_ptr transport_;
  std::size_t max_;
  framing::line_decoder decoder_;
  jsonrpc::line_parser parser_;
  std::optional<close_info> end_; // reading has ended (reported once the buffered lines are)
  bool finished_ = false;         // the decoder's last line was taken (or must not be)
  bool closed_locally_ = false;

  std::string out_;     // serialized, waiting for a flush
  std::string writing_; // being written
  // Large text messages queued without a copy, in order before `out_`: each with the bytes
  // queued before it (and its head), then its payload in its own buffer.
  struct sealed_piece {
    std::string head;
    text_buffer buffer;
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  std::deque<sealed_piece> sealed_;
  std::size_t sealed_bytes_ = 0;
  std::size_t writing_big_ = 0; // payload bytes of a sealed piece being written
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::string description_;
};

} // namespace

message_channel_ptr make_ndjson_channel(const asio::any_io_executor& /*ex*/, transport_ptr transport,
                                        ndjson_options options) {
  return std::make_unique<ndjson_channel>(std::move(transport), options);
}

} // namespace acp
