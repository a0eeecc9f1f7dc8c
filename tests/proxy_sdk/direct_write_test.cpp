// Direct writes: output queued while a reader handles one read is written by that reader at the
// end of the read (transport::try_write, message_channel::write_now), not by waking the writer,
// when the link is idle. What must hold: the bytes on the wire are the same and in order, a
// write that does not fit is finished by the writer, nothing ever blocks, and streamed output
// (writes in quick succession) still goes through the writer.

#include "fault_transport.hpp"

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace acp::test {
namespace {

/// Forwards to `inner` and counts the writes: how many went through `try_write` (and how many
/// bytes it took), how many through `write_all`. `try_limit`: the most bytes one `try_write`
/// takes (a nearly full pipe).
class counting_transport final : public forwarding_transport {
public:
  struct counts {
    std::size_t tries = 0, tried_bytes = 0, write_alls = 0;
    std::size_t try_limit = std::size_t(-1);
    boost::system::error_code write_error; ///< set: write_all writes nothing and fails with it
  };
  counting_transport(transport_ptr inner, std::shared_ptr<counts> c)
      : forwarding_transport(std::move(inner)), c_(std::move(c)) {}

  asio::awaitable<boost::system::error_code> write_all(std::span<const char> bytes) override {
    ++c_->write_alls;
    if (c_->write_error) co_return c_->write_error;
    const auto ec = co_await inner_->write_all(bytes);
    co_return ec;
  }
  std::size_t try_write(std::span<const char> bytes) noexcept override {
    ++c_->tries;
    const auto n = inner_->try_write(bytes.first(std::min(bytes.size(), c_->try_limit)));
    c_->tried_bytes += n;
    return n;
  }
  std::string_view describe() const noexcept override { return "counting"; }

private:
  std::shared_ptr<counts> c_;
};

/// A pipe: {read end, write end}, close-on-exec; the write end's capacity set to one page.
std::pair<int, int> small_pipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  EXPECT_GT(::fcntl(fds[1], F_SETPIPE_SZ, 4096), 0);
  return {fds[0], fds[1]};
}

/// Reads everything from `fd` until end of stream (blocking).
std::string read_all(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string line_of(int i, std::size_t pad) {
  return R"({"jsonrpc":"2.0","method":"n","params":{"i":)" + std::to_string(i) + R"(,"pad":")" + std::string(pad, 'x') +
         "\"}}";
}

class direct_write_test : public sdk_test {
protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
  static std::function<void(std::exception_ptr)> fail_on_exception(std::string what) {
    return [what](std::exception_ptr e) { EXPECT_FALSE(e) << what << " threw"; };
  }
  /// Flushes `ch` until nothing is queued; true when done.
  bool flush_all(message_channel& ch) {
    bool done = false;
    asio::co_spawn(
        ex(),
        [&]() -> asio::awaitable<void> {
          while (ch.queued_bytes() != 0) EXPECT_FALSE(co_await ch.flush());
          done = true;
        },
        fail_on_exception("flush"));
    return run_until([&] { return done; });
  }
};

// ---- transport ---------------------------------------------------------------------------

TEST_F(direct_write_test, try_write_takes_what_the_pipe_holds_and_never_waits_even_as_the_first_operation) {
  const auto [r, w] = small_pipe();
  // The pipe is full before the transport ever writes: a blocking write would wait forever.
  auto t = make_fd_transport(ex(), -1, w, "pipe");
  std::string bytes(10000, 'a');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>('a' + i % 26);
  auto first = std::async(std::launch::async, [&] { return t->try_write(bytes); });
  ASSERT_EQ(first.wait_for(5s), std::future_status::ready) << "try_write blocked";
  const auto n = first.get();
  EXPECT_EQ(n, 4096u); // one page: what the pipe holds
  auto second = std::async(std::launch::async, [&] { return t->try_write(std::span(bytes).subspan(n)); });
  if (second.wait_for(5s) != std::future_status::ready) {
    char drain[8192];
    (void)!::read(r, drain, sizeof drain); // unblock it, then fail
    FAIL() << "try_write blocked on a full pipe";
  }
  EXPECT_EQ(second.get(), 0u);
  t->close();
  EXPECT_EQ(read_all(r), bytes.substr(0, n));
  ::close(r);
}

TEST_F(direct_write_test, try_write_to_a_regular_file_or_a_missing_descriptor_writes_nothing) {
  char path[] = "/tmp/acp-direct-write-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  auto file = make_fd_transport(ex(), -1, fd, "file");
  EXPECT_EQ(file->try_write(std::string_view("abc")), 0u); // the caller's write_all writes it
  auto none = make_fd_transport(ex(), -1, -1, "none");
  EXPECT_EQ(none->try_write(std::string_view("abc")), 0u);
}

// ---- NDJSON channel ----------------------------------------------------------------------

TEST_F(direct_write_test, write_now_writes_the_queued_lines_and_leaves_what_does_not_fit_for_flush_in_order) {
  const auto [r, w] = small_pipe();
  auto ch = make_ndjson_channel(ex(), make_fd_transport(ex(), -1, w, "pipe"));
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    auto msg = std::get<jsonrpc::message>(jsonrpc::check(J(line_of(i, 200))));
    ASSERT_FALSE(ch->queue(msg).ec);
    expected += line_of(i, 200) + "\n";
  }
  ASSERT_GT(expected.size(), 4096u);
  EXPECT_FALSE(ch->write_now()); // a page fits
  EXPECT_EQ(ch->bytes_written(), 4096u);
  EXPECT_EQ(ch->queued_bytes(), expected.size() - 4096);
  // The rest by flush, while the test reads the pipe.
  auto reader = std::async(std::launch::async, [r] { return read_all(r); });
  ASSERT_TRUE(flush_all(*ch));
  ch->shutdown_write();
  EXPECT_EQ(reader.get(), expected);
  ::close(r);
}

