// Byte transports: errors come back as values, and making one reports why it failed.

#include "test_support.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

namespace acp::test {
namespace {

class transport_test : public sdk_test {
protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }

  template <class T> [[nodiscard]] std::optional<T> await(asio::awaitable<T> op) {
    std::optional<T> out;
    asio::co_spawn(
        ex(),
        [](asio::awaitable<T> o, std::optional<T>& r) -> asio::awaitable<void> {
          auto v = co_await std::move(o);
          r = std::move(v);
        }(std::move(op), out),
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
    EXPECT_TRUE(run_until([&] { return out.has_value(); }));
    return out;
  }
  [[nodiscard]] std::optional<boost::system::error_code> write(transport& t, std::string_view bytes) {
    return await(t.write_all(std::span<const char>(bytes.data(), bytes.size())));
  }
};

/// The lowest free descriptors now (the next ones open/socket/dup would return).
std::pair<int, int> next_free_descriptors() {
  const int first = ::dup(0);
  const int second = ::dup(0);
  ::close(first);
  ::close(second);
  return {first, second};
}

/// Lowers the soft limit on open descriptors for one scope.
class descriptor_limit {
public:
  explicit descriptor_limit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~descriptor_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  descriptor_limit(const descriptor_limit&) = delete;
  descriptor_limit& operator=(const descriptor_limit&) = delete;
  [[nodiscard]] bool ok() const noexcept { return ok_; }

private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST_F(transport_test, bytes_written_at_one_end_are_read_at_the_other_and_end_of_stream_is_a_value) {
  auto [a, b] = make_memory_duplex(ex()).value();
  ASSERT_EQ(write(*a, "hello"), boost::system::error_code{});
  std::array<char, 16> buf{};
  const auto got = await(b->read_some(std::span<char>(buf)));
  ASSERT_TRUE(got);
  EXPECT_FALSE(std::get<0>(*got));
  EXPECT_EQ(std::string_view(buf.data(), std::get<1>(*got)), "hello");
  a->shutdown_write();
  const auto end = await(b->read_some(std::span<char>(buf)));
  ASSERT_TRUE(end);
  EXPECT_EQ(std::get<0>(*end), asio::error::eof);
  EXPECT_EQ(std::get<1>(*end), 0u);
}

TEST_F(transport_test, writing_to_a_peer_that_closed_returns_the_error) {
  auto [a, b] = make_memory_duplex(ex()).value();
  b->close();
  const auto ec = write(*a, "x\n");
  ASSERT_TRUE(ec);
  EXPECT_TRUE(*ec);
}

TEST_F(transport_test, operations_after_close_return_bad_descriptor) {
  auto [a, b] = make_memory_duplex(ex()).value();
  a->close();
  std::array<char, 4> buf{};
  EXPECT_EQ(std::get<0>(await(a->read_some(std::span<char>(buf))).value()), asio::error::bad_descriptor);
  EXPECT_EQ(write(*a, "x").value(), asio::error::bad_descriptor);
}

TEST_F(transport_test, an_fd_transport_without_descriptors_fails_each_operation_instead_of_being_null) {
  auto t = make_fd_transport(ex(), -1, -1, "none");
  ASSERT_NE(t, nullptr);
  std::array<char, 4> buf{};
  EXPECT_EQ(std::get<0>(await(t->read_some(std::span<char>(buf))).value()), asio::error::bad_descriptor);
  EXPECT_EQ(write(*t, "x").value(), asio::error::bad_descriptor);
}

TEST_F(transport_test, make_memory_duplex_reports_a_socketpair_failure_as_an_error) {
  const auto [first, second] = next_free_descriptors();
  std::optional<boost::system::result<std::pair<transport_ptr, transport_ptr>>> r;
  {
    descriptor_limit limit(static_cast<rlim_t>(first)); // no descriptor is free below the limit
    ASSERT_TRUE(limit.ok());
    r.emplace(make_memory_duplex(ex()));
  }
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error(), boost::system::errc::too_many_files_open);
  EXPECT_EQ(next_free_descriptors().first, first);
}

TEST_F(transport_test, make_memory_duplex_reports_a_failed_duplicate_and_closes_what_it_opened) {
  const auto [first, second] = next_free_descriptors();
  std::optional<boost::system::result<std::pair<transport_ptr, transport_ptr>>> r;
  {
    descriptor_limit limit(static_cast<rlim_t>(second) + 1); // room for the pair, not for a duplicate
    ASSERT_TRUE(limit.ok());
    r.emplace(make_memory_duplex(ex()));
  }
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error(), boost::system::errc::too_many_files_open);
  EXPECT_EQ(next_free_descriptors(), std::pair(first, second)) << "a descriptor leaked";
}

TEST_F(transport_test, make_tcp_transport_connects_or_reports_why_not) {
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  auto t = make_tcp_transport(ex(), "127.0.0.1", port);
  ASSERT_TRUE(t) << t.error().message();
  asio::ip::tcp::socket peer(io);
  acceptor.accept(peer);
  ASSERT_EQ(write(**t, "ping\n"), boost::system::error_code{});
  std::array<char, 8> buf{};
  EXPECT_EQ(peer.read_some(asio::buffer(buf)), 5u);
  acceptor.close();
  peer.close();

  auto refused = make_tcp_transport(ex(), "127.0.0.1", port);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), asio::error::connection_refused);
}

} // namespace
} // namespace acp::test
