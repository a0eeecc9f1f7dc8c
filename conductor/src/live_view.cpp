// The live trace viewer's HTTP server (live_view.hpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "live_view.hpp"
#include "viewer_page.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <sys/random.h>

namespace acp::conductor {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Bytes gathered into one write to a client.
constexpr std::size_t chunk_bytes = std::size_t{256} << 10;
/// How long `stop` lets clients receive what they have not yet got.
constexpr auto stop_deadline = std::chrono::seconds(2);

std::string hex_token() {
  // getrandom(2): the kernel's CSPRNG; 16 bytes never come back short once it is seeded.
  std::array<unsigned char, 16> raw{};
  ssize_t got = -1;
  do got = ::getrandom(raw.data(), raw.size(), 0);
  while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(raw.size())) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : raw) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

/// The value of `name` in a query string (`a=1&token=x`), undecoded; nullopt when absent.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=')
      return part.substr(name.size() + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool same_token(std::string_view given, const std::string& want) {
  // Constant time: every byte is compared whatever the earlier ones were (the length is no secret).
  if (given.size() != want.size() || want.empty()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    diff =
        static_cast<unsigned char>(diff | (static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(want[i])));
  return diff == 0;
}

bool accepts_event_stream(std::string_view accept) {
  return accept.find("text/event-stream") != std::string_view::npos;
}

struct parsed_address {
  asio::ip::address ip;
  std::uint16_t port = 0;
  std::string host; // as given (for the URL)
};

boost::system::result<parsed_address, std::string> parse_address(std::string_view text) {
  const std::string why = "--serve: `" + std::string(text.substr(0, 80)) +
                          "` is not HOST:PORT (HOST an IP address or localhost, e.g. 127.0.0.1:0)";
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return why;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto* end = port_text.data() + port_text.size();
  if (auto [p, ec] = std::from_chars(port_text.data(), end, port); ec != std::errc{} || p != end || port > 65535)
    return why;
  parsed_address a;
  a.port = static_cast<std::uint16_t>(port);
  a.host = std::string(host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  a.ip = asio::ip::make_address(std::string(host), ec);
  if (ec) return why;
  return a;
}

} // namespace

// ---- the server ----------------------------------------------------------------------------

struct live_view::impl {
  struct client {
    explicit client(tcp::socket s) : stream(std::move(s)), wake(stream.get_executor()) {}
    beast::tcp_stream stream;
    asio::steady_timer wake; // cancelled when events arrive or the server stops
    // An SSE client's progress, in bytes published (see `too_slow`).
    bool streaming = false;
    bool dropped = false;
    std::uint64_t connected = 0; // published when it came
    std::uint64_t sent = 0;      // published up to the last event it was sent
  };

  struct held_event {
    std::string line;      // without the newline
    std::uint64_t end = 0; // bytes published up to and including this event
  };

  live_view_options options;
  parsed_address where;
  std::string token;
  std::string page;

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;

  // Shared with the publishers, under `mu`.
  mutable std::mutex mu;
  std::deque<held_event> events;
  std::uint64_t first_seq = 0; // sequence number of events.front()
  std::uint64_t published = 0; // bytes ever published
  std::size_t history_bytes = 0;
  std::string partial; // an unfinished line carried to the next batch
  std::atomic<bool> wake_posted{false};
  std::atomic<std::uint64_t> dropped_clients{0};
  std::atomic<bool> stopping{false};
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;

  // The io thread's.
  std::set<std::shared_ptr<client>> clients;
  bool closing = false;

  void publish(std::span<const std::string_view> batch) {
    {
      const std::lock_guard lk(mu);
      for (std::string_view piece : batch) {
        while (!piece.empty()) {
          const auto nl = piece.find('\n');
          partial.append(piece.substr(0, nl));
          if (nl == std::string_view::npos) break;
          piece.remove_prefix(nl + 1);
          add_locked(std::move(partial));
          partial.clear();
        }
      }
    }
    if (!wake_posted.exchange(true)) asio::post(io, [this] { wake_all(); });
  }

  /// Under `mu`.
  void add_locked(std::string line) {
    if (line.empty()) return;
    // A '\r' can only be whitespace between tokens in an event line; SSE would take it for a line end.
    for (char& c : line)
      if (c == '\r') c = ' ';
    published += line.size() + 1;
    history_bytes += line.size() + 1;
    events.push_back({std::move(line), published});
    while (history_bytes > options.max_history_bytes && !events.empty()) {
      history_bytes -= events.front().line.size() + 1;
      events.pop_front();
      ++first_seq;
    }
  }

  /// Under `mu`: the client's unsent events pass the bound.
  [[nodiscard]] bool too_slow_locked(const client& c) const {
    return published - std::max(c.sent, c.connected) > options.max_client_backlog;
  }

  /// Under `mu`, on the io thread: disconnects a client that is too slow (once).
  void drop_locked(client& c) {
    if (c.dropped) return;
    c.dropped = true;
    dropped_clients.fetch_add(1);
    boost::system::error_code ignored;
    c.stream.socket().close(ignored); // a write waiting on it ends now
  }

  void wake_all() {
    wake_posted = false;
    const std::lock_guard lk(mu);
    for (const auto& c : clients) {
      if (c->streaming && too_slow_locked(*c)) drop_locked(*c);
      c->wake.cancel();
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (closing) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        asio::steady_timer pause(io, std::chrono::milliseconds(100)); // EMFILE and the like
        co_await pause.async_wait(use_tuple);
        continue;
      }
      auto c = std::make_shared<client>(std::move(socket));
      const bool busy = clients.size() >= options.max_clients;
      if (!busy) clients.insert(c);
      asio::co_spawn(io, session(c, busy), [this, c](std::exception_ptr e) {
        clients.erase(c);
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            std::fprintf(stderr, "acp-conductor: trace viewer: a connection failed: %s\n", x.what());
          }
        }
      });
    }
  }

  template <class Response> asio::awaitable<void> send(client& c, Response& res) {
    res.set(http::field::server, "acp-conductor");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.keep_alive(false);
    res.prepare_payload();
    c.stream.expires_after(options.write_timeout);
    co_await http::async_write(c.stream, res, use_tuple);
    close(c);
  }

  asio::awaitable<void> refuse(client& c, http::status status, std::string text, unsigned version = 11) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) res.set(http::field::allow, "GET");
    res.body() = std::move(text);
    co_await send(c, res);
  }

  static void close(client& c) {
    boost::system::error_code ignored;
    c.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.stream.socket().close(ignored);
  }

  asio::awaitable<void> session(std::shared_ptr<client> c, bool busy) {
    if (busy) co_return co_await refuse(*c, http::status::service_unavailable, "too many viewers\n");
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8192);
    c->stream.expires_after(options.header_timeout);
    auto [ec, n] = co_await http::async_read(c->stream, buffer, parser, use_tuple);
    if (ec) {
      if (ec == http::error::header_limit)
        co_return co_await refuse(*c, http::status::request_header_fields_too_large, "header too large\n");
      const bool malformed = ec.category() == make_error_code(http::error::bad_method).category() &&
                             ec != http::error::end_of_stream && ec != http::error::partial_message;
      if (malformed) co_return co_await refuse(*c, http::status::bad_request, "bad request\n");
      close(*c); // a timeout, the end of the stream, ...
      co_return;
    }
    const auto& req = parser.get();
    const auto method = req.method();
    if (method != http::verb::get)
      co_return co_await refuse(*c, http::status::method_not_allowed, "read-only: GET only\n", req.version());
    const std::string_view target = req.target();
    const auto q = target.find('?');
    const std::string_view path = target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    if (path != "/" && path != "/events")
      co_return co_await refuse(*c, http::status::not_found, "not found\n", req.version());
    const auto given = query_param(query, "token");
    if (!given || !same_token(*given, token))
      co_return co_await refuse(*c, http::status::forbidden, "a valid token is required\n", req.version());
    if (path == "/") {
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "text/html; charset=utf-8");
      res.set("X-Frame-Options", "DENY");
      res.body() = page;
      co_return co_await send(*c, res);
    }
    const bool sse = accepts_event_stream(req[http::field::accept]);
    co_await stream_events(*c, sse);
  }

  /// Writes `bytes` within the write deadline; false when the client is gone or too slow.
  asio::awaitable<bool> write(client& c, const std::string& bytes) {
    c.stream.expires_after(closing ? std::chrono::milliseconds(stop_deadline) : options.write_timeout);
    auto [ec, n] = co_await asio::async_write(c.stream, asio::buffer(bytes), use_tuple);
    co_return !ec;
  }

  asio::awaitable<void> stream_events(client& c, bool sse) {
    std::string head = "HTTP/1.1 200 OK\r\nServer: acp-conductor\r\nCache-Control: no-store\r\n"
                       "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n";
    head += sse ? "Content-Type: text/event-stream\r\n\r\n" : "Content-Type: application/json\r\n\r\n";
    std::uint64_t cursor = 0;
    std::uint64_t end = 0; // JSON: the snapshot's end
    {
      const std::lock_guard lk(mu);
      cursor = first_seq;
      end = first_seq + events.size();
      c.streaming = sse;
      c.connected = published;
      c.sent = published - history_bytes;
      if (sse && first_seq > 0) head += "event: skipped\ndata: " + std::to_string(first_seq) + "\n\n";
      if (!sse) head += '[';
    }
    std::string chunk = std::move(head);
    std::uint64_t chunk_to = c.sent; // published up to the chunk's last event
    bool first = true;
    for (;;) {
      bool finished = false;
      {
        const std::lock_guard lk(mu);
        if (c.dropped) break;
        if (cursor < first_seq || (sse && too_slow_locked(c))) { // it fell behind
          drop_locked(c);
          break;
        }
        for (std::size_t i = cursor - first_seq; i < events.size() && chunk.size() < chunk_bytes; ++i, ++cursor) {
          if (!sse && cursor >= end) break;
          if (sse) {
            chunk += "data: ";
            chunk += events[i].line;
            chunk += "\n\n";
          } else {
            if (!first) chunk += ',';
            chunk += events[i].line;
            first = false;
          }
          chunk_to = events[i].end;
        }
        if (!sse && cursor >= end) {
          chunk += "]";
          finished = true;
        }
      }
      if (!chunk.empty()) {
        const bool ok = co_await write(c, chunk);
        chunk.clear();
        if (!ok || finished) break;
        c.sent = chunk_to;
        continue;
      }
      if (closing) break; // everything sent
      c.wake.expires_after(options.keep_alive);
      auto [ec] = co_await c.wake.async_wait(use_tuple);
      if (!ec) chunk = ": keep-alive\n\n";
    }
    close(c);
  }

  /// On the io thread: no new connections; clients finish sending and close.
  void begin_close() {
    closing = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (const auto& c : clients) {
      c->wake.cancel();
      c->stream.expires_after(stop_deadline);
    }
  }
};

