// Agent and client endpoints: dispatch, handler chains, responders, typed handlers, tasks.

#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace acp::test {
namespace {

using endpoint_test = sdk_test;

json::value request(json::value id, std::string_view method, json::value params = json::object{}) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
json::value notification(std::string_view method, json::value params = json::object{}) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

TEST_F(endpoint_test, request_and_response_both_ways_between_client_and_agent) {
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "add", [](jsonrpc::message& m, responder& r, context&) {
    const auto& p = m.params()->as_object();
    r.respond(json::value(p.at("a").as_int64() + p.at("b").as_int64()));
    return handled::yes;
  });
  client_builder client;
  client.on_receive_request_from(acp::agent, "fs/read_text_file", [](jsonrpc::message&, responder& r, context&) {
    r.respond(json::value{{"content", "hello"}});
    return handled::yes;
  });
  auto [c, a] = wire(client, agent);
  std::optional<rpc_result> sum, file;
  c.cx().send_request_to(acp::agent, "add", json::value{{"a", 2}, {"b", 3}}).on_receiving_result([&](rpc_result r) {
    sum = std::move(r);
  });
  a.cx().send_request_to(acp::client, "fs/read_text_file", json::object{}).on_receiving_result([&](rpc_result r) {
    file = std::move(r);
  });
  ASSERT_TRUE(run_until([&] { return sum && file; }));
  ASSERT_TRUE(sum->has_value());
  EXPECT_EQ(**sum, 5);
  ASSERT_TRUE(file->has_value());
  EXPECT_EQ(file->value().at("content"), "hello");
}

TEST_F(endpoint_test, notifications_both_ways) {
  std::vector<std::string> at_agent, at_client;
  agent_builder agent;
  agent.on_receive_notification_from(acp::client, "", [&](jsonrpc::message& m, context&) {
    at_agent.emplace_back(m.method());
    return handled::yes;
  });
  client_builder client;
  client.on_receive_notification_from(acp::agent, "", [&](jsonrpc::message& m, context&) {
    at_client.emplace_back(m.method());
    return handled::yes;
  });
  auto [c, a] = wire(client, agent);
  c.cx().send_notification_to(acp::agent, "session/cancel", json::value{{"sessionId", "s"}});
  c.cx().send_notification_to(acp::agent, "x/two", std::nullopt);
  a.cx().send_notification_to(acp::client, "session/update", json::object{});
  ASSERT_TRUE(run_until([&] { return at_agent.size() == 2 && at_client.size() == 1; }));
  EXPECT_EQ(at_agent, (std::vector<std::string>{"session/cancel", "x/two"}));
  EXPECT_EQ(at_client, (std::vector<std::string>{"session/update"}));
}

TEST_F(endpoint_test, concurrent_requests_answered_out_of_order_reach_their_senders) {
  std::vector<responder> held;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "slow", [&](jsonrpc::message&, responder& r, context&) {
    held.push_back(std::move(r));
    return handled::yes;
  });
  client_builder client;
  auto [c, a] = wire(client, agent);
  constexpr int n = 20;
  std::vector<std::optional<rpc_result>> got(n);
  for (int i = 0; i < n; ++i)
    c.cx().send_request_to(acp::agent, "slow", json::value{{"i", i}}).on_receiving_result([&got, i](rpc_result r) {
      got[i] = std::move(r);
    });
  ASSERT_TRUE(run_until([&] { return held.size() == n; }));
  // Answer in reverse, each with the index it was asked for (held[k] is request k).
  for (int k = n - 1; k >= 0; --k) held[k].respond(json::value(k * 10));
  ASSERT_TRUE(run_until([&] {
    for (auto& g : got)
      if (!g) return false;
    return true;
  }));
  for (int i = 0; i < n; ++i) EXPECT_EQ(got[i]->value(), i * 10);
}

