// The conductor's routing rules (PROTOCOL.md §4.1–§4.3, §2): initialization, ids across hops,
// both directions through proxies. Scripted peers on the in-process seam (scripted_peer.hpp).
#include "scripted_peer.hpp"

#include <gtest/gtest.h>

namespace acp::conductor::test {
namespace {

// §4.2.2: a proxy gets `_proxy/initialize` with the editor's params, the agent a plain
// `initialize`; a proxy's forwarded `initialize` becomes `_proxy/initialize` when its successor
// is a proxy too; the answers come back hop by hop to the editor's id.
TEST(routing_initialize, reaches_proxies_as_proxy_initialize_and_the_agent_as_initialize) {
  scripted_chain chain({"p0", "p1", "agent"});
  const auto params = scripted_chain::init_params();
  chain.editor().send(make_request(0, "initialize", params));
  auto at_p0 = chain.expect(chain.component(0), request("_proxy/initialize").with_exact_params(params));
  chain.expect_nothing(chain.component(1));
  chain.component(0).send(successor_request("p0-init", "initialize", params));
  auto at_p1 = chain.expect(chain.component(1), request("_proxy/initialize").with_exact_params(params));
  chain.expect_nothing(chain.agent());
  chain.component(1).send(successor_request("p1-init", "initialize", params));
  auto at_agent = chain.expect(chain.agent(), request("initialize").with_exact_params(params));

  const json::value answer = {{"protocolVersion", 1}, {"agentCapabilities", {{"loadSession", true}}}, {"x", 1}};
  chain.agent().send(make_result(at_agent.id(), answer));
  chain.expect(chain.component(1), result_for("p1-init").with_result(answer));
  // Proxies may edit the result (§4.2.4): each hop passes on what its proxy answered.
  const json::value edited = {{"protocolVersion", 1}, {"agentCapabilities", json::object()}, {"by", "p1"}};
  chain.component(1).send(make_result(at_p1.id(), edited));
  chain.expect(chain.component(0), result_for("p0-init").with_result(edited));
  chain.component(0).send(make_result(at_p0.id(), edited));
  chain.expect(chain.editor(), result_for(0).with_result(edited));
  chain.expect_quiet();
}

// §4.2.1: the editor's first message must be `initialize`; nothing starts before it.
TEST(routing_initialize, a_first_message_other_than_initialize_is_refused_invalid_request) {
  scripted_chain chain({"p0", "agent"});
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/"}}));
  chain.expect(chain.editor(), error_for(1, -32600).with_message("initialize"));
  chain.editor().send(make_notification("session/cancel", {{"sessionId", "s"}}));
  chain.expect_quiet(); // notifications are never answered, and no component heard of either
  chain.initialize();
  chain.expect_quiet();
}

// §4.2 ("a component is sent nothing else until it has answered its `initialize`"): what comes
// meanwhile is held, then delivered in arrival order once the answer is in.
TEST(routing_initialize, nothing_reaches_a_component_before_it_answered_initialize) {
  scripted_chain chain({"p0", "agent"});
  const auto params = scripted_chain::init_params();
  chain.editor().send(make_request(0, "initialize", params));
  auto at_p0 = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/w"}}));
  chain.editor().send(make_notification("_custom/early", {{"n", 1}}));
  chain.editor().send(make_request("two", "session/list", json::object()));
  chain.expect_nothing(chain.component(0));

  // The same toward the agent: p0's forwards wait for the agent's answer.
  chain.component(0).send(successor_request("p0-init", "initialize", params));
  auto at_agent = chain.expect(chain.agent(), request("initialize"));
  chain.component(0).send(successor_notification("_custom/toward-agent", {{"n", 2}}));
  chain.component(0).send(successor_request("p0-r", "_custom/ask", {{"n", 3}}));
  chain.expect_nothing(chain.agent());
  chain.agent().send(make_result(at_agent.id(), scripted_chain::agent_init_result()));
  chain.expect(chain.agent(), notification("_custom/toward-agent").with_exact_params({{"n", 2}}));
  auto ask = chain.expect(chain.agent(), request("_custom/ask").with_exact_params({{"n", 3}}));
  chain.expect(chain.component(0), result_for("p0-init"));
  chain.expect_nothing(chain.component(0)); // p0 itself has still not answered

  chain.component(0).send(make_result(at_p0.id(), scripted_chain::agent_init_result()));
  auto held_new = chain.expect(chain.component(0), request("session/new").with_exact_params({{"cwd", "/w"}}));
  chain.expect(chain.component(0), notification("_custom/early").with_exact_params({{"n", 1}}));
  auto held_list = chain.expect(chain.component(0), request("session/list"));
  chain.expect(chain.editor(), result_for(0));

  // The held requests are ordinary requests afterwards: their answers find their way back.
  chain.component(0).send(make_result(held_list.id(), {{"sessions", json::array()}}));
  chain.expect(chain.editor(), result_for("two").with_result({{"sessions", json::array()}}));
  chain.component(0).send(make_result(held_new.id(), {{"sessionId", "s1"}}));
  chain.expect(chain.editor(), result_for(1).with_result({{"sessionId", "s1"}}));
  chain.agent().send(make_result(ask.id(), {{"ok", true}}));
  chain.expect(chain.component(0), result_for("p0-r").with_result({{"ok", true}}));
  chain.expect_quiet();
}

// §4.3: every hop gets a fresh id; the editor's ids (strings, 0, "0" — all distinct, §2) appear
// only on the editor's link, and each answer returns with the id it answers, same type.
TEST(routing_ids, editor_requests_get_fresh_ids_and_answers_return_with_the_editors_id) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  const std::vector<json::value> editor_ids = {"req-a", 0, "0"};
  for (const auto& id : editor_ids) chain.editor().send(make_request(id, "session/prompt", {{"tag", id}}));

