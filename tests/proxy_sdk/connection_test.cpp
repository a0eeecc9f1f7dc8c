// acp::connection against a scripted peer: framing, malformed input, ids, batches, close.

#include "test_support.hpp"

namespace acp::test {
namespace {

class connection_test : public sdk_test {
protected:
  /// A started connection that answers every request with {"echo": params} and records
  /// notifications; the scripted peer sits on the other end.
  void start_echo(connection_options o = {}) {
    auto [a, z] = make_memory_duplex(ex()).value();
    conn = raw(std::move(a), std::move(o));
    conn->on_message([this](jsonrpc::message msg) {
      if (msg.is_request()) {
        json::object r;
        r["echo"] = msg.params() ? *msg.params() : json::value(nullptr);
        conn->send_result(msg.id(), json::value(std::move(r)));
      } else {
        notifications.push_back(std::move(msg).release());
      }
    });
    conn->on_close([this](const close_info& i) { closed = i; });
    conn->start();
    peer = make_peer(std::move(z));
  }
  std::shared_ptr<connection> conn;
  std::shared_ptr<line_peer> peer;
  std::vector<json::object> notifications;
  std::optional<close_info> closed;
};

TEST_F(connection_test, request_is_answered_with_the_id_echoed_exactly) {
  start_echo();
  peer->send(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}})");
  peer->send(R"({"jsonrpc":"2.0","id":"1","method":"m","params":{"a":2}})");
  peer->send(R"({"jsonrpc":"2.0","id":"x-\u00e9","method":"m"})");
  peer->send(R"({"jsonrpc":"2.0","id":9007199254740993,"method":"m"})");
  ASSERT_TRUE(run_until([&] { return peer->lines.size() == 4; }));
  // Exact bytes: ids keep their JSON type and value.
  EXPECT_EQ(peer->lines[0], R"({"jsonrpc":"2.0","id":1,"result":{"echo":{"a":1}}})");
  EXPECT_EQ(peer->lines[1], R"({"jsonrpc":"2.0","id":"1","result":{"echo":{"a":2}}})");
  EXPECT_EQ(peer->lines[2], "{\"jsonrpc\":\"2.0\",\"id\":\"x-\xc3\xa9\",\"result\":{\"echo\":null}}");
  EXPECT_EQ(peer->lines[3], R"({"jsonrpc":"2.0","id":9007199254740993,"result":{"echo":null}})");
}

TEST_F(connection_test, notifications_are_delivered_in_order_and_never_answered) {
  start_echo();
  for (int i = 0; i < 5; ++i) peer->send(json::value{{"jsonrpc", "2.0"}, {"method", "n"}, {"params", {{"i", i}}}});
  peer->send(R"({"jsonrpc":"2.0","id":7,"method":"m"})");
  ASSERT_TRUE(run_until([&] { return !peer->lines.empty(); }));
  ASSERT_EQ(notifications.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(notifications[i].at("params").at("i"), i);
  ASSERT_EQ(peer->lines.size(), 1u); // only the request's response
  EXPECT_NE(peer->response_to(7), nullptr);
}

TEST_F(connection_test, sent_requests_get_their_responses_in_any_order) {
  start_echo();
  std::vector<json::value> got(3);
  json::value ids[3];
  for (int i = 0; i < 3; ++i)
    ids[i] = conn->send_request("q", json::value{{"i", i}}, [&got, i](jsonrpc::message m) { got[i] = *m.result(); });
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 3; }));
  EXPECT_EQ(conn->pending_requests(), 3u);
  // Answer in reverse order.
  for (int i = 2; i >= 0; --i) peer->send(json::value{{"jsonrpc", "2.0"}, {"id", ids[i]}, {"result", {{"r", i}}}});
  ASSERT_TRUE(run_until([&] { return conn->pending_requests() == 0; }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i], (json::value{{"r", i}}));
}