TEST_F(endpoint_test, string_and_number_ids_are_echoed_exactly) {
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message&, responder& r, context&) {
    r.respond(json::object{});
    return handled::yes;
  });
  auto w = wire(agent);
  w.peer->send(request(1, "m"));
  w.peer->send(request("1", "m"));
  w.peer->send(request(-7, "m"));
  w.peer->send(request("", "m"));
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 4; }));
  EXPECT_EQ(w.peer->lines[0], R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_EQ(w.peer->lines[1], R"({"jsonrpc":"2.0","id":"1","result":{}})");
  EXPECT_EQ(w.peer->lines[2], R"({"jsonrpc":"2.0","id":-7,"result":{}})");
  EXPECT_EQ(w.peer->lines[3], R"({"jsonrpc":"2.0","id":"","result":{}})");
}

TEST_F(endpoint_test, unknown_request_gets_method_not_found_and_unknown_notification_is_ignored) {
  agent_builder agent;
  auto w = wire(agent);
  w.peer->send(notification("x/unknown_note"));
  w.peer->send(request(1, "x/unknown"));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(error_code_of(w.peer->response_to(1)), -32601);
  run_for(20ms);
  EXPECT_EQ(w.peer->messages.size(), 1u);

  client_builder client;
  auto wc = wire(client);
  wc.peer->send(request("r", "x/unknown"));
  ASSERT_TRUE(run_until([&] { return wc.peer->response_to("r") != nullptr; }));
  EXPECT_EQ(error_code_of(wc.peer->response_to("r")), -32601);
}

TEST_F(endpoint_test, handlers_run_in_registration_order_until_one_handles) {
  std::vector<std::string> calls;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "", [&](jsonrpc::message&, responder&, context&) {
    calls.push_back("any-1");
    return handled::no;
  });
  agent.on_receive_request_from(acp::client, "other", [&](jsonrpc::message&, responder&, context&) {
    calls.push_back("other");
    return handled::yes;
  });
  agent.on_receive_request_from(acp::client, "m", [&](jsonrpc::message&, responder& r, context&) {
    calls.push_back("m-first");
    r.respond("first");
    return handled::yes;
  });
  agent.on_receive_request_from(acp::client, "m", [&](jsonrpc::message&, responder& r, context&) {
    calls.push_back("m-second");
    r.respond("second");
    return handled::yes;
  });
  // A handler registered for the other direction never sees client messages (an agent_builder
  // refuses it at compile time; the endpoint_builder underneath takes it).
  static_cast<endpoint_builder&>(agent).on_receive_request_from(acp::agent, "",
                                                                [&](jsonrpc::message&, responder&, context&) {
                                                                  calls.push_back("wrong-direction");
                                                                  return handled::no;
                                                                });
  auto w = wire(agent);
  w.peer->send(request(1, "m"));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(calls, (std::vector<std::string>{"any-1", "m-first"}));
  EXPECT_EQ(w.peer->response_to(1)->at("result"), "first");
}

TEST_F(endpoint_test, a_handler_edits_the_message_and_the_next_one_sees_the_edit) {
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "", [](jsonrpc::message& m, responder&, context&) {
    m.params()->as_object()["stamp"] = "edited";
    return handled::no;
  });
  agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message& m, responder& r, context&) {
    r.respond(*m.params());
    return handled::yes;
  });
  agent.on_receive_notification_from(acp::client, "", [](jsonrpc::message& m, context&) {
    m.params()->as_object()["seen"] = 1;
    return handled::no;
  });
  json::value echoed_note;
  agent.on_receive_notification_from(acp::client, "n", [&](jsonrpc::message& m, context&) {
    echoed_note = *m.params();
    return handled::yes;
  });
  auto w = wire(agent);
  w.peer->send(notification("n", {{"a", 1}}));
  w.peer->send(request(1, "m", {{"a", 1}}));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(w.peer->response_to(1)->at("result"), (json::value{{"a", 1}, {"stamp", "edited"}}));
  EXPECT_EQ(echoed_note, (json::value{{"a", 1}, {"seen", 1}}));
}

