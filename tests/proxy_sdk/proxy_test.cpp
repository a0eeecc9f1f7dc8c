// A proxy between a scripted conductor: envelopes, ids, preservation, ordering, init, cancel.

#include "test_support.hpp"

namespace acp::test {
namespace {

json::value request(json::value id, std::string_view method, json::value params = json::object{}) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
json::value notification(std::string_view method, json::value params = json::object{}) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}
json::value envelope(std::optional<json::value> id, std::string_view method, json::value params) {
  json::value inner{{"method", method}, {"params", std::move(params)}};
  if (id) return request(std::move(*id), "_proxy/successor", std::move(inner));
  return notification("_proxy/successor", std::move(inner));
}
json::value result(json::value id, json::value r) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(r)}};
}

class proxy_test : public sdk_test {
protected:
  /// An empty proxy (pass-through) wired to the scripted conductor `c`.
  void start(proxy_builder b = {}) {
    auto w = wire(b);
    ep = w.ep;
    c = w.peer;
  }
  /// The n-th message the conductor received.
  const json::object& got(std::size_t n) { return c->messages.at(n).as_object(); }
  bool wait_messages(std::size_t n) {
    return run_until([&] { return c->messages.size() >= n; });
  }

  std::optional<endpoint> ep;
  std::shared_ptr<line_peer> c;
};

TEST_F(proxy_test, request_from_the_client_goes_to_the_agent_wrapped_with_a_fresh_id) {
  start();
  const auto params = J(R"({"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]})");
  c->send(request("abc", "session/prompt", params));
  c->send(request(5, "session/prompt", params));
  ASSERT_TRUE(wait_messages(2));
  json::value wire_ids[2];
  for (int i = 0; i < 2; ++i) {
    const auto& m = got(i);
    EXPECT_EQ(m.at("method"), "_proxy/successor");
    EXPECT_EQ(m.at("params"), (json::value{{"method", "session/prompt"}, {"params", params}}));
    wire_ids[i] = m.at("id");
  }
  EXPECT_NE(wire_ids[0], json::value("abc"));
  EXPECT_NE(wire_ids[0], wire_ids[1]);
  // Answer in reverse order: each goes back to its own original id.
  c->send(result(wire_ids[1], {{"stopReason", "end_turn"}, {"n", 5}}));
  c->send(result(wire_ids[0], {{"stopReason", "cancelled"}, {"n", "abc"}}));
  ASSERT_TRUE(wait_messages(4));
  EXPECT_EQ(*c->response_to("abc"), result("abc", {{"stopReason", "cancelled"}, {"n", "abc"}}).as_object());
  EXPECT_EQ(*c->response_to(5), result(5, {{"stopReason", "end_turn"}, {"n", 5}}).as_object());
}

TEST_F(proxy_test, request_from_the_agent_goes_to_the_client_plain_and_the_answer_to_the_outer_id) {
  start();
  const auto params = J(R"({"sessionId":"s1","path":"/a.txt","_meta":{"trace":"t1"}})");
  c->send(envelope(json::value("c-17"), "fs/read_text_file", params));
  ASSERT_TRUE(wait_messages(1));
  const auto& fwd = got(0);
  EXPECT_EQ(fwd.at("method"), "fs/read_text_file");
  EXPECT_EQ(fwd.at("params"), params);
  EXPECT_NE(fwd.at("id"), json::value("c-17"));
  const json::value err = {{"code", -32002}, {"message", "Resource not found"}, {"data", {{"path", "/a.txt"}}}};
  c->send(json::value{{"jsonrpc", "2.0"}, {"id", fwd.at("id")}, {"error", err}});
  ASSERT_TRUE(wait_messages(2));
  // Responses are never wrapped: a plain answer to the envelope's id, error unchanged.
  EXPECT_EQ(got(1), (json::object{{"jsonrpc", "2.0"}, {"id", "c-17"}, {"error", err}}));
}

