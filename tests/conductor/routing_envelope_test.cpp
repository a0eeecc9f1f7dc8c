// The successor envelope's refusals (PROTOCOL.md §4.1, §4.2.3) and the older generation's
// handshake (§4.7), on the conductor's in-process seam with scripted peers (scripted_peer.hpp).
#include "scripted_peer.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace acp::conductor::test {
namespace {

// §4.1: an envelope whose params are not {"method": string, "params"?: object|array|null} is
// answered -32602 (invalid params) when it is a request; a notification is never answered.
// Nothing of it goes on.
TEST(routing_envelope, a_malformed_successor_envelope_is_answered_invalid_params) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.component(0).send(make_request("bad-1", successor, json::array{1, 2}));
  chain.expect(chain.component(0), error_for("bad-1", -32602));
  chain.component(0).send(make_request("bad-2", successor, {{"params", json::object()}}));
  chain.expect(chain.component(0), error_for("bad-2", -32602));
  chain.component(0).send(make_request("bad-3", successor, {{"method", 42}}));
  chain.expect(chain.component(0), error_for("bad-3", -32602));
  chain.component(0).send(make_request("bad-4", successor, {{"method", "session/new"}, {"params", 5}}));
  chain.expect(chain.component(0), error_for("bad-4", -32602));
  chain.component(0).send(make_request("bad-5", older_successor_request, {{"params", json::object()}}));
  chain.expect(chain.component(0), error_for("bad-5", -32602));
  chain.component(0).send(make_notification(successor, {{"method", 7}}));
  chain.expect_quiet();
}

// §4.6 + §4.1: the same from the parent conductor in proxy mode.
TEST(routing_envelope, a_malformed_envelope_from_the_parent_is_answered_invalid_params) {
  scripted_chain chain({"p0"}, conductor_options::mode::proxy);
  chain.initialize();
  chain.editor().send(make_request("bad", successor, {{"method", json::array()}}));
  chain.expect(chain.editor(), error_for("bad", -32602));
  chain.expect_quiet();
}

// §4.2.3 and §4.7: a proxy that forwards `_proxy/initialize` (instead of `initialize`) during its
// own handshake is answered -32601, so that it relays "method not found" and the older handshake
// follows; nothing reaches its successor. Once it is initialized, the same forward is -32600.
TEST(routing_envelope, proxy_initialize_inside_an_envelope_is_method_not_found_then_invalid_request) {
  scripted_chain chain({"p0", "agent"});
  chain.editor().send(make_request(0, "initialize", scripted_chain::init_params()));
  auto init = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.component(0).send(successor_request("p0-init", "_proxy/initialize", scripted_chain::init_params()));
  chain.expect(chain.component(0), error_for("p0-init", -32601));
  chain.expect_nothing(chain.agent());
  // The proxy can still do it right.
  chain.component(0).send(successor_request("p0-init2", "initialize", scripted_chain::init_params()));
  auto at_agent = chain.expect(chain.agent(), request("initialize"));
  chain.agent().send(make_result(at_agent.id(), scripted_chain::agent_init_result()));
  chain.expect(chain.component(0), result_for("p0-init2"));
  chain.component(0).send(make_result(init.id(), scripted_chain::agent_init_result()));
  chain.expect(chain.editor(), result_for(0));
  chain.component(0).send(successor_request("p0-late", "_proxy/initialize", scripted_chain::init_params()));
  chain.expect(chain.component(0), error_for("p0-late", -32600));
  chain.expect_quiet();
}

// §4.1 (agent mode): the last component has no successor; its `_proxy/successor` request is
// answered -32601 (method not found), its notification dropped.
TEST(routing_envelope, the_agent_sending_successor_gets_method_not_found) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.agent().send(successor_request("a-1", "session/update", {{"sessionId", "s"}}));
  chain.expect(chain.agent(), error_for("a-1", -32601));
  chain.agent().send(successor_notification("session/update", {{"sessionId", "s"}}));
  chain.expect_quiet();
}

