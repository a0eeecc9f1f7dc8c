// The WebSocket message channel between two in-process ends of a loopback TCP connection (the
// upgrade done by Beast in the test): messages both ways, exact frame payloads, batches, binary
// frames, the size limit both ways, the close handshake, a 64 MiB message, and pings.

#include "ws_channel_fixture.hpp"

namespace acp::net::test {
namespace {

TEST_F(ws_channel_test, messages_travel_both_ways_one_per_frame) {
  open_channels();
  const std::string text = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}})";
  auto request = parse_one(text);
  const auto q = client->queue(request);
  ASSERT_FALSE(q.ec);
  EXPECT_EQ(q.size, text.size());
  EXPECT_NE(client->queued_bytes(), 0U);
  ASSERT_FALSE(flush_all(*client));
  EXPECT_EQ(client->queued_bytes(), 0U);

  auto in = read_one(*server);
  ASSERT_TRUE(in);
  const auto& got = only_message(*in);
  EXPECT_EQ(got.method(), "initialize");
  EXPECT_EQ(got.id(), json::value(1));

  json::object answer{{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object{{"protocolVersion", 1}}}};
  ASSERT_FALSE(server->queue(answer).ec);
  ASSERT_FALSE(flush_all(*server));
  auto back = read_one(*client);
  ASSERT_TRUE(back);
  const auto& reply = only_message(*back);
  EXPECT_TRUE(reply.is_response());
  EXPECT_EQ(json::serialize(*reply.result()), R"({"protocolVersion":1})");
  EXPECT_GT(server->bytes_read(), text.size());
  EXPECT_EQ(server->bytes_read(), client->bytes_written());
}

TEST_F(ws_channel_test, a_queued_message_is_one_text_frame_with_its_exact_text) {
  open_with_raw_server();
  const std::string text = R"({"jsonrpc":"2.0","method":"session/update","params":{"n":1.5,"s":"\u00e9"}})";
  auto m = parse_one(text);
  ASSERT_FALSE(client->queue(m).ec);
  auto m2 = parse_one(R"({"jsonrpc":"2.0","id":"x","result":null})");
  ASSERT_FALSE(client->queue(m2).ec);
  ASSERT_FALSE(flush_all(*client));
  auto f = raw_read();
  ASSERT_TRUE(f);
  ASSERT_FALSE(f->ec) << f->ec.message();
  EXPECT_TRUE(f->is_text);
  EXPECT_EQ(f->text, text);
  auto g = raw_read();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->text, R"({"jsonrpc":"2.0","id":"x","result":null})");
}

TEST_F(ws_channel_test, a_batch_is_one_frame_both_ways) {
  open_channels();
  json::array batch{json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "a"}},
                    json::object{{"jsonrpc", "2.0"}, {"method", "b"}}};
  ASSERT_FALSE(client->queue(batch).ec);
  ASSERT_FALSE(flush_all(*client));
  auto in = read_one(*server);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages);
  EXPECT_TRUE(in->parsed.batch);
  ASSERT_EQ(in->parsed.items.size(), 2U);
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items[0]).method(), "a");
  EXPECT_EQ(std::get<jsonrpc::message>(in->parsed.items[1]).method(), "b");
}

TEST_F(ws_channel_test, a_binary_frame_is_an_invalid_message_and_reading_goes_on) {
  open_with_raw_server();
  ASSERT_FALSE(raw_write(R"({"jsonrpc":"2.0","method":"x"})", false));
  auto in = read_one(*client);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::messages);
  ASSERT_EQ(in->parsed.items.size(), 1U);
  const auto* bad = std::get_if<jsonrpc::invalid_message>(&in->parsed.items.front());
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->error.code, -32700);
  EXPECT_NE(bad->error.message.find("binary frame"), std::string::npos) << bad->error.message;

  ASSERT_FALSE(raw_write(R"({"jsonrpc":"2.0","method":"after"})"));
  auto next = read_one(*client);
  ASSERT_TRUE(next);
  EXPECT_EQ(only_message(*next).method(), "after");
}

TEST_F(ws_channel_test, text_that_is_not_json_is_a_parse_error) {
  open_with_raw_server();
  ASSERT_FALSE(raw_write("not json"));
  auto in = read_one(*client);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->parsed.items.size(), 1U);
  const auto* bad = std::get_if<jsonrpc::invalid_message>(&in->parsed.items.front());
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->error.code, -32700);
}

