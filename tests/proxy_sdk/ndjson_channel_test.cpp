// The NDJSON message channel on its own, byte for byte: what `queue`/`flush` put on the wire,
// what `read`/`poll` make of the bytes that arrive, and how reading ends.

#include "fault_transport.hpp"
#include "large_message_support.hpp"

namespace acp::test {
namespace {

class ndjson_channel_test : public sdk_test {
protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
  void TearDown() override {
    if (ch) ch->close();
    if (z) z->close();
    run_for(5ms); // the coroutines below finish
    sdk_test::TearDown();
  }

  /// The channel on one end of a socket pair; the test holds the raw other end `z`.
  void open(ndjson_options o = {}) {
    auto [a, b] = make_memory_duplex(ex()).value();
    ch = make_ndjson_channel(ex(), std::move(a), o);
    z = std::move(b);
  }

  /// Writes bytes at the raw end.
  void write_raw(std::string bytes) {
    asio::co_spawn(
        ex(),
        [](transport& t, std::string b) -> asio::awaitable<void> {
          const auto ec = co_await t.write_all(std::span<const char>(b.data(), b.size()));
          EXPECT_FALSE(ec);
        }(*z, std::move(bytes)),
        fail_on_exception("raw write"));
  }
  /// Reads at the raw end until `n` bytes have arrived (into `raw`).
  [[nodiscard]] bool read_raw(std::size_t n) {
    start_reading_raw(n);
    return run_until([&] { return raw.size() >= n; });
  }
  void start_reading_raw(std::size_t n) {
    asio::co_spawn(
        ex(),
        [](transport& t, std::string& out, std::size_t want) -> asio::awaitable<void> {
          std::vector<char> buf(64 * KiB);
          while (out.size() < want) {
            const auto [ec, got] = co_await t.read_some(std::span<char>(buf));
            out.append(buf.data(), got);
            if (ec) co_return;
          }
        }(*z, raw, n),
        fail_on_exception("raw read"));
  }
  /// Reads `n` inputs from the channel (into `inputs`): one `read`, then `poll` for what it brought.
  [[nodiscard]] bool read_inputs(std::size_t n) {
    const auto want = inputs.size() + n;
    start_reading_inputs(n);
    return run_until([&] { return inputs.size() >= want; });
  }
  void start_reading_inputs(std::size_t n) {
    const auto want = inputs.size() + n;
    asio::co_spawn(
        ex(),
        [](message_channel& c, std::vector<channel_input>& out, std::size_t w) -> asio::awaitable<void> {
          while (out.size() < w) {
            auto in = co_await c.read();
            out.push_back(std::move(in));
            while (out.size() < w)
              if (auto more = c.poll())
                out.push_back(std::move(*more));
              else
                break;
          }
        }(*ch, inputs, want),
        fail_on_exception("channel read"));
  }
  /// One flush; its result lands in `flushed`.
  [[nodiscard]] bool flush_once() {
    flushed.reset();
    asio::co_spawn(
        ex(),
        [](message_channel& c, std::optional<boost::system::error_code>& out) -> asio::awaitable<void> {
          const auto ec = co_await c.flush();
          out = ec;
        }(*ch, flushed),
        fail_on_exception("flush"));
    return run_until([&] { return flushed.has_value(); });
  }
  [[nodiscard]] bool flush_all() {
    while (ch->queued_bytes() > 0)
      if (!flush_once() || *flushed) return false;
    return true;
  }
  static std::function<void(std::exception_ptr)> fail_on_exception(std::string what) {
    return [what](std::exception_ptr e) { EXPECT_FALSE(e) << what << " threw"; };
  }
  /// The only message of a `messages` input.
  static const jsonrpc::message& only_message(const channel_input& in) {
    EXPECT_EQ(in.type, channel_input::kind::messages);
    EXPECT_FALSE(in.parsed.batch);
    EXPECT_EQ(in.parsed.items.size(), 1u);
    return std::get<jsonrpc::message>(in.parsed.items.at(0));
  }

  message_channel_ptr ch;
  transport_ptr z;
  std::string raw;
  std::vector<channel_input> inputs;
  std::optional<boost::system::error_code> flushed;
};

// ---- writing ------------------------------------------------------------------------------

TEST_F(ndjson_channel_test, queued_messages_objects_and_batches_are_written_one_per_line_exactly) {
  open();
  auto msg = jsonrpc::message::request(1, "m", json::value{{"a", 1}});
  const auto q1 = ch->queue(msg);
  const auto q2 = ch->queue(J(R"({"jsonrpc":"2.0","method":"n"})").as_object());
  const auto q3 = ch->queue(J(R"([{"jsonrpc":"2.0","id":2,"result":null}])").as_array());
  const std::string want = R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}})"
                           "\n"
                           R"({"jsonrpc":"2.0","method":"n"})"
                           "\n"
                           R"([{"jsonrpc":"2.0","id":2,"result":null}])"
                           "\n";
  EXPECT_FALSE(q1.ec || q2.ec || q3.ec);
  EXPECT_EQ(q1.size, 54u); // the JSON text, without the '\n'
  EXPECT_EQ(q1.size + q2.size + q3.size + 3, want.size());
  EXPECT_EQ(ch->queued_bytes(), want.size());
  EXPECT_EQ(ch->flushing_bytes(), 0u);
  ASSERT_TRUE(flush_once());
  EXPECT_FALSE(*flushed);
  EXPECT_EQ(ch->queued_bytes(), 0u) << "small messages go out in one flush";
  ASSERT_TRUE(read_raw(want.size()));
  EXPECT_EQ(raw, want);
  EXPECT_EQ(ch->bytes_written(), want.size());
}

