// The forwarding core (acp/sdk/forwarding.hpp): requests received on links are answered exactly
// once under the peer's own id, duplicates are refused without disturbing the first, cancels
// reach whoever holds the request, and a proxy's default forwarding goes through it.

#include "test_support.hpp"

#include <acp/protocol/envelope.hpp>
#include <acp/sdk.hpp>
#include <acp/sdk/forwarding.hpp>

#include <gtest/gtest.h>

namespace acp::test {
namespace {

struct recorded_answer {
  link_id link;
  json::value message;
};

class inbound_table_test : public ::testing::Test {
protected:
  std::vector<recorded_answer> answers;
  inbound_table table{[this](link_id l, jsonrpc::message m) {
    answers.push_back({l, json::value(std::move(m).release())});
  }};

  static jsonrpc::message request(json::value id, std::string_view method = "session/prompt") {
    return jsonrpc::message::request(std::move(id), method, json::object());
  }
};

TEST_F(inbound_table_test, answer_carries_the_peers_id_and_is_sent_once) {
  auto in = table.accept(3, request("abc"));
  ASSERT_TRUE(in);
  EXPECT_TRUE(in->answer(jsonrpc::message::response(77, json::value("first"))));
  EXPECT_FALSE(in->answer(jsonrpc::message::response(77, json::value("second"))));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].link, 3u);
  EXPECT_EQ(answers[0].message.at("id"), json::value("abc"));
  EXPECT_EQ(answers[0].message.at("result"), json::value("first"));
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(inbound_table_test, duplicate_id_in_flight_is_refused_and_the_first_is_kept) {
  auto first = table.accept(1, request(5));
  ASSERT_TRUE(first);
  EXPECT_FALSE(table.accept(1, request(5)));
  // Same id on another link, or "5" (a string) on the same link, are other requests.
  EXPECT_TRUE(table.accept(2, request(5)));
  EXPECT_TRUE(table.accept(1, request("5")));
  bool cancelled = false;
  first->on_cancel([&] { cancelled = true; });
  EXPECT_TRUE(table.cancel(1, json::value(5)));
  EXPECT_TRUE(cancelled) << "the first request's cancel was lost to the duplicate";
  EXPECT_EQ(table.duplicate_id_error(json::value(5)).code, error_codes::invalid_request);
}

TEST_F(inbound_table_test, id_is_free_again_once_answered) {
  auto first = table.accept(1, request(9));
  ASSERT_TRUE(first && first->answer_error(rpc_error::internal_error("x")));
  auto again = table.accept(1, request(9));
  ASSERT_TRUE(again);
  // The old handle going away must not unregister the new request.
  first.reset();
  EXPECT_EQ(table.find(1, json::value(9)), again);
}

TEST_F(inbound_table_test, cancel_runs_callbacks_once_and_only_while_unanswered) {
  auto in = table.accept(1, request(1));
  int runs = 0;
  in->on_cancel([&] { ++runs; });
  EXPECT_TRUE(table.cancel(1, json::value(1)));
  EXPECT_FALSE(table.cancel(1, json::value(1))) << "a second cancel runs nothing";
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(in->cancelled());
  in->on_cancel([&] { ++runs; }); // already cancelled: runs at once
  EXPECT_EQ(runs, 2);
  (void)in->answer_error(rpc_error::request_cancelled());
  EXPECT_FALSE(table.cancel(1, json::value(1))) << "answered: nothing left to cancel";
  EXPECT_FALSE(table.cancel(1, json::value(404)));
}

TEST_F(inbound_table_test, a_request_let_go_unanswered_is_answered_internal_error) {
  table.accept(4, request(12)).reset();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].link, 4u);
  EXPECT_EQ(answers[0].message.at("id"), json::value(12));
  EXPECT_EQ(answers[0].message.at("error").at("code"), json::value(error_codes::internal_error));
  EXPECT_EQ(answers[0].message.at("error").at("data").at("reason"), json::value("request_dropped"));
}