// ---- live_view -----------------------------------------------------------------------------

boost::system::result<std::unique_ptr<live_view>, std::string> live_view::start(live_view_options options) {
  auto where = parse_address(options.address);
  if (!where) return where.error();
  auto p = std::make_shared<impl>();
  p->where = *where;
  p->token = hex_token();
  if (p->token.empty()) return std::string("--serve: cannot draw a random token (getrandom failed)");
  p->page = options.page ? options.page() : live_viewer_page();
  p->options = std::move(options);
  const tcp::endpoint ep(where->ip, where->port);
  boost::system::error_code ec;
  p->acceptor.open(ep.protocol(), ec);
  if (!ec) p->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(ep, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "--serve: cannot listen on " + p->options.address + ": " + ec.message();
  p->where.port = p->acceptor.local_endpoint(ec).port();
  asio::co_spawn(p->io, p->accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "acp-conductor: trace viewer stopped: %s\n", x.what());
    }
  });
  // The thread blocks every signal: signals are the routing thread's business.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    p->thread = std::thread([q = p.get()] {
      q->io.run();
      const std::lock_guard lk(q->done_mu);
      q->done = true;
      q->done_cv.notify_all();
    });
  } catch (const std::system_error& e) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return std::string("--serve: cannot start the server's thread: ") + e.what();
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return std::unique_ptr<live_view>(new live_view(std::move(p)));
}

