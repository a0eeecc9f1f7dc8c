// Back-pressure: a peer floods small notifications through an endpoint whose handler forwards
// each to a connection whose reader is paused. Memory must stay bounded: the forwarding queue
// never grows past twice the high watermark plus what one read chunk can carry (what waits, up
// to the watermark and one chunk, and the batch being written, which waited before).

#include "test_support.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

// Live heap bytes of this test binary: a counting global operator new/delete (16-byte header
// holding the size, so alignment stays that of malloc).
namespace heap {
std::atomic<std::size_t> live{0}, peak{0};
void* allocate(std::size_t n) {
  auto* p = static_cast<unsigned char*>(std::malloc(n + 16));
  if (!p) throw std::bad_alloc();
  *reinterpret_cast<std::size_t*>(p) = n;
  const auto now = live.fetch_add(n, std::memory_order_relaxed) + n;
  if (now > peak.load(std::memory_order_relaxed)) peak.store(now, std::memory_order_relaxed);
  return p + 16;
}
void release(void* q) noexcept {
  if (!q) return;
  auto* p = static_cast<unsigned char*>(q) - 16;
  live.fetch_sub(*reinterpret_cast<std::size_t*>(p), std::memory_order_relaxed);
  std::free(p);
}
} // namespace heap

void* operator new(std::size_t n) { return heap::allocate(n); }
void* operator new[](std::size_t n) { return heap::allocate(n); }
void operator delete(void* p) noexcept { heap::release(p); }
void operator delete[](void* p) noexcept { heap::release(p); }
void operator delete(void* p, std::size_t) noexcept { heap::release(p); }
void operator delete[](void* p, std::size_t) noexcept { heap::release(p); }

namespace acp::test {
namespace {

std::size_t flood_count() {
  if (const char* s = std::getenv("ACP_FLOOD_COUNT")) return std::strtoull(s, nullptr, 10);
#if defined(__SANITIZE_ADDRESS__)
  return 200'000; // the sanitizer build is several times slower
#else
  return 1'000'000;
#endif
}

using flood_test = sdk_test;

TEST_F(flood_test, a_flood_through_a_slow_reader_keeps_memory_bounded) {
  const std::size_t n = flood_count();
  constexpr std::size_t high_watermark = 1 << 20;
  constexpr std::size_t read_chunk = 64 * 1024; // connection.cpp reads at most this much at once
  constexpr std::size_t max_message = 128;      // our notifications are ~50 bytes

  // The forwarding endpoint and its outgoing connection share one gate: when the outgoing queue
  // is congested, the endpoint stops reading.
  auto gate = std::make_shared<flow_gate>(ex());
  auto slow_gate = std::make_shared<flow_gate>(ex());
  slow_gate->congest(); // the final reader starts paused

  auto [t_flood, t_ep] = make_memory_duplex(ex()).value();
  auto [t_out, t_slow] = make_memory_duplex(ex()).value();

  connection_options out_opts;
  out_opts.name = "out";
  out_opts.gate = gate;
  out_opts.write_high_watermark = high_watermark;
  auto out = raw(std::move(t_out), out_opts);
  out->start();

  std::size_t received = 0;
  bool in_order = true;
  connection_options slow_opts;
  slow_opts.name = "slow";
  slow_opts.gate = slow_gate;
  auto slow = raw(std::move(t_slow), slow_opts);
  slow->on_message([&](jsonrpc::message m) {
    in_order = in_order && m.params()->at("i").as_int64() == static_cast<std::int64_t>(received);
    ++received;
  });
  slow->start();

  std::size_t max_queued = 0, forwarded = 0;
  agent_builder b;
  endpoint_options eo;
  eo.connection.gate = gate;
  eo.connection.write_high_watermark = high_watermark;
  b.options(eo);
  b.on_receive_notification_from(acp::client, "flood", [&](jsonrpc::message& m, context&) {
    out->send(std::move(m));
    ++forwarded;
    max_queued = std::max(max_queued, out->queued_bytes());
    return handled::yes;
  });
  auto ep = b.connect_to(ex(), std::move(t_ep));
  endpoints_.push_back(ep);

  // The flooding peer writes as fast as its own writer drains (so its memory stays small too).
  auto flood = raw(std::move(t_flood));
  flood->start();
  bool produced = false;
  asio::co_spawn(
      ex(),
      [](std::shared_ptr<connection> c, std::size_t count, bool& done) -> asio::awaitable<void> {
        for (std::size_t i = 0; i < count; ++i) {
          c->send_notification("flood", json::value{{"i", i}});
          while (c->queued_bytes() > 256 * 1024 && !c->closed()) {
            asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
            co_await t.async_wait(asio::use_awaitable);
          }
        }
        done = true;
      }(flood, n, produced),
      asio::detached);

  const auto heap_before = heap::live.load();
  heap::peak.store(heap_before);
  const auto start = std::chrono::steady_clock::now();
  // Phase 1: the final reader is paused. The gate must close and the endpoint stop reading.
  ASSERT_TRUE(run_until([&] { return !gate->is_open(); }, 10s)) << "back-pressure never engaged";
  run_for(100ms);
  const auto bytes_in = ep.cx().conn().statistics().bytes_in;
  const auto forwarded_paused = forwarded;
  run_for(100ms);
  EXPECT_EQ(ep.cx().conn().statistics().bytes_in, bytes_in) << "the endpoint kept reading while congested";
  EXPECT_EQ(forwarded, forwarded_paused);
  EXPECT_EQ(received, 0u);
  EXPECT_LE(max_queued, 2 * (high_watermark + read_chunk + max_message));

  // Phase 2: the reader resumes; everything arrives, in order, with the queue still bounded.
  slow_gate->relieve();
  ASSERT_TRUE(run_until([&] { return received == n; }, 60s)) << received << " of " << n << " arrived";
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(produced);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(forwarded, n);
  EXPECT_LE(max_queued, 2 * (high_watermark + read_chunk + max_message));
  EXPECT_GE(max_queued, high_watermark) << "the test did not reach the watermark";
  // The whole process: without back-pressure the forwarding queue alone would hold every
  // message (~50 bytes each, tens of MiB); with it the heap grows by a few buffers.
  const auto heap_growth = heap::peak.load() - heap_before;
  EXPECT_LT(heap_growth, std::size_t{16} << 20);
  std::printf("flood: %zu notifications in %.2f s, peak forwarding queue %zu bytes (watermark %zu), "
              "peak heap growth %.1f MiB\n",
              n, std::chrono::duration<double>(took).count(), max_queued, high_watermark,
              static_cast<double>(heap_growth) / (1 << 20));
}

} // namespace
} // namespace acp::test