TEST_F(proxy_test, notifications_are_wrapped_toward_the_agent_and_unwrapped_toward_the_client) {
  start();
  c->send(notification("session/cancel", {{"sessionId", "s1"}}));
  c->send(envelope(std::nullopt, "session/update", J(R"({"sessionId":"s1","update":{"sessionUpdate":"x-new"}})")));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(0), envelope(std::nullopt, "session/cancel", {{"sessionId", "s1"}}).as_object());
  EXPECT_EQ(got(1),
            notification("session/update", J(R"({"sessionId":"s1","update":{"sessionUpdate":"x-new"}})")).as_object());
}

TEST_F(proxy_test, unknown_methods_fields_and_meta_pass_through_unchanged) {
  start();
  const auto p1 = J(R"({"_meta":{"a":{"b":[1,2,{"c":null}]}},"x-field":"keep","n":1.5,"deep":{"u":[true,false]}})");
  const auto p2 = J(R"([1,"two",{"three":3}])");
  c->send(request(1, "x/custom_method", p1));
  c->send(notification("_vendor/thing", p2));
  c->send(envelope(json::value(2), "_vendor/reverse", p1));
  c->send(envelope(std::nullopt, "x/custom_note", p2));
  ASSERT_TRUE(wait_messages(4));
  EXPECT_EQ(got(0).at("params"), (json::value{{"method", "x/custom_method"}, {"params", p1}}));
  EXPECT_EQ(got(1).at("params"), (json::value{{"method", "_vendor/thing"}, {"params", p2}}));
  EXPECT_EQ(got(2).at("method"), "_vendor/reverse");
  EXPECT_EQ(got(2).at("params"), p1);
  EXPECT_EQ(got(3), notification("x/custom_note", p2).as_object());
  // Results with unknown fields come back unchanged too.
  const auto r = J(R"({"_meta":{"z":1},"x-extra":[{}],"value":null})");
  c->send(result(got(0).at("id"), r));
  c->send(result(got(2).at("id"), r));
  ASSERT_TRUE(wait_messages(6));
  EXPECT_EQ(c->response_to(1)->at("result"), r);
  EXPECT_EQ(c->response_to(2)->at("result"), r);
}

TEST_F(proxy_test, absent_params_travel_as_null_in_the_envelope_and_come_back_absent) {
  start();
  c->send(json::value{{"jsonrpc", "2.0"}, {"method", "x/no_params"}});
  c->send(envelope(std::nullopt, "x/no_params_back", nullptr));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(0).at("params"), (json::value{{"method", "x/no_params"}, {"params", nullptr}}));
  EXPECT_EQ(got(1), (json::object{{"jsonrpc", "2.0"}, {"method", "x/no_params_back"}}));
}

TEST_F(proxy_test, a_response_never_overtakes_notifications_sent_before_it) {
  start();
  c->send(request("p", "session/prompt", {{"sessionId", "s"}}));
  ASSERT_TRUE(wait_messages(1));
  const auto wire_id = got(0).at("id");
  // The agent streams updates then answers; all arrive in one burst.
  std::string burst;
  for (int i = 0; i < 50; ++i)
    burst += json::serialize(envelope(std::nullopt, "session/update", {{"sessionId", "s"}, {"i", i}})) + "\n";
  burst += json::serialize(result(wire_id, {{"stopReason", "end_turn"}})) + "\n";
  c->send_raw(burst);
  ASSERT_TRUE(wait_messages(52));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(got(1 + i).at("method"), "session/update");
    EXPECT_EQ(got(1 + i).at("params").at("i"), i);
  }
  EXPECT_EQ(got(51).at("id"), "p");
}

TEST_F(proxy_test, proxy_initialize_is_forwarded_as_initialize_and_the_result_relayed) {
  start();
  const auto params = J(R"({"protocolVersion":1,"clientCapabilities":{"fs":{"readTextFile":true}}})");
  c->send(request(0, "_proxy/initialize", params));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(got(0).at("method"), "_proxy/successor");
  EXPECT_EQ(got(0).at("params"), (json::value{{"method", "initialize"}, {"params", params}}));
  const auto r = J(R"({"protocolVersion":1,"agentCapabilities":{"loadSession":true},"_meta":{"k":"v"}})");
  c->send(result(got(0).at("id"), r));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(1), result(0, r).as_object());
}

