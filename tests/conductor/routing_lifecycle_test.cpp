// Lifecycle (PROTOCOL.md §6) and proxy mode (§4.6) on the conductor's in-process seam, with
// scripted peers (scripted_peer.hpp). A component closing its link plays a component exiting.
#include "scripted_peer.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace acp::conductor::test {
namespace {

// §6: a component that breaks its link: every request pending on it and every editor request in
// flight is answered -32603 with data naming the component; then the chain ends (every link is
// closed).
TEST(routing_lifecycle, a_component_closing_its_link_fails_every_pending_editor_request_and_ends_the_chain) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request("through", "session/prompt", {{"sessionId", "s1"}}));
  chain.expect(chain.component(0), request("session/prompt"));
  chain.component(0).send(successor_request("p0-1", "session/prompt", {{"sessionId", "s1"}}));
  chain.expect(chain.agent(), request("session/prompt"));
  chain.editor().send(make_request(2, "session/list", json::object())); // waits at p0 only
  chain.expect(chain.component(0), request("session/list"));

  chain.agent().close_write();
  const json::value names_agent = {{"reason", "component_exited"}, {"component", "agent"}};
  // p0's request to the agent is answered, and both editor requests.
  chain.expect(chain.component(0), error_for("p0-1", -32603).with_data({{"component", "agent"}}));
  auto answers = chain.expect_in_any_order(chain.editor(), {error_for("through", -32603).with_data(names_agent),
                                                            error_for(2, -32603).with_data(names_agent)});
  for (const auto& a : answers) {
    const auto* data = a.json().contains("error") ? a.json().at("error").as_object().if_contains("data") : nullptr;
    EXPECT_TRUE(data && data->is_object() && data->as_object().contains("exit_status")) << json::serialize(a.json());
  }
  chain.expect_eof(chain.editor());
  chain.expect_eof(chain.component(0));
  chain.expect_eof(chain.agent());
}

// §6: a proxy breaking its link fails the editor requests it held, naming the proxy.
TEST(routing_lifecycle, a_proxy_closing_its_link_fails_the_editor_requests_naming_it) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request(1, "session/prompt", {{"sessionId", "s1"}}));
  chain.expect(chain.component(0), request("session/prompt"));
  chain.component(0).close_write();
  chain.expect(
      chain.editor(),
      error_for(1, -32603).with_data({{"reason", "component_exited"}, {"component", "p0"}}).with_message("p0"));
  chain.expect_eof(chain.editor());
  chain.expect_eof(chain.component(0));
  chain.expect_eof(chain.agent());
}

// §6: the editor's end of input: its pending requests fail with data.reason
// "incoming_transport_closed" at once; the turn in flight is cancelled as an editor cancels it
// (`session/cancel` down the chain, its answers still routed between the components, nothing
// more to the editor); then every component's link is closed.
TEST(routing_lifecycle, editor_eof_answers_pending_requests_and_cancels_the_turn_down_the_chain) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request(4, "session/prompt", {{"sessionId", "s1"}}));
  auto at_p0 = chain.expect(chain.component(0), request("session/prompt"));
  chain.component(0).send(successor_request("p0-4", "session/prompt", {{"sessionId", "s1"}}));
  auto at_agent = chain.expect(chain.agent(), request("session/prompt"));
  chain.editor().close_write();
  chain.expect(chain.editor(), error_for(4, -32603).with_data({{"reason", "incoming_transport_closed"}}));
  chain.expect(chain.component(0), notification("session/cancel").with_params({{"sessionId", "s1"}}));
  chain.component(0).send(successor_notification("session/cancel", {{"sessionId", "s1"}}));
  chain.expect(chain.agent(), notification("session/cancel").with_params({{"sessionId", "s1"}}));
  const auto update = make_notification("session/update", {{"sessionId", "s1"}, {"n", 1}});
  chain.agent().send_together({update, make_result(at_agent.id(), {{"stopReason", "cancelled"}})});
  chain.expect(chain.component(0), notification("session/update").wrapped());
  chain.expect(chain.component(0), result_for("p0-4").with_result({{"stopReason", "cancelled"}}));
  chain.component(0).send_together({update, make_result(at_p0.id(), {{"stopReason", "cancelled"}})});
  chain.expect_eof(chain.editor());
  chain.expect_eof(chain.component(0));
  chain.expect_eof(chain.agent());
}

