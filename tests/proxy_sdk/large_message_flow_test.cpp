// Large messages, continued (see large_message_test.cpp): a peer that goes away while a large
// payload is written, and back-pressure with large messages queued.

#include "large_message_support.hpp"

#include <acp/protocol/text_buffer.hpp>

#include <csignal>
#include <cstring>
#include <thread>
#include <unistd.h>

namespace acp::test {
namespace {

// (d) --------------------------------------------------------------------------------------

/// A connection over two pipes: the test holds the other ends.
struct piped {
  int to_conn = -1;   // we write, the connection reads
  int from_conn = -1; // the connection writes, we read
  transport_ptr transport;
};

piped make_pipes(const asio::any_io_executor& ex) {
  int in[2], out[2];
  EXPECT_EQ(::pipe(in), 0);
  EXPECT_EQ(::pipe(out), 0);
  piped p;
  p.to_conn = in[1];
  p.from_conn = out[0];
  p.transport = make_fd_transport(ex, in[0], out[1], "test pipes");
  return p;
}

class large_message_peer_goes_away : public large_message_test {
protected:
  /// A started connection on pipes with two pending requests and a 20 MiB message queued.
  void start_writing() {
    p = make_pipes(ex());
    c = raw(std::move(p.transport));
    c->on_close([this](const close_info& i) {
      ++close_calls;
      closed = i;
      pending_when_closed = c->pending_requests();
    });
    c->start();
    for (int i = 0; i < 2; ++i) (void)c->send_request("q", {}, [this](message m) { failed.push_back(std::move(m)); });
    c->send(text_notification("big", payload(20 * MiB, 9)));
  }
  void TearDown() override {
    large_message_test::TearDown();
    if (reader.joinable()) reader.join();
    if (p.to_conn >= 0) ::close(p.to_conn);
    if (p.from_conn >= 0) ::close(p.from_conn);
  }
  void expect_closed_and_answered(std::string_view reason) {
    ASSERT_TRUE(run_until([&] { return closed && failed.size() == 2 && c->closed(); }));
    EXPECT_EQ(close_calls, 1);
    for (const auto& m : failed) {
      ASSERT_TRUE(m.is_error());
      EXPECT_EQ(m.error()->code, -32603);
      EXPECT_EQ(m.error()->data->at("reason").as_string(), reason);
    }
    EXPECT_EQ(pending_when_closed, 2u); // the close handler runs before they are failed
    EXPECT_EQ(c->pending_requests(), 0u);
    EXPECT_EQ(c->queued_bytes(), 0u);
    EXPECT_TRUE(c->gate().is_open()); // the 20 MiB congested it; the failure relieves it
  }

