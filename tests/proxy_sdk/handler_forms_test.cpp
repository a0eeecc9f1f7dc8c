// The handler forms of a proxy: typed handlers that consume or pass on (edited only when they
// changed the params), observers of requests, notifications and answers, and
// forward_response_to(r, observer).

#include "test_support.hpp"

namespace acp::test {
namespace {

json::value request(json::value id, std::string_view method, json::value params) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
json::value envelope(std::optional<json::value> id, std::string_view method, json::value params) {
  json::value inner{{"method", method}, {"params", std::move(params)}};
  json::value env{{"jsonrpc", "2.0"}, {"method", "_proxy/successor"}, {"params", std::move(inner)}};
  if (id) env.as_object()["id"] = std::move(*id);
  return env;
}
json::value result(json::value id, json::value r) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(r)}};
}

// `"_meta": null` and the member order are lost when params are re-encoded (an optional given
// as null reads as absent; encode writes the struct's own order): they tell the original from
// a re-encoded copy.
constexpr const char* prompt_params =
    R"({"prompt":[{"type":"text","text":"hi"}],"x-unknown":7,"sessionId":"s","_meta":null})";

class handler_forms_test : public sdk_test {
protected:
  void start(proxy_builder& b) {
    auto w = wire(b);
    ep = w.ep;
    c = w.peer;
  }
  const json::object& got(std::size_t n) { return c->messages.at(n).as_object(); }
  bool wait_messages(std::size_t n) {
    return run_until([&] { return c->messages.size() >= n; });
  }
  /// Sends the prompt request (id "q") as a raw line.
  void send_prompt() {
    c->send_raw(R"({"jsonrpc":"2.0","id":"q","method":"session/prompt","params":)" + std::string(prompt_params) +
                "}\n");
  }

  std::optional<endpoint> ep;
  std::shared_ptr<line_peer> c;
};

TEST_F(handler_forms_test, a_deciding_handler_that_changes_nothing_passes_the_original_message_on) {
  std::string seen;
  proxy_builder b;
  b.on_receive_request_from(acp::client, [&](prompt_request& req, responder&, context&) {
    seen = req.session_id;
    return handled::no;
  });
  start(b);
  send_prompt();
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(seen, "s");
  EXPECT_EQ(got(0).at("params").at("params"), J(prompt_params)); // `_meta: null` kept: not re-encoded
  // The default forwarding relays the agent's answer.
  c->send(result(got(0).at("id"), {{"stopReason", "end_turn"}}));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(c->response_to("q")->at("result"), (json::value{{"stopReason", "end_turn"}}));
}

TEST_F(handler_forms_test, a_deciding_handler_that_edits_passes_the_edited_message_on) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, [](prompt_request& req, responder&, context&) {
    req.prompt.insert(req.prompt.begin(), content_block(text_content{.text = "Be brief."}));
    return handled::no;
  });
  start(b);
  send_prompt();
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(
      got(0).at("params").at("params"),
      J(R"({"sessionId":"s","prompt":[{"type":"text","text":"Be brief."},{"type":"text","text":"hi"}],"x-unknown":7})"));
}

TEST_F(handler_forms_test, a_handler_taking_the_params_by_value_passes_the_original_on) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, [](prompt_request req, responder&, context&) {
    req.session_id = "changed in a copy";
    return handled::no;
  });
  start(b);
  send_prompt();
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(got(0).at("params").at("params"), J(prompt_params));
}

TEST_F(handler_forms_test, a_deciding_handler_consumes_with_handled_yes_and_the_next_handler_sees_the_edit) {
  std::vector<std::string> order;
  proxy_builder b;
  b.on_receive_request_from(acp::client, [&](prompt_request& req, responder& r, context&) {
    order.push_back("first");
    if (req.session_id == "mine") {
      r.respond(prompt_response{.stop_reason = stop_reason::max_turn_requests});
      return handled::yes;
    }
    req.session_id = "renamed";
    return handled::no;
  });
  b.on_receive_request_from(acp::client, [&](prompt_request& req, responder&, context&) {
    order.push_back("second:" + req.session_id);
    return handled::no;
  });
  start(b);
  c->send(request(1, "session/prompt", J(R"({"sessionId":"mine","prompt":[]})")));
  c->send(request(2, "session/prompt", J(R"({"sessionId":"other","prompt":[]})")));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(c->response_to(1)->at("result"), (json::value{{"stopReason", "max_turn_requests"}}));
  const auto to_agent = c->with_method("_proxy/successor");
  ASSERT_EQ(to_agent.size(), 1u);
  EXPECT_EQ(to_agent[0].at("params").at("params").at("sessionId"), "renamed");
  EXPECT_EQ(order, (std::vector<std::string>{"first", "first", "second:renamed"}));
}

