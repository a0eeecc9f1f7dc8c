// The arrow proxy's library function, in-process: a scripted raw connection plays the conductor
// on the other end of an in-memory duplex.
#include "arrow.hpp"

#include <acp/sdk/connection.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <vector>

namespace acp::e2e {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

/// One or more arrow proxies, each connected to its own scripted conductor link.
class arrow_fixture : public ::testing::Test {
protected:
  struct link {
    std::shared_ptr<connection> conductor;
    endpoint proxy;
    std::vector<jsonrpc::message> received; // what the proxy sent to the conductor
  };

  link& add_proxy() {
    auto [ours, theirs] = make_memory_duplex(io_.get_executor()).value();
    auto& l = links_.emplace_back(std::make_unique<link>(
        link{nullptr, examples::make_arrow_proxy().connect_to(io_.get_executor(), std::move(theirs)), {}}));
    l->conductor = connection::create(io_.get_executor(), std::move(ours), connection_options{});
    l->conductor->on_message([raw = l.get()](jsonrpc::message m) { raw->received.push_back(std::move(m)); });
    l->conductor->start();
    return *l;
  }

  // A write to a closed in-memory duplex must not kill the test binary (see the report on
  // SIGPIPE in the fd transport).
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }

  /// Runs the loop until `done()` holds (bounded).
  template <class Pred> bool run_until(Pred done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(5ms);
    return done();
  }
  /// Runs the loop until `l` has received `count` messages (bounded).
  bool wait_for(const link& l, std::size_t count) {
    return run_until([&] { return l.received.size() >= count; });
  }

  /// Sends `inner` to the proxy as if it came from the agent (inside `_proxy/successor`).
  static void from_agent(link& l, const json::object& inner) {
    json::object params = inner;
    params.erase("jsonrpc");
    json::object env{{"jsonrpc", "2.0"}, {"method", "_proxy/successor"}, {"params", std::move(params)}};
    l.conductor->send(env);
  }

  static json::object update_notification(json::value update) {
    return json::object{
        {"jsonrpc", "2.0"},
        {"method", "session/update"},
        {"params",
         json::object{{"sessionId", "s1"}, {"update", std::move(update)}, {"_meta", json::object{{"k", 1}}}}}};
  }

  void TearDown() override {
    for (auto& l : links_) l->conductor->close();
    io_.run_for(50ms);
  }

  asio::io_context io_;
  std::vector<std::unique_ptr<link>> links_;
};

const char* const chunk_update = R"({
  "sessionUpdate": "agent_message_chunk",
  "content": {"type": "text", "text": "hello", "annotations": {"priority": 0.5}, "x-unknown": [1, 2]},
  "messageId": "m-1",
  "_meta": {"seq": 7}
})";

TEST_F(arrow_fixture, agent_message_chunk_text_gets_an_arrow_and_nothing_else_changes) {
  auto& l = add_proxy();
  const auto sent = update_notification(json::parse(chunk_update));
  from_agent(l, sent);
  ASSERT_TRUE(wait_for(l, 1));
  const auto& got = l.received.front();
  EXPECT_TRUE(got.is_notification());
  EXPECT_EQ(got.method(), "session/update"); // plain toward the client
  json::object expected = sent;
  expected["params"].at("update").at("content").as_object()["text"] = ">hello";
  EXPECT_EQ(got.json(), expected);
}

TEST_F(arrow_fixture, two_arrow_proxies_give_two_arrows) {
  auto& first = add_proxy();
  auto& second = add_proxy();
  from_agent(first, update_notification(json::parse(chunk_update)));
  ASSERT_TRUE(wait_for(first, 1));
  from_agent(second, first.received.front().json());
  ASSERT_TRUE(wait_for(second, 1));
  EXPECT_EQ(second.received.front().json().at("params").at("update").at("content").at("text"), ">>hello");
}

