// The trace writer's queue: events reach the file from a writer thread, the queue is bounded
// (drops are counted and marked in the trace), close writes everything, errors are remembered.
#include "trace_support.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>

namespace acp::conductor::test {
namespace {

using trace_queue_test = trace_file_test;

/// A pipe whose buffer is full, so that the trace writer blocks in write(2) until `drain()` starts
/// reading. The write end is handed to the trace writer.
class blocked_pipe {
public:
  blocked_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    read_end_ = fds[0];
    write_end_ = fds[1];
    (void)::fcntl(write_end_, F_SETPIPE_SZ, 4096);
    (void)::fcntl(write_end_, F_SETFL, O_NONBLOCK);
    const std::string block(4096, 'x');
    for (ssize_t n; (n = ::write(write_end_, block.data(), block.size())) > 0;) filler_ += static_cast<std::size_t>(n);
    (void)::fcntl(write_end_, F_SETFL, 0);
  }
  blocked_pipe(const blocked_pipe&) = delete;
  blocked_pipe& operator=(const blocked_pipe&) = delete;
  ~blocked_pipe() {
    if (reader_.joinable()) reader_.join();
    ::close(read_end_);
  }

  [[nodiscard]] int write_end() const { return write_end_; }

  /// Reads until end of file; 10 s without data fails the test.
  void drain() {
    reader_ = std::thread([this] {
      char buf[65536];
      for (;;) {
        pollfd p{read_end_, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) {
          timed_out_ = true;
          return;
        }
        const ssize_t n = ::read(read_end_, buf, sizeof buf);
        if (n <= 0) return;
        received_.append(buf, static_cast<std::size_t>(n));
      }
    });
  }

  /// After the write end was closed: the lines the trace writer wrote.
  std::vector<std::string> lines() {
    reader_.join();
    EXPECT_FALSE(timed_out_) << "the trace writer stopped writing";
    std::vector<std::string> out;
    std::istringstream in(received_.substr(std::min(filler_, received_.size())));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

private:
  int read_end_ = -1;
  int write_end_ = -1;
  std::size_t filler_ = 0;
  std::thread reader_;
  std::string received_;
  bool timed_out_ = false;
};

void trace_numbered(trace_writer& w, int i) {
  const json::value params = {{"i", i}};
  w.notification(chain_position::client(), chain_position::agent(), "n", &params);
}

std::int64_t number_of(const std::string& line) { return json::parse(line).at("params").at("i").as_int64(); }

trace_writer adopt_ok(int fd, trace_options options = {}) {
  auto w = trace_writer::adopt(fd, options);
  if (!w) {
    ADD_FAILURE() << "adopt failed: " << w.error().message();
    std::abort();
  }
  return std::move(*w);
}

TEST_F(trace_queue_test, events_are_visible_after_flush_without_closing) {
  auto w = open_ok();
  json::value multi = json::parse(R"({"text":"line1\nline2"})");
  for (int i = 0; i < 5; ++i) {
    w.notification(chain_position::client(), chain_position::agent(), "n", &multi);
    ASSERT_TRUE(w.flush());
    const std::string c = contents();
    EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), i + 1);
    EXPECT_EQ(c.back(), '\n');
  }
  auto ev = events(w);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_LE(ev[0].at("ts").as_double(), ev[4].at("ts").as_double());
  EXPECT_FALSE(w.last_error());
}

TEST_F(trace_queue_test, close_writes_every_event_in_order) {
  constexpr int n = 20000;
  {
    auto w = open_ok();
    for (int i = 0; i < n; ++i) {
      const auto line =
          R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s","i":)" + std::to_string(i) + "}}";
      w.message(chain_position::agent(), chain_position::client(), *jsonrpc::message::scan(line));
    }
    EXPECT_EQ(w.dropped_events(), 0u);
  } // the destructor closes
  std::istringstream in(contents());
  int i = 0;
  for (std::string line; std::getline(in, line); ++i) ASSERT_EQ(number_of(line), i) << line;
  EXPECT_EQ(i, n);
}