  std::vector<json::value> p0_ids;
  for (const auto& id : editor_ids) {
    auto got = chain.expect(chain.component(0), request("session/prompt").with_exact_params({{"tag", id}}));
    for (const auto& seen : p0_ids) EXPECT_NE(got.id(), seen) << "two requests in flight share an id on p0's link";
    p0_ids.push_back(got.id());
  }
  EXPECT_NE(p0_ids[0], json::value("req-a"));
  for (std::size_t i = 0; i < editor_ids.size(); ++i) {
    const json::value tag = editor_ids[i];
    chain.component(0).send(
        successor_request(json::string("p0-" + std::to_string(i)), "session/prompt", {{"tag", tag}}));
  }
  std::vector<json::value> agent_ids;
  for (const auto& id : editor_ids) {
    auto got = chain.expect(chain.agent(), request("session/prompt").with_exact_params({{"tag", id}}));
    for (const auto& seen : agent_ids)
      EXPECT_NE(got.id(), seen) << "two requests in flight share an id on the agent's link";
    EXPECT_NE(got.id(), json::value("req-a"));
    EXPECT_FALSE(got.id().is_string() && std::string_view(got.id().get_string()).starts_with("p0-"))
        << "p0's id leaked onto the agent's link: " << got.id();
    agent_ids.push_back(got.id());
  }
  // Answers in reverse order: each finds its own requester.
  for (std::size_t i = editor_ids.size(); i-- > 0;) {
    chain.agent().send(make_result(agent_ids[i], {{"answer", static_cast<std::int64_t>(i)}}));
    chain.expect(
        chain.component(0),
        result_for(json::string("p0-" + std::to_string(i))).with_result({{"answer", static_cast<std::int64_t>(i)}}));
    chain.component(0).send(make_result(p0_ids[i], {{"answer", static_cast<std::int64_t>(i)}}));
    chain.expect(chain.editor(), result_for(editor_ids[i]).with_result({{"answer", static_cast<std::int64_t>(i)}}));
  }
  chain.expect_quiet();
}

// §4.3: the pending table is keyed by (link, id): the same id from two links is two requests.
TEST(routing_ids, the_same_id_from_two_links_is_two_requests) {
  scripted_chain chain({"p0", "p1", "agent"});
  chain.initialize();
  chain.editor().send(make_request(5, "_custom/ask", {{"from", "editor"}}));
  auto from_editor = chain.expect(chain.component(0), request("_custom/ask").with_exact_params({{"from", "editor"}}));
  chain.component(1).send(make_request(5, "_custom/ask", {{"from", "p1"}})); // toward the client
  auto from_p1 = chain.expect(chain.component(0), request("_custom/ask").wrapped().with_exact_params({{"from", "p1"}}));
  EXPECT_NE(from_editor.id(), from_p1.id());
  chain.component(0).send(make_result(from_p1.id(), {{"to", "p1"}}));
  chain.expect(chain.component(1), result_for(5).with_result({{"to", "p1"}}));
  chain.component(0).send(make_result(from_editor.id(), {{"to", "editor"}}));
  chain.expect(chain.editor(), result_for(5).with_result({{"to", "editor"}}));
  chain.expect_quiet();
}

// §4.3: a response whose id the conductor never issued is dropped; the chain goes on.
TEST(routing_ids, a_response_with_an_unknown_id_is_dropped) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.component(0).send(make_result(12345, {{"stray", true}}));
  chain.agent().send(make_error("nope", -32603, "stray"));
  chain.editor().send(make_result(77, json::object()));
  chain.expect_quiet();
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/"}}));
  auto got = chain.expect(chain.component(0), request("session/new"));
  chain.component(0).send(make_result(got.id(), {{"sessionId", "s"}}));
  chain.expect(chain.editor(), result_for(1).with_result({{"sessionId", "s"}}));
  chain.expect_quiet();
}