TEST_F(arrow_fixture, other_updates_pass_through_unchanged) {
  auto& l = add_proxy();
  const std::vector<json::value> updates = {
      json::parse(R"({"sessionUpdate":"agent_thought_chunk","content":{"type":"text","text":"thinking"}})"),
      json::parse(R"({"sessionUpdate":"user_message_chunk","content":{"type":"text","text":"user"}})"),
      json::parse(
          R"({"sessionUpdate":"agent_message_chunk","content":{"type":"image","data":"AA==","mimeType":"image/png"}})"),
      json::parse(R"({"sessionUpdate":"tool_call","toolCallId":"c1","title":"Read","kind":"read"})"),
      json::parse(R"({"sessionUpdate":"some_future_update","text":"keep"})"),
  };
  for (const auto& u : updates) from_agent(l, update_notification(u));
  ASSERT_TRUE(wait_for(l, updates.size()));
  for (std::size_t i = 0; i < updates.size(); ++i)
    EXPECT_EQ(l.received[i].json(), update_notification(updates[i])) << i;
}

TEST_F(arrow_fixture, session_update_from_the_client_side_is_not_touched) {
  auto& l = add_proxy();
  const auto sent = update_notification(json::parse(chunk_update));
  l.conductor->send(sent); // plain: from the client, forwarded to the agent inside an envelope
  ASSERT_TRUE(wait_for(l, 1));
  const auto& got = l.received.front();
  EXPECT_EQ(got.method(), "_proxy/successor");
  EXPECT_EQ(got.json().at("params").at("method"), "session/update");
  EXPECT_EQ(got.json().at("params").at("params"), sent.at("params"));
}

TEST_F(arrow_fixture, requests_from_the_agent_are_forwarded_and_answered) {
  auto& l = add_proxy();
  // An agent -> client request (enveloped) leaves the proxy plain; the client's answer goes
  // back to the requester unchanged.
  json::object req{{"jsonrpc", "2.0"},
                   {"id", 0},
                   {"method", "_proxy/successor"},
                   {"params", json::object{{"method", "fs/read_text_file"},
                                           {"params", json::object{{"sessionId", "s1"}, {"path", "/x"}}}}}};
  auto checked = jsonrpc::check(json::value(req));
  ASSERT_TRUE(std::holds_alternative<jsonrpc::message>(checked));
  std::optional<jsonrpc::message> answer;
  (void)l.conductor->send_request(std::get<jsonrpc::message>(std::move(checked)),
                                  [&](jsonrpc::message m) { answer = std::move(m); });
  ASSERT_TRUE(wait_for(l, 1));
  const auto& fwd = l.received.front();
  ASSERT_TRUE(fwd.is_request());
  EXPECT_EQ(fwd.method(), "fs/read_text_file");
  EXPECT_EQ(*fwd.params(), req.at("params").at("params"));
  l.conductor->send_result(fwd.id(), json::object{{"content", "x"}, {"_meta", json::object{{"m", 1}}}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  ASSERT_NE(answer->result(), nullptr);
  EXPECT_EQ(*answer->result(), (json::object{{"content", "x"}, {"_meta", json::object{{"m", 1}}}}));
}

TEST(arrow_add_arrow, edits_only_text_agent_message_chunks) {
  auto ok = json::parse(R"({"update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":""}}})");
  EXPECT_TRUE(examples::add_arrow(ok));
  EXPECT_EQ(ok.at("update").at("content").at("text"), ">");
  for (const char* text : {R"(null)", R"([])", R"({"update":5})", R"({"update":{"sessionUpdate":"plan"}})",
                           R"({"update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":3}}})",
                           R"({"update":{"sessionUpdate":"agent_message_chunk"}})"}) {
    auto v = json::parse(text);
    const auto before = v;
    EXPECT_FALSE(examples::add_arrow(v)) << text;
    EXPECT_EQ(v, before) << text;
  }
}

} // namespace
} // namespace acp::e2e