// §6 with §4.2: requests held behind an unanswered `initialize` are answered too when the editor
// goes away, and the `initialize` itself.
TEST(routing_lifecycle, editor_eof_answers_requests_held_behind_initialize) {
  scripted_chain chain({"p0", "agent"});
  chain.editor().send(make_request(0, "initialize", scripted_chain::init_params()));
  chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/"}}));
  chain.expect_nothing(chain.component(0));
  chain.editor().close_write();
  const json::value closed = {{"reason", "incoming_transport_closed"}};
  chain.expect_in_any_order(chain.editor(),
                            {error_for(0, -32603).with_data(closed), error_for(1, -32603).with_data(closed)});
  chain.expect_eof(chain.editor());
  chain.expect_eof(chain.component(0));
}

// §4.6: in proxy mode the conductor expects `_proxy/initialize` first, sends `_proxy/initialize`
// to its components, and its last component's successor traffic goes to the parent wrapped.
TEST(routing_proxy_mode, the_last_components_successor_traffic_goes_to_the_parent_wrapped) {
  scripted_chain chain({"p0", "p1"}, conductor_options::mode::proxy);
  chain.editor().send(make_request(9, "initialize", scripted_chain::init_params()));
  chain.expect(chain.editor(), error_for(9, -32600).with_message("_proxy/initialize"));
  chain.initialize(); // p0 and p1 get `_proxy/initialize`; p1's forward reaches the parent wrapped

  // Toward the agent: plain from the parent, wrapped back to the parent after the last proxy.
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/"}}));
  auto at_p0 = chain.expect(chain.component(0), request("session/new"));
  chain.component(0).send(successor_request("p0-new", "session/new", {{"cwd", "/"}}));
  auto at_p1 = chain.expect(chain.component(1), request("session/new"));
  chain.component(1).send(successor_request("p1-new", "session/new", {{"cwd", "/"}}));
  auto at_parent = chain.expect(chain.editor(), request("session/new").wrapped().with_exact_params({{"cwd", "/"}}));
  chain.editor().send(make_result(at_parent.id(), {{"sessionId", "s1"}}));
  chain.expect(chain.component(1), result_for("p1-new"));
  chain.component(1).send(make_result(at_p1.id(), {{"sessionId", "s1"}}));
  chain.expect(chain.component(0), result_for("p0-new"));
  chain.component(0).send(make_result(at_p0.id(), {{"sessionId", "s1"}}));
  chain.expect(chain.editor(), result_for(1).with_result({{"sessionId", "s1"}}));

  // Toward the client: from our successor (wrapped, through the parent) into the last proxy.
  chain.editor().send(successor_notification("session/update", {{"sessionId", "s1"}}));
  chain.expect(chain.component(1), notification("session/update").wrapped().with_exact_params({{"sessionId", "s1"}}));
  chain.editor().send(successor_request(8, "fs/read_text_file", {{"path", "/a"}}));
  auto read = chain.expect(chain.component(1), request("fs/read_text_file").wrapped());
  chain.component(1).send(make_request("p1-read", "fs/read_text_file", {{"path", "/a"}}));
  auto at_p0_read = chain.expect(chain.component(0), request("fs/read_text_file").wrapped());
  chain.component(0).send(make_request("p0-read", "fs/read_text_file", {{"path", "/a"}}));
  auto at_parent_read = chain.expect(chain.editor(), request("fs/read_text_file").with_exact_params({{"path", "/a"}}));
  chain.editor().send(make_result(at_parent_read.id(), {{"content", "a"}}));
  chain.expect(chain.component(0), result_for("p0-read"));
  chain.component(0).send(make_result(at_p0_read.id(), {{"content", "a"}}));
  chain.expect(chain.component(1), result_for("p1-read"));
  chain.component(1).send(make_result(read.id(), {{"content", "a"}}));
  chain.expect(chain.editor(), result_for(8).with_result({{"content", "a"}}));
  chain.expect_quiet();
}

// §4.6: with zero components the conductor is a pass-through proxy.
TEST(routing_proxy_mode, with_no_components_it_passes_everything_through) {
  scripted_chain chain({}, conductor_options::mode::proxy);
  chain.initialize(); // the parent's `_proxy/initialize` comes back as a wrapped `initialize`
  chain.editor().send(make_request("n", "session/new", {{"cwd", "/"}}));
  auto out = chain.expect(chain.editor(), request("session/new").wrapped().with_exact_params({{"cwd", "/"}}));
  chain.editor().send(make_result(out.id(), {{"sessionId", "s"}}));
  chain.expect(chain.editor(), result_for("n").with_result({{"sessionId", "s"}}));
  chain.editor().send(successor_notification("session/update", {{"sessionId", "s"}}));
  chain.expect(chain.editor(), notification("session/update").with_exact_params({{"sessionId", "s"}}));
  chain.expect_quiet();
}

} // namespace
} // namespace acp::conductor::test
