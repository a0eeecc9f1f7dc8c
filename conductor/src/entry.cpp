// The conductor's entry points: on stdio (agent, proxy, connect), on a given transport, in
// process for tests; `serve` is in serve.cpp.

#include "live_view.hpp"
#include "router_impl.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>

namespace acp::conductor {
namespace asio = boost::asio;

bool open_trace(const std::string& path, std::optional<trace_writer>& out) {
  auto t = trace_writer::open(path);
  if (!t) {
    log::error("", "cannot create trace file " + path + ": " + t.error().message());
    return false;
  }
  out.emplace(std::move(*t));
  return true;
}

namespace {
/// The trace file and/or the live view (`--serve`): the live view gets the writer's batches
/// through its tap, on the writer's thread. `live` must outlive `out`. False after printing why.
bool open_trace(const conductor_options& options, std::optional<trace_writer>& out, std::unique_ptr<live_view>& live) {
  trace_options topts;
  if (options.live_view) {
    live_view_options lopts;
    lopts.address = *options.live_view;
    lopts.max_history_bytes = options.live_view_history;
    auto started = live_view::start(std::move(lopts));
    if (!started) {
      log::error("", started.error());
      return false;
    }
    live = std::move(*started);
    topts.tap = live->tap();
    // The token is the one secret printed: the user must open this URL. It never reaches the trace.
    std::fprintf(stderr, "acp-conductor: trace viewer at %s\n", live->url().c_str());
    if (!live->loopback())
      std::fprintf(stderr,
                   "acp-conductor: warning: the trace viewer listens beyond this machine (%s); anyone "
                   "with the URL can read every message\n",
                   options.live_view->c_str());
    std::fflush(stderr);
  }
  if (options.trace_file) {
    auto t = trace_writer::open(*options.trace_file, std::move(topts));
    if (!t) {
      log::error("", "cannot create trace file " + *options.trace_file + ": " + t.error().message());
      return false;
    }
    out.emplace(std::move(*t));
  } else if (live) {
    auto t = trace_writer::without_file(std::move(topts));
    if (!t) {
      log::error("", "cannot start the trace writer: " + t.error().message());
      return false;
    }
    out.emplace(std::move(*t));
  }
  return true;
}

/// The remote setup when a component is an address (nullptr otherwise); false after printing
/// why it cannot be made.
bool remote_setup_for(const conductor_options& options, std::shared_ptr<const remote_setup>& out) {
  if (std::none_of(options.components.begin(), options.components.end(), [](const auto& c) { return c.remote(); }))
    return true;
  auto setup = make_remote_setup(options);
  if (!setup) {
    log::error("", setup.error());
    return false;
  }
  out = std::move(*setup);
  return true;
}
} // namespace

int run(const conductor_options& options, transport_ptr upstream) {
  std::unique_ptr<live_view> live; // outlives the trace writer (its tap) and the io_context
  std::optional<trace_writer> trace;
  if (!open_trace(options, trace, live)) return 2;
  std::shared_ptr<const remote_setup> remote;
  if (!remote_setup_for(options, remote)) return 2;
  asio::io_context io;
  auto r = std::make_shared<router>(io, options, std::move(upstream), std::move(trace));
  r->set_remote(std::move(remote));
  r->start();
  io.run();
  return r->exit_code();
}

std::shared_ptr<router> start_in_process(asio::io_context& io, const conductor_options& options, transport_ptr upstream,
                                         std::vector<transport_ptr> components) {
  auto r = std::make_shared<router>(io, options, std::move(upstream), std::nullopt, std::move(components));
  r->start();
  return r;
}

int run_stdio(const conductor_options& options) {
  std::signal(SIGPIPE, SIG_IGN);
  if (options.serve) return run_serve(options);
  std::unique_ptr<live_view> live; // outlives the trace writer (its tap) and the io_context
  std::optional<trace_writer> trace;
  if (!open_trace(options, trace, live)) return 2;
  std::shared_ptr<const remote_setup> remote;
  if (!remote_setup_for(options, remote)) return 2;
  asio::io_context io;
  auto r = std::make_shared<router>(io, options, make_stdio_transport(io.get_executor()), std::move(trace));
  r->set_remote(std::move(remote));
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([r](boost::system::error_code ec, int sig) {
    if (!ec) r->shutdown(0, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  r->start();
  io.run();
  return r->exit_code();
}

} // namespace acp::conductor
