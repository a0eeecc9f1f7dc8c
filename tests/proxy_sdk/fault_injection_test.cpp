// Fault injection at every I/O step (Beast's fail_count loop): a connection talking to a peer
// over a transport whose Nth read (or Nth write) fails, for N = 1, 2, ... until a run needs no
// failure. Whatever step fails, every request on both sides is answered exactly once, both
// connections finish, and nothing hangs.

#include "fault_transport.hpp"
#include "large_message_support.hpp"

#include <map>

namespace acp::test {
namespace {

class fault_injection_test : public sdk_test {
protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }

  static constexpr int requests = 4; // a's requests, one at a time; the second is large

  /// One run with the `n`th operation of kind `op` failing on a's transport. Returns whether
  /// the failure fired (false: the scenario has fewer steps than `n`).
  bool run_once(fail_count::op op, std::size_t n) {
    SCOPED_TRACE((op == fail_count::op::read ? "read " : "write ") + std::to_string(n));
    auto fc = std::make_shared<fail_count>(op, n);
    auto [ta, tb] = make_memory_duplex(ex()).value();
    auto a = connection::create(ex(), std::make_unique<failing_transport>(std::move(ta), fc), {.name = "a"});
    auto b = connection::create(ex(), std::move(tb), {.name = "b"});
    const auto echo = [](connection& c) {
      return [&c](jsonrpc::message m) {
        if (m.is_request()) c.send_result(m.id(), json::value{{"echo", m.params() ? *m.params() : json::value()}});
      };
    };
    a->on_message(echo(*a));
    b->on_message(echo(*b));

    // a sends its requests one after the other, each from the previous one's callback, also
    // after a failure (those must be answered too, from a posted handler). The callbacks hold
    // the state, so a late one (a failing test) touches nothing of this frame.
    struct state {
      std::map<std::int64_t, int> a_answers;
      int sent = 0, b_answers = 0;
      std::weak_ptr<connection> a;
      std::size_t seed = 0;
      static void next(const std::shared_ptr<state>& st) {
        auto a = st->a.lock();
        if (!a || st->sent == requests) return;
        ++st->sent;
        response_callback cb = [st](jsonrpc::message m) {
          ++st->a_answers[m.id().as_int64()];
          next(st);
        };
        if (st->sent == 2)
          (void)a->send_request(text_request("big", payload(1536 * KiB, static_cast<unsigned>(st->seed))),
                                std::move(cb));
        else
          (void)a->send_request("q", json::value{{"i", st->sent}}, std::move(cb));
      }
    };
    auto st = std::make_shared<state>();
    st->a = a;
    st->seed = n;
    a->start();
    b->start();
    state::next(st);
    b->send_notification("hello");
    (void)b->send_request("ask", {}, [st](jsonrpc::message) { ++st->b_answers; });
    const auto& a_answers = st->a_answers;
    const auto& b_answers = st->b_answers;

    const bool answered = run_until([&] { return static_cast<int>(a_answers.size()) == requests; });
    EXPECT_TRUE(answered) << a_answers.size() << " of a's requests answered";
    a->close();
    EXPECT_TRUE(run_until([&] { return b_answers == 1 && a->closed(); })) << "b answered " << b_answers;
    b->close();
    EXPECT_TRUE(run_until([&] { return b->closed(); }));
    run_for(2ms);
    for (const auto& [id, count] : a_answers) EXPECT_EQ(count, 1) << "request " << id;
    EXPECT_EQ(b_answers, 1);
    EXPECT_EQ(a->pending_requests(), 0u);
    EXPECT_EQ(b->pending_requests(), 0u);
    a->abort();
    b->abort();
    run_for(1ms);
    return fc->fired;
  }

  /// Runs with N = 1, 2, ... until a run completes without failing; returns the steps covered.
  std::size_t every_step(fail_count::op op) {
    std::size_t n = 1;
    for (; n < 1000 && !HasFailure(); ++n)
      if (!run_once(op, n)) break;
    return n - 1;
  }
};

TEST_F(fault_injection_test, a_read_failing_at_any_step_answers_every_request_once_and_nothing_hangs) {
  const auto steps = every_step(fail_count::op::read);
  EXPECT_FALSE(HasFailure()) << "at read step " << steps + 1;
  EXPECT_GE(steps, 8u) << "the scenario reads a large response: it takes many reads";
}

TEST_F(fault_injection_test, a_write_failing_at_any_step_answers_every_request_once_and_nothing_hangs) {
  const auto steps = every_step(fail_count::op::write);
  EXPECT_FALSE(HasFailure()) << "at write step " << steps + 1;
  EXPECT_GE(steps, 5u) << "each request is its own write, the large one two";
}

} // namespace
} // namespace acp::test
