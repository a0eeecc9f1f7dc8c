// The WebSocket message channel between two in-process ends of a loopback TCP connection (the
// upgrade done by Beast in the test): messages both ways, exact frame payloads, batches, binary
// frames, the size limit both ways, the close handshake, a 64 MiB message, and pings.

#include "streams.hpp"
#include "support.hpp"

#include <acp/protocol/jsonrpc.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace acp::net::test {
namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using ws_stream = websocket::stream<detail::tcp_socket>;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

jsonrpc::message parse_one(std::string_view text) {
  jsonrpc::line_parser p;
  auto parsed = p.parse(text);
  return std::get<jsonrpc::message>(std::move(parsed.items.front()));
}

class ws_channel_test : public io_test {
protected:
  // Nothing runs after the test body: coroutines still suspended are destroyed with the
  // io_context, never resumed into the test's finished locals.
  void TearDown() override {
    if (client) client->close();
    if (server) server->close();
    if (raw) beast::get_lowest_layer(*raw).close();
  }

  /// A connected, upgraded pair of Beast streams: {client, server}.
  std::pair<ws_stream, ws_stream> upgraded_pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    detail::tcp_socket a(io);
    detail::tcp_socket b(io);
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
    auto c = std::make_shared<ws_stream>(std::move(a));
    auto s = std::make_shared<ws_stream>(std::move(b));
    int done = 0;
    spawn(
        [](std::shared_ptr<ws_stream> w, int& d) -> asio::awaitable<void> {
          auto [ec] = co_await w->async_handshake("127.0.0.1", "/acp", use_tuple);
          EXPECT_FALSE(ec) << ec.message();
          ++d;
        }(c, done),
        "client handshake");
    spawn(
        [](std::shared_ptr<ws_stream> w, int& d) -> asio::awaitable<void> {
          auto [ec] = co_await w->async_accept(use_tuple);
          EXPECT_FALSE(ec) << ec.message();
          ++d;
        }(s, done),
        "server accept");
    EXPECT_TRUE(run_until([&] { return done == 2; }));
    return {std::move(*c), std::move(*s)};
  }

  /// Both ends as channels.
  void open_channels(detail::ws_channel_options o = {}) {
    auto [c, s] = upgraded_pair();
    o.description = "ws client";
    o.role = detail::ws_role::client;
    client = detail::make_ws_channel(std::move(c), o);
    o.description = "ws server";
    o.role = detail::ws_role::server;
    server = detail::make_ws_channel(std::move(s), o);
  }

  /// The server end a channel (in `server`), the client end a raw Beast stream the test drives.
  void open_with_raw_client(detail::ws_channel_options o = {}) {
    auto [c, s] = upgraded_pair();
    server = detail::make_ws_channel(std::move(s), o);
    raw = std::make_unique<ws_stream>(std::move(c));
  }

  /// The client end a channel, the server end a raw Beast stream the test drives.
  void open_with_raw_server(detail::ws_channel_options o = {}) {
    auto [c, s] = upgraded_pair();
    o.role = detail::ws_role::client;
    client = detail::make_ws_channel(std::move(c), o);
    raw = std::make_unique<ws_stream>(std::move(s));
  }

  /// The next input of `ch` (within the test's wait).
  std::optional<channel_input> read_one(message_channel& ch, std::chrono::milliseconds timeout = 10s) {
    auto got = std::make_shared<std::optional<channel_input>>();
    spawn(
        [](message_channel& c, std::shared_ptr<std::optional<channel_input>> out) -> asio::awaitable<void> {
          *out = co_await c.read();
        }(ch, got),
        "channel read");
    if (!run_until([&] { return got->has_value(); }, timeout)) return std::nullopt;
    return std::move(*got);
  }

  /// Flushes `ch` until nothing is queued; the first error.
  error_code flush_all(message_channel& ch) {
    auto result = std::make_shared<std::optional<error_code>>();
    spawn(
        [](message_channel& c, std::shared_ptr<std::optional<error_code>> out) -> asio::awaitable<void> {
          error_code ec;
          while (!ec && c.queued_bytes() != 0) ec = co_await c.flush();
          *out = ec;
        }(ch, result),
        "channel flush");
    EXPECT_TRUE(run_until([&] { return result->has_value(); }, 30s));
    return result->value_or(error_code(asio::error::timed_out));
  }

  /// Reads one message at the raw end: {error, text, was it text}.
  struct raw_frame {
    error_code ec;
    std::string text;
    bool is_text = false;
  };
  using raw_result = std::shared_ptr<std::optional<raw_frame>>;
  raw_result start_raw_read() {
    auto got = std::make_shared<std::optional<raw_frame>>();
    spawn(
        [](ws_stream& w, raw_result out) -> asio::awaitable<void> {
          beast::flat_buffer buf;
          auto [ec, n] = co_await w.async_read(buf, use_tuple);
          *out = raw_frame{ec, beast::buffers_to_string(buf.data()), w.got_text()};
          (void)n;
        }(*raw, got),
        "raw read");
    return got;
  }
  std::optional<raw_frame> raw_read() {
    auto got = start_raw_read();
    if (!run_until([&] { return got->has_value(); })) return std::nullopt;
    return *got;
  }
  error_code raw_write(std::string payload, bool text = true) {
    auto result = std::make_shared<std::optional<error_code>>();
    raw->text(text);
    spawn(
        [](ws_stream& w, std::string p, std::shared_ptr<std::optional<error_code>> out) -> asio::awaitable<void> {
          auto [ec, n] = co_await w.async_write(asio::buffer(p), use_tuple);
          (void)n;
          *out = ec;
        }(*raw, std::move(payload), result),
        "raw write");
    EXPECT_TRUE(run_until([&] { return result->has_value(); }, 30s));
    return result->value_or(error_code(asio::error::timed_out));
  }

  static const jsonrpc::message& only_message(const channel_input& in) {
    EXPECT_EQ(in.type, channel_input::kind::messages);
    EXPECT_EQ(in.parsed.items.size(), 1U);
    return std::get<jsonrpc::message>(in.parsed.items.front());
  }

  message_channel_ptr client;
  message_channel_ptr server;
  std::unique_ptr<ws_stream> raw;
};

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