TEST_F(connection_test, a_response_with_the_id_as_a_string_does_not_match_an_integer_id) {
  start_echo();
  auto answered = std::make_shared<bool>(false); // resolved at teardown, after this scope
  const auto id = conn->send_request("q", {}, [answered](jsonrpc::message) { *answered = true; });
  ASSERT_TRUE(id.is_int64());
  peer->send(json::value{{"jsonrpc", "2.0"}, {"id", std::to_string(id.get_int64())}, {"result", nullptr}});
  peer->send(R"({"jsonrpc":"2.0","id":424242,"method":"ping"})"); // a marker after it
  ASSERT_TRUE(run_until([&] { return peer->response_to(424242) != nullptr; }));
  EXPECT_FALSE(*answered);
  EXPECT_EQ(conn->pending_requests(), 1u);
}

TEST_F(connection_test, a_line_that_is_not_json_gets_parse_error_with_null_id_and_reading_goes_on) {
  start_echo();
  peer->send_raw("Welcome to FooAgent v1.2!\n");
  peer->send_raw("{\"jsonrpc\":\"2.0\",\"id\":1,\n"); // cut short
  peer->send(R"({"jsonrpc":"2.0","id":2,"method":"m"})");
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 3; }));
  for (int i = 0; i < 2; ++i) {
    const auto& o = peer->messages[i].as_object();
    EXPECT_TRUE(o.at("id").is_null());
    EXPECT_EQ(o.at("error").at("code"), -32700);
    EXPECT_TRUE(o.at("error").at("data").at("line").is_string());
  }
  EXPECT_EQ(peer->messages[0].at("error").at("data").at("line"), "Welcome to FooAgent v1.2!");
  EXPECT_NE(peer->response_to(2), nullptr);
  EXPECT_EQ(error_code_of(peer->response_to(2)), 0);
  EXPECT_FALSE(closed);
}

TEST_F(connection_test, an_invalid_request_gets_invalid_request_with_its_recovered_id) {
  start_echo();
  peer->send(R"({"jsonrpc":"1.0","id":"abc","method":"m"})");
  peer->send(R"({"jsonrpc":"2.0","id":5,"method":42})");
  peer->send(R"({"jsonrpc":"2.0","id":6,"method":"m","params":"str"})");
  peer->send(R"({"jsonrpc":"2.0","id":{"x":1},"method":"m"})");
  peer->send(R"(17)");
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 5; }));
  EXPECT_EQ(error_code_of(peer->response_to("abc")), -32600);
  EXPECT_EQ(error_code_of(peer->response_to(5)), -32600);
  EXPECT_EQ(error_code_of(peer->response_to(6)), -32600);
  EXPECT_EQ(peer->messages[3].at("id"), nullptr); // an id of the wrong type is not echoed
  EXPECT_EQ(peer->messages[3].at("error").at("code"), -32600);
  EXPECT_EQ(peer->messages[4].at("error").at("code"), -32600);
}

TEST_F(connection_test, content_length_header_gets_a_diagnostic_and_the_body_line_is_still_read) {
  start_echo();
  peer->send_raw("Content-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\"}\n");
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 2; }));
  const auto& diag = peer->messages[0].as_object();
  EXPECT_TRUE(diag.at("id").is_null());
  EXPECT_EQ(diag.at("error").at("code"), -32700);
  EXPECT_NE(diag.at("error").at("message").as_string().find("Content-Length"), json::string::npos);
  EXPECT_EQ(diag.at("error").at("data").at("reason"), "content_length_framing");
  EXPECT_NE(peer->response_to(3), nullptr);
}

TEST_F(connection_test, crlf_and_blank_lines_are_accepted) {
  start_echo();
  peer->send_raw("\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\r\n\n");
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 1; }));
  EXPECT_EQ(error_code_of(peer->response_to(1)), 0);
}

