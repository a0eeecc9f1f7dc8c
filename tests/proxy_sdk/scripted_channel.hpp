#pragma once
// A message channel with no bytes at all: the test hands it inputs (messages as JSON values,
// framing events, the end) and sees every flushed message as a JSON value. A connection on it
// proves the seam: nothing in the connection depends on NDJSON.

#include "test_support.hpp"

#include <acp/sdk/channel.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <stdexcept>

namespace acp::test {

/// What the test and the channel share (the connection owns the channel itself).
struct channel_script {
  explicit channel_script(const asio::any_io_executor& ex) : wake(ex) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }

  // Input: what `read`/`poll` return, in order.
  std::deque<channel_input> inputs;
  /// One message (or invalid message) as the channel read it.
  void push(const json::value& v) {
    channel_input in;
    if (v.is_array()) {
      in.parsed.batch = true;
      for (const auto& item : v.get_array()) in.parsed.items.push_back(jsonrpc::check(item));
    } else {
      in.parsed.items.push_back(jsonrpc::check(v));
    }
    push(std::move(in));
  }
  void push(const char* json_text) { push(J(json_text)); }
  void push(channel_input in) {
    inputs.push_back(std::move(in));
    wake.cancel();
  }
  void end(close_info info) {
    channel_input in;
    in.type = channel_input::kind::ended;
    in.end = std::move(info);
    push(std::move(in));
  }

  // Output.
  std::vector<json::value> queued;   ///< queued, not yet taken by a flush
  std::vector<json::value> flushing; ///< taken by the flush in progress
  std::vector<json::value> written;  ///< flushed, in order
  std::size_t queued_size = 0, flushing_size = 0;
  std::size_t max_message_bytes = std::size_t{1} << 20;
  std::size_t flushes = 0;
  bool hold_flush = false;               ///< a flush waits (after taking its output) until cleared
  boost::system::error_code flush_error; ///< a flush fails with it (after taking its output)
  bool read_throws = false, flush_throws = false;

  // Ending.
  bool read_closed = false, closed = false, write_shut = false;

  /// Never expires: cancelled on every change the channel may wait for (re-arming it would
  /// cancel the other coroutine's wait).
  asio::steady_timer wake;
  void changed() { wake.cancel(); }
};

class scripted_channel final : public message_channel {
public:
  explicit scripted_channel(std::shared_ptr<channel_script> s) : s_(std::move(s)) {}

  asio::awaitable<channel_input> read() override {
    for (;;) {
      if (s_->read_throws) throw std::runtime_error("scripted read failure");
      if (auto in = poll()) co_return std::move(*in);
      (void)co_await s_->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  std::optional<channel_input> poll() override {
    if (s_->read_closed || s_->closed) {
      channel_input in;
      in.type = channel_input::kind::ended;
      in.end = {close_reason::closed_locally, {}, "closed"};
      return in;
    }
    if (s_->inputs.empty()) return std::nullopt;
    auto in = std::move(s_->inputs.front());
    s_->inputs.pop_front();
    return in;
  }

  queue_result queue(jsonrpc::message& msg) override { return add(json::value(msg.json())); }
  queue_result queue(const json::object& msg) override { return add(json::value(msg)); }
  queue_result queue(const json::array& batch) override { return add(json::value(batch)); }

  asio::awaitable<boost::system::error_code> flush() override {
    ++s_->flushes;
    // Take everything queued before the first suspension (the contract).
    s_->flushing = std::exchange(s_->queued, {});
    s_->flushing_size = std::exchange(s_->queued_size, 0);
    if (s_->flush_throws) throw std::runtime_error("scripted flush failure");
    while (s_->hold_flush && !s_->closed) {
      (void)co_await s_->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto taken = std::exchange(s_->flushing, {});
    s_->flushing_size = 0;
    if (s_->closed) co_return asio::error::operation_aborted;
    if (s_->flush_error) co_return s_->flush_error;
    for (auto& v : taken) s_->written.push_back(std::move(v));
    co_return boost::system::error_code{};
  }
  std::size_t queued_bytes() const noexcept override { return s_->queued_size; }
  std::size_t flushing_bytes() const noexcept override { return s_->flushing_size; }
  void drop_queued() noexcept override {
    s_->queued.clear();
    s_->queued_size = 0;
  }

  void shutdown_write() noexcept override { s_->write_shut = true; }
  void close_read() noexcept override {
    s_->read_closed = true;
    s_->changed();
  }
  void close() noexcept override {
    s_->closed = true;
    s_->changed();
  }

  std::size_t max_message_bytes() const noexcept override { return s_->max_message_bytes; }
  std::uint64_t bytes_read() const noexcept override { return 0; }
  std::uint64_t bytes_written() const noexcept override { return 0; }
  std::string_view describe() const noexcept override { return "scripted"; }

private:
  queue_result add(json::value v) {
    const auto size = json::serialize(v).size();
    if (size > s_->max_message_bytes) return {channel_errc::message_too_large, size};
    s_->queued.push_back(std::move(v));
    s_->queued_size += size; // a message's JSON size; never zero
    return {{}, size};
  }

  std::shared_ptr<channel_script> s_;
};

} // namespace acp::test
