// A client's NDJSON channel that reads a server's refusal (docs/PROTOCOL.md §8: an error line
// with a null id, -32001 unauthorized or -32000 server busy, as the first thing it sends) as the
// end of the connection with that reason, instead of a response nobody asked for.

#include "streams.hpp"

namespace acp::net::detail {
namespace {

class refusal_watch final : public message_channel {
public:
  explicit refusal_watch(message_channel_ptr inner) : inner_(std::move(inner)) {}

  boost::asio::awaitable<channel_input> read() override {
    if (refused_) co_return ended();
    auto in = co_await inner_->read();
    co_return first(std::move(in));
  }
  std::optional<channel_input> poll() override {
    if (refused_) return ended();
    auto in = inner_->poll();
    if (!in) return in;
    return first(std::move(*in));
  }

  queue_result queue(jsonrpc::message& msg) override { return inner_->queue(msg); }
  queue_result queue(const boost::json::object& msg) override { return inner_->queue(msg); }
  queue_result queue(const boost::json::array& batch) override { return inner_->queue(batch); }
  boost::asio::awaitable<boost::system::error_code> flush() override { return inner_->flush(); }
  std::size_t queued_bytes() const noexcept override { return inner_->queued_bytes(); }
  std::size_t flushing_bytes() const noexcept override { return inner_->flushing_bytes(); }
  void drop_queued() noexcept override { inner_->drop_queued(); }
  void shutdown_write() noexcept override { inner_->shutdown_write(); }
  void close_read() noexcept override { inner_->close_read(); }
  void close() noexcept override { inner_->close(); }
  std::size_t max_message_bytes() const noexcept override { return inner_->max_message_bytes(); }
  std::uint64_t bytes_read() const noexcept override { return inner_->bytes_read(); }
  std::uint64_t bytes_written() const noexcept override { return inner_->bytes_written(); }
  std::string_view describe() const noexcept override { return inner_->describe(); }

private:
  channel_input first(channel_input in) {
    if (seen_) return in;
    seen_ = true;
    if (in.type != channel_input::kind::messages || in.parsed.batch || in.parsed.items.size() != 1) return in;
    const auto* msg = std::get_if<jsonrpc::message>(&in.parsed.items.front());
    if (!msg || !msg->is_response() || !msg->id().is_null()) return in;
    const auto error = msg->error();
    if (!error || (error->code != -32001 && error->code != -32000)) return in;
    refused_ = close_info{close_reason::read_error, {}, "refused by the server: " + error->message};
    inner_->close();
    return ended();
  }
  channel_input ended() const { return channel_input{.type = channel_input::kind::ended, .end = *refused_}; }

  message_channel_ptr inner_;
  bool seen_ = false;
  std::optional<close_info> refused_;
};

} // namespace

message_channel_ptr watch_for_refusal(message_channel_ptr inner) {
  return std::make_unique<refusal_watch>(std::move(inner));
}

} // namespace acp::net::detail
