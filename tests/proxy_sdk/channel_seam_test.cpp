// acp::connection on a scripted message channel (no bytes, no NDJSON): dispatch, responses,
// invalid input, framing events, refusals, back-pressure, the end of the channel, failures.

#include "scripted_channel.hpp"

namespace acp::test {
namespace {

class channel_seam_test : public sdk_test {
protected:
  /// A started connection on a scripted channel that answers every request with
  /// {"echo": params} and records notifications.
  void start(connection_options o = {}) {
    script = std::make_shared<channel_script>(ex());
    conn = connection::create(ex(), std::make_unique<scripted_channel>(script), std::move(o));
    conns_.push_back(conn);
    conn->on_message([this](jsonrpc::message msg) {
      if (!msg.is_request()) return notifications.push_back(std::move(msg).release());
      json::object r;
      r["echo"] = msg.params() ? *msg.params() : json::value(nullptr);
      conn->send_result(msg.id(), json::value(std::move(r)));
    });
    conn->on_close([this](const close_info& i) { closed = i; });
    conn->start();
  }
  /// Sends a request whose answer (exactly one) is counted in `answers[id]`.
  json::value request(std::string_view method = "q") {
    return conn->send_request(method, {},
                              [this](jsonrpc::message m) { answers[m.id().as_int64()].push_back(std::move(m)); });
  }
  [[nodiscard]] const json::object& written(std::size_t i) const { return script->written.at(i).as_object(); }

