// Cancellation (PROTOCOL.md §4.5) and the ordering invariant (§4.4) on the conductor's
// in-process seam, with scripted peers (scripted_peer.hpp).
#include "scripted_peer.hpp"

#include <gtest/gtest.h>

namespace acp::conductor::test {
namespace {

json::value cancel_params(json::value id) { return {{"requestId", std::move(id)}}; }

// §4.5: `$/cancel_request` is hop-scoped: re-issued on each next hop with that hop's id, never
// tunnelled; the cancelled request still gets exactly one response.
TEST(routing_cancel, a_cancel_from_the_editor_is_reissued_with_each_hops_id) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request("e1", "session/prompt", {{"sessionId", "s1"}}));
  auto at_p0 = chain.expect(chain.component(0), request("session/prompt"));
  chain.component(0).send(successor_request("p0-1", "session/prompt", {{"sessionId", "s1"}}));
  auto at_agent = chain.expect(chain.agent(), request("session/prompt"));

  chain.editor().send(make_notification("$/cancel_request", cancel_params("e1")));
  chain.expect(chain.component(0), notification("$/cancel_request").with_exact_params(cancel_params(at_p0.id())));
  chain.expect_nothing(chain.agent()); // not tunnelled: p0 decides
  chain.component(0).send(successor_notification("$/cancel_request", cancel_params("p0-1")));
  chain.expect(chain.agent(), notification("$/cancel_request").with_exact_params(cancel_params(at_agent.id())));

  chain.agent().send(make_error(at_agent.id(), -32800, "request cancelled"));
  chain.expect(chain.component(0), error_for("p0-1", -32800));
  chain.component(0).send(make_error(at_p0.id(), -32800, "request cancelled"));
  chain.expect(chain.editor(), error_for("e1", -32800));
  chain.expect_quiet();
}

// §4.5 with §4.1: a cancel from a proxy's successor side reaches the proxy inside the envelope,
// with the id the proxy knows the request by.
TEST(routing_cancel, a_cancel_toward_a_proxy_from_its_successor_side_is_wrapped) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.agent().send(make_request(9, "fs/read_text_file", {{"sessionId", "s1"}, {"path", "/big"}}));
  auto at_p0 = chain.expect(chain.component(0), request("fs/read_text_file").wrapped());
  chain.agent().send(make_notification("$/cancel_request", cancel_params(9)));
  chain.expect(chain.component(0),
               notification("$/cancel_request").wrapped().with_exact_params(cancel_params(at_p0.id())));
  chain.component(0).send(make_error(at_p0.id(), -32800, "request cancelled"));
  chain.expect(chain.agent(), error_for(9, -32800));
  chain.expect_quiet();
}

// §4.5 at the editor's end: the agent's cancel reaches the editor plain, with the editor's id.
TEST(routing_cancel, a_cancel_from_the_agent_reaches_the_editor_with_its_id) {
  scripted_chain chain({"agent"});
  chain.initialize();
  chain.agent().send(make_request("perm", "session/request_permission", {{"sessionId", "s1"}}));
  auto at_editor = chain.expect(chain.editor(), request("session/request_permission"));
  chain.agent().send(make_notification("$/cancel_request", cancel_params("perm")));
  chain.expect(chain.editor(), notification("$/cancel_request").with_exact_params(cancel_params(at_editor.id())));
  chain.editor().send(make_result(at_editor.id(), {{"outcome", {{"outcome", "cancelled"}}}}));
  chain.expect(chain.agent(), result_for("perm"));
  chain.expect_quiet();
}

// §4.5: a cancel for a request already answered (or never sent) goes nowhere.
TEST(routing_cancel, a_cancel_for_an_answered_or_unknown_request_is_dropped) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request(3, "session/new", {{"cwd", "/"}}));
  auto got = chain.expect(chain.component(0), request("session/new"));
  chain.component(0).send(make_result(got.id(), {{"sessionId", "s"}}));
  chain.expect(chain.editor(), result_for(3));
  chain.editor().send(make_notification("$/cancel_request", cancel_params(3)));
  chain.editor().send(make_notification("$/cancel_request", cancel_params("never-sent")));
  chain.agent().send(make_notification("$/cancel_request", cancel_params(41)));
  chain.expect_quiet();
}