TEST_F(inbound_table_test, fail_link_answers_that_links_requests_only) {
  auto a = table.accept(1, request(1));
  auto b = table.accept(1, request(2));
  auto c = table.accept(2, request(1));
  table.fail_link(1, rpc_error::internal_error("link closed"));
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& ans : answers) EXPECT_EQ(ans.link, 1u);
  EXPECT_TRUE(a->answered() && b->answered());
  EXPECT_FALSE(c->answered());
  // Quietly: marked answered, nothing sent (the link cannot carry answers any more).
  table.fail_link(2, rpc_error::internal_error("gone"), false);
  EXPECT_TRUE(c->answered());
  EXPECT_EQ(answers.size(), 2u);
  c.reset();
  EXPECT_EQ(answers.size(), 2u) << "a quietly failed request must not be answered when dropped";
}

TEST_F(inbound_table_test, requests_outliving_the_table_do_not_reach_it) {
  inbound_ptr survivor;
  {
    inbound_table t([](link_id, jsonrpc::message) { FAIL() << "answered through a destroyed table"; });
    survivor = t.accept(1, request(1));
  }
  EXPECT_FALSE(survivor->answer(jsonrpc::message::response(1, nullptr)));
  survivor.reset();
}

// ---- through a proxy: the SDK's default forwarding uses the core -------------------------

using forwarding_proxy_test = sdk_test;

const json::object* find_wrapped(const line_peer& peer, std::string_view method, std::size_t nth = 0) {
  std::size_t seen = 0;
  for (const auto& m : peer.messages) {
    const auto& o = m.get_object();
    const auto* meth = o.if_contains("method");
    if (!meth || !meth->is_string() || !proxy_protocol::is_successor_method(meth->get_string())) continue;
    const auto& inner = o.at("params").get_object();
    if (inner.at("method") != json::value(method)) continue;
    if (seen++ == nth) return &o;
  }
  return nullptr;
}

TEST_F(forwarding_proxy_test, duplicate_request_id_from_the_client_is_refused_and_the_first_still_works) {
  proxy_builder b;
  auto [ep, peer] = wire(b);
  peer->send(R"({"jsonrpc":"2.0","id":7,"method":"session/prompt","params":{"sessionId":"s"}})");
  ASSERT_TRUE(run_until([&] { return find_wrapped(*peer, "session/prompt") != nullptr; }));
  peer->send(R"({"jsonrpc":"2.0","id":7,"method":"session/prompt","params":{"sessionId":"dup"}})");
  ASSERT_TRUE(run_until([&] { return peer->response_to(json::value(7)) != nullptr; }));
  EXPECT_EQ(error_code_of(peer->response_to(json::value(7))), error_codes::invalid_request);
  EXPECT_EQ(find_wrapped(*peer, "session/prompt", 1), nullptr) << "the duplicate must not be forwarded";

  // The first request's cancel is re-issued with the id the proxy used toward the agent.
  const auto wire_id = find_wrapped(*peer, "session/prompt")->at("id");
  peer->send(R"({"jsonrpc":"2.0","method":"$/cancel_request","params":{"requestId":7}})");
  ASSERT_TRUE(run_until([&] { return find_wrapped(*peer, "$/cancel_request") != nullptr; }));
  const auto& cancel = find_wrapped(*peer, "$/cancel_request")->at("params").at("params");
  EXPECT_EQ(cancel.at("requestId"), wire_id);

  // And its response reaches the client under id 7.
  json::object resp;
  resp["jsonrpc"] = "2.0";
  resp["id"] = wire_id;
  resp["result"] = json::parse(R"({"stopReason":"cancelled"})");
  peer->send(json::value(std::move(resp)));
  ASSERT_TRUE(run_until([&] {
    return peer->select([](const json::object& o) { return o.contains("result") && o.at("id") == json::value(7); })
               .size() == 1;
  }));
}

} // namespace
} // namespace acp::test
