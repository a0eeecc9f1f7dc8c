// Large messages through real connections: a payload of 1 MiB or more is read into a buffer
// its message adopts and written from there (no copies). Byte-exact content, order with small
// messages, the size limit on sending, a peer that goes away mid-write, back-pressure,
// forwarding between connections and the proxy path.

#include "test_support.hpp"

#include <acp/protocol/text_buffer.hpp>

#include <csignal>
#include <cstring>
#include <thread>
#include <unistd.h>

namespace acp::test {
namespace {

using jsonrpc::message;
using jsonrpc::message_kind;

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = KiB * KiB;

/// JSON text of exactly `size` bytes: `head`, a string body, `tail`. The body mixes letters,
/// escapes and multi-byte UTF-8 without a small period, and the whole is in Boost.JSON's
/// canonical form (serialize(parse(x)) == x), so the text and DOM paths agree byte for byte.
std::string json_text(std::size_t size, unsigned seed, std::string_view head, std::string_view tail) {
  std::string s(head);
  s.reserve(size);
  const std::size_t end = size - tail.size();
  std::uint32_t x = seed * 2654435761u + 0x9E3779B9u;
  constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_/{}[]";
  while (s.size() < end) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    std::string_view tok;
    switch (x % 97) {
    case 0: tok = "\\n"; break;
    case 1: tok = "\\\""; break;
    case 2: tok = "\\\\"; break;
    case 3: tok = "\xC3\xA9"; break;     // é
    case 4: tok = "\xE2\x82\xAC"; break; // €
    case 5: tok = "\\t"; break;
    default: tok = letters.substr((x >> 8) % letters.size(), 1);
    }
    if (s.size() + tok.size() > end) tok = "z";
    s.append(tok);
  }
  s.append(tail);
  return s;
}

/// An object `{"seed":N,"data":"..."}` of exactly `size` bytes.
std::string payload(std::size_t size, unsigned seed) {
  return json_text(size, seed, R"({"seed":)" + std::to_string(seed) + R"(,"data":")", R"("})");
}

message text_notification(std::string_view method, std::string_view params) {
  return message::from_text(message_kind::notification, nullptr, method, params);
}
message text_request(std::string_view method, std::string_view params) {
  return message::from_text(message_kind::request, 0, method, params);
}
message text_response(json::value id, std::string_view result) {
  return message::from_text(message_kind::response, std::move(id), "", result);
}

/// The payload (params or result) of `m` as text, whichever form it is in.
std::string payload_of(const message& m) {
  if (auto t = m.payload_text()) return std::string(*t);
  if (m.is_response()) return m.result() ? json::serialize(*m.result()) : std::string();
  return m.params() ? json::serialize(*m.params()) : std::string();
}

::testing::AssertionResult same_payload(const message& m, std::string_view want) {
  const auto got = payload_of(m);
  if (got == want) return ::testing::AssertionSuccess();
  const auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  return ::testing::AssertionFailure() << "payload of " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at byte " << (diff.first - got.begin());
}

/// The line a text message goes over the wire as.
std::string wire_line(const message& m) {
  std::string s;
  m.write_to(s);
  return s;
}

class large_message_test : public sdk_test {
protected:
  void SetUp() override {
    // A peer that closes its end turns our write into EPIPE, not into a signal (as every ACP
    // program using the SDK sets up in main).
    std::signal(SIGPIPE, SIG_IGN);
  }

  /// Two connected connections; `a` records every message and response it gets, in order.
  void connect(connection_options oa = {}, connection_options ob = {}) {
    auto [ta, tb] = make_memory_duplex(ex());
    oa.name = "a";
    ob.name = "b";
    a = raw(std::move(ta), std::move(oa));
    b = raw(std::move(tb), std::move(ob));
    a->on_message([this](message m) { log.push_back(std::move(m)); });
  }
  void start() {
    a->start();
    b->start();
  }
  /// A callback that appends the response to the log.
  response_callback record() {
    return [this](message m) { log.push_back(std::move(m)); };
  }
  [[nodiscard]] bool wait_log(std::size_t n, std::chrono::milliseconds t = 5s) {
    return run_until([&] { return log.size() >= n; }, t);
  }
  /// The method of each logged message ("<response>" for a response).
  [[nodiscard]] std::vector<std::string> log_methods() const {
    std::vector<std::string> out;
    for (const auto& m : log) out.push_back(m.is_response() ? "<response>" : std::string(m.method()));
    return out;
  }

