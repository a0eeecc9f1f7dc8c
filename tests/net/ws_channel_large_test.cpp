// The WebSocket message channel with large messages, keep-alive pings and framing errors from
// the peer (the fixture: ws_channel_fixture.hpp).

#include "ws_channel_fixture.hpp"

namespace acp::net::test {
namespace {

TEST_F(ws_channel_test, a_64_mib_message_travels_both_ways) {
  const std::size_t payload_bytes = std::size_t{64} << 20;
  open_channels({.max_message_bytes = payload_bytes + 1024});
  std::string line = R"({"jsonrpc":"2.0","id":7,"method":"big","params":{"data":")";
  const auto head = line.size();
  line.append(payload_bytes - head - 3, 'z');
  line += "\"}}";
  ASSERT_EQ(line.size(), payload_bytes);
  auto m = parse_one(line);
  ASSERT_TRUE(m.is_text());
  const auto q = client->queue(m);
  ASSERT_FALSE(q.ec);
  EXPECT_EQ(q.size, payload_bytes);
  auto in_flight = std::make_shared<std::optional<channel_input>>();
  spawn(
      [](message_channel& c, std::shared_ptr<std::optional<channel_input>> out) -> asio::awaitable<void> {
        *out = co_await c.read();
      }(*server, in_flight),
      "server read");
  ASSERT_FALSE(flush_all(*client));
  ASSERT_TRUE(run_until([&] { return in_flight->has_value(); }, 60s));
  auto in = std::move(*in_flight);
  auto& got = const_cast<jsonrpc::message&>(only_message(*in));
  EXPECT_EQ(got.method(), "big");
  std::string written;
  got.write_to(written);
  EXPECT_TRUE(written == line) << "the message changed on the way (" << written.size() << " bytes)";
  // And back.
  ASSERT_FALSE(server->queue(got).ec);
  auto back_in_flight = std::make_shared<std::optional<channel_input>>();
  spawn(
      [](message_channel& c, std::shared_ptr<std::optional<channel_input>> out) -> asio::awaitable<void> {
        *out = co_await c.read();
      }(*client, back_in_flight),
      "client read");
  ASSERT_FALSE(flush_all(*server));
  ASSERT_TRUE(run_until([&] { return back_in_flight->has_value(); }, 60s));
  auto back = std::move(*back_in_flight);
  std::string returned;
  only_message(*back).write_to(returned);
  EXPECT_TRUE(returned == line) << "the message changed on the way back (" << returned.size() << " bytes)";
}

TEST_F(ws_channel_test, a_peer_that_answers_pings_keeps_the_channel_open) {
  open_channels({.ping_interval = 100ms});
  // The server end reads (so Beast answers the client's pings); nothing else is sent.
  std::optional<channel_input> server_in;
  spawn([](message_channel& c,
           std::optional<channel_input>& out) -> asio::awaitable<void> { out = co_await c.read(); }(*server, server_in),
        "server read");
  std::optional<channel_input> got;
  spawn([](message_channel& c,
           std::optional<channel_input>& out) -> asio::awaitable<void> { out = co_await c.read(); }(*client, got),
        "client read");
  run_for(600ms);
  EXPECT_FALSE(got) << (got ? got->end.detail : "");
  EXPECT_FALSE(server_in);
}

TEST_F(ws_channel_test, the_idle_timeout_option_closes_a_channel_without_messages) {
  // Pings keep the connection alive; no message either way for 300 ms closes it.
  open_channels({.ping_interval = 100ms, .idle_timeout = 300ms});
  auto server_end = std::make_shared<std::optional<channel_input>>();
  spawn(
      [](message_channel& c, std::shared_ptr<std::optional<channel_input>> out) -> asio::awaitable<void> {
        *out = co_await c.read();
      }(*server, server_end),
      "server read");
  const auto start = std::chrono::steady_clock::now();
  auto in = read_one(*client, 3s);
  ASSERT_TRUE(in);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  ASSERT_EQ(in->type, channel_input::kind::ended);
  EXPECT_EQ(in->end.reason, close_reason::read_error);
  EXPECT_EQ(in->end.detail, "idle timeout");
}

TEST_F(ws_channel_test, a_peer_that_stops_answering_pings_ends_reading_within_two_intervals) {
  open_with_raw_server({.ping_interval = 200ms});
  // The raw end never reads, so it never answers a ping.
  const auto start = std::chrono::steady_clock::now();
  auto in = read_one(*client, 2s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::ended);
  EXPECT_EQ(in->end.reason, close_reason::read_error);
  EXPECT_EQ(in->end.detail, "no answer to ping");
  // 2 x 200 ms, with room for a loaded machine (and never the test's 2 s wait).
  EXPECT_GE(took, 350ms);
  EXPECT_LE(took, 800ms);
}

TEST_F(ws_channel_test, frames_that_arrived_together_are_all_returned_by_poll_without_waiting) {
  open_with_raw_server();
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(raw_write(R"({"jsonrpc":"2.0","method":"n","params":{"i":)" + std::to_string(i) + "}}"));
  run_for(50ms); // all five on the client's socket before its first read
  auto first = read_one(*client);
  ASSERT_TRUE(first);
  EXPECT_EQ(only_message(*first).method(), "n");
  int polled = 0;
  while (auto in = client->poll()) {
    ASSERT_EQ(in->type, channel_input::kind::messages);
    ++polled;
  }
  EXPECT_EQ(polled, 4);
}

TEST_F(ws_channel_test, a_ping_from_the_peer_is_answered_with_a_pong_while_reading) {
  open_with_raw_client();
  std::string pong;
  raw->control_callback([&](websocket::frame_type kind, beast::string_view payload) {
    if (kind == websocket::frame_type::pong) pong = std::string(payload);
  });
  spawn([](message_channel& c) -> asio::awaitable<void> { (void)co_await c.read(); }(*server), "server read");
  spawn(
      [](ws_stream& w) -> asio::awaitable<void> {
        auto [ec] = co_await w.async_ping("hello", use_tuple);
        EXPECT_FALSE(ec) << ec.message();
      }(*raw),
      "raw ping");
  auto closing = start_raw_read(); // Beast reports control frames while it reads
  EXPECT_TRUE(run_until([&] { return pong == "hello"; }, 5s));
  (void)closing;
}

TEST_F(ws_channel_test, an_unmasked_frame_from_the_client_ends_reading_with_close_1002) {
  open_with_raw_client();
  // Bytes written under Beast: a text frame without a mask, as no client may send.
  const std::string bad = "\x81\x02{}";
  spawn(
      [](ws_stream& w, std::string b) -> asio::awaitable<void> {
        auto [ec, n] = co_await asio::async_write(w.next_layer(), asio::buffer(b), use_tuple);
        (void)ec;
        (void)n;
      }(*raw, bad),
      "raw bytes");
  auto closing = start_raw_read();
  auto in = read_one(*server);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::ended);
  EXPECT_EQ(in->end.reason, close_reason::read_error);
  EXPECT_NE(in->end.detail.find("unmasked"), std::string::npos) << in->end.detail;
  ASSERT_TRUE(run_until([&] { return closing->has_value(); }));
  EXPECT_EQ(raw->reason().code, websocket::close_code::protocol_error);
}

} // namespace
} // namespace acp::net::test
