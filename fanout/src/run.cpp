// acp-fanout's process: parse the agents, serve stdin/stdout, stop every agent at the end.
#include "state.hpp"

#include <acp/conductor/component.hpp>
#include <acp/sdk/log.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::fanout {
namespace asio = boost::asio;
using namespace std::chrono_literals;

std::vector<agent_spec> parse_agents(const std::vector<std::string>& components, std::string& error) {
  std::vector<agent_spec> out;
  std::vector<std::string> names;
  for (const auto& text : components) {
    auto spec = conductor::parse_component(text);
    if (!spec) {
      error = "agent '" + text + "': " + spec.error();
      return {};
    }
    if (spec->remote()) {
      error = "agent '" + text + "': remote agents are not supported; run them through acp-conductor";
      return {};
    }
    names.push_back(spec->name);
    out.push_back(agent_spec{static_cast<process_spec&>(*spec)});
  }
  const auto unique = unique_names(names);
  for (std::size_t i = 0; i < out.size(); ++i) out[i].spec.name = unique[i];
  return out;
}

int run_fanout(const fanout_options& options) {
  std::signal(SIGPIPE, SIG_IGN); // a vanished peer is a failed write
  asio::io_context io;
  auto st = std::make_shared<detail::state>();
  st->opts = options;
  for (const auto& a : options.agents) {
    st->members.push_back(detail::member{a.spec.name, a.spec, {}, {}});
    st->names.push_back(a.spec.name);
  }
  st->upstream_of.resize(st->members.size());
  auto up = detail::make_upstream(st);
  endpoint_options eo;
  eo.connection.name = "client";
  eo.grace_period = options.grace;
  up.options(eo);
  auto ep = up.connect_to(io.get_executor(), make_stdio_transport(io.get_executor()));

  int signalled = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    signalled = sig;
    log::info("acp-fanout", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ": shutting down");
    ep.shutdown();
  });
  bool finished = false;
  asio::co_spawn(
      io,
      [ep, st]() -> asio::awaitable<void> {
        co_await ep.wait_done();
        co_await detail::stop_members(st);
      },
      [&](const std::exception_ptr& e) {
        if (e) log::error("acp-fanout", "stopping the agents failed");
        finished = true;
        signals.cancel();
      });
  while (!finished && io.run_one() > 0) {
  }
  // Kill whatever is left (a failed stop), then let the child watchers wind down, briefly.
  for (auto& m : st->members)
    if (m.child && !m.child->status()) m.child->kill_group();
  io.run_for(200ms);
  if (signalled != 0) return 128 + signalled;
  const auto& status = ep.close_status();
  if (!status) return 1;
  return status->reason == close_reason::eof || status->reason == close_reason::closed_locally ? 0 : 1;
}

} // namespace acp::fanout