  std::shared_ptr<connection> a, b;
  std::vector<message> log;
};

TEST_F(large_message_test, payload_generator_is_canonical_json) {
  const auto p = payload(64 * KiB + 3, 7);
  EXPECT_EQ(p.size(), 64 * KiB + 3);
  EXPECT_EQ(json::serialize(json::parse(p)), p);
  EXPECT_NE(p.find("\\n"), std::string::npos);
  EXPECT_NE(p.find("\xE2\x82\xAC"), std::string::npos);
}

// (a) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_5_mib_result_and_a_20_mib_notification_arrive_byte_exact_in_order) {
  const auto result = payload(5 * MiB, 1);
  const auto params = payload(20 * MiB + 11, 2);
  connect();
  b->on_message([&](message m) {
    ASSERT_EQ(m.method(), "fetch");
    b->send_notification("small/before", json::value{{"i", 0}});
    b->send(text_response(m.id(), result));
    b->send_notification("small/between", json::value{{"i", 1}});
    b->send(text_notification("big/update", params));
    b->send_notification("small/after", json::value{{"i", 2}});
  });
  start();
  const auto id = a->send_request("fetch", json::object{}, record());
  ASSERT_TRUE(wait_log(5, 10s));
  run_for(10ms);
  ASSERT_EQ(log_methods(),
            (std::vector<std::string>{"small/before", "<response>", "small/between", "big/update", "small/after"}));
  EXPECT_EQ(log[1].id(), id);
  EXPECT_FALSE(log[1].is_error());
  EXPECT_TRUE(same_payload(log[1], result));
  EXPECT_TRUE(same_payload(log[3], params));
  // Received without a copy: the messages are the text that arrived.
  EXPECT_TRUE(log[1].is_text());
  EXPECT_TRUE(log[3].is_text());
  for (const int i : {0, 1, 2}) EXPECT_EQ(log[static_cast<std::size_t>(2 * i)].params()->at("i"), i);
  EXPECT_EQ(a->pending_requests(), 0u);
  EXPECT_EQ(b->queued_bytes(), 0u);
  EXPECT_TRUE(b->gate().is_open());
}

// (b) --------------------------------------------------------------------------------------

TEST_F(large_message_test, large_messages_back_to_back_and_small_ones_keep_their_order) {
  connect();
  std::vector<std::string> want_methods;
  std::vector<std::string> want_payloads;
  auto note = [&](std::string method, std::string p, bool as_text) {
    if (as_text) b->send(text_notification(method, p));
    else b->send_notification(method, json::parse(p)); // the DOM path: serialized into the queue
    want_methods.push_back(std::move(method));
    want_payloads.push_back(std::move(p));
  };
  start();
  // One burst, queued before the writer runs: several sealed pieces in a row, at the 1 MiB
  // threshold on both sides, text and DOM messages mixed.
  unsigned seed = 100;
  note("m/0-small", payload(100, seed++), true);
  note("m/1-2mib", payload(2 * MiB, seed++), true);
  note("m/2-3mib", payload(3 * MiB + 1, seed++), true);
  note("m/3-1mib-exactly", payload(text_buffer::large_bytes, seed++), true);
  note("m/4-just-under-1mib", payload(text_buffer::large_bytes - 1, seed++), true);
  note("m/5-small", payload(300, seed++), true);
  note("m/6-dom-1.5mib", payload(3 * MiB / 2, seed++), false);
  note("m/7-1mib-exactly", payload(text_buffer::large_bytes, seed++), true);
  ASSERT_TRUE(wait_log(2));
  // A second burst while the writer is busy with the first.
  note("m/8-small", payload(50, seed++), true);
  note("m/9-4mib", payload(4 * MiB + 7, seed++), true);
  note("m/10-small", payload(60, seed++), false);
  note("m/11-2mib", payload(2 * MiB, seed++), true);
  ASSERT_TRUE(wait_log(want_methods.size(), 10s));
  run_for(10ms);
  ASSERT_EQ(log_methods(), want_methods);
  for (std::size_t i = 0; i < log.size(); ++i) EXPECT_TRUE(same_payload(log[i], want_payloads[i])) << want_methods[i];
  EXPECT_EQ(b->queued_bytes(), 0u);
}