// §4.1: notifications go plain from the editor to p0, wrapped from p0 to the agent side and
// plain to the agent; the other way wrapped into p0 and plain to the editor. Never an id.
TEST(routing_notifications, flow_both_ways_through_a_proxy) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  const json::value cancel = {{"sessionId", "s1"}};
  chain.editor().send(make_notification("session/cancel", cancel));
  chain.expect(chain.component(0), notification("session/cancel").with_exact_params(cancel));
  chain.component(0).send(successor_notification("session/cancel", cancel));
  chain.expect(chain.agent(), notification("session/cancel").with_exact_params(cancel));

  const json::value update = {{"sessionId", "s1"}, {"update", {{"sessionUpdate", "agent_message_chunk"}}}};
  chain.agent().send(make_notification("session/update", update));
  chain.expect(chain.component(0), notification("session/update").wrapped().with_exact_params(update));
  chain.component(0).send(make_notification("session/update", update));
  chain.expect(chain.editor(), notification("session/update").with_exact_params(update));
  chain.expect_quiet();
}

// §4.1 (agent → client): an agent request travels wrapped into each proxy, plain from each proxy
// toward its client, and plain to the editor; the answers go back with each requester's id.
TEST(routing_agent_requests, travel_wrapped_through_each_proxy_and_reach_the_editor_plain) {
  scripted_chain chain({"p0", "p1", "agent"});
  chain.initialize();
  const json::value read = {{"sessionId", "s1"}, {"path", "/etc/hostname"}};
  chain.agent().send(make_request(9, "fs/read_text_file", read));
  auto at_p1 = chain.expect(chain.component(1), request("fs/read_text_file").wrapped().with_exact_params(read));
  chain.component(1).send(make_request("p1-read", "fs/read_text_file", read));
  auto at_p0 = chain.expect(chain.component(0), request("fs/read_text_file").wrapped().with_exact_params(read));
  chain.component(0).send(make_request("p0-read", "fs/read_text_file", read));
  auto at_editor = chain.expect(chain.editor(), request("fs/read_text_file").with_exact_params(read));
  EXPECT_NE(at_editor.id(), json::value(9));

  const json::value content = {{"content", "host\n"}};
  chain.editor().send(make_result(at_editor.id(), content));
  chain.expect(chain.component(0), result_for("p0-read").with_result(content));
  chain.component(0).send(make_result(at_p0.id(), content));
  chain.expect(chain.component(1), result_for("p1-read").with_result(content));
  chain.component(1).send(make_result(at_p1.id(), content));
  chain.expect(chain.agent(), result_for(9).with_result(content));
  chain.expect_quiet();
}

// §4.1: with no proxy, the agent's requests and notifications reach the editor plain.
TEST(routing_agent_requests, without_proxies_reach_the_editor_plain) {
  scripted_chain chain({"agent"});
  chain.initialize();
  const json::value ask = {{"sessionId", "s1"}, {"toolCall", {{"toolCallId", "t1"}}}, {"options", json::array()}};
  chain.agent().send(make_notification("session/update", {{"sessionId", "s1"}}));
  chain.agent().send(make_request("perm-1", "session/request_permission", ask));
  chain.expect(chain.editor(), notification("session/update").with_exact_params({{"sessionId", "s1"}}));
  auto got = chain.expect(chain.editor(), request("session/request_permission").with_exact_params(ask));
  const json::value outcome = {{"outcome", {{"outcome", "cancelled"}}}};
  chain.editor().send(make_result(got.id(), outcome));
  chain.expect(chain.agent(), result_for("perm-1").with_result(outcome));
  chain.expect_quiet();
}

// §4.1: a proxy may answer a request itself, from either side; nothing goes further.
TEST(routing_proxy_answers, a_proxy_answers_requests_itself) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request(3, "session/prompt", {{"sessionId", "s1"}}));
  auto prompt = chain.expect(chain.component(0), request("session/prompt"));
  chain.component(0).send(make_error(prompt.id(), -32000, "auth required"));
  chain.expect(chain.editor(), error_for(3, -32000).with_message("auth required"));

  chain.agent().send(make_request(4, "session/request_permission", {{"sessionId", "s1"}}));
  auto perm = chain.expect(chain.component(0), request("session/request_permission").wrapped());
  chain.component(0).send(make_result(perm.id(), {{"outcome", {{"outcome", "selected"}, {"optionId", "allow"}}}}));
  chain.expect(chain.agent(),
               result_for(4).with_result({{"outcome", {{"outcome", "selected"}, {"optionId", "allow"}}}}));
  chain.expect_quiet();
}

