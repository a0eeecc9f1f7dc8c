// The limit on concurrently running spawned tasks: extra tasks wait in order, and when too many
// wait, the connection stops reading (back-pressure) until they have started.

#include "test_support.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

namespace acp::test {
namespace {

class task_limit_test : public sdk_test {};

TEST_F(task_limit_test, tasks_over_the_limit_wait_and_reading_pauses_when_too_many_wait) {
  agent_builder agent;
  endpoint_options o;
  o.max_running_tasks = 2;
  o.max_waiting_tasks = 2;
  agent.options(o);
  int dispatched = 0, running = 0, peak_running = 0;
  auto release = std::make_shared<asio::steady_timer>(ex(), asio::steady_timer::time_point::max());
  agent.on_receive_request_from(acp::client, "work", [&, release](jsonrpc::message&, responder& r, context& cx) {
    ++dispatched;
    cx.spawn([](responder rr, std::shared_ptr<asio::steady_timer> gate, int* run, int* peak) -> asio::awaitable<void> {
      ++*run;
      *peak = std::max(*peak, *run);
      boost::system::error_code ec;
      co_await gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      --*run;
      rr.respond(json::object{{"done", true}});
    }(std::move(r), release, &running, &peak_running));
    return handled::yes;
  });
  auto w = wire(agent);
  for (int i = 0; i < 10; ++i)
    w.peer->send(json::value{{"jsonrpc", "2.0"}, {"id", i}, {"method", "work"}, {"params", json::object()}});
  // 2 run, 2 wait, then reading stops: the other 6 requests stay unread.
  ASSERT_TRUE(run_until([&] { return dispatched >= 4; }));
  run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(dispatched, 4);
  EXPECT_EQ(running, 2);
  EXPECT_TRUE(w.peer->messages.empty());

  release->cancel(); // finish everything that waits now; later tasks find the timer at max again
  ASSERT_TRUE(run_until([&] { return dispatched == 10 || w.peer->messages.size() >= 4; }));
  // Keep releasing until every request is answered.
  ASSERT_TRUE(run_until(
      [&] {
        release->cancel();
        return w.peer->messages.size() == 10;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(dispatched, 10);
  EXPECT_LE(peak_running, 2);
  std::set<std::int64_t> ids;
  for (auto& m : w.peer->messages) ids.insert(m.at("id").as_int64());
  EXPECT_EQ(ids.size(), 10u) << "every request answered exactly once";
}

TEST_F(task_limit_test, a_task_spawned_after_shutdown_began_runs_within_the_grace_period) {
  // Before: with every running slot taken, a task spawned once shutdown had begun went to the
  // waiting queue, which shutdown never drains again: it was neither started nor dropped.
  client_builder client;
  endpoint_options o;
  o.max_running_tasks = 1;
  o.grace_period = 2s;
  client.options(o);
  auto w = wire(client);
  bool first_done = false, late_ran = false;
  w.ep.cx().spawn([](bool& done) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 30ms);
    co_await t.async_wait(asio::use_awaitable);
    done = true;
  }(first_done));
  w.ep.shutdown();
  w.ep.cx().spawn([](context cx, bool& ran) -> asio::awaitable<void> {
    cx.send_notification_to(acp::agent, "late/words", std::nullopt);
    ran = true;
    co_return;
  }(w.ep.cx(), late_ran));
  ASSERT_TRUE(run_until([&] { return w.ep.done(); }, 3s));
  EXPECT_TRUE(first_done);
  EXPECT_TRUE(late_ran) << "the task spawned during shutdown never ran";
  ASSERT_TRUE(run_until([&] { return w.peer->eof; }));
  EXPECT_EQ(w.peer->with_method("late/words").size(), 1u);
}

} // namespace
} // namespace acp::test
