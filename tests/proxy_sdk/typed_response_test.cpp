// Typed sent requests: `send_request_to(peer, T{…})` gives a handle whose response is the typed
// response of `acp::method_traits<T>`; a result that does not decode is an error value.

#include "test_support.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace acp::test {
namespace {

static_assert(std::is_same_v<decltype(std::declval<context&>().send_request_to(acp::agent, prompt_request{})),
                             typed_sent_request<prompt_request>>);
static_assert(std::is_same_v<typed_sent_request<prompt_request>::response_type, prompt_response>);
// A typed outcome never silently turns back into a JSON one (an untyped callback stays untyped).
static_assert(!std::is_convertible_v<typed_result<prompt_response>, rpc_result>);

/// An agent that answers session/prompt with `result` (or `error` when it is an object with "code").
agent_builder answering(json::value result) {
  agent_builder agent;
  agent.on_receive_request_from(
      acp::client, "session/prompt", [result = std::move(result)](jsonrpc::message&, responder& r, context&) {
        if (result.is_object() && result.as_object().contains("code"))
          r.respond_error(rpc_error{static_cast<int>(result.at("code").as_int64()),
                                    std::string(result.at("message").as_string()), std::nullopt});
        else
          r.respond(result);
        return handled::yes;
      });
  return agent;
}

prompt_request a_prompt() {
  prompt_request req;
  req.session_id = "s1";
  return req;
}

class typed_response_test : public sdk_test {
protected:
  /// Sends a prompt from `c` and awaits its typed response in a task.
  std::optional<typed_result<prompt_response>> ask(endpoint& c) {
    auto got = std::make_shared<std::optional<typed_result<prompt_response>>>();
    c.cx().spawn([got, cx = c.cx()]() mutable -> asio::awaitable<void> {
      auto answer = co_await cx.send_request_to(acp::agent, a_prompt()).response();
      got->emplace(std::move(answer));
    });
    if (!run_until([&] { return got->has_value(); })) return std::nullopt;
    return std::move(*got);
  }
};

TEST_F(typed_response_test, response_awaits_the_decoded_response) {
  auto agent = answering(J(R"({"stopReason":"end_turn","_meta":{"k":1}})"));
  client_builder client;
  auto [c, a] = wire(client, agent);
  auto got = ask(c);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value()) << got->error().message;
  EXPECT_EQ(acp::encode(got->value()), J(R"({"stopReason":"end_turn","_meta":{"k":1}})"));
}

TEST_F(typed_response_test, a_result_that_does_not_decode_is_an_internal_error_with_the_path) {
  auto agent = answering(J(R"({"stopReason":42})"));
  client_builder client;
  auto [c, a] = wire(client, agent);
  auto got = ask(c);
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  const auto& e = got->error();
  EXPECT_EQ(e.code, -32603);
  EXPECT_NE(e.message.find("invalid session/prompt result: result.stopReason"), std::string::npos) << e.message;
  ASSERT_TRUE(e.data.has_value());
  EXPECT_EQ(e.data->at("reason"), "invalid_result");
  EXPECT_EQ(e.data->at("path"), "result.stopReason");
}

TEST_F(typed_response_test, an_error_response_is_the_error_unchanged) {
  auto agent = answering(J(R"({"code":-32000,"message":"auth required"})"));
  client_builder client;
  auto [c, a] = wire(client, agent);
  auto got = ask(c);
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().code, -32000);
  EXPECT_EQ(got->error().message, "auth required");
}

TEST_F(typed_response_test, on_receiving_result_takes_a_typed_callback) {
  auto agent = answering(J(R"({"stopReason":"cancelled"})"));
  client_builder client;
  auto [c, a] = wire(client, agent);
  std::optional<typed_result<prompt_response>> got;
  c.cx().send_request_to(acp::agent, a_prompt()).on_receiving_result([&](typed_result<prompt_response> r) {
    got = std::move(r);
  });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(acp::encode(got->value()), J(R"({"stopReason":"cancelled"})"));
}

TEST_F(typed_response_test, untyped_uses_still_work) {
  auto agent = answering(J(R"({"stopReason":"end_turn"})"));
  client_builder client;
  auto [c, a] = wire(client, agent);
  std::optional<rpc_result> raw;
  c.cx().send_request_to(acp::agent, a_prompt()).on_receiving_result([&](rpc_result r) { raw = std::move(r); });
  sent_request converted = c.cx().send_request_to(acp::agent, a_prompt()); // converts to the untyped handle
  std::optional<rpc_result> second;
  std::move(converted).on_receiving_result([&](rpc_result r) { second = std::move(r); });
  ASSERT_TRUE(run_until([&] { return raw.has_value() && second.has_value(); }));
  EXPECT_EQ(raw->value(), J(R"({"stopReason":"end_turn"})"));
  EXPECT_EQ(second->value(), J(R"({"stopReason":"end_turn"})"));
}

TEST_F(typed_response_test, forward_response_to_relays_a_typed_request_with_an_observer) {
  proxy_builder proxy;
  std::optional<rpc_result> seen;
  proxy.on_receive_request_from(acp::client, [&](prompt_request req, responder r, context cx) {
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r), [&](const rpc_result& outcome) {
      seen = outcome;
    });
  });
  auto w = wire(proxy);
  w.peer->send(R"({"jsonrpc":"2.0","id":1,"method":"session/prompt","params":{"sessionId":"s1","prompt":[]}})");
  // The proxy wraps the request for the agent; the scripted peer answers it as the conductor would.
  ASSERT_TRUE(run_until([&] { return !w.peer->with_method("_proxy/successor").empty(); }));
  const auto wrapped = w.peer->with_method("_proxy/successor").front();
  w.peer->send(json::value{{"jsonrpc", "2.0"}, {"id", wrapped.at("id")}, {"result", {{"stopReason", "end_turn"}}}});
  ASSERT_TRUE(run_until([&] { return w.peer->response_to(1) != nullptr; }));
  EXPECT_EQ(w.peer->response_to(1)->at("result"), J(R"({"stopReason":"end_turn"})"));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->value(), J(R"({"stopReason":"end_turn"})"));
}

} // namespace
} // namespace acp::test