TEST_F(direct_write_test, write_now_writes_nothing_while_a_flush_is_in_progress_or_a_large_message_waits) {
  const auto [r, w] = small_pipe();
  auto ch = make_ndjson_channel(ex(), make_fd_transport(ex(), -1, w, "pipe"));
  std::string expected;
  auto queue = [&](const std::string& line) {
    auto msg = std::get<jsonrpc::message>(jsonrpc::check(J(line)));
    ASSERT_FALSE(ch->queue(msg).ec);
    expected += line + "\n";
  };
  for (int i = 0; i < 30; ++i) queue(line_of(i, 200));
  bool flushed = false;
  asio::co_spawn(
      ex(),
      [&]() -> asio::awaitable<void> {
        EXPECT_FALSE(co_await ch->flush());
        flushed = true;
      },
      fail_on_exception("flush"));
  run_for(20ms); // the flush has filled the pipe and waits
  ASSERT_FALSE(flushed);
  ASSERT_GT(ch->flushing_bytes(), 0u);
  queue(line_of(30, 10));
  EXPECT_FALSE(ch->write_now()); // behind the flush: not now
  EXPECT_EQ(ch->queued_bytes(), line_of(30, 10).size() + 1);
  auto reader = std::async(std::launch::async, [r] { return read_all(r); });
  ASSERT_TRUE(run_until([&] { return flushed; }));
  // A large text message queued before small ones: it goes first, through flush.
  const auto large = line_of(31, text_buffer::large_bytes);
  auto parsed = jsonrpc::line_parser().parse(large);
  ASSERT_FALSE(ch->queue(std::get<jsonrpc::message>(parsed.items.front())).ec);
  expected += large + "\n";
  queue(line_of(32, 10));
  const auto written = ch->bytes_written();
  EXPECT_FALSE(ch->write_now());
  EXPECT_EQ(ch->bytes_written(), written);
  ASSERT_TRUE(flush_all(*ch));
  ch->shutdown_write();
  EXPECT_EQ(reader.get(), expected);
  ::close(r);
}

TEST_F(direct_write_test, write_now_leaves_more_than_a_pipe_holds_to_flush) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ASSERT_GT(::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20), 0); // room is not what stops it
  auto ch = make_ndjson_channel(ex(), make_fd_transport(ex(), -1, fds[1], "pipe"));
  std::string expected;
  for (int i = 0; expected.size() <= 64 * 1024; ++i) {
    auto msg = std::get<jsonrpc::message>(jsonrpc::check(J(line_of(i, 500))));
    ASSERT_FALSE(ch->queue(msg).ec);
    expected += line_of(i, 500) + "\n";
  }
  EXPECT_FALSE(ch->write_now());
  EXPECT_EQ(ch->bytes_written(), 0u);
  EXPECT_EQ(ch->queued_bytes(), expected.size());
  auto reader = std::async(std::launch::async, [r = fds[0]] { return read_all(r); });
  ASSERT_TRUE(flush_all(*ch));
  ch->shutdown_write();
  EXPECT_EQ(reader.get(), expected);
  ::close(fds[0]);
}

