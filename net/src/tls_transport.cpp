// A byte transport over an established TLS stream (Asio SSL over OpenSSL).
//
// Half-close: `shutdown_write` sends TLS close_notify and then a TCP FIN while reading goes on
// (a client that has sent everything still reads the answers). Asio's async_shutdown would wait
// for the peer's close_notify, reading from the stream our reader is reading from; instead the
// close_notify is produced by one SSL_shutdown that OpenSSL believes completes the exchange (the
// "received" flag is set around the synchronous first step of async_shutdown and cleared again
// before anything else runs), so the operation only writes.

#include "streams.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <utility>

namespace acp::net::detail {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

class tls_transport final : public transport {
public:
  tls_transport(tls_socket stream, std::string description)
      : state_(std::make_shared<state>(std::move(stream))), description_(std::move(description)) {}
  ~tls_transport() override { close(); }
  tls_transport(const tls_transport&) = delete;
  tls_transport& operator=(const tls_transport&) = delete;

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(std::span<char> buffer) override {
    auto s = state_;
    if (s->closed || s->read_closed) co_return std::tuple{error_code(asio::error::operation_aborted), std::size_t{0}};
    if (s->read_eof) co_return std::tuple{error_code(asio::error::eof), std::size_t{0}};
    auto [ec, n] = co_await s->stream.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                                      asio::bind_cancellation_slot(s->read_cancel.slot(), use_tuple));
    if (s->closed || s->read_closed) co_return std::tuple{error_code(asio::error::operation_aborted), std::size_t{0}};
    // The peer's close_notify, or a TCP end without one (truncation): no more input either way.
    // NDJSON is self-delimiting, so a truncated stream loses no message that was complete.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      s->read_eof = true;
      co_return std::tuple{error_code(asio::error::eof), n};
    }
    co_return std::tuple{ec, n};
  }

  asio::awaitable<error_code> write_all(std::span<const char> bytes) override {
    auto s = state_;
    if (s->closed || s->write_shut) co_return error_code(asio::error::broken_pipe);
    s->writing = true;
    auto [ec, n] = co_await asio::async_write(s->stream, asio::buffer(bytes.data(), bytes.size()), use_tuple);
    (void)n;
    s->writing = false;
    if (s->shutdown_pending) send_close_notify(s);
    co_return ec;
  }

  void shutdown_write() noexcept override {
    auto& s = state_;
    if (s->closed || s->write_shut || s->shutdown_pending) return;
    s->shutdown_pending = true;
    if (!s->writing) send_close_notify(s);
  }

  void close_read() noexcept override {
    state_->read_closed = true;
    state_->read_cancel.emit(asio::cancellation_type::terminal);
  }

  void close() noexcept override {
    auto& s = *state_;
    if (s.closed) return;
    s.closed = true;
    error_code ignored;
    s.stream.lowest_layer().close(ignored);
  }

  std::string_view describe() const noexcept override { return description_; }

private:
  struct state {
    explicit state(tls_socket st) : stream(std::move(st)) {}
    tls_socket stream;
    asio::cancellation_signal read_cancel;
    bool closed = false;
    bool read_closed = false;
    bool read_eof = false;
    bool writing = false;
    bool shutdown_pending = false;
    bool write_shut = false;
  };

  static void send_close_notify(const std::shared_ptr<state>& s) noexcept {
    s->shutdown_pending = false;
    if (s->closed || s->write_shut) return;
    s->write_shut = true;
    SSL* ssl = s->stream.native_handle();
    const int before = SSL_get_shutdown(ssl);
    SSL_set_shutdown(ssl, before | SSL_RECEIVED_SHUTDOWN);
    // The first step runs now: SSL_shutdown queues close_notify, returns 1 (both directions
    // "done"), and the operation goes on only to write the alert.
    s->stream.async_shutdown([s](const error_code&) {
      if (s->closed) return;
      error_code ignored;
      s->stream.lowest_layer().shutdown(asio::socket_base::shutdown_send, ignored);
    });
    // Reading goes on until the peer's own close_notify (or the end of the TCP stream).
    SSL_set_shutdown(ssl, (before & SSL_RECEIVED_SHUTDOWN) | SSL_SENT_SHUTDOWN);
  }

  std::shared_ptr<state> state_;
  std::string description_;
};

} // namespace

transport_ptr make_tls_transport(tls_socket stream, std::string description) {
  return std::make_unique<tls_transport>(std::move(stream), std::move(description));
}

} // namespace acp::net::detail
