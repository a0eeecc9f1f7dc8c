// The harness of the routing tests (scripted_peer.hpp) fails when it should: a routing test
// whose expectations cannot fail would prove nothing.
#include "scripted_peer.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace acp::conductor::test {
namespace {

/// A chain whose agent has just received the editor's `initialize` (request id 0 upstream).
struct agent_got_initialize {
  scripted_chain chain{{"agent"}};
  agent_got_initialize() {
    chain.timeout = 100ms; // the failures below wait for the deadline
    chain.editor().send(make_request(0, "initialize", scripted_chain::init_params()));
  }
};

/// A chain that refused the editor's first request (id 1, not `initialize`): -32600.
struct editor_got_refusal {
  scripted_chain chain{{"agent"}};
  editor_got_refusal() {
    chain.timeout = 100ms;
    chain.editor().send(make_request(1, "session/new", json::object()));
  }
};

TEST(scripted_chain_harness, expect_fails_on_another_method_kind_or_envelope) {
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.agent(), request("session/new")), "another method");
  }
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.agent(), notification("initialize")),
                            "a request, not a notification");
  }
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.agent(), request("initialize").wrapped()),
                            "not inside _proxy/successor");
  }
  {
    editor_got_refusal t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.editor(), request("session/new")), "a response");
  }
}

TEST(scripted_chain_harness, expect_fails_on_another_id_params_result_or_error) {
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(
        t.chain.expect(t.chain.agent(), request("initialize").with_params({{"protocolVersion", 2}})), "params differ");
  }
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.agent(), request("initialize").without_param("protocolVersion")),
                            "params have");
  }
  {
    editor_got_refusal t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.editor(), error_for("1", -32600)), "another id");
  }
  {
    editor_got_refusal t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.editor(), error_for(1, -32601)), "another error code");
  }
  {
    editor_got_refusal t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.editor(), error_for(1, -32600).with_data({{"x", 1}})),
                            "error.data differs");
  }
  {
    editor_got_refusal t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.editor(), result_for(1)), "an error, not a result");
  }
}

TEST(scripted_chain_harness, expect_fails_at_the_deadline_when_nothing_arrives) {
  agent_got_initialize t;
  EXPECT_NONFATAL_FAILURE(t.chain.expect(t.chain.editor(), result_for(0)), "nothing arrived within 100 ms");
}

TEST(scripted_chain_harness, expect_nothing_and_expect_quiet_fail_on_an_unread_message) {
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect_nothing(t.chain.agent()), "unexpected");
  }
  {
    agent_got_initialize t;
    EXPECT_NONFATAL_FAILURE(t.chain.expect_quiet(), "agent: unexpected");
  }
}

TEST(scripted_chain_harness, expect_eof_fails_while_the_link_is_open) {
  agent_got_initialize t;
  (void)t.chain.expect(t.chain.agent(), request("initialize"));
  EXPECT_NONFATAL_FAILURE(t.chain.expect_eof(t.chain.agent()), "still open");
}

TEST(scripted_chain_harness, expect_in_any_order_fails_on_a_message_matching_none) {
  agent_got_initialize t;
  EXPECT_NONFATAL_FAILURE(t.chain.expect_in_any_order(t.chain.agent(), {request("a"), request("b")}),
                          "expected one of");
}

} // namespace
} // namespace acp::conductor::test
