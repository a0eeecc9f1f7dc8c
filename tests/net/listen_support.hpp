#pragma once
// Helpers of the listener's tests (listen_*_test.cpp): a server on a URL that collects what it
// hands over, scenarios run as coroutines on one io_context with a bound on every wait, and raw
// socket clients.

#include "prefixed_transport.hpp"
#include "streams.hpp"

#include <acp/net/listen.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::net::listen_test {
namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using acp::net::listen_options;
using acp::net::scheme;
using acp::net::url;
using asio::ip::tcp;
using boost::system::error_code;
using stream_protocol = asio::local::stream_protocol;
using clock_type = std::chrono::steady_clock;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Never printed: a failure message says "the token", not what it is.
inline const std::string secret = "s3cret-listen-token";

inline std::string auth_line(const std::string& token) {
  return R"({"jsonrpc":"2.0","method":"_acp/authenticate","params":{"token":")" + token + "\"}}\n";
}
inline std::string request_line(int id, std::string_view method = "initialize") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) +
         R"(","params":{"protocolVersion":1}})" + "\n";
}

/// Runs `scenario` on `ioc` to its end, at most `limit`: false (and the test fails) when it
/// did not end in time or threw.
inline bool run(asio::io_context& ioc, asio::awaitable<void> scenario, std::chrono::milliseconds limit = 10s) {
  bool finished = false;
  std::string failure;
  asio::co_spawn(ioc, std::move(scenario), [&](std::exception_ptr e) {
    finished = true;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      failure = x.what();
    }
  });
  const auto end = clock_type::now() + limit;
  while (!finished && clock_type::now() < end) {
    if (ioc.run_one_for(10ms) == 0 && ioc.stopped()) ioc.restart();
  }
  EXPECT_TRUE(finished) << "the scenario did not finish within " << limit.count() << " ms";
  EXPECT_EQ(failure, "");
  return finished && failure.empty();
}

inline asio::awaitable<void> sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_tuple);
}

/// Waits until `pred` holds, at most `limit`.
inline asio::awaitable<bool> eventually(std::function<bool()> pred, std::chrono::milliseconds limit = 3s) {
  const auto end = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() >= end) co_return false;
    co_await sleep(5ms);
  }
  co_return true;
}

/// Answers every request read from `ch` with `{"connection": number, "params": <its params>}`
/// until reading ends; then ends its output.
inline asio::awaitable<void> echo(acp::message_channel& ch, std::uint64_t number);

/// A server on a URL with the connections it handed over; with `echoing`, each handed-over
/// channel is answered by `echo` (on the server's executor).
struct server {
  server(asio::io_context& ioc, url where, listen_options options, bool echoing = false) {
    auto opened = acp::net::listener::open(ioc.get_executor(), where, std::move(options));
    if (!opened) {
      error = opened.error();
      return;
    }
    l = *opened;
    l->start([this, &ioc, echoing](acp::net::accepted_connection c) {
      if (echoing)
        asio::co_spawn(ioc, echo(*c.channel, c.number), [this](std::exception_ptr e) {
          if (e) ++echo_failures;
        });
      accepted.push_back(std::move(c));
      ++handed_over;
    });
  }
  [[nodiscard]] unsigned short port() const { return l->local_url().port; }
  std::shared_ptr<acp::net::listener> l;
  std::vector<acp::net::accepted_connection> accepted;
  std::atomic<std::size_t> handed_over{0}; ///< read from another thread by the node tests
  std::atomic<std::size_t> echo_failures{0};
  std::string error;
};

inline url tcp_url(scheme s = scheme::tcp, std::string path = {}) {
  return url{.scheme = s, .host = "127.0.0.1", .port = 0, .path = std::move(path)};
}

/// A temporary directory, removed with its contents.
struct temp_dir {
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "acp-listen-XXXXXX").string();
    path = ::mkdtemp(tmpl.data()) ? fs::path(tmpl) : fs::path();
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
  fs::path path;
};

// ---- clients --------------------------------------------------------------------------------------

inline asio::awaitable<tcp::socket> connect_tcp(unsigned short port) {
  tcp::socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_tuple);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  co_return s;
}