TEST_F(endpoint_test, fifty_chained_handlers_each_edit_and_pass_on) {
  agent_builder agent;
  for (int i = 0; i < 50; ++i)
    agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message& m, responder&, context&) {
      auto& p = m.params()->as_object();
      p["n"] = p["n"].as_int64() + 1;
      return handled::no;
    });
  agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message& m, responder& r, context&) {
    r.respond(*m.params());
    return handled::yes;
  });
  auto w = wire(agent);
  for (int k = 0; k < 100; ++k) w.peer->send(request(k, "m", {{"n", 0}}));
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 100; }));
  for (int k = 0; k < 100; ++k) EXPECT_EQ(w.peer->response_to(k)->at("result").at("n"), 50);
}

TEST_F(endpoint_test, unhandled_after_the_chain_gets_the_default) {
  int seen = 0;
  agent_builder agent;
  for (int i = 0; i < 50; ++i)
    agent.on_receive_request_from(acp::client, "", [&](jsonrpc::message&, responder&, context&) {
      ++seen;
      return handled::no;
    });
  auto w = wire(agent);
  w.peer->send(request(1, "x/nobody"));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(seen, 50);
  EXPECT_EQ(error_code_of(w.peer->response_to(1)), -32601);
}

TEST_F(endpoint_test, typed_request_and_notification_handlers) {
  std::optional<session_notification> note;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, [](prompt_request req, responder r, context cx) {
    EXPECT_EQ(req.session_id, "s1");
    EXPECT_EQ(req.prompt.size(), 1u);
    EXPECT_EQ(req.extra.at("x-unknown"), 7); // unknown members survive decoding
    prompt_response resp;
    resp.stop_reason = stop_reason::end_turn;
    (void)cx;
    r.respond(resp);
  });
  client_builder client;
  client.on_receive_notification_from(acp::agent, [&](session_notification n, context) { note = std::move(n); });
  auto [c, a] = wire(client, agent);
  std::optional<rpc_result> got;
  c.cx()
      .send_request_to(acp::agent, "session/prompt",
                       J(R"({"sessionId":"s1","prompt":[{"type":"text","text":"hi"}],"x-unknown":7})"))
      .on_receiving_result([&](rpc_result r) { got = std::move(r); });
  a.cx().send_notification_to(
      acp::client, "session/update",
      J(R"({"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"yo"}}})"));
  ASSERT_TRUE(run_until([&] { return got && note; }));
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(got->value(), (json::value{{"stopReason", "end_turn"}}));
  EXPECT_EQ(note->session_id, "s1");
}

TEST_F(endpoint_test, typed_send_uses_the_method_of_the_params_type) {
  std::string method;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "", [&](jsonrpc::message& m, responder& r, context&) {
    method = m.method();
    r.respond(json::value{{"stopReason", "end_turn"}});
    return handled::yes;
  });
  client_builder client;
  auto [c, a] = wire(client, agent);
  prompt_request req;
  req.session_id = "s9";
  std::optional<rpc_result> got;
  c.cx().send_request_to(acp::agent, req).on_receiving_result([&](rpc_result r) { got = std::move(r); });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  EXPECT_EQ(method, "session/prompt");
}

TEST_F(endpoint_test, invalid_params_of_a_typed_request_get_invalid_params_with_the_json_path) {
  bool called = false;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, [&](prompt_request, responder r, context) {
    called = true;
    r.respond(json::object{});
  });
  auto w = wire(agent);
  w.peer->send(request(1, "session/prompt", J(R"({"sessionId":42,"prompt":[]})")));
  w.peer->send(request(2, "session/prompt", J(R"({"sessionId":"s","prompt":[{"type":"text","text":5}]})")));
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 2; }));
  EXPECT_FALSE(called);
  for (int id : {1, 2}) EXPECT_EQ(error_code_of(w.peer->response_to(id)), -32602);
  const auto msg1 = std::string(w.peer->response_to(1)->at("error").at("message").as_string());
  EXPECT_NE(msg1.find("params.sessionId"), std::string::npos) << msg1;
  const auto msg2 = std::string(w.peer->response_to(2)->at("error").at("message").as_string());
  EXPECT_NE(msg2.find("params.prompt[0].text"), std::string::npos) << msg2;
  EXPECT_EQ(w.peer->response_to(2)->at("error").at("data").at("path"), "params.prompt[0].text");
}

