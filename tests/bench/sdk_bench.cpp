// Proxy SDK throughput and latency over in-memory transports (docs/benchmarks.md).
//
// Three shapes of the same SDK client and SDK agent, all on one io_context thread:
//   direct    — client <-> agent on one socket pair;
//   conductor — client <-> relay <-> agent: a minimal in-process conductor (raw connections,
//               fresh ids per hop, responses mapped back), no proxy;
//   proxy     — client <-> relay <-> pass-through acp::proxy_builder <-> relay <-> agent, the
//               relay wrapping and unwrapping `_proxy/successor` as the real conductor does.
// "proxy" minus "conductor" is the cost of one pass-through proxy; "conductor" minus "direct" is
// the cost of the extra hops any chain has.
//   BM_notifications — the agent streams N session/update notifications (~170 bytes each) to the
//                      client; items/s is notifications delivered per second.
//   BM_round_trip    — the client sends a small request and waits for its response; the time
//                      per iteration is one round trip.
#include <acp/protocol/envelope.hpp>
#include <acp/sdk.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace pp = acp::proxy_protocol;

enum class shape { direct, conductor, proxy };

/// Sends `m` on `to`; a request's response goes back on `from` under `answer_id`.
void relay(const std::shared_ptr<acp::connection>& to, const std::shared_ptr<acp::connection>& from,
           acp::jsonrpc::message m, json::value answer_id) {
  if (!m.is_request()) return to->send(std::move(m));
  to->send_request(std::move(m), [from, answer_id = std::move(answer_id)](acp::jsonrpc::message resp) mutable {
    resp.set_id(std::move(answer_id));
    from->send(std::move(resp));
  });
}

class chain {
public:
  explicit chain(shape s) {
    acp::agent_builder agent;
    agent.on_receive_request_from(acp::client, "bench/echo",
                                  [](acp::jsonrpc::message& m, acp::responder& r, acp::context&) {
                                    r.respond(m.params() ? *m.params() : json::value(json::object{}));
                                    return acp::handled::yes;
                                  });
    acp::client_builder client;
    client.on_receive_notification_from(acp::agent, "session/update", [this](acp::jsonrpc::message&, acp::context&) {
      ++notifications_;
      return acp::handled::yes;
    });
    auto ex = io_.get_executor();
    if (s == shape::direct) {
      auto [t_client, t_agent] = acp::make_memory_duplex(ex).value();
      client_ = client.connect_to(ex, std::move(t_client));
      agent_ = agent.connect_to(ex, std::move(t_agent));
      return;
    }
    auto [t_client, t_cc] = acp::make_memory_duplex(ex).value();
    auto [t_ca, t_agent] = acp::make_memory_duplex(ex).value();
    client_ = client.connect_to(ex, std::move(t_client));
    agent_ = agent.connect_to(ex, std::move(t_agent));
    auto to_client = conn(std::move(t_cc));
    auto to_agent = conn(std::move(t_ca));
    if (s == shape::conductor) {
      to_client->on_message([=](acp::jsonrpc::message m) {
        auto id = m.id();
        relay(to_agent, to_client, std::move(m), std::move(id));
      });
      to_agent->on_message([=](acp::jsonrpc::message m) {
        auto id = m.id();
        relay(to_client, to_agent, std::move(m), std::move(id));
      });
    } else {
      auto [t_cp, t_proxy] = acp::make_memory_duplex(ex).value();
      acp::proxy_builder proxy;
      proxy_ = proxy.connect_to(ex, std::move(t_proxy));
      auto to_proxy = conn(std::move(t_cp));
      to_client->on_message([=](acp::jsonrpc::message m) {
        auto id = m.id();
        relay(to_proxy, to_client, std::move(m), std::move(id));
      });
      to_proxy->on_message([=](acp::jsonrpc::message m) {
        auto id = m.id();
        if (!pp::is_successor_method(m.method())) return relay(to_client, to_proxy, std::move(m), std::move(id));
        if (auto inner = pp::unwrap_message(std::move(m))) relay(to_agent, to_proxy, std::move(*inner), std::move(id));
      });
      to_agent->on_message([=](acp::jsonrpc::message m) {
        auto id = m.id();
        std::optional<json::value> outer;
        if (m.is_request()) outer = json::value(0);
        relay(to_proxy, to_agent, pp::wrap_message(std::move(m), outer), std::move(id));
      });
    }
    for (auto& c : conns_) c->start();
  }

  chain(const chain&) = delete;
  chain& operator=(const chain&) = delete;

  ~chain() {
    for (auto* e : {&client_, &agent_, &proxy_})
      if (*e) (*e)->shutdown();
    for (auto& c : conns_) c->close();
    run_until([&] { return client_->done() && agent_->done() && (!proxy_ || proxy_->done()); },
              std::chrono::seconds(5));
    for (auto& c : conns_) c->abort();
    io_.run_for(std::chrono::milliseconds(10));
  }

  template <class Pred> void run_until(Pred done, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("benchmark chain stalled");
      if (io_.stopped()) io_.restart();
      io_.run_one_until(deadline);
    }
  }

  acp::context client_cx() const { return client_->cx(); }
  acp::context agent_cx() const { return agent_->cx(); }
  std::uint64_t notifications() const { return notifications_; }

private:
  std::shared_ptr<acp::connection> conn(acp::transport_ptr t) {
    conns_.push_back(acp::connection::create(io_.get_executor(), std::move(t)));
    return conns_.back();
  }

  asio::io_context io_;
  std::optional<acp::endpoint> client_, agent_, proxy_;
  std::vector<std::shared_ptr<acp::connection>> conns_;
  std::uint64_t notifications_ = 0;
};

std::unique_ptr<chain> make_chain(shape s) { return std::make_unique<chain>(s); }

json::value update_params(std::int64_t i) {
  return json::value{{"sessionId", "sess_bench_0001"},
                     {"update",
                      {{"sessionUpdate", "agent_message_chunk"},
                       {"content", {{"type", "text"}, {"text", "The quick brown fox jumps over the lazy dog, again."}}},
                       {"messageId", i}}}};
}

void BM_notifications(benchmark::State& state, shape s) {
  auto c = make_chain(s);
  constexpr std::int64_t per_iteration = 10'000;
  for (auto _ : state) {
    const auto target = c->notifications() + per_iteration;
    auto cx = c->agent_cx();
    for (std::int64_t i = 0; i < per_iteration; ++i)
      cx.send_notification_to(acp::client, "session/update", update_params(i));
    c->run_until([&] { return c->notifications() >= target; });
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
}

void BM_round_trip(benchmark::State& state, shape s) {
  auto c = make_chain(s);
  const json::value params{{"sessionId", "sess_bench_0001"}, {"n", 1}};
  for (auto _ : state) {
    bool done = false;
    c->client_cx().send_request_to(acp::agent, "bench/echo", params).on_receiving_result([&](acp::rpc_result r) {
      if (!r) throw std::runtime_error("round trip failed: " + r.error().message);
      done = true;
    });
    c->run_until([&] { return done; });
  }
}

BENCHMARK_CAPTURE(BM_notifications, direct, shape::direct)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_notifications, conductor, shape::conductor)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_notifications, proxy, shape::proxy)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_round_trip, direct, shape::direct)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_round_trip, conductor, shape::conductor)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_round_trip, proxy, shape::proxy)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
