// acp::net::serve: an SDK endpoint per accepted connection.

#include <acp/net/serve.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>

namespace acp::net {
namespace asio = boost::asio;

namespace {
std::string how_it_ended(const endpoint& ep) {
  const auto& status = ep.close_status();
  if (!status) return "ended";
  std::string text(to_string(status->reason));
  if (!status->detail.empty()) text += " (" + status->detail + ")";
  return text;
}
} // namespace

int serve(const url& where, listen_options options, endpoint_factory start) {
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io;
  auto opened = listener::open(io.get_executor(), where, std::move(options));
  if (!opened) {
    log::error("", opened.error());
    return 1;
  }
  auto lis = std::move(*opened);
  std::map<std::uint64_t, endpoint> live;
  bool stopping = false;
  auto maybe_done = [&] {
    if (stopping && live.empty()) io.stop();
  };

  lis->start([&](accepted_connection c) {
    if (stopping) return;
    const auto number = c.number;
    const auto began = std::chrono::steady_clock::now();
    auto ep = start(io.get_executor(), std::move(c.channel));
    live.emplace(number, ep);
    asio::co_spawn(
        io, [ep]() -> asio::awaitable<void> { co_await ep.wait_done(); },
        [&, number, began, ep, peer = std::move(c.peer), slot = std::move(c.slot)](std::exception_ptr) mutable {
          char secs[32];
          std::snprintf(secs, sizeof secs, "%.1f s",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
          log::write(log::level::info, "",
                     "connection " + std::to_string(number) + " from " + peer + " ended after " + secs + ": " +
                         how_it_ended(ep));
          slot.release();
          live.erase(number);
          maybe_done();
        });
  });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    stopping = true;
    lis->close();
    log::info("", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ": stopping, " + std::to_string(live.size()) +
                      " connection(s) open");
    for (auto& [n, ep] : live) ep.shutdown();
    maybe_done();
  });
  // Said whatever the log level: whoever started a service needs its address (port 0).
  log::write(log::level::info, "", "serving on " + lis->local_url().text());
  io.run();
  lis->close();
  return 0;
}

int serve(endpoint_builder& builder, const url& where, listen_options options) {
  return serve(where, std::move(options), [&builder](const asio::any_io_executor& ex, message_channel_ptr channel) {
    return builder.connect_to(ex, std::move(channel));
  });
}

} // namespace acp::net