inline asio::awaitable<stream_protocol::socket> connect_unix(const std::string& path) {
  stream_protocol::socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect(stream_protocol::endpoint(path), use_tuple);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  co_return s;
}

template <class Stream> asio::awaitable<void> send(Stream& s, std::string_view bytes) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(bytes), use_tuple);
  (void)n;
  if (ec) throw std::runtime_error("write: " + ec.message());
}

/// Everything the peer sends until it closes (or the connection fails), at most `limit`.
template <class Stream>
asio::awaitable<std::string> read_to_end(Stream& s, std::chrono::milliseconds limit = 3s, bool* ended = nullptr) {
  std::string out;
  asio::steady_timer guard(co_await asio::this_coro::executor);
  bool timed_out = false;
  guard.expires_after(limit);
  guard.async_wait([&](const error_code& ec) {
    if (ec) return;
    timed_out = true;
    error_code ignored;
    s.lowest_layer().cancel(ignored);
  });
  std::array<char, 4096> buf{};
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    out.append(buf.data(), n);
    if (ec) break;
  }
  guard.cancel();
  if (ended) *ended = !timed_out;
  co_return out;
}

/// One line the peer sends (without its '\n'), at most `limit`; empty when it closes first.
template <class Stream> asio::awaitable<std::string> read_line(Stream& s, std::chrono::milliseconds limit = 3s) {
  std::string out;
  asio::steady_timer guard(co_await asio::this_coro::executor);
  guard.expires_after(limit);
  guard.async_wait([&](const error_code& ec) {
    error_code ignored;
    if (!ec) s.lowest_layer().cancel(ignored);
  });
  char c = 0;
  for (;;) {
    auto [ec, n] = co_await asio::async_read(s, asio::buffer(&c, 1), use_tuple);
    if (ec || n == 0 || c == '\n') break;
    out.push_back(c);
  }
  guard.cancel();
  co_return out;
}

/// The refusal line of the NDJSON schemes: its code and message.
inline std::pair<std::int64_t, std::string> error_of(std::string_view line) {
  error_code ec;
  auto v = json::parse(line, ec);
  if (ec || !v.is_object()) return {0, "not JSON: " + std::string(line)};
  const auto& o = v.get_object();
  if (!o.contains("id") || !o.at("id").is_null()) return {0, "no null id: " + std::string(line)};
  const auto* e = o.if_contains("error");
  if (!e || !e->is_object()) return {0, "no error: " + std::string(line)};
  return {e->at("code").to_number<std::int64_t>(), std::string(e->at("message").as_string())};
}

/// The next message read from a handed-over channel (nullopt: anything else, e.g. the end).
inline asio::awaitable<std::optional<acp::jsonrpc::message>> next_message(acp::message_channel& ch) {
  auto in = co_await ch.read();
  if (in.type != acp::channel_input::kind::messages || in.parsed.items.size() != 1) co_return std::nullopt;
  auto* m = std::get_if<acp::jsonrpc::message>(&in.parsed.items[0]);
  if (!m) co_return std::nullopt;
  co_return std::move(*m);
}

inline asio::awaitable<void> reply(acp::message_channel& ch, json::object msg) {
  if (ch.queue(msg).ec) throw std::runtime_error("queue failed");
  while (ch.queued_bytes() > 0)
    if (auto ec = co_await ch.flush()) throw std::runtime_error("flush: " + ec.message());
}

inline listen_options with_token() {
  listen_options o;
  o.bearer_token = secret;
  return o;
}

inline asio::awaitable<void> echo(acp::message_channel& ch, std::uint64_t number) {
  for (;;) {
    auto m = co_await next_message(ch);
    if (!m) { // the peer's end (or anything else): end ours too, as a connection would
      ch.shutdown_write();
      co_return;
    }
    json::object result{{"connection", number}};
    if (const auto* p = m->params()) result["params"] = *p;
    const json::object answer{{"jsonrpc", "2.0"}, {"id", m->id()}, {"result", std::move(result)}};
    co_await reply(ch, answer);
  }
}

} // namespace acp::net::listen_test