TEST_F(endpoint_test, invalid_params_of_a_typed_notification_pass_on_untyped) {
  bool typed = false, raw_seen = false;
  agent_builder agent;
  agent.on_receive_notification_from(acp::client, [&](cancel_notification, context) { typed = true; });
  agent.on_receive_notification_from(acp::client, "session/cancel", [&](jsonrpc::message&, context&) {
    raw_seen = true;
    return handled::yes;
  });
  auto w = wire(agent);
  w.peer->send(notification("session/cancel", {{"sessionId", 1}}));
  ASSERT_TRUE(run_until([&] { return raw_seen; }));
  EXPECT_FALSE(typed);
}

TEST_F(endpoint_test, responder_dropped_sends_internal_error) {
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message&, responder&, context&) {
    return handled::yes; // neither answered nor kept
  });
  agent.on_receive_request_from(acp::client, "keep", [](jsonrpc::message&, responder& r, context&) {
    auto kept = std::move(r); // dropped at the end of the handler
    return handled::yes;
  });
  std::optional<responder> first;
  agent.on_receive_request_from(acp::client, "replace", [&](jsonrpc::message&, responder& r, context&) {
    if (first)
      *first = std::move(r); // overwriting an unanswered responder drops it
    else
      first.emplace(std::move(r));
    return handled::yes;
  });
  auto w = wire(agent);
  w.peer->send(request(1, "m"));
  w.peer->send(request("k", "keep"));
  w.peer->send(request("r1", "replace"));
  w.peer->send(request("r2", "replace"));
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 3; }));
  first->respond("r2 answered");
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 4; }));
  EXPECT_EQ(w.peer->response_to("r2")->at("result"), "r2 answered");
  for (const json::value& id : {json::value(1), json::value("k"), json::value("r1")}) {
    const auto* r = w.peer->response_to(id);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(error_code_of(r), -32603);
    EXPECT_EQ(r->at("error").at("data").at("reason"), "responder_dropped");
  }
}

TEST_F(endpoint_test, a_second_answer_is_not_sent) {
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message&, responder& r, context&) {
    r.respond("one");
    r.respond("two");
    r.respond_error(rpc_error::internal_error("three"));
    return handled::yes;
  });
  auto w = wire(agent);
  w.peer->send(request(1, "m"));
  w.peer->send(request(2, "m"));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(2) != nullptr; }));
  run_for(20ms);
  ASSERT_EQ(w.peer->messages.size(), 2u);
  EXPECT_EQ(w.peer->response_to(1)->at("result"), "one");
}

TEST_F(endpoint_test, a_throwing_handler_answers_internal_error) {
  agent_builder agent;
  agent.on_receive_request_from(
      acp::client, "m", [](jsonrpc::message&, responder&, context&) -> handled { throw std::runtime_error("boom"); });
  auto w = wire(agent);
  w.peer->send(request(1, "m"));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(error_code_of(w.peer->response_to(1)), -32603);
}

TEST_F(endpoint_test, spawned_task_awaits_a_response_inside_a_handler_flow) {
  // The deadlock rule: the handler spawns; the task co_awaits; the handler returns at once.
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "session/prompt", [](jsonrpc::message&, responder& r, context& cx) {
    cx.spawn([](responder answer, context tcx) -> asio::awaitable<void> {
      auto perm = co_await tcx.send_request_to(acp::client, "session/request_permission", json::object{}).response();
      auto file = co_await tcx.send_request_to(acp::client, "fs/read_text_file", json::object{}).response();
      answer.respond(json::value{{"perm", perm.value()}, {"file", file.value()}});
    }(std::move(r), cx));
    return handled::yes;
  });
  client_builder client;
  client.on_receive_request_from(acp::agent, "", [](jsonrpc::message& m, responder& r, context&) {
    r.respond(json::value(m.method()));
    return handled::yes;
  });
  auto [c, a] = wire(client, agent);
  std::optional<rpc_result> got;
  c.cx().send_request_to(acp::agent, "session/prompt", json::object{}).on_receiving_result([&](rpc_result r) {
    got = std::move(r);
  });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(got->value(), (json::value{{"perm", "session/request_permission"}, {"file", "fs/read_text_file"}}));
}