TEST_F(ndjson_channel_test, a_message_over_the_limit_is_refused_with_its_size_and_nothing_is_queued) {
  open({.max_message_bytes = 64});
  auto big = jsonrpc::message::notification("big", json::value{{"s", std::string(60, 'x')}});
  const auto refused = ch->queue(big);
  EXPECT_EQ(refused.ec, channel_errc::message_too_large);
  EXPECT_EQ(refused.size, 110u);
  EXPECT_EQ(ch->queued_bytes(), 0u);
  EXPECT_EQ(big.method(), "big") << "a refused message is left as it was";
  auto small = jsonrpc::message::notification("ok");
  ASSERT_FALSE(ch->queue(small).ec);
  ASSERT_TRUE(flush_all());
  const std::string want = "{\"jsonrpc\":\"2.0\",\"method\":\"ok\"}\n";
  ASSERT_TRUE(read_raw(want.size()));
  EXPECT_EQ(raw, want);
  EXPECT_EQ(ch->max_message_bytes(), 64u);
}

TEST_F(ndjson_channel_test, a_large_text_message_is_written_in_its_own_step_in_order) {
  open();
  auto before = jsonrpc::message::notification("before");
  auto large = text_notification("large", payload(2 * MiB, 7));
  auto after = jsonrpc::message::notification("after");
  const auto large_line = wire_line(large);
  ASSERT_FALSE(ch->queue(before).ec);
  const auto q = ch->queue(large);
  ASSERT_FALSE(q.ec);
  EXPECT_EQ(q.size, large_line.size());
  ASSERT_FALSE(ch->queue(after).ec);
  const std::string first = "{\"jsonrpc\":\"2.0\",\"method\":\"before\"}\n" + large_line + "\n";
  const std::string second = "{\"jsonrpc\":\"2.0\",\"method\":\"after\"}\n";
  EXPECT_EQ(ch->queued_bytes(), first.size() + second.size());
  // Step one: what was queued before it, its head and its payload from the message's buffer
  // (the reader is started first: 2 MiB do not fit in a socket's buffer).
  start_reading_raw(first.size() + second.size());
  ASSERT_TRUE(flush_once());
  EXPECT_FALSE(*flushed);
  EXPECT_EQ(ch->queued_bytes(), 2 + second.size()) << "only the large message's '}\\n' and what follows wait";
  ASSERT_TRUE(flush_once());
  EXPECT_EQ(ch->queued_bytes(), 0u);
  ASSERT_TRUE(run_until([&] { return raw.size() == first.size() + second.size(); }));
  EXPECT_TRUE(raw == first + second) << "the bytes differ";
}

TEST_F(ndjson_channel_test, a_flush_to_a_closed_peer_returns_the_error) {
  open();
  z->close();
  auto m = jsonrpc::message::notification("n");
  ASSERT_FALSE(ch->queue(m).ec);
  ASSERT_TRUE(flush_once());
  EXPECT_TRUE(*flushed);
}

TEST_F(ndjson_channel_test, drop_queued_forgets_the_output_waiting_for_a_flush) {
  open();
  auto m = text_notification("large", payload(2 * MiB, 3));
  ASSERT_FALSE(ch->queue(m).ec);
  EXPECT_GT(ch->queued_bytes(), 2 * MiB);
  ch->drop_queued();
  EXPECT_EQ(ch->queued_bytes(), 0u);
}

// ---- reading ------------------------------------------------------------------------------

TEST_F(ndjson_channel_test, a_line_arriving_in_pieces_is_one_message) {
  open();
  write_raw(R"({"jsonrpc":"2.0","id":1,)");
  run_for(5ms);
  write_raw(R"("method":"m"})"
            "\n");
  ASSERT_TRUE(read_inputs(1));
  const auto& m = only_message(inputs[0]);
  EXPECT_EQ(m.method(), "m");
  EXPECT_EQ(m.id(), 1);
}