TEST_F(proxy_test, plain_initialize_to_a_proxy_is_an_invalid_request) {
  start();
  c->send(request(1, "initialize", {{"protocolVersion", 1}}));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(error_code_of(c->response_to(1)), -32600);
  run_for(20ms);
  EXPECT_EQ(c->messages.size(), 1u); // nothing forwarded
}

TEST_F(proxy_test, a_typed_handler_sees_proxy_initialize_as_initialize) {
  proxy_builder b;
  bool seen = false;
  b.on_receive_request_from(acp::client, [&](initialize_request req, responder r, context cx) {
    seen = req.protocol_version == 1;
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r));
  });
  start(std::move(b));
  c->send(request(0, "_proxy/initialize", {{"protocolVersion", 1}}));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_TRUE(seen);
  EXPECT_EQ(got(0).at("params").at("method"), "initialize");
}

TEST_F(proxy_test, a_raw_handler_edits_a_message_en_route_and_the_default_forwards_the_edit) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, "session/prompt", [](jsonrpc::message& m, responder&, context&) {
    m.params()->as_object()["prompt"].as_array().emplace(m.params()->as_object()["prompt"].as_array().begin(),
                                                         json::value{{"type", "text"}, {"text", "rules"}});
    return handled::no;
  });
  b.on_receive_notification_from(acp::agent, "session/update", [](jsonrpc::message& m, context&) {
    m.params()->as_object()["x-seen-by-proxy"] = true;
    return handled::no;
  });
  start(std::move(b));
  c->send(request(1, "session/prompt", J(R"({"sessionId":"s","prompt":[{"type":"text","text":"hi"}],"x":1})")));
  c->send(envelope(std::nullopt, "session/update", {{"sessionId", "s"}}));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(0).at("params").at("params"),
            J(R"({"sessionId":"s","prompt":[{"type":"text","text":"rules"},{"type":"text","text":"hi"}],"x":1})"));
  EXPECT_EQ(got(1).at("params"), (json::value{{"sessionId", "s"}, {"x-seen-by-proxy", true}}));
}

TEST_F(proxy_test, a_typed_handler_modifies_a_prompt_and_forwards_it) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, [](prompt_request req, responder r, context cx) {
    text_content rule;
    rule.text = "Project rules";
    req.prompt.insert(req.prompt.begin(), content_block(rule));
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r));
  });
  start(std::move(b));
  c->send(
      request("q", "session/prompt", J(R"({"sessionId":"s","prompt":[{"type":"text","text":"hi"}],"_meta":{"m":1}})")));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(
      got(0).at("params").at("params"),
      J(R"({"sessionId":"s","prompt":[{"type":"text","text":"Project rules"},{"type":"text","text":"hi"}],"_meta":{"m":1}})"));
  c->send(result(got(0).at("id"), {{"stopReason", "end_turn"}}));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(c->response_to("q")->at("result"), (json::value{{"stopReason", "end_turn"}}));
}

TEST_F(proxy_test, cancel_from_the_client_is_reissued_to_the_agent_with_the_downstream_id) {
  start();
  c->send(request("abc", "session/prompt", {{"sessionId", "s"}}));
  ASSERT_TRUE(wait_messages(1));
  const auto wire_id = got(0).at("id");
  c->send(notification("$/cancel_request", {{"requestId", "abc"}}));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(1), envelope(std::nullopt, "$/cancel_request", {{"requestId", wire_id}}).as_object());
  c->send(json::value{{"jsonrpc", "2.0"}, {"id", wire_id}, {"error", {{"code", -32800}, {"message", "cancelled"}}}});
  ASSERT_TRUE(wait_messages(3));
  EXPECT_EQ(error_code_of(c->response_to("abc")), -32800);
  run_for(20ms);
  EXPECT_EQ(c->select([](const json::object& o) { return o.contains("id") && o.at("id") == "abc"; }).size(), 1u);
}

