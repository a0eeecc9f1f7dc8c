// Lifetimes around an endpoint: a spawned lambda keeps its captures, a handler that captures the
// context does not keep the endpoint alive, a client runs one coroutine to completion with
// `run_until` and shuts down in order.

#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>

namespace acp::test {
namespace {

class endpoint_lifetime_test : public sdk_test {
protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); } // a peer that is gone is a failed write
};

/// Counts live copies (copies made by lambdas and std::function included).
struct tracked {
  explicit tracked(int* live) : live_(live) { ++*live_; }
  tracked(const tracked& o) : live_(o.live_) { ++*live_; }
  tracked& operator=(const tracked&) = delete;
  ~tracked() { --*live_; }
  int* live_;
};

TEST_F(endpoint_lifetime_test, spawn_keeps_the_callable_and_its_captures_alive_until_the_task_ends) {
  client_builder client;
  auto w = wire(client);
  int live = 0;
  std::string seen;
  {
    // The lambda is a temporary: its captures must live in the task, not in this statement.
    w.ep.cx().spawn([guard = tracked(&live), text = std::string(100, 'x'), &seen]() -> asio::awaitable<void> {
      asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
      co_await t.async_wait(asio::use_awaitable);
      seen = text; // after a suspension: the capture must still be there
    });
  }
  EXPECT_EQ(live, 1); // held by the task
  ASSERT_TRUE(run_until([&] { return !seen.empty(); }));
  EXPECT_EQ(seen, std::string(100, 'x'));
  ASSERT_TRUE(run_until([&] { return live == 0; })); // released when the task has ended
}

TEST_F(endpoint_lifetime_test, handlers_that_capture_the_context_do_not_keep_the_endpoint_alive) {
  int live = 0;
  std::weak_ptr<connection> conn;
  std::shared_ptr<line_peer> peer;
  {
    auto [a, z] = make_memory_duplex(ex()).value();
    endpoint ep = [&] {
      agent_builder agent;
      // A builder handler that keeps a context (through shared state), and a per-session handler
      // that captures it: both are held by the runtime the context owns.
      auto kept = std::make_shared<std::optional<context>>();
      agent.on_receive_request_from(
          acp::client, "session/new", [kept, guard = tracked(&live)](jsonrpc::message&, responder& r, context& cx) {
            *kept = cx;
            cx.on_session_notification("s1", acp::client, "",
                                       [cx, guard](jsonrpc::message&, context&) { return handled::yes; });
            r.respond(json::value{{"sessionId", "s1"}});
            return handled::yes;
          });
      return agent.connect_to(ex(), std::move(a));
    }(); // the builder (and its copy of the handlers) is gone
    conn = ep.cx().conn().weak_from_this();
    peer = make_peer(std::move(z));
    peer->send(R"({"jsonrpc":"2.0","id":1,"method":"session/new","params":{"cwd":"/","mcpServers":[]}})");
    ASSERT_TRUE(run_until([&] { return peer->response_to(1) != nullptr; }));
    EXPECT_EQ(live, 2); // the runtime's handler and the session handler
    peer->shutdown_write();
    ASSERT_TRUE(run_until([&] { return ep.done(); }));
  }
  run_for(20ms);
  EXPECT_EQ(live, 0) << "a handler holding the context outlived the endpoint";
  EXPECT_TRUE(conn.expired()) << "the runtime (and its connection) leaked through a captured context";
}

TEST_F(endpoint_lifetime_test, run_until_returns_mains_value_after_an_orderly_shutdown) {
  auto [ta, tb] = make_memory_duplex(ex()).value();
  std::vector<std::string> agent_saw;
  agent_builder agent;
  agent.on_receive_request_from(acp::client, [&](initialize_request req, responder r, context) {
    agent_saw.push_back("initialize");
    initialize_response res;
    res.protocol_version = req.protocol_version;
    r.respond(res);
  });
  agent.on_receive_notification_from(acp::client, "bye", [&](jsonrpc::message&, context&) {
    agent_saw.push_back("bye");
    return handled::yes;
  });
  auto a = agent.connect_to(ex(), std::move(tb));
  endpoints_.push_back(a);

  client_builder client;
  const int code = client.run_until(io, std::move(ta), [](context cx) -> asio::awaitable<int> {
    initialize_request init;
    init.protocol_version = 7;
    auto answer = co_await cx.send_request_to(acp::agent, init).response();
    // Sent last, just before main returns: the shutdown must still flush it.
    cx.send_notification_to(acp::agent, "bye", std::nullopt);
    co_return answer ? static_cast<int>(answer->protocol_version) : -1;
  });
  EXPECT_EQ(code, 7);
  // The client's endpoint has closed its output: the agent reads the end of the stream.
  ASSERT_TRUE(run_until([&] { return a.done(); }));
  EXPECT_EQ(agent_saw, (std::vector<std::string>{"initialize", "bye"}));
  EXPECT_EQ(a.close_status()->reason, close_reason::eof);
}

TEST_F(endpoint_lifetime_test, run_until_rethrows_mains_exception_after_the_shutdown) {
  auto [ta, tb] = make_memory_duplex(ex()).value();
  auto peer = make_peer(std::move(tb));
  client_builder client;
  EXPECT_THROW((void)client.run_until(io, std::move(ta),
                                      [](context) -> asio::awaitable<int> {
                                        throw std::runtime_error("main failed");
                                        co_return 0;
                                      }),
               std::runtime_error);
  ASSERT_TRUE(run_until([&] { return peer->eof; })); // the connection was closed all the same
}

TEST_F(endpoint_lifetime_test, run_until_main_goes_on_when_the_agent_goes_away) {
  auto [ta, tb] = make_memory_duplex(ex()).value();
  auto peer = make_peer(std::move(tb));
  peer->close(); // the agent is gone before it answers anything
  client_builder client;
  const auto code = client.run_until(io, std::move(ta), [](context cx) -> asio::awaitable<std::string> {
    auto answer = co_await cx.send_request_to(acp::agent, initialize_request{}).response();
    co_return answer ? std::string("answered") : "error " + std::to_string(answer.error().code);
  });
  EXPECT_EQ(code, "error -32603");
}

} // namespace
} // namespace acp::test