TEST_F(connection_test, oversized_message_closes_with_its_reason_and_resolves_pending_requests) {
  connection_options o;
  o.max_message_bytes = 1024;
  start_echo(o);
  std::optional<jsonrpc::message> failed;
  (void)conn->send_request("q", {}, [&](jsonrpc::message m) { failed = std::move(m); });
  peer->send_raw(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"big":")" + std::string(4096, 'x') + "\"}}\n");
  ASSERT_TRUE(run_until([&] { return failed.has_value() && closed.has_value(); }));
  EXPECT_EQ(closed->reason, close_reason::oversized_message);
  ASSERT_TRUE(conn->close_status());
  EXPECT_EQ(conn->close_status()->reason, close_reason::oversized_message);
  ASSERT_TRUE(failed->is_error());
  EXPECT_EQ(failed->error()->code, -32603);
  EXPECT_EQ(failed->error()->data->at("reason"), "oversized_message");
  // The peer was told why (its request's id is unknown: null).
  ASSERT_TRUE(run_until([&] { return peer->select([](auto& m) { return m.contains("error"); }).size() == 1; }));
  const auto err = peer->select([](auto& m) { return m.contains("error"); }).front();
  EXPECT_TRUE(err.at("id").is_null());
  EXPECT_EQ(err.at("error").at("data").at("reason"), "message_too_large");
}

TEST_F(connection_test, oversized_outgoing_request_is_resolved_locally) {
  connection_options o;
  o.max_message_bytes = 256;
  start_echo(o);
  std::optional<jsonrpc::message> failed;
  (void)conn->send_request("q", json::value{{"big", std::string(1000, 'y')}},
                           [&](jsonrpc::message m) { failed = std::move(m); });
  ASSERT_TRUE(run_until([&] { return failed.has_value(); }));
  EXPECT_EQ(failed->error()->code, -32603);
  EXPECT_EQ(conn->pending_requests(), 0u);
  run_for(20ms);
  EXPECT_TRUE(peer->lines.empty());
}

TEST_F(connection_test, eof_resolves_every_pending_request_with_internal_error_and_a_reason) {
  start_echo();
  std::vector<jsonrpc::message> failed;
  for (int i = 0; i < 3; ++i)
    (void)conn->send_request("q", {}, [&](jsonrpc::message m) { failed.push_back(std::move(m)); });
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 3; }));
  peer->shutdown_write();
  ASSERT_TRUE(run_until([&] { return failed.size() == 3; }));
  for (const auto& m : failed) {
    ASSERT_TRUE(m.is_error());
    EXPECT_EQ(m.error()->code, -32603);
    EXPECT_EQ(m.error()->data->at("reason"), "connection_closed");
  }
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->reason, close_reason::eof);
}

TEST_F(connection_test, a_batch_of_requests_is_answered_with_one_array) {
  start_echo();
  peer->send(R"([{"jsonrpc":"2.0","id":1,"method":"a"},
                 {"jsonrpc":"2.0","method":"note"},
                 {"jsonrpc":"2.0","id":"two","method":"b","params":{"x":2}},
                 {"jsonrpc":"1.0","id":3,"method":"c"}])");
  ASSERT_TRUE(run_until([&] { return !peer->messages.empty(); }));
  run_for(20ms);
  ASSERT_EQ(peer->messages.size(), 1u);
  ASSERT_TRUE(peer->messages[0].is_array());
  const auto& arr = peer->messages[0].as_array();
  ASSERT_EQ(arr.size(), 3u);
  std::set<std::string> ids;
  for (const auto& r : arr) ids.insert(jsonrpc::id_key(r.at("id")));
  EXPECT_EQ(ids, (std::set<std::string>{"1", "\"two\"", "3"}));
  for (const auto& r : arr) {
    if (r.at("id") == 3) {
      EXPECT_EQ(r.at("error").at("code"), -32600);
    }
  }
  EXPECT_EQ(notifications.size(), 1u);
}

TEST_F(connection_test, a_batch_answered_later_is_sent_when_its_last_response_is) {
  auto [a, z] = make_memory_duplex(ex()).value();
  conn = raw(std::move(a));
  std::vector<jsonrpc::message> held;
  conn->on_message([&](jsonrpc::message m) { held.push_back(std::move(m)); });
  conn->start();
  peer = make_peer(std::move(z));
  peer->send(R"([{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"}])");
  ASSERT_TRUE(run_until([&] { return held.size() == 2; }));
  conn->send_result(held[1].id(), "second");
  run_for(20ms);
  EXPECT_TRUE(peer->lines.empty());
  conn->send_result(held[0].id(), "first");
  ASSERT_TRUE(run_until([&] { return !peer->messages.empty(); }));
  ASSERT_TRUE(peer->messages[0].is_array());
  EXPECT_EQ(peer->messages[0].as_array().size(), 2u);
}