TEST_F(proxy_test, cancel_from_the_agent_is_reissued_to_the_client_with_the_downstream_id) {
  start();
  c->send(envelope(json::value(9), "session/request_permission", {{"sessionId", "s"}}));
  ASSERT_TRUE(wait_messages(1));
  const auto wire_id = got(0).at("id");
  c->send(envelope(std::nullopt, "$/cancel_request", {{"requestId", 9}}));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(1), notification("$/cancel_request", {{"requestId", wire_id}}).as_object());
  c->send(result(wire_id, {{"outcome", {{"outcome", "cancelled"}}}}));
  ASSERT_TRUE(wait_messages(3));
  EXPECT_EQ(c->response_to(9)->at("result").at("outcome").at("outcome"), "cancelled");
}

TEST_F(proxy_test, cancelling_a_request_sent_to_the_agent_sends_a_wrapped_cancel) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, "go", [](jsonrpc::message&, responder& r, context& cx) {
    auto sent = cx.send_request_to(acp::agent, "x/work", json::object{});
    sent.cancel();
    std::move(sent).forward_response_to(std::move(r));
    return handled::yes;
  });
  start(std::move(b));
  c->send(request(1, "go"));
  ASSERT_TRUE(wait_messages(2));
  const auto wire_id = got(0).at("id");
  EXPECT_EQ(got(1), envelope(std::nullopt, "$/cancel_request", {{"requestId", wire_id}}).as_object());
  c->send(json::value{{"jsonrpc", "2.0"}, {"id", wire_id}, {"error", {{"code", -32800}, {"message", "c"}}}});
  ASSERT_TRUE(wait_messages(3));
  EXPECT_EQ(error_code_of(c->response_to(1)), -32800);
}

TEST_F(proxy_test, a_response_with_an_unknown_id_is_dropped) {
  start();
  c->send(result(12345, {}));
  c->send(request(1, "x/m"));
  ASSERT_TRUE(wait_messages(1));
  run_for(20ms);
  EXPECT_EQ(c->messages.size(), 1u);
  EXPECT_EQ(got(0).at("method"), "_proxy/successor");
}

TEST_F(proxy_test, a_malformed_envelope_is_answered_invalid_params) {
  start();
  c->send(request(3, "_proxy/successor", {{"params", {}}}));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(error_code_of(c->response_to(3)), -32602);
}

TEST_F(proxy_test, eof_answers_forwarded_requests_before_the_stream_ends) {
  start();
  c->send(request("abc", "session/prompt", {{"sessionId", "s"}}));
  c->send(envelope(json::value("c-1"), "fs/read_text_file", {{"path", "/x"}}));
  ASSERT_TRUE(wait_messages(2));
  c->shutdown_write(); // the conductor stops writing but still reads
  ASSERT_TRUE(run_until([&] { return c->eof && ep->done(); }));
  for (const json::value& id : {json::value("abc"), json::value("c-1")}) {
    const auto* r = c->response_to(id);
    ASSERT_NE(r, nullptr) << jsonrpc::id_key(id);
    EXPECT_EQ(error_code_of(r), -32603);
    EXPECT_EQ(r->at("error").at("data").at("reason"), "connection_closed");
  }
  EXPECT_EQ(ep->close_status()->reason, close_reason::eof);
}

TEST_F(proxy_test, batch_through_a_proxy_is_answered_with_one_array) {
  start();
  c->send(J(R"([{"jsonrpc":"2.0","id":1,"method":"x/a"},{"jsonrpc":"2.0","id":2,"method":"x/b"}])"));
  ASSERT_TRUE(wait_messages(2));
  c->send(result(got(1).at("id"), "b"));
  c->send(result(got(0).at("id"), "a"));
  ASSERT_TRUE(wait_messages(3));
  ASSERT_TRUE(c->messages[2].is_array());
  EXPECT_EQ(c->messages[2].as_array().size(), 2u);
}

} // namespace
} // namespace acp::test