// ---- connection --------------------------------------------------------------------------

class direct_connection_test : public direct_write_test {
protected:
  /// A connection whose transport is counted; it answers every request with three messages (two
  /// notifications and the response) and the peer sits on the other end.
  void start(connection_options o = {}) {
    auto [a, z] = make_memory_duplex(ex()).value();
    counts = std::make_shared<counting_transport::counts>();
    conn = raw(std::make_unique<counting_transport>(std::move(a), counts), std::move(o));
    conn->on_message([this](jsonrpc::message msg) {
      if (!msg.is_request()) return;
      conn->send_notification("n", json::value{{"i", 1}});
      conn->send_notification("n", json::value{{"i", 2}});
      conn->send_result(msg.id(), json::value{{"ok", true}});
    });
    conn->start();
    peer = make_peer(std::move(z));
  }
  void request(int id) {
    peer->send(json::value{{"jsonrpc", "2.0"}, {"id", id}, {"method", "m"}});
    ASSERT_TRUE(run_until([&] { return peer->response_to(id) != nullptr; }));
  }
  std::shared_ptr<counting_transport::counts> counts;
  std::shared_ptr<connection> conn;
  std::shared_ptr<line_peer> peer;
};

TEST_F(direct_connection_test, what_a_read_queues_on_an_idle_link_is_written_at_the_end_of_the_read_not_by_the_writer) {
  start({.direct_write_after_idle = std::chrono::microseconds(50)});
  request(1);
  EXPECT_EQ(counts->tries, 1u); // all three messages in one write
  EXPECT_EQ(counts->write_alls, 0u);
  ASSERT_EQ(peer->lines.size(), 3u);
  EXPECT_EQ(peer->lines[0], R"({"jsonrpc":"2.0","method":"n","params":{"i":1}})");
  EXPECT_EQ(peer->lines[1], R"({"jsonrpc":"2.0","method":"n","params":{"i":2}})");
  EXPECT_EQ(peer->lines[2], R"({"jsonrpc":"2.0","id":1,"result":{"ok":true}})");
  EXPECT_EQ(counts->tried_bytes, conn->statistics().bytes_out);
}

TEST_F(direct_connection_test, a_link_that_wrote_within_the_idle_time_goes_through_the_writer) {
  start({.direct_write_after_idle = std::chrono::hours(1)});
  request(1); // the first write: nothing written before
  EXPECT_EQ(counts->tries, 1u);
  request(2); // written a moment ago
  EXPECT_EQ(counts->tries, 1u);
  EXPECT_EQ(counts->write_alls, 1u);
  ASSERT_EQ(peer->lines.size(), 6u);
  EXPECT_EQ(peer->lines[5], R"({"jsonrpc":"2.0","id":2,"result":{"ok":true}})");
}

TEST_F(direct_connection_test, by_default_a_lone_answer_is_written_directly) {
  start();
  request(1);
  EXPECT_EQ(counts->tries, 1u);
  EXPECT_EQ(counts->write_alls, 0u);
}

TEST_F(direct_connection_test, with_a_negative_idle_time_the_writer_writes_everything) {
  start({.direct_write_after_idle = std::chrono::microseconds(-1)});
  request(1);
  request(2);
  EXPECT_EQ(counts->tries, 0u);
  EXPECT_EQ(counts->write_alls, 2u);
}