TEST_F(connection_test, cancel_request_sends_cancel_for_a_pending_request_only) {
  start_echo();
  const auto id = conn->send_request("slow", {}, [](jsonrpc::message) {});
  EXPECT_TRUE(conn->cancel_request(id));
  EXPECT_FALSE(conn->cancel_request(json::value(999)));
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 2; }));
  EXPECT_EQ(peer->messages[1],
            (json::value{{"jsonrpc", "2.0"}, {"method", "$/cancel_request"}, {"params", {{"requestId", id}}}}));
}

TEST_F(connection_test, close_flushes_queued_output_then_ends_the_stream) {
  start_echo();
  for (int i = 0; i < 100; ++i) conn->send_notification("n", json::value{{"i", i}});
  conn->close();
  ASSERT_TRUE(run_until([&] { return peer->eof && conn->closed(); }));
  EXPECT_EQ(peer->messages.size(), 100u);
  ASSERT_TRUE(conn->close_status());
  EXPECT_EQ(conn->close_status()->reason, close_reason::closed_locally);
}

TEST_F(connection_test, paused_readers_sharing_a_gate_do_not_spin) {
  auto gate = std::make_shared<flow_gate>(ex());
  gate->congest();
  connection_options o;
  o.gate = gate;
  std::vector<std::shared_ptr<connection>> cs;
  for (int i = 0; i < 3; ++i) {
    auto [a, z] = make_memory_duplex(ex()).value();
    cs.push_back(raw(std::move(a), o));
    cs.back()->start();
    make_peer(std::move(z));
  }
  run_for(20ms);                        // let everyone settle at the gate
  const auto handlers = run_for(100ms); // then nothing may run while the gate is closed
  EXPECT_LT(handlers, 10u);
  gate->relieve();
  run_for(10ms);
}

TEST_F(connection_test, close_while_paused_at_the_gate_finishes) {
  auto gate = std::make_shared<flow_gate>(ex());
  gate->congest();
  connection_options o;
  o.gate = gate;
  start_echo(o);
  run_for(20ms);
  conn->close();
  ASSERT_TRUE(run_until([&] { return conn->closed(); }, 2s));
  EXPECT_TRUE(peer->eof || run_until([&] { return peer->eof; }, 1s));
  gate->relieve();
}

TEST_F(connection_test, messages_after_close_are_still_flushed_until_the_writer_ends) {
  start_echo();
  bool answered = false;
  (void)conn->send_request("q", {}, [&](jsonrpc::message) { answered = true; });
  ASSERT_TRUE(run_until([&] { return peer->messages.size() == 1; }));
  conn->close();
  conn->send_notification("after_close"); // same turn: still written before the stream ends
  ASSERT_TRUE(run_until([&] { return peer->eof; }));
  EXPECT_EQ(peer->with_method("after_close").size(), 1u);
  ASSERT_TRUE(run_until([&] { return answered; })) << "the pending request must be resolved";
}

TEST_F(connection_test, end_output_flushes_then_ends_the_stream_and_reading_goes_on) {
  start_echo();
  for (int i = 0; i < 100; ++i) conn->send_notification("n", json::value{{"i", i}});
  conn->end_output();
  ASSERT_TRUE(run_until([&] { return peer->eof; })) << "the peer reads EOF";
  EXPECT_EQ(peer->messages.size(), 100u);
  EXPECT_FALSE(conn->close_status()) << "still reading";
  peer->send(R"({"jsonrpc":"2.0","method":"late","params":{}})");
  ASSERT_TRUE(run_until([&] { return notifications.size() == 1; })) << "what the peer still says is heard";
  conn->send_notification("dropped"); // the output has ended
  peer->shutdown_write();
  ASSERT_TRUE(run_until([&] { return conn->closed(); }));
  ASSERT_TRUE(conn->close_status());
  EXPECT_EQ(conn->close_status()->reason, close_reason::eof);
  EXPECT_TRUE(peer->with_method("dropped").empty());
}

} // namespace
} // namespace acp::test