TEST_F(large_message_test, requests_and_responses_with_large_payloads_pair_up) {
  // Both directions at once, responses answered out of order.
  connect();
  std::vector<message> held;
  b->on_message([&](message m) { held.push_back(std::move(m)); });
  start();
  std::vector<std::string> params, results;
  std::vector<json::value> ids;
  for (unsigned i = 0; i < 3; ++i) {
    params.push_back(payload(MiB + i * 512 * KiB, 200 + i));
    results.push_back(payload(2 * MiB + i, 300 + i));
    ids.push_back(a->send_request(text_request("work", params.back()), record()));
  }
  ASSERT_TRUE(run_until([&] { return held.size() == 3; }, 10s));
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(held[i].id(), ids[i]);
    EXPECT_TRUE(same_payload(held[i], params[i]));
  }
  for (int i = 2; i >= 0; --i) b->send(text_response(held[i].id(), results[i]));
  ASSERT_TRUE(wait_log(3, 10s));
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(log[i].id(), ids[2 - i]);
    EXPECT_TRUE(same_payload(log[i], results[2 - i]));
  }
}

// (c) --------------------------------------------------------------------------------------

TEST_F(large_message_test, an_oversized_response_is_replaced_by_an_error_and_nothing_else_is_lost) {
  connection_options ob;
  ob.max_message_bytes = 2 * MiB;
  connect({}, ob);
  const auto too_big = payload(3 * MiB, 1);
  b->on_message([&](message m) {
    if (m.method() == "text") {
      b->send_notification("small/1", json::value{{"i", 1}}); // queued before: must survive
      b->send(text_response(m.id(), too_big));
      b->send_notification("small/2", json::value{{"i", 2}});
    } else {
      b->send_result(m.id(), json::parse(too_big)); // the DOM path
      b->send_notification("small/3", json::value{{"i", 3}});
    }
  });
  start();
  const auto id1 = a->send_request("text", {}, record());
  const auto id2 = a->send_request("dom", {}, record());
  ASSERT_TRUE(wait_log(5));
  run_for(20ms);
  ASSERT_EQ(log_methods(), (std::vector<std::string>{"small/1", "<response>", "small/2", "<response>", "small/3"}));
  for (const auto& [i, id] : {std::pair{1, id1}, std::pair{3, id2}}) {
    const auto& r = log[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.id(), id);
    ASSERT_TRUE(r.is_error()) << i;
    EXPECT_EQ(r.error()->code, -32603);
    ASSERT_TRUE(r.error()->data);
    EXPECT_EQ(r.error()->data->at("reason"), "message_too_large");
  }
  EXPECT_EQ(b->queued_bytes(), 0u);
  EXPECT_FALSE(b->close_status()); // the connection goes on
}

TEST_F(large_message_test, the_size_limit_on_sending_is_exact_for_a_large_text_message) {
  // The line (without '\n') may be exactly max_message_bytes long; one byte more is replaced.
  const std::size_t limit = 2 * MiB;
  connection_options oa, ob;
  oa.max_message_bytes = limit; // the receiver accepts a line of exactly the limit
  ob.max_message_bytes = limit;
  connect(oa, ob);
  std::string head;
  text_response(json::value(1), "{}").write_head(head); // the same head for ids 1 and 2
  const auto fits = payload(limit - head.size() - 1, 5);
  const auto over = payload(limit - head.size(), 6);
  ASSERT_EQ(wire_line(text_response(1, fits)).size(), limit);
  b->on_message([&](message m) { b->send(text_response(m.id(), m.id() == 1 ? fits : over)); });
  start();
  ASSERT_EQ(a->send_request("x", {}, record()), 1);
  ASSERT_EQ(a->send_request("x", {}, record()), 2);
  ASSERT_TRUE(wait_log(2));
  EXPECT_EQ(log[0].id(), 1);
  EXPECT_FALSE(log[0].is_error());
  EXPECT_TRUE(same_payload(log[0], fits));
  EXPECT_EQ(log[1].id(), 2);
  ASSERT_TRUE(log[1].is_error());
  EXPECT_EQ(log[1].error()->data->at("reason"), "message_too_large");
  EXPECT_FALSE(a->close_status());
}