TEST_F(trace_queue_test, events_after_close_are_ignored) {
  auto w = open_ok();
  trace_numbered(w, 0);
  w.close();
  trace_numbered(w, 1);
  w.close(); // idempotent
  EXPECT_TRUE(w.flush());
  const std::string c = contents();
  EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), 1);
  EXPECT_EQ(number_of(c.substr(0, c.size() - 1)), 0);
}

TEST_F(trace_queue_test, a_full_queue_drops_events_and_marks_the_gap_before_the_next_event) {
  blocked_pipe pipe;
  auto w = adopt_ok(pipe.write_end(), {.max_queued_bytes = 2000});
  for (int i = 0; i < 100; ++i) trace_numbered(w, i); // ~110 bytes each; the writer is stuck
  const auto dropped = w.dropped_events();
  EXPECT_GE(dropped, 60u); // at most 2000 bytes wait, in the queue and in the stuck write
  pipe.drain();
  ASSERT_TRUE(w.flush());
  trace_numbered(w, 100); // room again: the marker, then the event
  w.close();
  const auto l = pipe.lines();
  const auto kept = static_cast<std::size_t>(100 - dropped);
  ASSERT_EQ(l.size(), kept + 2);
  for (std::size_t i = 0; i < kept; ++i) EXPECT_EQ(number_of(l[i]), static_cast<std::int64_t>(i)); // a prefix
  EXPECT_EQ(without_ts(l[kept]), R"({"type":"dropped","ts":T,"count":)" + std::to_string(dropped) + "}");
  EXPECT_EQ(number_of(l[kept + 1]), 100);
  EXPECT_EQ(w.dropped_events(), dropped);
}

TEST_F(trace_queue_test, drops_still_pending_at_close_are_marked_at_the_end) {
  blocked_pipe pipe;
  auto w = adopt_ok(pipe.write_end(), {.max_queued_bytes = 1000});
  for (int i = 0; i < 50; ++i) trace_numbered(w, i);
  const auto dropped = w.dropped_events();
  ASSERT_GT(dropped, 0u);
  pipe.drain();
  w.close();
  const auto l = pipe.lines();
  ASSERT_EQ(l.size(), 50 - dropped + 1);
  EXPECT_EQ(without_ts(l.back()), R"({"type":"dropped","ts":T,"count":)" + std::to_string(dropped) + "}");
}

TEST_F(trace_queue_test, one_event_larger_than_the_bound_is_kept_when_nothing_waits) {
  auto w = open_ok({.max_queued_bytes = 100});
  const json::value big = {{"text", std::string(1000, 'a')}};
  w.notification(chain_position::client(), chain_position::agent(), "n", &big);
  ASSERT_TRUE(w.flush());
  w.notification(chain_position::client(), chain_position::agent(), "n", &big);
  const auto ev = events(w);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].at("params"), big);
  EXPECT_EQ(w.dropped_events(), 0u);
}

TEST_F(trace_queue_test, a_failed_write_is_remembered_and_tracing_goes_on) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600); // write(2): EBADF
  ASSERT_GE(fd, 0);
  auto w = adopt_ok(fd);
  EXPECT_FALSE(w.last_error());
  trace_numbered(w, 0);
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(w.last_error(), boost::system::errc::bad_file_descriptor);
  trace_numbered(w, 1); // no exception, no report: the chain goes on
  ASSERT_TRUE(w.flush());
  w.close();
  EXPECT_EQ(w.last_error(), boost::system::errc::bad_file_descriptor);
}

TEST_F(trace_queue_test, moved_writer_keeps_writing) {
  auto w = open_ok();
  trace_numbered(w, 0);
  trace_writer moved = std::move(w);
  trace_numbered(moved, 1);
  trace_numbered(w, 2); // moved from: ignored
  EXPECT_TRUE(w.flush());
  EXPECT_FALSE(w.last_error());
  const auto l = lines(moved);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(number_of(l[1]), 1);
}

// ---- batching on the owner's side (publish_on_request) ----

TEST_F(trace_queue_test, batched_events_wait_for_publish_and_keep_their_order) {
  auto w = open_ok();
  int requests = 0;
  w.publish_on_request([&] { ++requests; });
  for (int i = 0; i < 3; ++i) trace_numbered(w, i);
  EXPECT_EQ(requests, 1); // once per batch, not per event
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(contents(), ""); // still in the owner's batch
  w.publish();
  trace_numbered(w, 3); // a new batch: a new request
  EXPECT_EQ(requests, 2);
  w.publish();
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 4u);
  for (std::size_t i = 0; i < l.size(); ++i) EXPECT_EQ(number_of(l[i]), static_cast<std::int64_t>(i));
}