TEST_F(ws_channel_test, a_frame_over_the_limit_is_oversized_and_the_peer_gets_close_1009) {
  open_with_raw_server({.max_message_bytes = 1000});
  std::string big = R"({"jsonrpc":"2.0","method":"x","params":{"pad":")" + std::string(1000, 'a') + "\"}}";
  // The raw end writes; the channel refuses while reading the frame header and closes.
  spawn(
      [](ws_stream& w, std::string p) -> asio::awaitable<void> {
        w.text(true);
        auto [ec, n] = co_await w.async_write(asio::buffer(p), use_tuple);
        (void)ec;
        (void)n;
      }(*raw, big),
      "raw write");
  // The raw end reads too: Beast's close handshake waits for its answer.
  auto closing = start_raw_read();
  auto in = read_one(*client);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->type, channel_input::kind::oversized);
  EXPECT_GT(in->size, 1000U);
  ASSERT_TRUE(run_until([&] { return closing->has_value(); }));
  const auto& f = **closing;
  EXPECT_EQ(f.ec, websocket::error::closed);
  EXPECT_EQ(raw->reason().code, websocket::close_code::too_big);
  auto after = read_one(*client);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->type, channel_input::kind::ended);
}

TEST_F(ws_channel_test, a_message_over_the_limit_is_refused_when_queued) {
  open_channels({.max_message_bytes = 100});
  json::object small{{"jsonrpc", "2.0"}, {"method", "x"}};
  json::object big{{"jsonrpc", "2.0"}, {"method", "x"}, {"params", json::object{{"pad", std::string(100, 'a')}}}};
  auto r = client->queue(big);
  EXPECT_EQ(r.ec, channel_errc::message_too_large);
  EXPECT_GT(r.size, 100U);
  EXPECT_EQ(client->queued_bytes(), 0U);
  auto text = parse_one(json::serialize(big));
  EXPECT_EQ(client->queue(text).ec, channel_errc::message_too_large);
  EXPECT_EQ(client->queued_bytes(), 0U);
  EXPECT_EQ(text.method(), "x"); // left as it was
  // Exactly the limit is fine.
  json::object exact{{"jsonrpc", "2.0"}, {"method", "x"}, {"params", json::object{{"pad", ""}}}};
  exact["params"].as_object()["pad"] = std::string(100 - json::serialize(exact).size(), 'b');
  ASSERT_EQ(json::serialize(exact).size(), 100U);
  EXPECT_FALSE(client->queue(exact).ec);
  ASSERT_FALSE(client->queue(small).ec);
  ASSERT_FALSE(flush_all(*client));
  auto in = read_one(*server);
  ASSERT_TRUE(in);
  EXPECT_EQ(only_message(*in).method(), "x");
}

TEST_F(ws_channel_test, shutdown_write_sends_a_close_frame_and_both_ends_read_eof) {
  open_channels();
  json::object last{{"jsonrpc", "2.0"}, {"method", "last"}};
  ASSERT_FALSE(client->queue(last).ec);
  ASSERT_FALSE(flush_all(*client));
  client->shutdown_write();
  auto in = read_one(*server);
  ASSERT_TRUE(in);
  EXPECT_EQ(only_message(*in).method(), "last");
  auto end = read_one(*server);
  ASSERT_TRUE(end);
  ASSERT_EQ(end->type, channel_input::kind::ended);
  EXPECT_EQ(end->end.reason, close_reason::eof) << end->end.detail;
  // The server answered the close frame (Beast does): the client's reading ends too.
  auto client_end = read_one(*client);
  ASSERT_TRUE(client_end);
  ASSERT_EQ(client_end->type, channel_input::kind::ended);
  EXPECT_EQ(client_end->end.reason, close_reason::eof) << client_end->end.detail;
  // Later reads report the end again; a flush after the close fails.
  auto again = read_one(*server);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->type, channel_input::kind::ended);
  ASSERT_FALSE(client->queue(last).ec);
  EXPECT_TRUE(flush_all(*client));
}