// §4.4: what the agent sends in one go — updates, a request, more updates, then the answer —
// reaches p0 in that order, and what p0 relays reaches the editor in that order: the response
// never overtakes the notifications before it.
TEST(routing_order, a_response_never_overtakes_what_was_sent_before_it) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request(7, "session/prompt", {{"sessionId", "s1"}}));
  auto at_p0 = chain.expect(chain.component(0), request("session/prompt"));
  chain.component(0).send(successor_request("p0-7", "session/prompt", {{"sessionId", "s1"}}));
  auto at_agent = chain.expect(chain.agent(), request("session/prompt"));

  auto update = [](int n) { return make_notification("session/update", {{"sessionId", "s1"}, {"n", n}}); };
  chain.agent().send_together({update(1), update(2), make_request(50, "fs/read_text_file", {{"path", "/a"}}), update(3),
                               make_result(at_agent.id(), {{"stopReason", "end_turn"}})});
  chain.expect(chain.component(0), notification("session/update").wrapped().with_params({{"n", 1}}));
  chain.expect(chain.component(0), notification("session/update").wrapped().with_params({{"n", 2}}));
  auto read = chain.expect(chain.component(0), request("fs/read_text_file").wrapped());
  chain.expect(chain.component(0), notification("session/update").wrapped().with_params({{"n", 3}}));
  chain.expect(chain.component(0), result_for("p0-7").with_result({{"stopReason", "end_turn"}}));

  chain.component(0).send_together({update(1), update(2),
                                    make_request("p0-read", "fs/read_text_file", {{"path", "/a"}}), update(3),
                                    make_result(at_p0.id(), {{"stopReason", "end_turn"}})});
  chain.expect(chain.editor(), notification("session/update").with_params({{"n", 1}}));
  chain.expect(chain.editor(), notification("session/update").with_params({{"n", 2}}));
  auto at_editor = chain.expect(chain.editor(), request("fs/read_text_file"));
  chain.expect(chain.editor(), notification("session/update").with_params({{"n", 3}}));
  chain.expect(chain.editor(), result_for(7).with_result({{"stopReason", "end_turn"}}));

  chain.editor().send(make_result(at_editor.id(), {{"content", "a"}}));
  chain.expect(chain.component(0), result_for("p0-read"));
  chain.component(0).send(make_result(read.id(), {{"content", "a"}}));
  chain.expect(chain.agent(), result_for(50).with_result({{"content", "a"}}));
  chain.expect_quiet();
}

// §4.4 toward the agent: interleaved requests and notifications keep their order on every hop,
// and answers are relayed in the order they arrive.
TEST(routing_order, interleaved_requests_and_notifications_keep_their_order_toward_the_agent) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send_together({make_notification("_n", {{"n", 1}}), make_request(1, "_r", {{"n", 2}}),
                                make_notification("_n", {{"n", 3}}), make_request(2, "_r", {{"n", 4}})});
  chain.expect(chain.component(0), notification("_n").with_exact_params({{"n", 1}}));
  auto r1 = chain.expect(chain.component(0), request("_r").with_exact_params({{"n", 2}}));
  chain.expect(chain.component(0), notification("_n").with_exact_params({{"n", 3}}));
  auto r2 = chain.expect(chain.component(0), request("_r").with_exact_params({{"n", 4}}));

  chain.component(0).send_together({successor_notification("_n", {{"n", 1}}), successor_request("a", "_r", {{"n", 2}}),
                                    successor_notification("_n", {{"n", 3}}),
                                    successor_request("b", "_r", {{"n", 4}})});
  chain.expect(chain.agent(), notification("_n").with_exact_params({{"n", 1}}));
  auto a = chain.expect(chain.agent(), request("_r").with_exact_params({{"n", 2}}));
  chain.expect(chain.agent(), notification("_n").with_exact_params({{"n", 3}}));
  auto b = chain.expect(chain.agent(), request("_r").with_exact_params({{"n", 4}}));

  chain.agent().send_together({make_result(b.id(), {{"r", "b"}}), make_result(a.id(), {{"r", "a"}})});
  chain.expect(chain.component(0), result_for("b").with_result({{"r", "b"}}));
  chain.expect(chain.component(0), result_for("a").with_result({{"r", "a"}}));
  chain.component(0).send_together({make_result(r2.id(), {{"r", "b"}}), make_result(r1.id(), {{"r", "a"}})});
  chain.expect(chain.editor(), result_for(2).with_result({{"r", "b"}}));
  chain.expect(chain.editor(), result_for(1).with_result({{"r", "a"}}));
  chain.expect_quiet();
}