TEST_F(trace_queue_test, a_batch_of_64_KiB_goes_to_the_writer_without_publish_and_close_writes_the_rest) {
  constexpr int n = 100;
  const json::value params = {{"text", std::string(1000, 'a')}}; // ~1.1 KB per event
  {
    auto w = open_ok();
    int requests = 0;
    w.publish_on_request([&] { ++requests; });
    for (int i = 0; i < n; ++i) {
      json::value p = params;
      p.as_object()["i"] = i;
      w.notification(chain_position::client(), chain_position::agent(), "n", &p);
    }
    EXPECT_EQ(requests, 1);
    const auto early = lines(w).size();
    EXPECT_GE(early, 55u);                         // the first 64 KiB went without publish()
    EXPECT_LT(early, static_cast<std::size_t>(n)); // the rest waits in the batch
  }                                                // close
  std::istringstream in(contents());
  int i = 0;
  for (std::string line; std::getline(in, line); ++i) ASSERT_EQ(number_of(line), i);
  EXPECT_EQ(i, n);
}

TEST_F(trace_queue_test, an_event_over_64_KiB_goes_at_once_after_the_batch_before_it) {
  auto w = open_ok();
  w.publish_on_request([] {});
  trace_numbered(w, 0);
  const json::value big = {{"i", 1}, {"text", std::string(70000, 'b')}};
  w.notification(chain_position::client(), chain_position::agent(), "n", &big);
  const auto l = lines(w); // no publish()
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(number_of(l[0]), 0);
  EXPECT_EQ(number_of(l[1]), 1);
}

TEST_F(trace_queue_test, the_batch_counts_against_the_bound) {
  auto w = open_ok({.max_queued_bytes = 1000});
  w.publish_on_request([] {});
  for (int i = 0; i < 50; ++i) trace_numbered(w, i); // ~110 bytes each, none handed over
  const auto dropped = w.dropped_events();
  EXPECT_GE(dropped, 40u); // at most 1000 bytes wait, all of them in the batch
  w.publish();
  ASSERT_TRUE(w.flush());
  trace_numbered(w, 50); // room again: the marker, then the event
  w.publish();
  const auto l = lines(w);
  const auto kept = static_cast<std::size_t>(50 - dropped);
  ASSERT_EQ(l.size(), kept + 2);
  for (std::size_t i = 0; i < kept; ++i) EXPECT_EQ(number_of(l[i]), static_cast<std::int64_t>(i));
  EXPECT_EQ(without_ts(l[kept]), R"({"type":"dropped","ts":T,"count":)" + std::to_string(dropped) + "}");
  EXPECT_EQ(number_of(l[kept + 1]), 50);
}

TEST_F(trace_queue_test, a_published_event_reaches_the_file_without_flush_after_an_empty_publish) {
  auto w = open_ok();
  std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the writer thread waits for a first event
  w.publish_on_request([] {});
  w.publish(); // nothing to hand over: the waiting writer must not be taken for awake
  std::this_thread::sleep_for(std::chrono::milliseconds(20)); // (a wake-up would have come by now)
  trace_numbered(w, 0);
  w.publish();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (contents().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string c = contents(); // no flush(): it would wake the writer itself
  ASSERT_EQ(std::count(c.begin(), c.end(), '\n'), 1);
  EXPECT_EQ(number_of(c.substr(0, c.size() - 1)), 0);
}

TEST_F(trace_queue_test, events_after_close_are_ignored_when_batching) {
  auto w = open_ok();
  int requests = 0;
  w.publish_on_request([&] { ++requests; });
  trace_numbered(w, 0);
  w.close(); // writes the batch
  trace_numbered(w, 1);
  w.publish(); // after close: nothing
  EXPECT_EQ(requests, 1);
  const std::string c = contents();
  EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), 1);
  EXPECT_EQ(number_of(c.substr(0, c.size() - 1)), 0);
}

} // namespace
} // namespace acp::conductor::test
