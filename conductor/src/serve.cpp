// `acp-conductor serve`: a listener (acp/net/listen.hpp), and for every connection that passes
// its handshake a chain of its own (its own router and processes) with that connection as the
// editor's link. One log line per connection when it ends.

#include "router_impl.hpp"

#include <acp/net/listen.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <cstdio>
#include <map>

namespace acp::conductor {
namespace asio = boost::asio;

namespace {

/// `t.jsonl` → `t-3.jsonl` (`t` → `t-3`): one trace file per connection.
std::string numbered(const std::string& path, std::uint64_t n) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const auto cut = has_ext ? dot : path.size();
  return path.substr(0, cut) + "-" + std::to_string(n) + path.substr(cut);
}

std::string seconds_text(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

} // namespace

int run_serve(const conductor_options& options) {
  const auto& serve = *options.serve;
  auto where = net::parse_url(serve.listen);
  if (!where) {
    log::error("", "--listen: " + where.error());
    return 2;
  }
  net::listen_options lo;
  lo.max_connections = serve.max_connections;
  lo.handshake_timeout = serve.handshake_timeout;
  lo.idle_timeout = serve.idle_timeout;
  lo.max_message_bytes = options.max_message_size;
  lo.ping_interval = options.remote.ping_interval;
  lo.tls.cert_file = serve.tls_cert;
  lo.tls.key_file = serve.tls_key;
  lo.tls.client_ca_file = serve.client_ca;
  if (!serve.token_file.empty()) {
    auto token = read_token_file(serve.token_file);
    if (!token) {
      log::error("", token.error());
      return 2;
    }
    lo.bearer_token = std::move(*token);
  }
  std::shared_ptr<const remote_setup> remote;
  if (std::any_of(options.components.begin(), options.components.end(), [](const auto& c) { return c.remote(); })) {
    // The chains' remote components take their token from $ACP_CONDUCTOR_TOKEN, never from the
    // listener's --token-file.
    auto setup = make_remote_setup(options);
    if (!setup) {
      log::error("", setup.error());
      return 2;
    }
    remote = std::move(*setup);
  }

  asio::io_context io;
  auto opened = net::listener::open(io.get_executor(), *where, std::move(lo));
  if (!opened) {
    log::error("", opened.error());
    return 1;
  }
  auto listener = std::move(*opened);

  std::map<std::uint64_t, std::shared_ptr<router>> chains;
  bool stopping = false;
  auto maybe_done = [&] {
    if (stopping && chains.empty()) io.stop();
  };

  listener->start([&](net::accepted_connection c) {
    if (stopping) return; // the channel closes as it goes
    std::optional<trace_writer> trace;
    if (options.trace_file && !open_trace(numbered(*options.trace_file, c.number), trace)) return;
    const auto number = c.number;
    const auto started = std::chrono::steady_clock::now();
    auto r = std::make_shared<router>(io, options, std::move(c.channel), std::move(trace));
    r->set_remote(remote);
    auto slot = std::make_shared<net::connection_slot>(std::move(c.slot));
    std::weak_ptr<router> weak = r;
    r->on_end([&, number, started, slot, weak, peer = std::move(c.peer)] {
      const auto self = weak.lock();
      log::info("", "connection " + std::to_string(number) + " from " + peer + " ended after " +
                        seconds_text(std::chrono::steady_clock::now() - started) + ": " +
                        (self ? self->end_reason() : std::string("ended")) + " (exit " +
                        std::to_string(self ? self->exit_code() : 1) + ")");
      slot->release();
      // Erased after this handler returns (the router is still running it).
      asio::post(io, [&, number] {
        chains.erase(number);
        maybe_done();
      });
    });
    chains.emplace(number, r);
    log::debug("", "connection " + std::to_string(number) + ": chain started");
    r->start();
  });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    stopping = true;
    listener->close();
    log::info("", std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                      "): " + std::to_string(chains.size()) + " chain(s) running");
    for (auto& [n, r] : chains) r->shutdown(0, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    maybe_done();
  });

  log::write(log::level::info, "",
             "serving on " + listener->local_url().text() + " (" +
                 (options.mode == conductor_options::mode::agent ? "agent" : "proxy") + ", " +
                 std::to_string(options.components.size()) + " component(s) per connection)");
  io.run();
  listener->close();
  return 0;
}

} // namespace acp::conductor