TEST_F(large_message_test, our_own_oversized_request_fails_locally_and_nothing_else_is_lost) {
  connection_options ob;
  ob.max_message_bytes = 2 * MiB;
  connect({}, ob);
  start();
  std::vector<message> answers;
  b->send_notification("small/1");
  (void)b->send_request(text_request("big/text", payload(3 * MiB, 1)),
                        [&](message m) { answers.push_back(std::move(m)); });
  b->send(text_notification("big/note", payload(5 * MiB, 2))); // over the limit: dropped, logged
  b->send_notification("small/2");
  (void)b->send_request("big/dom", json::parse(payload(3 * MiB, 3)), [&](message m) { answers.push_back(std::move(m)); });
  b->send_notification("small/3");
  EXPECT_EQ(b->pending_requests(), 0u); // taken back at once
  ASSERT_TRUE(run_until([&] { return answers.size() == 2 && log.size() == 3; }));
  run_for(20ms);
  EXPECT_EQ(log_methods(), (std::vector<std::string>{"small/1", "small/2", "small/3"}));
  for (const auto& r : answers) {
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error()->code, -32603);
  }
  EXPECT_EQ(b->queued_bytes(), 0u);
}

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
    for (int i = 0; i < 2; ++i)
      (void)c->send_request("q", {}, [this](message m) { failed.push_back(std::move(m)); });
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
  auto [ta, tz] = make_memory_duplex(ex());
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
  auto [ta, tz] = make_memory_duplex(ex());
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
  auto [ta, tz] = make_memory_duplex(ex());
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

  // The peer writes a message but does not read: ours stays queued, and we do not read it.
  const std::string note = R"({"jsonrpc":"2.0","method":"from/peer","params":{}})" "\n";
  bool written = false;
  asio::co_spawn(
      ex(),
      [t = tz.get(), &note, &written]() -> asio::awaitable<void> {
        boost::system::error_code ec;
        co_await t->write_all(std::span<const char>(note.data(), note.size()), ec);
        written = !ec;
      },
      asio::detached);
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
  auto [ta, tz] = make_memory_duplex(ex());
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

// (f) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_received_large_message_forwarded_to_another_connection_arrives_byte_exact) {
  // up <-> in (a proxy's upstream side) ... out <-> down: `in` forwards to `out` as a proxy does.
  auto [t1, t2] = make_memory_duplex(ex());
  auto [t3, t4] = make_memory_duplex(ex());
  auto up = raw(std::move(t1));
  auto in = raw(std::move(t2));
  auto out = raw(std::move(t3));
  auto down = raw(std::move(t4));
  std::size_t forwarded_text = 0;
  // Raw pointers: the fixture keeps the connections alive past every callback.
  in->on_message([&forwarded_text, inp = in.get(), outp = out.get()](message m) {
    forwarded_text += m.is_text() ? 1 : 0;
    if (!m.is_request()) return outp->send(std::move(m));
    const auto original = m.id();
    (void)outp->send_request(std::move(m), [inp, original](message r) {
      r.set_id(original);
      inp->send(std::move(r));
    });
  });
  std::vector<message> at_down;
  down->on_message([&at_down, downp = down.get()](message m) {
    if (m.is_request()) downp->send(text_response(m.id(), payload_of(m))); // the params back as the result
    at_down.push_back(std::move(m));
  });
  std::vector<message> at_up;
  for (auto& c : {up, in, out, down}) c->start();

  const auto note = payload(12 * MiB, 1);
  const auto req = payload(4 * MiB + 5, 2);
  up->send_notification("small/1");
  up->send(text_notification("big/note", note));
  up->send_notification("small/2");
  (void)up->send_request(text_request("big/req", req), [&](message m) { at_up.push_back(std::move(m)); });
  up->send_notification("small/3");
  ASSERT_TRUE(run_until([&] { return at_down.size() == 5 && at_up.size() == 1; }, 10s));
  std::vector<std::string> methods;
  for (const auto& m : at_down) methods.emplace_back(m.method());
  EXPECT_EQ(methods, (std::vector<std::string>{"small/1", "big/note", "small/2", "big/req", "small/3"}));
  EXPECT_EQ(forwarded_text, 5u);
  EXPECT_TRUE(same_payload(at_down[1], note));
  EXPECT_TRUE(same_payload(at_down[3], req));
  ASSERT_FALSE(at_up[0].is_error());
  EXPECT_TRUE(same_payload(at_up[0], req));
  EXPECT_TRUE(at_up[0].is_text());
  for (auto& c : {up, in, out, down}) EXPECT_EQ(c->queued_bytes(), 0u);
}

