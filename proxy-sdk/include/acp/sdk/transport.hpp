#pragma once
// Byte-stream transports: what a connection reads from and writes to.
//
// A transport is a full-duplex byte stream. A connection owns its transport and is the only one
// that reads from or writes to it (one reader coroutine, one writer coroutine).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <utility>


namespace acp {

class transport {
public:
  virtual ~transport() = default;

  /// Reads at least one byte; returns 0 with `ec` set at end of stream (boost::asio::error::eof).
  virtual boost::asio::awaitable<std::size_t> read_some(std::span<char> buffer, boost::system::error_code& ec) = 0;
  /// Writes all bytes (or fails).
  virtual boost::asio::awaitable<void> write_all(std::span<const char> bytes, boost::system::error_code& ec) = 0;
  /// No more writes: the peer reads end of stream. Idempotent.
  virtual void shutdown_write() noexcept = 0;
  /// Stops reading; a pending read completes with operation_aborted. Idempotent.
  virtual void close_read() noexcept = 0;
  /// Stops everything; pending operations complete with operation_aborted. Idempotent.
  virtual void close() noexcept = 0;
  /// A short description for logs ("stdio", "pipe fd 7/8", "tcp 127.0.0.1:4000").
  [[nodiscard]] virtual std::string_view describe() const noexcept = 0;
};

using transport_ptr = std::unique_ptr<transport>;

/// Reads from `read_fd` and writes to `write_fd` (taking ownership of both; they may be equal,
/// e.g. a socket). Pollable descriptors use the reactor; regular files are read and written
/// directly (they never block for long).
[[nodiscard]] transport_ptr make_fd_transport(const boost::asio::any_io_executor& ex, int read_fd, int write_fd,
                                              std::string description = "fd");

/// This process's stdin and stdout (duplicated; the originals stay open).
[[nodiscard]] transport_ptr make_stdio_transport(const boost::asio::any_io_executor& ex);

/// Connects to host:port over TCP (synchronous resolve and connect; for tools and tests).
[[nodiscard]] transport_ptr make_tcp_transport(const boost::asio::any_io_executor& ex, const std::string& host,
                                               unsigned short port, boost::system::error_code& ec);

/// Two connected in-process ends (a socket pair): what one writes the other reads.
[[nodiscard]] std::pair<transport_ptr, transport_ptr> make_memory_duplex(const boost::asio::any_io_executor& ex);

} // namespace acp