// Known defect (a), §4.3 + §4.5: a peer reuses the id of a request still in flight. Today the
// second request overwrites the first one's entry: the first one's answer is dropped and a cancel
// reaches the second one. Expected: the duplicate is answered -32600 (invalid request: id already
// in use) and goes nowhere; the first request is unaffected (its cancel and its answer still work).
TEST(routing_ids, a_duplicate_editor_id_in_flight_is_refused_and_the_first_request_is_unaffected) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.editor().send(make_request(7, "session/prompt", {{"n", 1}}));
  auto first = chain.expect(chain.component(0), request("session/prompt").with_exact_params({{"n", 1}}));
  chain.editor().send(make_request(7, "session/prompt", {{"n", 2}}));
  chain.expect(chain.editor(), error_for(7, -32600));
  chain.expect_nothing(chain.component(0));
  chain.editor().send(make_notification("$/cancel_request", cancel_params(7)));
  chain.expect(chain.component(0), notification("$/cancel_request").with_exact_params(cancel_params(first.id())));
  chain.component(0).send(make_result(first.id(), {{"n", 1}}));
  chain.expect(chain.editor(), result_for(7).with_result({{"n", 1}}));
  chain.expect_quiet();
}

// Known defect (a) from a component's side: the agent reuses the id of its request in flight.
TEST(routing_ids, a_duplicate_component_id_in_flight_is_refused_and_the_first_request_is_unaffected) {
  scripted_chain chain({"p0", "agent"});
  chain.initialize();
  chain.agent().send(make_request(9, "fs/read_text_file", {{"path", "/first"}}));
  auto first =
      chain.expect(chain.component(0), request("fs/read_text_file").wrapped().with_params({{"path", "/first"}}));
  chain.agent().send(make_request(9, "fs/read_text_file", {{"path", "/second"}}));
  chain.expect(chain.agent(), error_for(9, -32600));
  chain.expect_nothing(chain.component(0));
  chain.agent().send(make_notification("$/cancel_request", cancel_params(9)));
  chain.expect(chain.component(0),
               notification("$/cancel_request").wrapped().with_exact_params(cancel_params(first.id())));
  chain.component(0).send(make_result(first.id(), {{"content", "first"}}));
  chain.expect(chain.agent(), result_for(9).with_result({{"content", "first"}}));
  chain.expect_quiet();
}

// Known defect (b), §4.2 + §4.5: a `$/cancel_request` for a request the conductor still holds
// behind a component's unanswered `initialize`. Today the cancel is ignored (the request is in no
// pending table yet) and the request is delivered after `initialize` as if never cancelled.
// What PROTOCOL.md implies: cancellation is hop-scoped and "the cancelled request still gets
// exactly one response (result or -32800)". A held request has no downstream id to re-issue the
// cancel with: the conductor is the hop that has it. So the conductor answers it -32800 itself
// and drops it from the hold queue (delivering it later would send a request its requester gave
// up on). The rest of the queue is delivered as before, in order.
TEST(routing_cancel, a_cancel_for_a_request_held_behind_initialize_answers_it_cancelled) {
  scripted_chain chain({"p0", "agent"});
  chain.editor().send(make_request(0, "initialize", scripted_chain::init_params()));
  auto init = chain.expect(chain.component(0), request("_proxy/initialize"));
  chain.editor().send(make_request(1, "session/new", {{"cwd", "/"}}));
  chain.editor().send(make_notification("_custom/held", {{"n", 1}}));
  chain.editor().send(make_request(2, "session/list", json::object()));
  chain.editor().send(make_notification("$/cancel_request", cancel_params(1)));
  chain.expect(chain.editor(), error_for(1, -32800));
  chain.expect_nothing(chain.component(0));

  chain.component(0).send(make_result(init.id(), scripted_chain::agent_init_result()));
  chain.expect(chain.component(0), notification("_custom/held").with_exact_params({{"n", 1}}));
  auto list = chain.expect(chain.component(0), request("session/list"));
  chain.expect(chain.editor(), result_for(0));
  chain.component(0).send(make_result(list.id(), {{"sessions", json::array()}}));
  chain.expect(chain.editor(), result_for(2));
  chain.expect_quiet(); // session/new never reached p0
}

} // namespace
} // namespace acp::conductor::test
