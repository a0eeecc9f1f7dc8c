#pragma once
// Byte-stream transports: what a message channel reads from and writes to.
//
// A transport is a full-duplex byte stream (a pipe pair, a socket, stdio). It knows nothing of
// messages: a `message_channel` (channel.hpp) frames messages on it; the NDJSON channel is
// the one ACP uses over stdio. The channel that owns a transport is the only one that reads
// from or writes to it (one reader coroutine, one writer coroutine).
//
// Errors are values: an operation completes with its error code, it never throws for an I/O
// failure.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace acp {

class transport {
public:
  virtual ~transport() = default;

  /// Reads at least one byte into `buffer`: {no error, bytes read}. At end of stream
  /// {boost::asio::error::eof, 0}; after `close_read`/`close`, operation_aborted (or
  /// bad_descriptor).
  virtual boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>>
  read_some(std::span<char> buffer) = 0;
  /// Writes all of `bytes`: no error, or why not (some bytes may have been written).
  virtual boost::asio::awaitable<boost::system::error_code> write_all(std::span<const char> bytes) = 0;
  /// Writes what the stream takes at once of `bytes`, without waiting, and returns how many
  /// bytes that was. 0 when it would have to wait, on an error (the next `write_all` reports
  /// it), and for a transport that cannot write without waiting (the default): the caller then
  /// writes the rest with `write_all`. Never while a `write_all` is in progress.
  [[nodiscard]] virtual std::size_t try_write(std::span<const char> bytes) noexcept {
    (void)bytes;
    return 0;
  }
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
/// e.g. a socket, whose descriptor is then duplicated for the writing side). Pollable
/// descriptors use the reactor; regular files are read and written directly (they never block
/// for long). Never null: a descriptor that cannot be used (negative, or the duplicate failed)
/// makes that side's operations complete with the error.
[[nodiscard]] transport_ptr make_fd_transport(const boost::asio::any_io_executor& ex, int read_fd, int write_fd,
                                              std::string description = "fd");

/// A connected stream socket (TCP, Unix domain, one end of a socketpair), taking ownership of
/// `fd`: its descriptor is duplicated for the writing side, so each side closes on its own and
/// `shutdown_write` is shutdown(2). The error when the duplicate fails (`fd` is then closed).
[[nodiscard]] boost::system::result<transport_ptr> make_socket_transport(const boost::asio::any_io_executor& ex, int fd,
                                                                         std::string description);

/// This process's stdin and stdout (duplicated; fds 0 and 1 then point at /dev/null, so a stray
/// printf cannot corrupt the protocol stream). Never null: when a duplicate fails, that side's
/// operations complete with the error.
[[nodiscard]] transport_ptr make_stdio_transport(const boost::asio::any_io_executor& ex);

/// Connects to host:port over TCP (synchronous resolve and connect; for tools and tests).
[[nodiscard]] boost::system::result<transport_ptr> make_tcp_transport(const boost::asio::any_io_executor& ex,
                                                                      const std::string& host, unsigned short port);

/// Two connected in-process ends (a socket pair): what one writes the other reads. The error
/// when socketpair(2) or a descriptor duplicate fails.
[[nodiscard]] boost::system::result<std::pair<transport_ptr, transport_ptr>>
make_memory_duplex(const boost::asio::any_io_executor& ex);

} // namespace acp
