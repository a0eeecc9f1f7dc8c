// Children's stderr lines to this process's stderr, off the caller's path: a bounded queue and a
// writer coroutine on a descriptor of our own that never blocks (see make_stderr_forwarder).
#include "pollable.hpp"
#include "process_state.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

class forwarder : public std::enable_shared_from_this<forwarder> {
public:
  forwarder(const asio::any_io_executor& ex, std::size_t max_queued) : ex_(ex), max_queued_(max_queued), fd_(ex) {
    open_target();
  }
  forwarder(const forwarder&) = delete;
  forwarder& operator=(const forwarder&) = delete;
  ~forwarder() { flush_before_exit(); }

  void write_line(std::string_view name, std::string_view line) {
    if (how_ == target::none) return;
    std::string text;
    text.reserve(name.size() + line.size() + 4);
    text.append("[").append(name).append("] ").append(line).append("\n");
    if (how_ == target::direct) return write_direct(text);
    if (!running_ && pending() == 0) { // idle, nothing queued: write what the descriptor takes now
      std::size_t done = 0;
      if (!write_now(text, done) || done == text.size()) return;
      queued_.assign(text, done);
    } else if (pending() + text.size() > max_queued_) {
      ++dropped_;
    } else {
      queued_ += text;
    }
    if (!running_) start();
  }

private:
  enum class target {
    none,   // no stderr (closed, or the reader is gone): lines are dropped
    direct, // a regular file, or no descriptor of our own could be had: plain write(2)
    pipe,   // a pipe or a terminal, reopened non-blocking through /proc
    socket, // a socket, duplicated; written with MSG_DONTWAIT
  };

  void open_target() {
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return;
    how_ = target::direct;
    // A regular file or /dev/null: plain writes (see pollable.hpp for why never the reactor).
    if (!detail::is_pollable(STDERR_FILENO)) return;
    int fd = -1;
    if (S_ISSOCK(st.st_mode)) {
      fd = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (fd >= 0) how_ = target::socket;
    } else {
      // A new open file description: O_NONBLOCK on it leaves fd 2's own (shared) flags alone.
      fd = ::open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd >= 0) how_ = target::pipe;
    }
    if (fd < 0) return;
    error_code ec;
    fd_.assign(fd, ec); // only for readiness waits: async_wait leaves the descriptor's flags alone
    if (ec) {
      ::close(fd);
      how_ = target::direct;
    }
  }

  [[nodiscard]] std::size_t pending() const noexcept { return queued_.size() - offset_; }

  static void write_direct(std::string_view data) noexcept {
    while (!data.empty()) {
      const ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Writes what the descriptor takes without blocking; `done` counts it. False when the target
  // failed for good (then everything queued is dropped and so is every later line).
  bool write_now(std::string_view data, std::size_t& done) noexcept {
    const int fd = fd_.native_handle();
    while (done < data.size()) {
      const char* p = data.data() + done;
      const std::size_t len = data.size() - done;
      const ssize_t n = how_ == target::socket ? ::send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) : ::write(fd, p, len);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      how_ = target::none;
      queued_.clear();
      offset_ = 0;
      dropped_ = 0;
      return false;
    }
    return true;
  }

  // The next bytes to write: the queue, or the note about dropped lines once it is empty.
  bool refill() {
    if (pending() > 0) return true;
    queued_.clear();
    offset_ = 0;
    if (dropped_ == 0) return false;
    queued_ = "[stderr] dropped " + std::to_string(dropped_) +
              " lines: this process's stderr is not being read fast enough\n";
    dropped_ = 0;
    return true;
  }

  void start() {
    running_ = true;
    auto self = shared_from_this();
    asio::co_spawn(ex_, run(self), log::on_failure("", "forwarding stderr", [self] {
                     self->running_ = false;
                     self->queued_.clear();
                     self->offset_ = 0;
                   }));
  }

  asio::awaitable<void> run([[maybe_unused]] std::shared_ptr<forwarder> self) { // `self` keeps it alive
    while (how_ != target::none && refill()) {
      std::size_t done = 0;
      if (!write_now(std::string_view(queued_).substr(offset_), done)) break;
      offset_ += done;
      if (pending() == 0) continue;
      if (offset_ > queued_.size() / 2) { // keep the queue from only growing
        queued_.erase(0, offset_);
        offset_ = 0;
      }
      auto [ec] =
          co_await fd_.async_wait(asio::posix::descriptor_base::wait_write, asio::as_tuple(asio::use_awaitable));
      if (ec) break; // closed: the destructor flushes what it can
    }
    running_ = false;
  }

  // At the end: what is still queued gets 500 ms to reach the reader, then is dropped.
  void flush_before_exit() noexcept {
    if (how_ != target::pipe && how_ != target::socket) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    try {
      while (how_ != target::none && refill()) {
        std::size_t done = 0;
        if (!write_now(std::string_view(queued_).substr(offset_), done)) return;
        offset_ += done;
        if (pending() == 0) continue;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        pollfd p{fd_.native_handle(), POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
      }
    } catch (...) { // refill's note could not be allocated: nothing more to do
    }
  }

  asio::any_io_executor ex_;
  std::size_t max_queued_;
  asio::posix::stream_descriptor fd_;
  target how_ = target::none;
  std::string queued_; // bytes waiting; written from offset_
  std::size_t offset_ = 0;
  std::uint64_t dropped_ = 0; // lines dropped since the last note
  bool running_ = false;      // the writer coroutine is active (queued_ may be non-empty)
};

} // namespace

stderr_sink make_stderr_forwarder(const asio::any_io_executor& ex, std::size_t max_queued_bytes) {
  auto f = std::make_shared<forwarder>(ex, max_queued_bytes);
  return [f](std::string_view name, std::string_view line) { f->write_line(name, line); };
}

stderr_sink shared_stderr_forwarder(const asio::any_io_executor& ex) {
  static std::mutex mutex;
  static std::vector<std::pair<const asio::execution_context*, std::weak_ptr<forwarder>>> shared;
  const asio::execution_context* context = &asio::query(ex, asio::execution::context);
  std::shared_ptr<forwarder> f;
  {
    std::lock_guard lock(mutex);
    std::erase_if(shared, [](const auto& entry) { return entry.second.expired(); });
    for (const auto& [c, w] : shared)
      if (c == context) f = w.lock();
    if (!f) {
      f = std::make_shared<forwarder>(ex, default_stderr_queue_bytes);
      shared.emplace_back(context, f);
    }
  }
  return [f](std::string_view name, std::string_view line) { f->write_line(name, line); };
}

} // namespace acp