TEST_F(handler_forms_test, a_deciding_notification_handler_passes_on_edited_or_swallows) {
  proxy_builder b;
  b.on_receive_notification_from(acp::agent, [](session_notification& n, context&) {
    if (n.session_id == "quiet") return handled::yes;
    n.extra["x-seen-by-proxy"] = true;
    return handled::no;
  });
  start(b);
  const auto update = [](std::string_view id) {
    return json::value{
        {"sessionId", id},
        {"update", {{"sessionUpdate", "agent_message_chunk"}, {"content", {{"type", "text"}, {"text", "yo"}}}}}};
  };
  c->send(envelope(std::nullopt, "session/update", update("quiet")));
  c->send(envelope(std::nullopt, "session/update", update("loud")));
  ASSERT_TRUE(wait_messages(1));
  ASSERT_FALSE(run_until([&] { return c->messages.size() >= 2; }, std::chrono::milliseconds(100)));
  auto expected = update("loud");
  expected.as_object()["x-seen-by-proxy"] = true;
  EXPECT_EQ(got(0).at("method"), "session/update");
  EXPECT_EQ(got(0).at("params"), expected);
}

TEST_F(handler_forms_test, observers_see_requests_and_notifications_and_never_consume) {
  std::vector<std::string> seen;
  proxy_builder b;
  b.on_observe_request_from(acp::client, [&](const prompt_request& req, context&) { seen.push_back(req.session_id); });
  b.on_observe_notification_from(
      acp::agent, [&](const session_notification& n, context&) { seen.push_back("update:" + n.session_id); });
  start(b);
  send_prompt();
  c->send(envelope(std::nullopt, "session/update",
                   J(R"({"sessionId":"s","update":{"sessionUpdate":"plan","entries":[]},"_meta":null})")));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(seen, (std::vector<std::string>{"s", "update:s"}));
  EXPECT_EQ(got(0).at("params").at("params"), J(prompt_params));
  EXPECT_EQ(got(1).at("params"), J(R"({"sessionId":"s","update":{"sessionUpdate":"plan","entries":[]},"_meta":null})"));
}

TEST_F(handler_forms_test, a_response_observer_sees_every_answer_to_the_peer_whoever_gives_it) {
  std::vector<json::value> seen;
  proxy_builder b;
  b.on_observe_response_to(acp::client, [&](const prompt_request& req, const rpc_result& outcome, context&) {
    seen.push_back(
        {{"session", req.session_id}, {"outcome", outcome ? outcome.value() : json::value(outcome.error().code)}});
  });
  // Answered by a handler for one session, forwarded by default for the others.
  b.on_receive_request_from(acp::client, [](prompt_request& req, responder& r, context&) {
    if (req.session_id != "refused") return handled::no;
    r.respond_error(rpc_error::invalid_params("no"));
    return handled::yes;
  });
  start(b);
  c->send(request(1, "session/prompt", J(R"({"sessionId":"refused","prompt":[]})")));
  c->send(request(2, "session/prompt", J(R"({"sessionId":"s","prompt":[]})")));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(seen.size(), 1u);
  const auto to_agent = c->with_method("_proxy/successor");
  ASSERT_EQ(to_agent.size(), 1u);
  c->send(result(to_agent[0].at("id"), {{"stopReason", "end_turn"}}));
  ASSERT_TRUE(wait_messages(3));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], J(R"({"session":"refused","outcome":-32602})"));
  EXPECT_EQ(seen[1], J(R"({"session":"s","outcome":{"stopReason":"end_turn"}})"));
  EXPECT_EQ(c->response_to(2)->at("result"), (json::value{{"stopReason", "end_turn"}}));
}

TEST_F(handler_forms_test, forward_response_to_with_an_observer_relays_the_response_as_it_came) {
  std::optional<rpc_result> seen;
  proxy_builder b;
  b.on_receive_request_from(acp::client, [&](prompt_request req, responder r, context cx) {
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r), [&](const rpc_result& outcome) {
      seen = outcome;
    });
  });
  start(b);
  send_prompt();
  ASSERT_TRUE(wait_messages(1));
  EXPECT_FALSE(seen);
  const auto answer = J(R"({"stopReason":"end_turn","x":1,"_meta":null})");
  c->send(result(got(0).at("id"), answer));
  ASSERT_TRUE(wait_messages(2));
  ASSERT_TRUE(seen && seen->has_value());
  EXPECT_EQ(seen->value(), answer);
  EXPECT_EQ(c->response_to("q")->at("result"), answer);
}