// (g) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_3_mib_session_update_passes_through_a_proxy_in_both_directions) {
  proxy_builder pb;
  auto w = wire(pb);
  auto& conductor = w.peer;
  const auto update = json_text(3 * MiB, 77, R"({"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":")",
                                R"("}}})");
  ASSERT_EQ(json::serialize(json::parse(update)), update);
  const std::string plain = R"({"jsonrpc":"2.0","method":"session/update","params":)" + update + "}";
  const std::string wrapped =
      R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/update","params":)" + update + "}}";
  // From the agent (wrapped) the client gets it plain; from the client (plain) the agent gets
  // it wrapped. Small messages around them keep their places.
  conductor->send_raw(R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"x/a","params":{}}})" "\n");
  conductor->send_raw(wrapped + "\n");
  conductor->send_raw(plain + "\n");
  conductor->send_raw(R"({"jsonrpc":"2.0","method":"x/b","params":{}})" "\n");
  ASSERT_TRUE(run_until([&] { return conductor->lines.size() == 4; }, 10s));
  EXPECT_EQ(conductor->lines[0], R"({"jsonrpc":"2.0","method":"x/a","params":{}})");
  EXPECT_TRUE(conductor->lines[1] == plain) << "unwrapped: " << conductor->lines[1].size() << " bytes";
  EXPECT_TRUE(conductor->lines[2] == wrapped) << "wrapped: " << conductor->lines[2].size() << " bytes";
  EXPECT_EQ(conductor->lines[3], R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"x/b","params":{}}})");
  ASSERT_EQ(conductor->messages.size(), 4u);
  EXPECT_EQ(conductor->messages[1].at("params"), json::parse(update));
  EXPECT_EQ(conductor->messages[2].at("params").at("params"), json::parse(update));
}

TEST_F(large_message_test, a_large_prompt_and_its_large_result_round_trip_through_a_proxy) {
  proxy_builder pb;
  auto w = wire(pb);
  auto& conductor = w.peer;
  const auto prompt = json_text(3 * MiB, 5, R"({"sessionId":"s1","prompt":[{"type":"text","text":")", R"("}]})");
  const auto result = json_text(3 * MiB + 1, 6, R"({"stopReason":"end_turn","_meta":{"log":")", R"("}})");
  conductor->send_raw(R"({"jsonrpc":"2.0","id":"p","method":"session/prompt","params":)" + prompt + "}\n");
  ASSERT_TRUE(run_until([&] { return conductor->messages.size() == 1; }, 10s));
  const auto& env = conductor->messages[0].as_object();
  EXPECT_EQ(env.at("method"), "_proxy/successor");
  const auto wire_id = env.at("id");
  const std::string wrapped = R"({"jsonrpc":"2.0","id":)" + json::serialize(wire_id) +
                              R"(,"method":"_proxy/successor","params":{"method":"session/prompt","params":)" + prompt + "}}";
  EXPECT_TRUE(conductor->lines[0] == wrapped);
  conductor->send_raw(R"({"jsonrpc":"2.0","id":)" + json::serialize(wire_id) + R"(,"result":)" + result + "}\n");
  ASSERT_TRUE(run_until([&] { return conductor->messages.size() == 2; }, 10s));
  EXPECT_TRUE(conductor->lines[1] == R"({"jsonrpc":"2.0","id":"p","result":)" + result + "}")
      << conductor->lines[1].substr(0, 200);
}

} // namespace
} // namespace acp::test