// §2: unknown methods, unknown fields and `_meta` pass every hop untouched; §5: `mcp/*` is
// ordinary traffic (requests with ids, notifications without, both directions).
TEST(routing_passthrough, unknown_fields_and_mcp_over_acp_pass_untouched) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  const json::value new_session = {
      {"cwd", "/w"},
      {"mcpServers", json::array{{{"type", "acp"}, {"name", "tools"}, {"serverId", "mcp-server:1234"}}}},
      {"_meta", {{"trace", "abc"}}},
      {"x-unknown", {1, 2, 3}}};
  chain.editor().send(make_request(1, "session/new", new_session));
  auto at_p0 = chain.expect(chain.component(0), request("session/new").with_exact_params(new_session));
  chain.component(0).send(successor_request("p0-new", "session/new", new_session));
  auto at_agent = chain.expect(chain.agent(), request("session/new").with_exact_params(new_session));
  chain.agent().send(make_result(at_agent.id(), {{"sessionId", "s1"}, {"_meta", {{"k", "v"}}}}));
  chain.expect(chain.component(0), result_for("p0-new").with_result({{"sessionId", "s1"}, {"_meta", {{"k", "v"}}}}));
  chain.component(0).send(make_result(at_p0.id(), {{"sessionId", "s1"}, {"_meta", {{"k", "v"}}}}));
  chain.expect(chain.editor(), result_for(1).with_result({{"sessionId", "s1"}, {"_meta", {{"k", "v"}}}}));

  // The agent connects to the MCP server p0 offers (agent → client direction: p0 gets it wrapped).
  chain.agent().send(make_request(20, "mcp/connect", {{"serverId", "mcp-server:1234"}}));
  auto connect = chain.expect(chain.component(0),
                              request("mcp/connect").wrapped().with_exact_params({{"serverId", "mcp-server:1234"}}));
  chain.component(0).send(make_result(connect.id(), {{"connectionId", "c1"}}));
  chain.expect(chain.agent(), result_for(20).with_result({{"connectionId", "c1"}}));
  const json::value call = {{"connectionId", "c1"}, {"method", "tools/call"}, {"params", {{"name", "t"}}}};
  chain.agent().send(make_request(21, "mcp/message", call));
  chain.agent().send(
      make_notification("mcp/message", {{"connectionId", "c1"}, {"method", "notifications/initialized"}}));
  auto message = chain.expect(chain.component(0), request("mcp/message").wrapped().with_exact_params(call));
  chain.expect(chain.component(0), notification("mcp/message").wrapped().with_params({{"connectionId", "c1"}}));
  // The server side sends an MCP notification toward the agent.
  chain.component(0).send(
      successor_notification("mcp/message", {{"connectionId", "c1"}, {"method", "notifications/progress"}}));
  chain.expect(chain.agent(), notification("mcp/message").with_params({{"method", "notifications/progress"}}));
  chain.component(0).send(make_result(message.id(), {{"content", json::array()}}));
  chain.expect(chain.agent(), result_for(21).with_result({{"content", json::array()}}));
  chain.agent().send(make_request(22, "mcp/disconnect", {{"connectionId", "c1"}}));
  auto disconnect = chain.expect(chain.component(0), request("mcp/disconnect").wrapped());
  chain.component(0).send(make_result(disconnect.id(), json::object()));
  chain.expect(chain.agent(), result_for(22).with_result(json::object()));
  chain.expect_quiet();
}

// §1: a line that is not JSON is answered -32700 with a null id and the link goes on.
TEST(routing_framing, a_line_that_is_not_json_is_answered_and_the_link_goes_on) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send_raw("this is no json\n");
  chain.expect(chain.editor(), error_for(nullptr, -32700));
  chain.agent().send_raw("Agent v1.0 starting...\n");
  chain.expect(chain.agent(), error_for(nullptr, -32700));
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/"}}));
  auto got = chain.expect(chain.component(0), request("session/new"));
  chain.component(0).send(make_result(got.id(), {{"sessionId", "s"}}));
  chain.expect(chain.editor(), result_for(1));
  chain.expect_quiet();
}

} // namespace
} // namespace acp::conductor::test
