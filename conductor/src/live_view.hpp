#pragma once
// `--serve[=ADDR]`: the trace viewer, live, over HTTP while the chain runs (acp-conductor(1)).
//
// A small read-only HTTP/1.1 server on a thread and io_context of its own (never the routing
// thread). It gets the trace's event lines from the trace writer's thread through `tap()`
// (trace_options::tap) and keeps the most recent ones, up to `max_history_bytes`, in memory.
//
//   GET /?token=T        the viewer page
//   GET /events?token=T  with `Accept: text/event-stream`: an SSE stream, first `event: skipped`
//                        with the number of events no longer held (when some were dropped), then
//                        every held event and each new one as `data: <event line>`, and a
//                        `: keep-alive` comment when nothing happened for a while; without that
//                        header: a JSON array of the held events (the reference viewer's polling)
//
// The token is 128 bits from the kernel's CSPRNG (getrandom(2)), in hex; it is compared in constant time. A missing
// or wrong token is 403, another path 404, a method other than GET 405. Every response
// closes its connection. Limits: `max_clients` connections at once (more are answered 503), a
// deadline for the request's header and one for each write; an SSE client whose unsent events
// pass `max_client_backlog` bytes, or fall out of the history, is disconnected (the trace writer
// never waits for a client).
//
// `stop()` (also the destructor) closes the listener, sends each SSE client what it has not yet
// received (within a short deadline), closes every connection (clients see the end of the
// stream) and joins the thread.

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace acp::conductor {

struct live_view_options {
  static constexpr std::size_t default_history_bytes = std::size_t{64} << 20;
  std::string address = "127.0.0.1:0";                   ///< HOST:PORT; HOST an IP address or `localhost`
  std::size_t max_history_bytes = default_history_bytes; ///< events kept for new clients
  std::size_t max_clients = 16;
  std::size_t max_client_backlog = std::size_t{16} << 20; ///< unsent bytes before an SSE client is dropped
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive{15000};
  /// The page served at `/`; empty: the viewer's live page (viewer_page.hpp).
  std::function<std::string()> page;
};

class live_view {
public:
  /// Binds and starts serving. The error is one line saying what is wrong (a malformed address,
  /// a port in use, ...).
  [[nodiscard]] static boost::system::result<std::unique_ptr<live_view>, std::string> start(live_view_options options);

  ~live_view();
  live_view(const live_view&) = delete;
  live_view& operator=(const live_view&) = delete;

  /// `http://127.0.0.1:PORT/?token=T`: what the user opens (the token is in it).
  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] const std::string& token() const noexcept;
  /// Whether the address is a loopback one.
  [[nodiscard]] bool loopback() const noexcept;

  /// For `trace_options::tap`: hands each batch to `publish`. Keeps the server's state alive.
  [[nodiscard]] std::function<void(std::span<const std::string_view>)> tap() const;
  /// Adds the complete event lines of `batch` (any thread; never blocks on a client).
  void publish(std::span<const std::string_view> batch);

  /// Stops serving (see the top). Idempotent.
  void stop();

  /// Events held now, events dropped from the history, SSE clients disconnected for being slow.
  [[nodiscard]] std::size_t held_events() const;
  [[nodiscard]] std::uint64_t dropped_events() const;
  [[nodiscard]] std::uint64_t dropped_clients() const;

  struct impl;

private:
  explicit live_view(std::shared_ptr<impl> p) noexcept;
  std::shared_ptr<impl> impl_;
};

} // namespace acp::conductor
