// detail::with_idle_timeout: a message channel that closes itself when nothing has been read or
// queued for a while. One timer per channel, re-armed lazily: activity only records the time, and
// the timer, when it fires early, waits again for the rest (no cancel per message).

#include "streams.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>

namespace acp::net::detail {
namespace asio = boost::asio;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

namespace {

struct idle_state {
  idle_state(const asio::any_io_executor& ex, message_channel_ptr ch, std::chrono::milliseconds t)
      : inner(std::move(ch)), timeout(t), timer(ex), last(clock::now()) {}
  message_channel_ptr inner;
  std::chrono::milliseconds timeout;
  asio::steady_timer timer;
  clock::time_point last; // the last input read or message queued
  bool expired = false;   // the timer closed the channel
  bool stopped = false;   // reading ended or the owner closed: no more waiting
};

void arm(const std::shared_ptr<idle_state>& s) {
  s->timer.expires_at(s->last + s->timeout);
  s->timer.async_wait([weak = std::weak_ptr<idle_state>(s)](const error_code& ec) {
    auto live = weak.lock();
    if (ec || !live || live->stopped) return;
    if (clock::now() < live->last + live->timeout) return arm(live); // activity meanwhile
    live->expired = true;
    live->stopped = true;
    live->inner->close();
  });
}

class idle_channel final : public message_channel {
public:
  explicit idle_channel(std::shared_ptr<idle_state> s) : s_(std::move(s)) {}
  ~idle_channel() override { stop(); }
  idle_channel(const idle_channel&) = delete;
  idle_channel& operator=(const idle_channel&) = delete;

  asio::awaitable<channel_input> read() override {
    auto in = co_await s_->inner->read();
    co_return seen(std::move(in));
  }
  std::optional<channel_input> poll() override {
    auto in = s_->inner->poll();
    if (in) return seen(std::move(*in));
    return in;
  }

  queue_result queue(jsonrpc::message& msg) override { return touched(s_->inner->queue(msg)); }
  queue_result queue(const boost::json::object& msg) override { return touched(s_->inner->queue(msg)); }
  queue_result queue(const boost::json::array& batch) override { return touched(s_->inner->queue(batch)); }
  asio::awaitable<error_code> flush() override {
    const auto ec = co_await s_->inner->flush();
    co_return ec;
  }
  std::size_t queued_bytes() const noexcept override { return s_->inner->queued_bytes(); }
  std::size_t flushing_bytes() const noexcept override { return s_->inner->flushing_bytes(); }
  void drop_queued() noexcept override { s_->inner->drop_queued(); }

  void shutdown_write() noexcept override { s_->inner->shutdown_write(); }
  void close_read() noexcept override {
    stop();
    s_->inner->close_read();
  }
  void close() noexcept override {
    stop();
    s_->inner->close();
  }

  std::size_t max_message_bytes() const noexcept override { return s_->inner->max_message_bytes(); }
  std::uint64_t bytes_read() const noexcept override { return s_->inner->bytes_read(); }
  std::uint64_t bytes_written() const noexcept override { return s_->inner->bytes_written(); }
  std::string_view describe() const noexcept override { return s_->inner->describe(); }

private:
  channel_input seen(channel_input in) {
    if (in.type != channel_input::kind::ended) {
      s_->last = clock::now();
      return in;
    }
    // The end of reading: the timer has nothing left to guard (and must not keep the executor
    // busy). After an expiry the inner channel reports its local close: say why.
    stop();
    if (s_->expired) in.end = close_info{close_reason::read_error, asio::error::timed_out, "idle timeout"};
    return in;
  }
  queue_result touched(queue_result r) {
    if (!r.ec) s_->last = clock::now();
    return r;
  }
  void stop() noexcept {
    s_->stopped = true;
    s_->timer.cancel();
  }

  std::shared_ptr<idle_state> s_;
};

} // namespace

message_channel_ptr with_idle_timeout(const asio::any_io_executor& ex, message_channel_ptr inner,
                                      std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0 || !inner) return inner;
  auto s = std::make_shared<idle_state>(ex, std::move(inner), timeout);
  arm(s);
  return std::make_unique<idle_channel>(std::move(s));
}

} // namespace acp::net::detail
