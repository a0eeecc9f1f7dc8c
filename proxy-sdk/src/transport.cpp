#include <acp/sdk/transport.hpp>

#include <acp/sdk/observe.hpp>

#include "pollable.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// One direction of an fd transport: a reactor-driven descriptor or a blocking regular file.
/// Constructed with a negative descriptor, its operations complete with `unusable` (why there
/// is no descriptor) instead.
class fd_end {
public:
  fd_end(const asio::any_io_executor& ex, int fd, error_code unusable = asio::error::bad_descriptor)
      : desc_(ex), fd_(fd), pollable_(fd >= 0 && detail::is_pollable(fd)), unusable_(unusable) {
    if (pollable_) {
      error_code ec;
      desc_.assign(fd, ec);
      if (ec) pollable_ = false;
      // Non-blocking from the start (Asio would make it so at the first asynchronous operation):
      // `try_write` must never block, not even before the first write_all.
      if (pollable_) desc_.non_blocking(true, ec);
      if (ec) pollable_ = false;
    }
  }
  ~fd_end() { close(); }
  fd_end(const fd_end&) = delete;
  fd_end& operator=(const fd_end&) = delete;

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(std::span<char> buf) {
    if (fd_ < 0) co_return std::tuple{closed_ ? error_code(asio::error::bad_descriptor) : unusable_, std::size_t{0}};
    if (!pollable_) {
      for (;;) {
        const auto n = ::read(fd_, buf.data(), buf.size());
        if (n > 0) co_return std::tuple{error_code{}, static_cast<std::size_t>(n)};
        if (n == 0) co_return std::tuple{error_code(asio::error::eof), std::size_t{0}};
        if (errno == EINTR) continue;
        co_return std::tuple{error_code(errno, boost::system::system_category()), std::size_t{0}};
      }
    }
    auto [ec, n] = co_await desc_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    co_return std::tuple{ec, n};
  }

  asio::awaitable<error_code> write_all(std::span<const char> bytes) {
    if (fd_ < 0) co_return closed_ ? error_code(asio::error::bad_descriptor) : unusable_;
    if (!pollable_) {
      std::size_t done = 0;
      while (done < bytes.size()) {
        const auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) co_return error_code(errno, boost::system::system_category());
        done += static_cast<std::size_t>(n);
      }
      co_return error_code{};
    }
    auto [ec, n] = co_await asio::async_write(desc_, asio::buffer(bytes.data(), bytes.size()), use_tuple);
    (void)n;
    co_return ec;
  }

  /// One non-blocking write (a regular file or an unusable end: none, the caller uses write_all).
  std::size_t try_write(std::span<const char> bytes) noexcept {
    if (fd_ < 0 || !pollable_ || bytes.empty()) return 0;
    error_code ec;
    const auto n = desc_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
    return ec ? 0 : n;
  }

  void close() noexcept {
    closed_ = true;
    if (fd_ < 0) return;
    error_code ignored;
    if (pollable_)
      desc_.close(ignored);
    else
      ::close(fd_);
    fd_ = -1;
  }

  int fd() const noexcept { return fd_; }

private:
  asio::posix::stream_descriptor desc_;
  int fd_;
  bool pollable_;
  bool closed_ = false;
  error_code unusable_;
};

class fd_transport final : public transport {
public:
  /// `socket`: both ends are one socket (`write_fd` its duplicate); shutdown_write uses shutdown(2).
  fd_transport(const asio::any_io_executor& ex, int read_fd, int write_fd, std::string description, bool socket,
               error_code unusable = asio::error::bad_descriptor)
      : description_(std::move(description)), socket_(socket), reader_(std::make_unique<fd_end>(ex, read_fd, unusable)),
        writer_(std::make_unique<fd_end>(ex, write_fd, unusable)) {}

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(std::span<char> buffer) override {
    auto result = co_await reader_->read_some(buffer);
    co_return result;
  }
  asio::awaitable<error_code> write_all(std::span<const char> bytes) override {
    const auto ec = co_await writer_->write_all(bytes);
    co_return ec;
  }
  std::size_t try_write(std::span<const char> bytes) noexcept override { return writer_->try_write(bytes); }
  void shutdown_write() noexcept override {
    if (socket_ && writer_->fd() >= 0) ::shutdown(writer_->fd(), SHUT_WR);
    writer_->close();
  }
  void close_read() noexcept override { reader_->close(); }
  void close() noexcept override {
    reader_->close();
    writer_->close();
  }
  std::string_view describe() const noexcept override { return description_; }

private:
  std::string description_;
  bool socket_ = false;
  std::unique_ptr<fd_end> reader_;
  std::unique_ptr<fd_end> writer_;
};

