#include "prefixed_transport.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstring>

namespace acp::net::detail {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

class prefixed_transport final : public transport {
public:
  prefixed_transport(std::string prefix, transport_ptr inner) : prefix_(std::move(prefix)), inner_(std::move(inner)) {}

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(std::span<char> buffer) override {
    if (closed_read_) co_return std::tuple{error_code(asio::error::operation_aborted), std::size_t{0}};
    if (offset_ < prefix_.size() && !buffer.empty()) {
      const auto n = std::min(buffer.size(), prefix_.size() - offset_);
      std::memcpy(buffer.data(), prefix_.data() + offset_, n);
      offset_ += n;
      if (offset_ == prefix_.size()) { // done with it: free its memory
        std::string().swap(prefix_);
        offset_ = 0;
      }
      co_return std::tuple{error_code{}, n};
    }
    auto result = co_await inner_->read_some(buffer);
    co_return result;
  }
  asio::awaitable<error_code> write_all(std::span<const char> bytes) override {
    const auto ec = co_await inner_->write_all(bytes);
    co_return ec;
  }
  void shutdown_write() noexcept override { inner_->shutdown_write(); }
  void close_read() noexcept override {
    closed_read_ = true;
    inner_->close_read();
  }
  void close() noexcept override {
    closed_read_ = true;
    inner_->close();
  }
  std::string_view describe() const noexcept override { return inner_->describe(); }

private:
  std::string prefix_;
  std::size_t offset_ = 0;
  bool closed_read_ = false; // the prefix is not returned after close_read/close
  transport_ptr inner_;
};

} // namespace

transport_ptr make_prefixed_transport(std::string prefix, transport_ptr inner) {
  if (prefix.empty()) return inner;
  return std::make_unique<prefixed_transport>(std::move(prefix), std::move(inner));
}

} // namespace acp::net::detail