// §4.7: a proxy that answers `_proxy/initialize` with -32601 is retried with the older handshake
// (plain `initialize` with `_meta.proxy`), must echo the flag, and is then spoken to in the older
// envelope. The flag is hop-scoped: the agent and the editor never see it.
TEST(routing_older_generation, a_proxy_refusing_proxy_initialize_gets_the_older_handshake) {
  scripted_chain chain({"p0", "agent"});
  const auto params = scripted_chain::init_params();
  chain.editor().send(make_request(0, "initialize", params));
  auto first = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.component(0).send(make_error(first.id(), -32601, "Method not found"));
  auto retry =
      chain.expect(chain.component(0), request("initialize")
                                           .with_params({{"protocolVersion", 1},
                                                         {"_meta", {{"proxy", true}}},
                                                         {"clientCapabilities", {{"fs", {{"readTextFile", true}}}}}}));
  chain.expect_nothing(chain.editor()); // the refusal is not the editor's answer

  json::value forwarded = retry.params(); // an older proxy forwards what it got, flag included
  chain.component(0).send(successor_request("p0-init", "initialize", forwarded, older_successor_request));
  auto at_agent =
      chain.expect(chain.agent(), request("initialize").with_params({{"protocolVersion", 1}}).without_param("_meta"));
  // The flag is hop-scoped in both places the older generation puts it.
  const auto* caps = at_agent.params().as_object().if_contains("clientCapabilities");
  ASSERT_TRUE(caps);
  EXPECT_FALSE(caps->as_object().contains("_meta")) << json::serialize(*caps);
  chain.agent().send(make_result(at_agent.id(), scripted_chain::agent_init_result()));
  chain.expect(chain.component(0), result_for("p0-init").with_result(scripted_chain::agent_init_result()));
  json::value echoed = scripted_chain::agent_init_result();
  echoed.get_object()["_meta"] = {{"proxy", true}};
  chain.component(0).send(make_result(retry.id(), echoed));
  chain.expect(chain.editor(), result_for(0).with_result(scripted_chain::agent_init_result()));

  // Afterwards the older envelope, both ways.
  chain.agent().send(make_notification("session/update", {{"sessionId", "s1"}}));
  chain.expect(chain.component(0), notification("session/update").wrapped(older_successor_notification));
  chain.agent().send(make_request(3, "fs/read_text_file", {{"path", "/a"}}));
  auto read = chain.expect(chain.component(0), request("fs/read_text_file").wrapped(older_successor_request));
  chain.component(0).send(make_result(read.id(), {{"content", "a"}}));
  chain.expect(chain.agent(), result_for(3).with_result({{"content", "a"}}));
  chain.editor().send(make_request(4, "session/new", {{"cwd", "/"}}));
  auto at_p0 = chain.expect(chain.component(0), request("session/new"));
  chain.component(0).send(successor_request("p0-new", "session/new", {{"cwd", "/"}}, older_successor_request));
  auto new_at_agent = chain.expect(chain.agent(), request("session/new").with_exact_params({{"cwd", "/"}}));
  chain.agent().send(make_result(new_at_agent.id(), {{"sessionId", "s1"}}));
  chain.expect(chain.component(0), result_for("p0-new"));
  chain.component(0).send(make_result(at_p0.id(), {{"sessionId", "s1"}}));
  chain.expect(chain.editor(), result_for(4).with_result({{"sessionId", "s1"}}));
  chain.expect_quiet();
}

// §4.2.3: a component that answers -32601 to `_proxy/initialize` and fails the older handshake
// too is not a proxy: the editor gets -32603 naming it.
TEST(routing_older_generation, a_component_failing_both_handshakes_is_reported_to_the_editor) {
  scripted_chain chain({"p0", "agent"});
  chain.editor().send(make_request(0, "initialize", scripted_chain::init_params()));
  auto first = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.component(0).send(make_error(first.id(), -32601, "Method not found"));
  auto retry = chain.expect(chain.component(0), request("initialize"));
  chain.component(0).send(make_error(retry.id(), -32601, "Method not found"));
  chain.expect(chain.editor(),
               error_for(0, -32603).with_data({{"reason", "not_a_proxy"}, {"component", "p0"}}).with_message("p0"));
  chain.expect_quiet();
}

// §4.7: the older handshake succeeds only when the proxy echoes `_meta.proxy` in its result.
TEST(routing_older_generation, an_older_handshake_without_the_echo_is_reported_to_the_editor) {
  scripted_chain chain({"p0", "agent"});
  chain.editor().send(make_request(0, "initialize", scripted_chain::init_params()));
  auto first = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.component(0).send(make_error(first.id(), -32601, "Method not found"));
  auto retry = chain.expect(chain.component(0), request("initialize"));
  chain.component(0).send(make_result(retry.id(), scripted_chain::agent_init_result())); // an agent, not a proxy
  chain.expect(chain.editor(), error_for(0, -32603).with_data({{"reason", "not_a_proxy"}, {"component", "p0"}}));
  chain.expect_quiet();
}

// Known defect (c), §4.2.3 + §4.7: an older-generation proxy knows nothing of
// `_proxy/initialize` and forwards it, like every method it does not know, inside
// `_proxy/successor/request`. The conductor must answer that forward -32601 (the proxy relays
// "method not found" as its own answer to `_proxy/initialize`) and fall back to the older
// handshake, after which the chain works. Today the forward is answered -32600 and the editor
// gets that error instead of a working chain.
TEST(routing_older_generation,
     an_older_proxy_forwarding_proxy_initialize_gets_method_not_found_then_the_older_handshake) {
  scripted_chain chain({"p0", "agent"});
  const auto params = scripted_chain::init_params();
  chain.editor().send(make_request(0, "initialize", params));
  auto first = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.component(0).send(successor_request("p0-fwd", "_proxy/initialize", params, older_successor_request));
  chain.expect(chain.component(0), error_for("p0-fwd", -32601));
  chain.expect_nothing(chain.agent());
  chain.component(0).send(make_error(first.id(), -32601, "Method not found")); // relayed as its answer

  auto retry = chain.expect(chain.component(0), request("initialize").with_params({{"_meta", {{"proxy", true}}}}));
  chain.component(0).send(successor_request("p0-init", "initialize", retry.params(), older_successor_request));
  auto at_agent = chain.expect(chain.agent(), request("initialize").without_param("_meta"));
  chain.agent().send(make_result(at_agent.id(), scripted_chain::agent_init_result()));
  chain.expect(chain.component(0), result_for("p0-init"));
  json::value echoed = scripted_chain::agent_init_result();
  echoed.get_object()["_meta"] = {{"proxy", true}};
  chain.component(0).send(make_result(retry.id(), echoed));
  chain.expect(chain.editor(), result_for(0).with_result(scripted_chain::agent_init_result()));

  chain.agent().send(make_notification("session/update", {{"sessionId", "s1"}}));
  chain.expect(chain.component(0), notification("session/update").wrapped(older_successor_notification));
  chain.expect_quiet();
}

} // namespace
} // namespace acp::conductor::test