error_code last_error() { return {errno, boost::system::system_category()}; }

/// A duplicate of `fd` (close-on-exec, above the standard descriptors), or the error.
boost::system::result<int> duplicate(int fd) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return last_error();
  return copy;
}

} // namespace

transport_ptr make_fd_transport(const asio::any_io_executor& ex, int read_fd, int write_fd, std::string description) {
  if (read_fd != write_fd || read_fd < 0)
    return std::make_unique<fd_transport>(ex, read_fd, write_fd, std::move(description), false);
  // One descriptor for both directions (a socket): the writer gets its own duplicate so each
  // end can be closed on its own. Without one, writing fails with the reason.
  auto copy = duplicate(read_fd);
  if (!copy) return std::make_unique<fd_transport>(ex, read_fd, -1, std::move(description), true, copy.error());
  return std::make_unique<fd_transport>(ex, read_fd, *copy, std::move(description), true);
}

boost::system::result<transport_ptr> make_socket_transport(const asio::any_io_executor& ex, int fd,
                                                           std::string description) {
  if (fd < 0) return error_code(asio::error::bad_descriptor);
  auto copy = duplicate(fd);
  if (!copy) {
    ::close(fd);
    return copy.error();
  }
  return transport_ptr(std::make_unique<fd_transport>(ex, fd, *copy, std::move(description), true));
}

transport_ptr make_stdio_transport(const asio::any_io_executor& ex) {
  // Take the protocol descriptors for ourselves and point fds 0 and 1 at /dev/null: a stray
  // printf cannot corrupt the protocol stream, and closing our copy really ends the stream.
  auto in = duplicate(STDIN_FILENO);
  auto out = duplicate(STDOUT_FILENO);
  if (const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC); null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::close(null_fd);
  }
  // A side whose duplicate failed fails its operations with the reason (read_error/write_error).
  const error_code why = !in ? in.error() : !out ? out.error() : error_code(asio::error::bad_descriptor);
  return std::make_unique<fd_transport>(ex, in ? *in : -1, out ? *out : -1, "stdio", false, why);
}

boost::system::result<transport_ptr> make_tcp_transport(const asio::any_io_executor& ex, const std::string& host,
                                                        unsigned short port) {
  error_code ec;
  asio::ip::tcp::resolver resolver(ex);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return ec;
  asio::ip::tcp::socket socket(ex);
  asio::connect(socket, endpoints, ec);
  if (ec) return ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec) return ec;
  const int fd = socket.release(ec);
  if (ec) return ec;
  return make_socket_transport(ex, fd, "tcp " + host + ":" + std::to_string(port));
}

boost::system::result<std::pair<transport_ptr, transport_ptr>> make_memory_duplex(const asio::any_io_executor& ex) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return last_error();
  auto a = make_socket_transport(ex, fds[0], "memory duplex a");
  if (!a) {
    ::close(fds[1]);
    return a.error();
  }
  auto b = make_socket_transport(ex, fds[1], "memory duplex b");
  if (!b) return b.error();
  return std::pair{std::move(*a), std::move(*b)};
}

namespace {

class observed_transport final : public transport {
public:
  observed_transport(transport_ptr inner, byte_observer observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(std::span<char> buffer) override {
    auto r = co_await inner_->read_some(buffer);
    if (const std::size_t n = std::get<1>(r); n > 0) observer_(true, std::string_view(buffer.data(), n));
    co_return r;
  }
  asio::awaitable<error_code> write_all(std::span<const char> bytes) override {
    observer_(false, std::string_view(bytes.data(), bytes.size()));
    co_return co_await inner_->write_all(bytes);
  }
  std::size_t try_write(std::span<const char> bytes) noexcept override {
    const std::size_t n = inner_->try_write(bytes);
    if (n > 0) observer_(false, std::string_view(bytes.data(), n));
    return n;
  }
  void shutdown_write() noexcept override { inner_->shutdown_write(); }
  void close_read() noexcept override { inner_->close_read(); }
  void close() noexcept override { inner_->close(); }
  [[nodiscard]] std::string_view describe() const noexcept override { return inner_->describe(); }

private:
  transport_ptr inner_;
  byte_observer observer_;
};

} // namespace

transport_ptr observe_transport(transport_ptr inner, byte_observer observer) {
  if (!observer) return inner;
  return std::make_unique<observed_transport>(std::move(inner), std::move(observer));
}

} // namespace acp
