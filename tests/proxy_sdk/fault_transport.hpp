#pragma once
// Fault injection (Beast's fail_count): a transport that fails the Nth read or the Nth write.
// Tests loop N over 1, 2, ... until a run finishes without the failure firing, so every I/O
// step of a scenario fails once.

#include "test_support.hpp"

namespace acp::test {

struct fail_count {
  enum class op { read, write };
  fail_count(op o, std::size_t nth, boost::system::error_code e = asio::error::connection_reset)
      : what(o), n(nth), error(e) {}

  /// Whether this operation is the one to fail (counts operations of the chosen kind).
  bool fail_now(op o) {
    if (o != what || fired) return false;
    if (++seen < n) return false;
    fired = true;
    return true;
  }

  op what;
  std::size_t n;
  boost::system::error_code error;
  std::size_t seen = 0;
  bool fired = false;
};

/// Forwards everything to `inner` except `try_write` (the default: writes nothing, so every
/// write goes through `write_all`); tests derive from it and override what they watch.
class forwarding_transport : public transport {
public:
  explicit forwarding_transport(transport_ptr inner) : inner_(std::move(inner)) {}

  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(std::span<char> buffer) override {
    auto result = co_await inner_->read_some(buffer);
    co_return result;
  }
  asio::awaitable<boost::system::error_code> write_all(std::span<const char> bytes) override {
    const auto ec = co_await inner_->write_all(bytes);
    co_return ec;
  }
  void shutdown_write() noexcept override { inner_->shutdown_write(); }
  void close_read() noexcept override { inner_->close_read(); }
  void close() noexcept override { inner_->close(); }

protected:
  transport_ptr inner_;
};

/// Forwards to `inner`, except the operation `fc` picks: a read fails before reading; a write
/// fails after writing the first half of its bytes (a connection lost in the middle).
class failing_transport final : public forwarding_transport {
public:
  failing_transport(transport_ptr inner, std::shared_ptr<fail_count> fc)
      : forwarding_transport(std::move(inner)), fc_(std::move(fc)) {}

  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(std::span<char> buffer) override {
    if (fc_->fail_now(fail_count::op::read)) co_return std::tuple{fc_->error, std::size_t{0}};
    auto result = co_await inner_->read_some(buffer);
    co_return result;
  }
  asio::awaitable<boost::system::error_code> write_all(std::span<const char> bytes) override {
    if (fc_->fail_now(fail_count::op::write)) {
      if (bytes.size() > 1) {
        const auto ignored = co_await inner_->write_all(bytes.first(bytes.size() / 2));
        (void)ignored;
      }
      co_return fc_->error;
    }
    const auto ec = co_await inner_->write_all(bytes);
    co_return ec;
  }
  std::string_view describe() const noexcept override { return "failing"; }

private:
  std::shared_ptr<fail_count> fc_;
};

} // namespace acp::test