TEST_F(endpoint_test, response_can_be_awaited_after_the_sent_request_is_gone) {
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "m", [](jsonrpc::message&, responder& r, context&) {
    r.respond(42);
    return handled::yes;
  });
  client_builder client;
  auto [c, a] = wire(client, agent);
  std::optional<rpc_result> got;
  auto cx = c.cx();
  cx.spawn([](context tcx, std::optional<rpc_result>& out) -> asio::awaitable<void> {
    auto awaitable = tcx.send_request_to(acp::agent, "m", std::nullopt).response(); // temporary gone
    out = co_await std::move(awaitable);
  }(cx, got));
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  EXPECT_EQ(got->value(), 42);
}

TEST_F(endpoint_test, eof_with_requests_pending_resolves_them_and_reports_the_close) {
  client_builder client;
  auto w = wire(client);
  std::vector<rpc_result> got;
  for (int i = 0; i < 3; ++i)
    w.ep.cx().send_request_to(acp::agent, "m", std::nullopt).on_receiving_result([&](rpc_result r) {
      got.push_back(std::move(r));
    });
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 3; }));
  w.peer->shutdown_write();
  ASSERT_TRUE(run_until([&] { return got.size() == 3 && w.ep.done(); }));
  for (auto& r : got) {
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error().code, -32603);
    ASSERT_TRUE(r.error().data);
    EXPECT_EQ(r.error().data->at("reason"), "connection_closed");
  }
  ASSERT_TRUE(w.ep.close_status());
  EXPECT_EQ(w.ep.close_status()->reason, close_reason::eof);
  EXPECT_TRUE(run_until([&] { return w.peer->eof; })); // and our side ended its stream too
}

TEST_F(endpoint_test, a_request_to_a_peer_this_endpoint_does_not_have_fails_at_once) {
  agent_builder agent;
  auto w = wire(agent);
  std::optional<rpc_result> got;
  w.ep.cx().send_request_to(acp::agent, "m", std::nullopt).on_receiving_result([&](rpc_result r) {
    got = std::move(r);
  });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->error().code, -32603);
}

TEST_F(endpoint_test, incoming_cancel_marks_the_responder_and_runs_on_cancel) {
  std::vector<responder> held;
  int cancels = 0;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "slow", [&](jsonrpc::message&, responder& r, context&) {
    r.on_cancel([&] { ++cancels; });
    held.push_back(std::move(r));
    return handled::yes;
  });
  auto w = wire(agent);
  w.peer->send(request("a", "slow"));
  w.peer->send(request(7, "slow"));
  ASSERT_TRUE(run_until([&] { return held.size() == 2; }));
  EXPECT_FALSE(held[0].cancelled());
  w.peer->send(notification("$/cancel_request", {{"requestId", "a"}}));
  w.peer->send(notification("$/cancel_request", {{"requestId", "7"}})); // a string: not request 7
  w.peer->send(notification("$/cancel_request", {{"requestId", "a"}})); // twice: once
  ASSERT_TRUE(run_until([&] { return cancels == 1; }));
  run_for(20ms);
  EXPECT_EQ(cancels, 1);
  EXPECT_TRUE(held[0].cancelled());
  EXPECT_FALSE(held[1].cancelled());
  int late = 0;
  held[0].on_cancel([&] { ++late; }); // registered after the cancel: runs at once
  EXPECT_EQ(late, 1);
  held[0].respond_error(rpc_error::request_cancelled());
  held[1].respond("done");
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 2; }));
  EXPECT_EQ(error_code_of(w.peer->response_to("a")), -32800);
  EXPECT_EQ(w.peer->response_to(7)->at("result"), "done");
  EXPECT_TRUE(w.peer->with_method("$/cancel_request").empty()); // never answered, never echoed
}