  std::shared_ptr<channel_script> script;
  std::shared_ptr<connection> conn;
  std::vector<json::object> notifications;
  std::map<std::int64_t, std::vector<jsonrpc::message>> answers;
  std::optional<close_info> closed;
};

TEST_F(channel_seam_test, a_request_read_from_the_channel_is_answered_through_it) {
  start();
  script->push(R"({"jsonrpc":"2.0","id":"r1","method":"m","params":{"a":1}})");
  ASSERT_TRUE(run_until([&] { return script->written.size() == 1; }));
  EXPECT_EQ(script->written[0], J(R"({"jsonrpc":"2.0","id":"r1","result":{"echo":{"a":1}}})"));
  EXPECT_EQ(conn->statistics().messages_in, 1u);
  EXPECT_EQ(conn->statistics().messages_out, 1u);
}

TEST_F(channel_seam_test, a_sent_request_is_flushed_and_its_response_from_the_channel_completes_it) {
  start();
  const auto id = request("ask");
  ASSERT_TRUE(run_until([&] { return script->written.size() == 1; }));
  EXPECT_EQ(written(0).at("method"), "ask");
  EXPECT_EQ(written(0).at("id"), id);
  script->push(json::value{{"jsonrpc", "2.0"}, {"id", id}, {"result", {{"ok", true}}}});
  ASSERT_TRUE(run_until([&] { return answers.size() == 1; }));
  EXPECT_EQ(*answers[id.as_int64()].at(0).result(), (json::value{{"ok", true}}));
  EXPECT_EQ(conn->pending_requests(), 0u);
}

TEST_F(channel_seam_test, notifications_from_the_channel_arrive_in_order) {
  start();
  for (int i = 0; i < 3; ++i) script->push(json::value{{"jsonrpc", "2.0"}, {"method", "n"}, {"params", {{"i", i}}}});
  ASSERT_TRUE(run_until([&] { return notifications.size() == 3; }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(notifications[i].at("params").at("i"), i);
  run_for(5ms);
  EXPECT_TRUE(script->written.empty());
}

TEST_F(channel_seam_test, an_invalid_message_from_the_channel_gets_invalid_request_with_its_id) {
  start();
  script->push(R"({"jsonrpc":"1.0","id":5,"method":"m"})");
  ASSERT_TRUE(run_until([&] { return script->written.size() == 1; }));
  EXPECT_EQ(written(0).at("id"), 5);
  EXPECT_EQ(written(0).at("error").at("code"), -32600);
  EXPECT_FALSE(closed);
}

TEST_F(channel_seam_test, a_batch_from_the_channel_is_answered_with_one_array) {
  start();
  script->push(
      R"([{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"method":"b"}])");
  ASSERT_TRUE(run_until([&] { return script->written.size() == 1; }));
  ASSERT_TRUE(script->written[0].is_array());
  EXPECT_EQ(script->written[0].as_array().size(), 2u);
  EXPECT_EQ(notifications.size(), 1u);
}

TEST_F(channel_seam_test, a_content_length_header_event_is_answered_and_reading_goes_on) {
  start();
  channel_input header;
  header.type = channel_input::kind::content_length_header;
  header.sample = "Content-Length: 42";
  script->push(std::move(header));
  script->push(R"({"jsonrpc":"2.0","method":"after"})");
  ASSERT_TRUE(run_until([&] { return script->written.size() == 1 && notifications.size() == 1; }));
  EXPECT_TRUE(written(0).at("id").is_null());
  EXPECT_EQ(written(0).at("error").at("code"), -32700);
  EXPECT_EQ(written(0).at("error").at("data").at("reason"), "content_length_framing");
  EXPECT_EQ(written(0).at("error").at("data").at("line"), "Content-Length: 42");
}

TEST_F(channel_seam_test, an_oversized_event_is_answered_ends_the_connection_and_fails_pending_requests) {
  start();
  const auto id = request();
  channel_input big;
  big.type = channel_input::kind::oversized;
  big.size = 3u << 20;
  script->push(std::move(big));
  ASSERT_TRUE(run_until([&] { return closed && answers.size() == 1; }));
  EXPECT_EQ(closed->reason, close_reason::oversized_message);
  EXPECT_EQ(answers[id.as_int64()].at(0).error()->data->at("reason"), "oversized_message");
  ASSERT_TRUE(run_until([&] { return script->written.size() == 2; }));
  const auto& err = written(1).at("error");
  EXPECT_EQ(err.at("code"), -32600);
  EXPECT_EQ(err.at("data").at("limit"), script->max_message_bytes); // the channel's limit
  EXPECT_EQ(err.at("data").at("size_at_least"), 3u << 20);
}

TEST_F(channel_seam_test, the_channel_ending_runs_the_close_handler_and_answers_pending_requests_once) {
  start();
  const auto a = request(), b = request();
  script->end({close_reason::eof, asio::error::eof, "end of stream"});
  ASSERT_TRUE(run_until([&] { return answers.size() == 2; }));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->reason, close_reason::eof);
  for (const auto& id : {a, b}) {
    ASSERT_EQ(answers[id.as_int64()].size(), 1u);
    EXPECT_EQ(answers[id.as_int64()][0].error()->code, -32603);
    EXPECT_EQ(answers[id.as_int64()][0].error()->data->at("reason"), "connection_closed");
  }
}

TEST_F(channel_seam_test, a_response_the_channel_refuses_is_replaced_by_an_error_and_our_refused_request_fails) {
  start();
  script->max_message_bytes = 200;
  script->push(json::value{{"jsonrpc", "2.0"}, {"id", 3}, {"method", "m"}, {"params", {{"s", std::string(300, 'x')}}}});
  ASSERT_TRUE(run_until([&] { return script->written.size() == 1; }));
  EXPECT_EQ(written(0).at("id"), 3);
  EXPECT_EQ(written(0).at("error").at("data").at("reason"), "message_too_large");

  bool inside = true;
  const auto id = conn->send_request("big", json::value{{"s", std::string(300, 'y')}}, [&](jsonrpc::message m) {
    EXPECT_FALSE(inside) << "answered from inside send_request";
    answers[m.id().as_int64()].push_back(std::move(m));
  });
  inside = false;
  ASSERT_TRUE(run_until([&] { return answers.size() == 1; }));
  EXPECT_EQ(answers[id.as_int64()].at(0).error()->code, -32603);
  run_for(5ms);
  EXPECT_EQ(script->written.size(), 1u);
}

TEST_F(channel_seam_test, congestion_is_counted_in_the_channels_bytes_and_relieved_when_it_flushes) {
  connection_options o;
  o.write_high_watermark = 1000;
  start(o);
  script->hold_flush = true;
  conn->send_notification("first", json::value{{"s", std::string(100, 'a')}});
  ASSERT_TRUE(run_until([&] { return script->flushes == 1; })); // the first flush holds its message
  for (int i = 0; i < 8; ++i) conn->send_notification("n", json::value{{"s", std::string(200, 'b')}});
  EXPECT_FALSE(conn->gate().is_open());
  EXPECT_FALSE(conn->may_read()); // more than half the watermark waits behind the flush
  EXPECT_EQ(conn->queued_bytes(), script->queued_size + script->flushing_size);
  script->hold_flush = false;
  script->changed();
  ASSERT_TRUE(run_until([&] { return script->written.size() == 9; }));
  EXPECT_TRUE(conn->gate().is_open());
  EXPECT_EQ(conn->queued_bytes(), 0u);
}

TEST_F(channel_seam_test, a_flush_error_ends_the_connection_with_write_error_and_answers_every_request_once) {
  start();
  script->flush_error = asio::error::broken_pipe;
  const auto a = request(), b = request();
  ASSERT_TRUE(run_until([&] { return closed && answers.size() == 2 && conn->closed(); }));
  EXPECT_EQ(closed->reason, close_reason::write_error);
  EXPECT_EQ(closed->ec, asio::error::broken_pipe);
  EXPECT_TRUE(script->closed);
  for (const auto& id : {a, b}) EXPECT_EQ(answers[id.as_int64()].size(), 1u);
}

TEST_F(channel_seam_test, close_flushes_what_is_queued_then_shuts_the_channels_write_side) {
  start();
  conn->send_notification("last");
  conn->close();
  EXPECT_TRUE(script->read_closed);
  ASSERT_TRUE(run_until([&] { return conn->closed(); }));
  ASSERT_EQ(script->written.size(), 1u);
  EXPECT_EQ(written(0).at("method"), "last");
  EXPECT_TRUE(script->write_shut);
  EXPECT_EQ(closed->reason, close_reason::closed_locally);
}

// ---- defects ------------------------------------------------------------------------------

TEST_F(channel_seam_test, a_request_sent_after_the_writer_finished_is_answered_later_not_left_pending) {
  start();
  conn->close();
  ASSERT_TRUE(run_until([&] { return conn->closed(); }));
  bool inside = true;
  const auto id = conn->send_request("late", {}, [&](jsonrpc::message m) {
    EXPECT_FALSE(inside) << "answered from inside send_request";
    answers[m.id().as_int64()].push_back(std::move(m));
  });
  inside = false;
  EXPECT_TRUE(answers.empty());
  EXPECT_FALSE(conn->has_pending(id));
  ASSERT_TRUE(run_until([&] { return answers.size() == 1; }));
  const auto& m = answers[id.as_int64()].at(0);
  EXPECT_EQ(m.error()->code, -32603);
  EXPECT_EQ(m.error()->data->at("reason"), "connection_closed");
  run_for(5ms);
  EXPECT_EQ(answers[id.as_int64()].size(), 1u);
  EXPECT_EQ(conn->pending_requests(), 0u);
}

TEST_F(channel_seam_test, a_request_sent_after_reading_ended_is_still_written_and_answered_later) {
  start();
  script->end({close_reason::eof, asio::error::eof, "end of stream"});
  ASSERT_TRUE(run_until([&] { return closed.has_value(); }));
  const auto id = request("late");
  EXPECT_TRUE(answers.empty());
  ASSERT_TRUE(run_until([&] { return answers.size() == 1 && script->written.size() == 1; }));
  EXPECT_EQ(answers[id.as_int64()].at(0).error()->data->at("reason"), "connection_closed");
  EXPECT_EQ(written(0).at("method"), "late");
  EXPECT_EQ(conn->pending_requests(), 0u);
}

TEST_F(channel_seam_test, a_request_sent_from_the_close_handler_is_answered_exactly_once) {
  start();
  std::optional<json::value> late;
  conn->on_close([&](const close_info&) { late = request("from/close"); });
  script->end({close_reason::eof, asio::error::eof, "end of stream"});
  ASSERT_TRUE(run_until([&] { return late && answers.size() == 1; }));
  run_for(5ms);
  EXPECT_EQ(answers[late->as_int64()].size(), 1u);
}

// The failure handlers of the reader and writer coroutines hold the connection: its owner may
// have let go of it already, and the failure still ends it cleanly and answers every request.
TEST_F(channel_seam_test, a_reader_that_throws_after_the_owner_let_go_ends_the_connection_cleanly) {
  script = std::make_shared<channel_script>(ex());
  auto c = connection::create(ex(), std::make_unique<scripted_channel>(script));
  std::weak_ptr<connection> weak = c;
  std::optional<close_info> info;
  int answered = 0;
  c->on_close([&](const close_info& i) { info = i; });
  (void)c->send_request("q", {}, [&](jsonrpc::message m) {
    EXPECT_EQ(m.error()->code, -32603);
    ++answered;
  });
  script->read_throws = true;
  c->start();
  c.reset();
  ASSERT_TRUE(run_until([&] { return info && answered == 1; }));
  EXPECT_EQ(info->reason, close_reason::read_error);
  EXPECT_EQ(info->detail, "internal error in reader");
  auto again = weak.lock();
  ASSERT_TRUE(again) << "the writer still runs: the connection must be alive";
  again->close();
  ASSERT_TRUE(run_until([&] { return again->closed(); }));
  again.reset();
  run_for(5ms);
  EXPECT_TRUE(weak.expired()) << "the connection leaked";
  EXPECT_EQ(answered, 1);
}

TEST_F(channel_seam_test, a_writer_that_throws_after_the_owner_let_go_ends_the_connection_cleanly) {
  script = std::make_shared<channel_script>(ex());
  auto c = connection::create(ex(), std::make_unique<scripted_channel>(script));
  std::weak_ptr<connection> weak = c;
  std::optional<close_info> info;
  int answered = 0;
  c->on_close([&](const close_info& i) { info = i; });
  script->flush_throws = true;
  c->start();
  (void)c->send_request("q", {}, [&](jsonrpc::message m) {
    EXPECT_EQ(m.error()->code, -32603);
    ++answered;
  });
  c.reset();
  ASSERT_TRUE(run_until([&] { return info && answered == 1 && weak.expired(); }));
  EXPECT_EQ(info->reason, close_reason::write_error);
  EXPECT_EQ(info->detail, "internal error in writer");
  EXPECT_TRUE(script->closed);
}

} // namespace
} // namespace acp::test