live_view::live_view(std::shared_ptr<impl> p) noexcept : impl_(std::move(p)) {}

live_view::~live_view() { stop(); }

std::string live_view::url() const {
  std::string host = impl_->where.host;
  if (impl_->where.ip.is_v6() && (host.empty() || host.front() != '[')) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(impl_->where.port) + "/?token=" + impl_->token;
}

std::uint16_t live_view::port() const noexcept { return impl_->where.port; }
const std::string& live_view::token() const noexcept { return impl_->token; }
bool live_view::loopback() const noexcept { return impl_->where.ip.is_loopback(); }

std::function<void(std::span<const std::string_view>)> live_view::tap() const {
  return [p = impl_](std::span<const std::string_view> batch) {
    if (!p->stopping) p->publish(batch);
  };
}

void live_view::publish(std::span<const std::string_view> batch) {
  if (!impl_->stopping) impl_->publish(batch);
}

void live_view::stop() {
  auto& p = *impl_;
  if (p.stopping.exchange(true)) return;
  asio::post(p.io, [q = &p] { q->begin_close(); });
  {
    std::unique_lock lk(p.done_mu);
    if (!p.done_cv.wait_for(lk, stop_deadline + std::chrono::seconds(1), [&] { return p.done; })) p.io.stop();
  }
  if (p.thread.joinable()) p.thread.join();
  // Connections still open (after io.stop) are closed with the io_context's handlers, here.
  p.clients.clear();
}

std::size_t live_view::held_events() const {
  const std::lock_guard lk(impl_->mu);
  return impl_->events.size();
}

std::uint64_t live_view::dropped_events() const {
  const std::lock_guard lk(impl_->mu);
  return impl_->first_seq;
}

std::uint64_t live_view::dropped_clients() const { return impl_->dropped_clients.load(); }

} // namespace acp::conductor