TEST_F(endpoint_test, cancelling_a_sent_request_sends_cancel_and_it_still_gets_one_response) {
  client_builder client;
  auto w = wire(client);
  std::vector<rpc_result> got;
  auto sent = w.ep.cx().send_request_to(acp::agent, "slow", std::nullopt);
  sent.cancel();
  std::move(sent).on_receiving_result([&](rpc_result r) { got.push_back(std::move(r)); });
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 2; }));
  const auto& req = w.peer->messages[0].as_object();
  EXPECT_EQ(
      w.peer->messages[1],
      (json::value{{"jsonrpc", "2.0"}, {"method", "$/cancel_request"}, {"params", {{"requestId", req.at("id")}}}}));
  w.peer->send(
      json::value{{"jsonrpc", "2.0"}, {"id", req.at("id")}, {"error", {{"code", -32800}, {"message", "cancelled"}}}});
  ASSERT_TRUE(run_until([&] { return got.size() == 1; }));
  EXPECT_EQ(got[0].error().code, -32800);
}

TEST_F(endpoint_test, shutdown_waits_for_running_tasks) {
  client_builder client;
  auto w = wire(client);
  bool finished = false;
  w.ep.cx().spawn([](context cx, bool& done) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(asio::use_awaitable);
    cx.send_notification_to(acp::agent, "last/words", std::nullopt);
    done = true;
  }(w.ep.cx(), finished));
  const auto start = std::chrono::steady_clock::now();
  w.ep.shutdown();
  ASSERT_TRUE(run_until([&] { return w.ep.done(); }));
  EXPECT_TRUE(finished);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  ASSERT_TRUE(run_until([&] { return w.peer->eof; }));
  EXPECT_EQ(w.peer->with_method("last/words").size(), 1u); // sent before the stream ended
  EXPECT_EQ(w.ep.close_status()->reason, close_reason::closed_locally);
}

TEST_F(endpoint_test, shutdown_cancels_tasks_still_running_after_the_grace_period) {
  client_builder client;
  endpoint_options o;
  o.grace_period = 100ms;
  client.options(o);
  auto w = wire(client);
  bool cancelled = false;
  w.ep.cx().spawn([](bool& c) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 60s);
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    c = ec == asio::error::operation_aborted;
  }(cancelled));
  const auto start = std::chrono::steady_clock::now();
  w.ep.shutdown();
  ASSERT_TRUE(run_until([&] { return w.ep.done(); }, 3s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(cancelled);
  EXPECT_GE(took, 90ms);
  EXPECT_LT(took, 2s);
}

TEST_F(endpoint_test, a_task_awaiting_a_response_is_resolved_when_the_peer_goes_away) {
  client_builder client;
  auto w = wire(client);
  std::optional<rpc_result> got;
  w.ep.cx().spawn([](context cx, std::optional<rpc_result>& out) -> asio::awaitable<void> {
    out = co_await cx.send_request_to(acp::agent, "never", std::nullopt).response();
  }(w.ep.cx(), got));
  ASSERT_TRUE(run_until([&] { return w.peer->messages.size() == 1; }));
  w.peer->shutdown_write();
  ASSERT_TRUE(run_until([&] { return w.ep.done(); }));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->error().code, -32603);
}

TEST_F(endpoint_test, requests_during_shutdown_are_refused) {
  agent_builder agent;
  endpoint_options o;
  o.grace_period = 2s;
  agent.options(o);
  auto w = wire(agent);
  bool release = false;
  w.ep.cx().spawn([](bool& go) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (!go) {
      t.expires_after(5ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  }(release));
  w.ep.shutdown();
  w.peer->send(request(1, "m"));
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(error_code_of(w.peer->response_to(1)), -32603);
  release = true;
  ASSERT_TRUE(run_until([&] { return w.ep.done(); }));
}

} // namespace
} // namespace acp::test