TEST_F(direct_connection_test, a_burst_larger_than_a_pipe_holds_goes_through_the_writer_in_order) {
  auto [a, z] = make_memory_duplex(ex()).value();
  counts = std::make_shared<counting_transport::counts>();
  conn = raw(std::make_unique<counting_transport>(std::move(a), counts),
             {.direct_write_after_idle = std::chrono::microseconds(0)});
  constexpr int n = 400; // about 90 KB
  conn->on_message([this](jsonrpc::message msg) {
    for (int i = 0; i < n; ++i) conn->send_notification("n", json::value{{"i", i}, {"pad", std::string(180, 'x')}});
    conn->send_result(msg.id(), json::value{{"ok", true}});
  });
  conn->start();
  peer = make_peer(std::move(z));
  request(1);
  EXPECT_EQ(counts->tries, 0u);
  EXPECT_GE(counts->write_alls, 1u);
  ASSERT_EQ(peer->lines.size(), std::size_t{n} + 1);
  for (int i = 0; i < n; ++i) ASSERT_EQ(json::parse(peer->lines[i]).at("params").at("i").as_int64(), i);
}

TEST_F(direct_connection_test, what_a_direct_write_leaves_the_writer_finishes_in_order) {
  start({.direct_write_after_idle = std::chrono::microseconds(0)});
  counts->try_limit = 7; // a pipe with 7 bytes of room
  for (int id = 1; id <= 5; ++id) request(id);
  ASSERT_EQ(peer->lines.size(), 15u);
  for (int id = 1; id <= 5; ++id) {
    EXPECT_EQ(peer->lines[3 * id - 3], R"({"jsonrpc":"2.0","method":"n","params":{"i":1}})");
    EXPECT_EQ(peer->lines[3 * id - 1], R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"ok":true}})");
  }
  EXPECT_EQ(counts->tried_bytes, 5u * 7u);
  EXPECT_EQ(counts->write_alls, 5u);
  std::size_t wire = 0;
  for (const auto& l : peer->lines) wire += l.size() + 1;
  // Each byte counted once (the writer counts its bytes when its write completes).
  EXPECT_TRUE(run_until([&] { return conn->statistics().bytes_out == wire; })) << conn->statistics().bytes_out;
}

TEST_F(direct_connection_test, a_write_error_after_a_partial_direct_write_ends_the_connection_as_a_write_error) {
  start({.direct_write_after_idle = std::chrono::microseconds(0)});
  counts->try_limit = 3;
  counts->write_error = asio::error::broken_pipe;
  std::optional<close_info> closed;
  conn->on_close([&](const close_info& i) { closed = i; });
  peer->send(R"({"jsonrpc":"2.0","id":1,"method":"m"})");
  ASSERT_TRUE(run_until([&] { return closed.has_value(); }));
  EXPECT_EQ(closed->reason, close_reason::write_error);
  EXPECT_EQ(closed->ec, asio::error::broken_pipe);
  EXPECT_EQ(counts->tried_bytes, 3u);
  EXPECT_EQ(counts->write_alls, 1u);
  ASSERT_TRUE(run_until([&] { return peer->eof; }));
  ASSERT_EQ(peer->lines.size(), 1u); // what the direct write took: the peer sees a cut line and the end
  EXPECT_EQ(peer->lines[0], R"({"j)");
}

TEST_F(direct_connection_test, forwarded_streams_keep_their_order_across_direct_and_writer_writes) {
  // The conductor's shape: what one connection reads, its handler sends on another.
  auto [a1, z1] = make_memory_duplex(ex()).value();
  auto [a2, z2] = make_memory_duplex(ex()).value();
  counts = std::make_shared<counting_transport::counts>();
  auto in = raw(std::move(a1));
  auto out = raw(std::make_unique<counting_transport>(std::move(a2), counts),
                 {.direct_write_after_idle = std::chrono::microseconds(0)});
  in->on_message([out](jsonrpc::message msg) { out->send(std::move(msg)); });
  in->start();
  out->start();
  auto source = make_peer(std::move(z1));
  auto sink = make_peer(std::move(z2));
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) {
    source->send_raw(line_of(i, static_cast<std::size_t>(i % 7) * 40) + "\n");
    if (i % 100 == 0) run_for(1ms); // some reads of a few lines, some of many
  }
  ASSERT_TRUE(run_until([&] { return sink->lines.size() == n; }));
  for (int i = 0; i < n; ++i) ASSERT_EQ(sink->lines[i], line_of(i, static_cast<std::size_t>(i % 7) * 40)) << i;
  EXPECT_GT(counts->tries, 0u);
}

} // namespace
} // namespace acp::test