TEST_F(ws_channel_test, shutdown_write_closes_after_the_queued_frames_and_the_flush_in_progress) {
  open_channels();
  // Many frames: shutdown_write comes while they are queued and while the flush writes them.
  for (int i = 0; i < 200; ++i) {
    json::object m{{"jsonrpc", "2.0"}, {"method", "m"}, {"params", json::object{{"pad", std::string(20000, 'p')}}}};
    ASSERT_FALSE(client->queue(m).ec);
  }
  std::optional<error_code> flushed;
  spawn(
      [](message_channel& c, std::optional<error_code>& out) -> asio::awaitable<void> {
        error_code ec;
        while (!ec && c.queued_bytes() != 0) ec = co_await c.flush();
        out = ec;
      }(*client, flushed),
      "flush");
  client->shutdown_write();
  run_until([&] { return client->flushing_bytes() != 0; });
  client->shutdown_write();
  int messages = 0;
  for (;;) {
    auto in = read_one(*server);
    ASSERT_TRUE(in);
    if (in->type == channel_input::kind::ended) {
      EXPECT_EQ(in->end.reason, close_reason::eof) << in->end.detail;
      break;
    }
    ++messages;
  }
  EXPECT_TRUE(run_until([&] { return flushed.has_value(); }));
  EXPECT_FALSE(flushed.value_or(error_code(asio::error::timed_out)));
  EXPECT_EQ(messages, 200);
}

TEST_F(ws_channel_test, the_peer_dropping_the_connection_ends_reading) {
  open_with_raw_server();
  beast::get_lowest_layer(*raw).close();
  auto in = read_one(*client);
  ASSERT_TRUE(in);
  ASSERT_EQ(in->type, channel_input::kind::ended);
  EXPECT_EQ(in->end.reason, close_reason::eof) << in->end.detail;
}

TEST_F(ws_channel_test, a_close_frame_followed_by_a_reset_is_still_the_end_of_stream) {
  for (const bool server_side : {false, true}) {
    SCOPED_TRACE(server_side ? "the channel is the server" : "the channel is the client");
    if (server_side)
      open_with_raw_client();
    else
      open_with_raw_server();
    auto& ch = server_side ? *server : *client;
    // The peer sends its close frame (code 1000; masked from a client) and drops the connection
    // without waiting for the answer, as a client process that exits does: the answer cannot
    // be written, yet the peer closed properly.
    const std::vector<unsigned char> frame = server_side
                                                 ? std::vector<unsigned char>{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8}
                                                 : std::vector<unsigned char>{0x88, 0x02, 0x03, 0xE8};
    auto& sock = beast::get_lowest_layer(*raw);
    asio::write(sock, asio::buffer(frame));
    sock.set_option(asio::socket_base::linger(true, 0));
    sock.close();
    std::this_thread::sleep_for(50ms); // the frame and the reset have both arrived
    auto in = read_one(ch);
    ASSERT_TRUE(in);
    ASSERT_EQ(in->type, channel_input::kind::ended);
    EXPECT_EQ(in->end.reason, close_reason::eof) << in->end.detail;
  }
}

TEST_F(ws_channel_test, close_read_ends_a_pending_read_locally) {
  open_channels();
  std::optional<channel_input> got;
  spawn([](message_channel& c,
           std::optional<channel_input>& out) -> asio::awaitable<void> { out = co_await c.read(); }(*client, got),
        "read");
  run_for(20ms);
  EXPECT_FALSE(got);
  client->close_read();
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_EQ(got->type, channel_input::kind::ended);
  EXPECT_EQ(got->end.reason, close_reason::closed_locally);
  // Writing still works after close_read.
  json::object m{{"jsonrpc", "2.0"}, {"method", "still"}};
  ASSERT_FALSE(client->queue(m).ec);
  ASSERT_FALSE(flush_all(*client));
  auto in = read_one(*server);
  ASSERT_TRUE(in);
  EXPECT_EQ(only_message(*in).method(), "still");
}

TEST_F(ws_channel_test, close_ends_a_pending_read_locally) {
  open_channels();
  std::optional<channel_input> got;
  spawn([](message_channel& c,
           std::optional<channel_input>& out) -> asio::awaitable<void> { out = co_await c.read(); }(*client, got),
        "read");
  run_for(20ms);
  client->close();
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_EQ(got->type, channel_input::kind::ended);
  EXPECT_EQ(got->end.reason, close_reason::closed_locally);
  auto end = read_one(*server);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->type, channel_input::kind::ended);
}

} // namespace
} // namespace acp::net::test