TEST_F(ndjson_channel_test, crlf_and_blank_lines_are_accepted_and_one_read_is_drained_by_poll) {
  open();
  write_raw("{\"jsonrpc\":\"2.0\",\"method\":\"a\"}\r\n\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"b\"}\n"
            "{\"jsonrpc\":\"2.0\",\"method\":\"c\"}\n");
  run_for(5ms);
  ASSERT_TRUE(read_inputs(3));
  EXPECT_EQ(only_message(inputs[0]).method(), "a");
  EXPECT_EQ(only_message(inputs[1]).method(), "b");
  EXPECT_EQ(only_message(inputs[2]).method(), "c");
  EXPECT_FALSE(ch->poll().has_value()) << "nothing more was received";
}

TEST_F(ndjson_channel_test, a_batch_line_is_one_input_and_a_bad_line_an_invalid_message) {
  open();
  write_raw("[{\"jsonrpc\":\"2.0\",\"method\":\"a\"},{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"b\"}]\nnot json\n");
  ASSERT_TRUE(read_inputs(2));
  ASSERT_EQ(inputs[0].type, channel_input::kind::messages);
  EXPECT_TRUE(inputs[0].parsed.batch);
  EXPECT_EQ(inputs[0].parsed.items.size(), 2u);
  ASSERT_EQ(inputs[1].type, channel_input::kind::messages);
  const auto* bad = std::get_if<jsonrpc::invalid_message>(&inputs[1].parsed.items.at(0));
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->error.code, -32700);
}

TEST_F(ndjson_channel_test, a_content_length_header_is_an_event_with_the_line) {
  open();
  write_raw("Content-Length: 30\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\n");
  ASSERT_TRUE(read_inputs(2));
  EXPECT_EQ(inputs[0].type, channel_input::kind::content_length_header);
  EXPECT_EQ(inputs[0].sample, "Content-Length: 30");
  EXPECT_EQ(only_message(inputs[1]).method(), "m");
}

TEST_F(ndjson_channel_test, an_oversized_line_is_an_event_and_the_next_line_is_still_read) {
  open({.max_message_bytes = 100});
  write_raw(R"({"jsonrpc":"2.0","method":"big","params":{"s":")" + std::string(200, 'x') + "\"}}\n" +
            R"({"jsonrpc":"2.0","method":"small"})" + "\n");
  ASSERT_TRUE(read_inputs(2));
  EXPECT_EQ(inputs[0].type, channel_input::kind::oversized);
  EXPECT_GT(inputs[0].size, 100u);
  EXPECT_EQ(only_message(inputs[1]).method(), "small");
}

TEST_F(ndjson_channel_test, a_large_line_becomes_a_text_message_owning_the_buffer) {
  open();
  const auto params = payload(3 * MiB, 5);
  const auto line = R"({"jsonrpc":"2.0","method":"big","params":)" + params + "}\n";
  write_raw(line);
  ASSERT_TRUE(read_inputs(1));
  const auto& m = only_message(inputs[0]);
  EXPECT_TRUE(m.is_text());
  EXPECT_TRUE(same_payload(m, params));
  EXPECT_EQ(ch->bytes_read(), line.size());
}

TEST_F(ndjson_channel_test, end_of_stream_reads_the_last_unterminated_line_then_ends_with_eof_for_good) {
  open();
  write_raw(R"({"jsonrpc":"2.0","method":"last"})");
  run_for(5ms);
  z->shutdown_write();
  ASSERT_TRUE(read_inputs(3));
  EXPECT_EQ(only_message(inputs[0]).method(), "last");
  for (std::size_t i : {1u, 2u}) {
    ASSERT_EQ(inputs[i].type, channel_input::kind::ended);
    EXPECT_EQ(inputs[i].end.reason, close_reason::eof);
    EXPECT_EQ(inputs[i].end.ec, asio::error::eof);
  }
}

TEST_F(ndjson_channel_test, close_read_ends_a_pending_read_as_closed_locally) {
  open();
  start_reading_inputs(1);
  run_for(5ms);
  EXPECT_TRUE(inputs.empty()) << "nothing arrived";
  ch->close_read();
  ASSERT_TRUE(run_until([&] { return inputs.size() == 1; }));
  ASSERT_EQ(inputs[0].type, channel_input::kind::ended);
  EXPECT_EQ(inputs[0].end.reason, close_reason::closed_locally);
}

TEST_F(ndjson_channel_test, a_read_error_ends_reading_with_read_error_after_the_lines_before_it) {
  auto [a, b] = make_memory_duplex(ex()).value();
  auto fc = std::make_shared<fail_count>(fail_count::op::read, 2);
  ch = make_ndjson_channel(ex(), std::make_unique<failing_transport>(std::move(a), fc));
  z = std::move(b);
  write_raw("{\"jsonrpc\":\"2.0\",\"method\":\"one\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"cut");
  ASSERT_TRUE(read_inputs(2));
  EXPECT_EQ(only_message(inputs[0]).method(), "one");
  ASSERT_EQ(inputs[1].type, channel_input::kind::ended);
  EXPECT_EQ(inputs[1].end.reason, close_reason::read_error);
  EXPECT_EQ(inputs[1].end.ec, asio::error::connection_reset);
  EXPECT_TRUE(fc->fired);
}

} // namespace
} // namespace acp::test