TEST_F(handler_forms_test, forward_response_to_with_an_editing_observer_answers_what_it_holds) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, [&](prompt_request req, responder r, context cx) {
    const bool refuse = req.session_id == "refuse";
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r), [refuse](rpc_result& outcome) {
      if (refuse) {
        outcome = rpc_error::internal_error("refused by the proxy");
        return;
      }
      if (outcome) outcome->as_object()["stopReason"] = "cancelled";
    });
  });
  start(b);
  c->send(request(1, "session/prompt", J(R"({"sessionId":"s","prompt":[]})")));
  c->send(request(2, "session/prompt", J(R"({"sessionId":"refuse","prompt":[]})")));
  ASSERT_TRUE(wait_messages(2));
  c->send(result(got(0).at("id"), {{"stopReason", "end_turn"}}));
  c->send(result(got(1).at("id"), {{"stopReason", "end_turn"}}));
  ASSERT_TRUE(wait_messages(4));
  EXPECT_EQ(c->response_to(1)->at("result"), (json::value{{"stopReason", "cancelled"}}));
  EXPECT_EQ(error_code_of(c->response_to(2)), -32603);
}

TEST_F(handler_forms_test, forward_response_to_with_an_observer_still_reissues_a_cancel) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, [&](prompt_request req, responder r, context cx) {
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r), [](const rpc_result&) {});
  });
  start(b);
  c->send(request(1, "session/prompt", J(R"({"sessionId":"s","prompt":[]})")));
  ASSERT_TRUE(wait_messages(1));
  const auto wire_id = got(0).at("id");
  c->send(json::value{{"jsonrpc", "2.0"}, {"method", "$/cancel_request"}, {"params", {{"requestId", 1}}}});
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(1).at("params"), (json::value{{"method", "$/cancel_request"}, {"params", {{"requestId", wire_id}}}}));
}

TEST_F(handler_forms_test, agent_text_tells_the_user_one_line_in_one_expression) {
  proxy_builder b;
  b.on_receive_request_from(acp::client, [](prompt_request& req, responder& r, context& cx) {
    cx.send_notification_to(acp::client, agent_text(req.session_id, "Turn limit reached."));
    r.respond(prompt_response{.stop_reason = stop_reason::max_turn_requests});
    return handled::yes;
  });
  start(b);
  c->send(request(1, "session/prompt", J(R"({"sessionId":"s","prompt":[]})")));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(got(0).at("method"), "session/update");
  EXPECT_EQ(
      got(0).at("params"),
      J(R"({"sessionId":"s","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Turn limit reached."}}})"));
  EXPECT_EQ(c->response_to(1)->at("result"), (json::value{{"stopReason", "max_turn_requests"}}));
}

// A raw handler that passes a request on as it is and still sees its answer: the params go out
// as the bytes they arrived as (escapes, number spelling), whatever the handler read.
TEST_F(handler_forms_test, forward_request_to_sends_the_request_on_as_its_bytes_and_relays_the_answer) {
  std::string observed;
  proxy_builder b;
  b.on_receive_request_from(acp::agent, "fs/read_text_file", [&](jsonrpc::message& msg, responder& r, context& cx) {
    (void)msg.params(); // read through a mutable accessor: still the same message
    cx.forward_request_to(acp::client, std::move(msg)).forward_response_to(std::move(r), [&](const rpc_result& o) {
      observed = o ? "ok" : "error";
    });
    return handled::yes;
  });
  start(b);
  const std::string params = R"({"sessionId":"s","path":"/caf\u00e9","limit":1.50,"_meta":null})";
  c->send_raw(
      R"({"jsonrpc":"2.0","id":5,"method":"_proxy/successor","params":{"method":"fs/read_text_file","params":)" +
      params + "}}\n");
  ASSERT_TRUE(wait_messages(1));
  EXPECT_NE(c->lines.at(0).find(R"("params":)" + params), std::string::npos) << c->lines.at(0);
  EXPECT_EQ(got(0).at("method"), "fs/read_text_file");
  c->send(result(got(0).at("id"), {{"content", "x"}}));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(observed, "ok");
  ASSERT_NE(c->response_to(5), nullptr);
  EXPECT_EQ(c->response_to(5)->at("result"), (json::value{{"content", "x"}}));
}

} // namespace
} // namespace acp::test