  piped p;
  std::shared_ptr<connection> c;
  std::thread reader;
  int close_calls = 0;
  std::optional<close_info> closed;
  std::size_t pending_when_closed = 0;
  std::vector<message> failed;
};

TEST_F(large_message_peer_goes_away, reader_closes_its_end_in_the_middle_of_the_payload) {
  start_writing();
  EXPECT_FALSE(c->gate().is_open());
  // The peer reads 2 MiB (the head and the start of the payload), then closes its end.
  reader = std::thread([fd = std::exchange(p.from_conn, -1)] {
    std::vector<char> buf(64 * KiB);
    std::size_t total = 0;
    while (total < 2 * MiB) {
      const auto n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  expect_closed_and_answered("write_error");
  EXPECT_EQ(closed->reason, close_reason::write_error);
}

TEST_F(large_message_peer_goes_away, reader_end_closed_before_the_first_byte) {
  start_writing();
  ::close(std::exchange(p.from_conn, -1));
  expect_closed_and_answered("write_error");
  EXPECT_EQ(closed->reason, close_reason::write_error);
}

TEST_F(large_message_peer_goes_away, peer_stops_reading_and_the_connection_is_aborted_mid_payload) {
  start_writing();
  run_for(50ms); // the writer is blocked in the payload: the pipe is full, nobody reads
  EXPECT_GT(c->queued_bytes(), 19 * MiB);
  EXPECT_FALSE(closed);
  c->abort();
  expect_closed_and_answered("closed_locally");
}

TEST_F(large_message_test, peer_closes_the_socket_while_a_large_payload_is_written) {
  auto [ta, tz] = make_memory_duplex(ex()).value();
  auto c = raw(std::move(ta));
  std::optional<close_info> closed;
  std::vector<message> failed;
  c->on_close([&](const close_info& i) { closed = i; });
  c->start();
  (void)c->send_request("q", {}, [&](message m) { failed.push_back(std::move(m)); });
  c->send(text_notification("big", payload(20 * MiB, 4)));
  run_for(50ms);
  EXPECT_GT(c->queued_bytes(), 19 * MiB);
  tz->close();
  ASSERT_TRUE(run_until([&] { return closed && failed.size() == 1 && c->closed(); }));
  ASSERT_TRUE(failed[0].is_error());
  EXPECT_EQ(failed[0].error()->code, -32603);
  EXPECT_EQ(c->queued_bytes(), 0u);
  EXPECT_TRUE(c->gate().is_open());
}

TEST_F(large_message_test, a_large_line_cut_short_by_end_of_stream_is_a_parse_error_and_pending_requests_fail) {
  auto [ta, tz] = make_memory_duplex(ex()).value();
  auto c = raw(std::move(ta));
  std::optional<close_info> closed;
  std::size_t delivered = 0;
  std::vector<message> failed;
  c->on_close([&](const close_info& i) { closed = i; });
  c->on_message([&](message) { ++delivered; });
  c->start();
  (void)c->send_request("q", {}, [&](message m) { failed.push_back(std::move(m)); });
  auto peer = make_peer(std::move(tz));
  const auto line = R"({"jsonrpc":"2.0","method":"big","params":)" + payload(5 * MiB, 1) + "}";
  peer->send_raw(line.substr(0, 3 * MiB)); // no '\n', then end of stream
  peer->shutdown_write();
  ASSERT_TRUE(run_until([&] { return closed && failed.size() == 1 && peer->messages.size() == 2; }));
  EXPECT_EQ(closed->reason, close_reason::eof);
  EXPECT_EQ(delivered, 0u);
  const auto& err = peer->messages[1].as_object();
  EXPECT_TRUE(err.at("id").is_null());
  EXPECT_EQ(err.at("error").at("code"), -32700);
  EXPECT_LE(err.at("error").at("data").at("line").as_string().size(), 260u); // a sample, not 3 MiB
  ASSERT_TRUE(failed[0].is_error());
  EXPECT_EQ(failed[0].error()->data->at("reason"), "connection_closed");
}

// (e) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_queued_large_message_closes_the_gate_until_the_writer_takes_it) {
  connection_options o;
  o.write_high_watermark = 4 * MiB;
  auto [ta, tz] = make_memory_duplex(ex()).value();
  auto c = raw(std::move(ta), o);
  std::vector<message> got;
  c->on_message([&](message m) { got.push_back(std::move(m)); });
  c->start();

  c->send_notification("small", json::value{{"i", 0}});
  EXPECT_TRUE(c->gate().is_open());
  const auto small_bytes = c->queued_bytes();
  EXPECT_GT(small_bytes, 0u);
  const auto big = text_notification("big", payload(6 * MiB, 3));
  const auto line = wire_line(big);
  c->send(message(big));
  EXPECT_EQ(c->queued_bytes(), small_bytes + line.size() + 1);
  EXPECT_FALSE(c->gate().is_open());
  EXPECT_EQ(c->gate().congested(), 1);
  EXPECT_FALSE(c->may_read());

  // The peer writes a message but does not read: ours stays queued (being written).
  const std::string note = R"({"jsonrpc":"2.0","method":"from/peer","params":{}})"
                           "\n";
  bool written = false;
  asio::co_spawn(
      ex(),
      [t = tz.get(), &note, &written]() -> asio::awaitable<void> {
        const auto ec = co_await t->write_all(std::span<const char>(note.data(), note.size()));
        written = !ec;
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e) << "the peer's write threw"; });
  // Once the writer has handed the payload to the transport (blocked: the peer does not read),
  // nothing waits behind it: our own reader goes on and the peer's message is read (the gate
  // stays closed for other readers sharing it). Otherwise two peers
  // writing large messages to each other would wait for each other forever.
  ASSERT_TRUE(run_until([&] { return written && got.size() == 1; })) << "the reader stayed paused";
  EXPECT_GT(c->queued_bytes(), o.write_high_watermark) << "the payload being written still counts as queued";
  EXPECT_FALSE(c->gate().is_open()) << "other readers sharing the gate still pause";
  EXPECT_TRUE(c->may_read());

  // The peer reads: the writer drains.
  auto peer = make_peer(std::move(tz));
  ASSERT_TRUE(run_until([&] { return got.size() == 1 && peer->lines.size() == 2; }));
  EXPECT_EQ(c->queued_bytes(), 0u);
  EXPECT_TRUE(c->gate().is_open());
  EXPECT_TRUE(c->may_read());
  EXPECT_EQ(got[0].method(), "from/peer");
  EXPECT_EQ(peer->lines[0], R"({"jsonrpc":"2.0","method":"small","params":{"i":0}})");
  EXPECT_TRUE(peer->lines[1] == line) << "the large line differs (" << peer->lines[1].size() << " bytes)";
}

TEST_F(large_message_test, the_gate_stays_closed_until_the_queue_is_down_to_half) {
  // Two large messages: after the first is written, 5 MiB are still queued (over half of
  // 8 MiB), so the gate stays closed; after the second it opens.
  connection_options o;
  o.write_high_watermark = 8 * MiB;
  auto [ta, tz] = make_memory_duplex(ex()).value();
  auto c = raw(std::move(ta), o);
  c->start();
  c->send(text_notification("first", payload(5 * MiB, 1)));
  EXPECT_TRUE(c->gate().is_open()); // 5 MiB: under the watermark
  c->send(text_notification("second", payload(5 * MiB, 2)));
  EXPECT_FALSE(c->gate().is_open());
  std::vector<std::pair<std::size_t, bool>> seen; // (queued bytes, gate open) at each change
  auto peer = make_peer(std::move(tz));
  ASSERT_TRUE(run_until([&] {
    const std::pair state{c->queued_bytes(), c->gate().is_open()};
    if (seen.empty() || seen.back() != state) seen.push_back(state);
    return peer->lines.size() == 2;
  }));
  run_for(10ms);
  EXPECT_EQ(c->queued_bytes(), 0u);
  EXPECT_TRUE(c->gate().is_open());
  for (const auto& [queued, open] : seen)
    if (queued > 4 * MiB) {
      EXPECT_FALSE(open) << queued << " bytes queued with the gate open";
    }
}

// Each side queues more than its watermark for the other at the same moment (a 10 MiB message
// each way): both writers block on a full transport. This deadlocked while the write in
// progress counted towards congestion (both readers paused on their own queue); it must not.
TEST_F(large_message_test, two_endpoints_sending_large_messages_to_each_other_at_once_both_get_them) {
  connect();
  std::vector<message> at_b;
  b->on_message([&](message m) { at_b.push_back(std::move(m)); });
  start();
  const auto to_b = payload(10 * MiB, 1);
  const auto to_a = payload(10 * MiB, 2);
  a->send(text_notification("to/b", to_b));
  b->send(text_notification("to/a", to_a));
  ASSERT_TRUE(run_until([&] { return log.size() == 1 && at_b.size() == 1; }, 2s))
      << "a got " << log.size() << ", b got " << at_b.size() << "; queued a " << a->queued_bytes() << ", b "
      << b->queued_bytes() << "; a may read " << a->may_read() << ", b may read " << b->may_read();
  EXPECT_TRUE(same_payload(log[0], to_a));
  EXPECT_TRUE(same_payload(at_b[0], to_b));
}

} // namespace
} // namespace acp::test
