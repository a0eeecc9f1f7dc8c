// "A pass-through proxy is at most 10 lines of user code": the proxy exactly as the docs show
// it, then run in-process between a client and an agent joined by a scripted conductor.

#include "test_support.hpp"

#include <acp/protocol/envelope.hpp>

// ---- the example (docs) ------------------------------------------------------------------
#include <acp/sdk.hpp>

// Forwards everything untouched; adds one line of context to every prompt on its way.
acp::proxy_builder make_rules_proxy() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, [](acp::prompt_request req, acp::responder r, acp::context cx) {
    req.prompt.insert(req.prompt.begin(), acp::text_content{.text = "Project rules: be brief."});
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r));
  });
  return proxy;
}
// int main() { return make_rules_proxy().run_stdio(); }
// ---- end of the example ------------------------------------------------------------------

namespace acp::test {
namespace {

using minimal_proxy_example = sdk_test;

// A two-link "conductor" in the test: client <-> [relay] <-> proxy <-> [relay] <-> agent, doing
// what the real conductor does for one proxy: plain client traffic in, envelopes unwrapped to
// the agent, agent traffic wrapped back to the proxy, ids mapped by each SDK connection.
TEST_F(minimal_proxy_example, runs_between_a_client_and_an_agent) {
  // The agent answers prompts with what it was asked and streams one update first.
  agent_builder agent;
  agent.on_receive_request_from(acp::client, "session/prompt", [](jsonrpc::message& m, responder& r, context& cx) {
    const auto& p = m.params()->as_object();
    cx.send_notification_to(
        acp::client, "session/update",
        json::value{
            {"sessionId", p.at("sessionId")},
            {"update", {{"sessionUpdate", "agent_message_chunk"}, {"content", {{"type", "text"}, {"text", "ok"}}}}}});
    r.respond(json::value{{"stopReason", "end_turn"}, {"x-prompt", p.at("prompt")}});
    return handled::yes;
  });
  std::vector<json::value> updates;
  client_builder client;
  client.on_receive_notification_from(acp::agent, "session/update", [&](jsonrpc::message& m, context&) {
    updates.push_back(*m.params());
    return handled::yes;
  });

  auto [t_client, t_cond_client] = make_memory_duplex(ex()).value();
  auto [t_cond_proxy, t_proxy] = make_memory_duplex(ex()).value();
  auto [t_cond_agent, t_agent] = make_memory_duplex(ex()).value();
  auto builder = make_rules_proxy();
  auto proxy_ep = builder.connect_to(ex(), std::move(t_proxy));
  auto agent_ep = agent.connect_to(ex(), std::move(t_agent));
  auto client_ep = client.connect_to(ex(), std::move(t_client));
  endpoints_.insert(endpoints_.end(), {proxy_ep, agent_ep, client_ep});

  // The conductor's three links, as raw connections.
  auto to_client = raw(std::move(t_cond_client));
  auto to_proxy = raw(std::move(t_cond_proxy));
  auto to_agent = raw(std::move(t_cond_agent));
  // Sends `m` on `to`; a request's response goes back on `from` with the id `from` used.
  auto relay = [](std::shared_ptr<connection> to, std::shared_ptr<connection> from, jsonrpc::message m,
                  json::value answer_id) {
    if (!m.is_request()) return to->send(std::move(m));
    to->send_request(std::move(m), [from, answer_id](jsonrpc::message resp) {
      resp.set_id(answer_id);
      from->send(std::move(resp));
    });
  };
  to_client->on_message([=](jsonrpc::message m) {
    auto id = m.id();
    relay(to_proxy, to_client, std::move(m), std::move(id));
  });
  to_proxy->on_message([=](jsonrpc::message m) {
    auto id = m.id();
    if (!proxy_protocol::is_successor_method(m.method()))
      return relay(to_client, to_proxy, std::move(m), std::move(id));
    auto unwrapped = proxy_protocol::unwrap_message(std::move(m));
    ASSERT_TRUE(unwrapped);
    relay(to_agent, to_proxy, std::move(*unwrapped), std::move(id));
  });
  to_agent->on_message([=](jsonrpc::message m) {
    auto id = m.id();
    const bool req = m.is_request();
    relay(to_proxy, to_agent,
          proxy_protocol::wrap_message(std::move(m), req ? std::optional<json::value>(0) : std::nullopt),
          std::move(id));
  });
  for (auto& c : {to_client, to_proxy, to_agent}) c->start();

  std::optional<rpc_result> got;
  client_ep.cx()
      .send_request_to(acp::agent, "session/prompt", J(R"({"sessionId":"s","prompt":[{"type":"text","text":"hi"}]})"))
      .on_receiving_result([&](rpc_result r) { got = std::move(r); });
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_TRUE(got->has_value()) << got->error().message;
  EXPECT_EQ(got->value().at("x-prompt"),
            J(R"([{"type":"text","text":"Project rules: be brief."},{"type":"text","text":"hi"}])"));
  ASSERT_EQ(updates.size(), 1u); // and it arrived before the response
  EXPECT_EQ(updates[0].at("update").at("content").at("text"), "ok");
}

} // namespace
} // namespace acp::test
