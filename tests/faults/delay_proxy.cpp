// acp-fault-delay-proxy [MAX_MICROSECONDS [SEED]]: a pass-through proxy that holds every request
// and notification, in both directions, for a random 0..MAX µs (default 2000) before passing it
// on. The wait happens in the dispatch loop, so order is kept: a slow proxy, not a reordering one.
#include <acp/sdk.hpp>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

int main(int argc, char** argv) {
  const long max_us = argc > 1 ? std::atol(argv[1]) : 2000;
  std::mt19937 rng(argc > 2 ? static_cast<unsigned>(std::atol(argv[2])) : std::random_device{}());
  auto pause = [max_us, rng]() mutable {
    if (max_us <= 0) return;
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<long>(0, max_us)(rng)));
  };
  auto shared = std::make_shared<decltype(pause)>(pause);
  acp::proxy_builder proxy;
  for (auto peer : {acp::peer::client, acp::peer::agent}) {
    proxy.on_receive_request_from(peer, "", [shared](acp::jsonrpc::message&, acp::responder&, acp::context&) {
      (*shared)();
      return acp::handled::no;
    });
    proxy.on_receive_notification_from(peer, "", [shared](acp::jsonrpc::message&, acp::context&) {
      (*shared)();
      return acp::handled::no;
    });
  }
  return proxy.run_stdio();
}
