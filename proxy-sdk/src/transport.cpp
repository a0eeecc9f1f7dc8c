#include <acp/sdk/transport.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/as_tuple.hpp>

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

bool is_pollable(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return false;
  // Character devices other than terminals (/dev/null, /dev/zero) are not supported by epoll;
  // they never block, so plain read/write is right for them.
  if (S_ISCHR(st.st_mode)) return ::isatty(fd) == 1;
  return true;
}

/// One direction of an fd transport: a reactor-driven descriptor or a blocking regular file.
class fd_end {
public:
  fd_end(const asio::any_io_executor& ex, int fd) : desc_(ex), fd_(fd), pollable_(is_pollable(fd)) {
    if (pollable_) {
      error_code ec;
      desc_.assign(fd, ec);
      if (ec) pollable_ = false;
    }
  }
  ~fd_end() { close(); }
  fd_end(const fd_end&) = delete;
  fd_end& operator=(const fd_end&) = delete;

  asio::awaitable<std::size_t> read_some(std::span<char> buf, error_code& ec) {
    if (fd_ < 0) {
      ec = asio::error::bad_descriptor;
      co_return 0;
    }
    if (!pollable_) {
      for (;;) {
        const auto n = ::read(fd_, buf.data(), buf.size());
        if (n > 0) co_return static_cast<std::size_t>(n);
        if (n == 0) {
          ec = asio::error::eof;
          co_return 0;
        }
        if (errno == EINTR) continue;
        ec = error_code(errno, boost::system::system_category());
        co_return 0;
      }
    }
    auto [e, n] = co_await desc_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    ec = e;
    co_return n;
  }

  asio::awaitable<void> write_all(std::span<const char> bytes, error_code& ec) {
    if (fd_ < 0) {
      ec = asio::error::bad_descriptor;
      co_return;
    }
    if (!pollable_) {
      std::size_t done = 0;
      while (done < bytes.size()) {
        const auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          ec = error_code(errno, boost::system::system_category());
          co_return;
        }
        done += static_cast<std::size_t>(n);
      }
      co_return;
    }
    auto [e, n] = co_await asio::async_write(desc_, asio::buffer(bytes.data(), bytes.size()), use_tuple);
    (void)n;
    ec = e;
  }

  void close() noexcept {
    if (fd_ < 0) return;
    error_code ignored;
    if (pollable_) desc_.close(ignored);
    else ::close(fd_);
    fd_ = -1;
  }

  int fd() const noexcept { return fd_; }

private:
  asio::posix::stream_descriptor desc_;
  int fd_;
  bool pollable_;
};

class fd_transport final : public transport {
public:
  fd_transport(const asio::any_io_executor& ex, int read_fd, int write_fd, std::string description)
      : description_(std::move(description)) {
    if (read_fd == write_fd) {
      // One descriptor for both directions (a socket): give the writer its own duplicate so
      // each end can be closed on its own; shutdown_write uses shutdown(2).
      socket_ = true;
      write_fd = ::fcntl(read_fd, F_DUPFD_CLOEXEC, 3);
    }
    reader_ = std::make_unique<fd_end>(ex, read_fd);
    writer_ = std::make_unique<fd_end>(ex, write_fd);
  }

  asio::awaitable<std::size_t> read_some(std::span<char> buffer, error_code& ec) override {
    co_return co_await reader_->read_some(buffer, ec);
  }
  asio::awaitable<void> write_all(std::span<const char> bytes, error_code& ec) override {
    co_await writer_->write_all(bytes, ec);
  }
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

} // namespace

transport_ptr make_fd_transport(const asio::any_io_executor& ex, int read_fd, int write_fd, std::string description) {
  return std::make_unique<fd_transport>(ex, read_fd, write_fd, std::move(description));
}

transport_ptr make_stdio_transport(const asio::any_io_executor& ex) {
  // Take the protocol descriptors for ourselves and point fds 0 and 1 at /dev/null: a stray
  // printf cannot corrupt the protocol stream, and closing our copy really ends the stream.
  const int in = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  const int out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC); null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::close(null_fd);
  }
  return make_fd_transport(ex, in, out, "stdio");
}

transport_ptr make_tcp_transport(const asio::any_io_executor& ex, const std::string& host, unsigned short port,
                                 error_code& ec) {
  asio::ip::tcp::resolver resolver(ex);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return nullptr;
  asio::ip::tcp::socket socket(ex);
  asio::connect(socket, endpoints, ec);
  if (ec) return nullptr;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  const int fd = socket.release(ec);
  if (ec) return nullptr;
  return make_fd_transport(ex, fd, fd, "tcp " + host + ":" + std::to_string(port));
}

std::pair<transport_ptr, transport_ptr> make_memory_duplex(const asio::any_io_executor& ex) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return {};
  return {make_fd_transport(ex, fds[0], fds[0], "memory duplex a"),
          make_fd_transport(ex, fds[1], fds[1], "memory duplex b")};
}

} // namespace acp
