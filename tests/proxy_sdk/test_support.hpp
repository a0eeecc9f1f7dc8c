#pragma once
// Test support for the proxy SDK: an io_context fixture whose every wait is bounded, a scripted
// peer that speaks raw lines over an in-memory transport, and small JSON helpers.

#include <acp/sdk.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acp::test {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

inline json::value J(std::string_view text) { return json::parse(text); }

/// A scripted peer on the byte level: writes what it is given (in order, one writer), records
/// every line it reads. Not an `acp::connection`: it sees exactly what went over the wire.
class line_peer : public std::enable_shared_from_this<line_peer> {
public:
  static std::shared_ptr<line_peer> create(const asio::any_io_executor& ex, transport_ptr t) {
    auto p = std::shared_ptr<line_peer>(new line_peer(ex, std::move(t)));
    p->start_reading();
    return p;
  }

  void send(const json::value& v) { send_raw(json::serialize(v) + "\n"); }
  void send(const char* json_text) { send(J(json_text)); }
  void send_raw(std::string bytes) {
    queue_.push_back(std::move(bytes));
    start_writing();
  }
  /// Ends our write side once what is queued has been written (the other side reads EOF).
  void shutdown_write() {
    shutdown_after_writes_ = true;
    start_writing();
  }
  void close() {
    closed_ = true;
    t_->close();
  }

  std::vector<std::string> lines;    ///< every non-blank line read, in order
  std::vector<json::value> messages; ///< the lines that parsed as JSON, in order
  bool eof = false;

  /// Messages matching `pred`.
  [[nodiscard]] std::vector<json::value> select(const std::function<bool(const json::object&)>& pred) const {
    std::vector<json::value> out;
    for (const auto& m : messages)
      if (m.is_object() && pred(m.get_object())) out.push_back(m);
    return out;
  }
  /// The response whose id equals `id` exactly (same JSON type), or null.
  [[nodiscard]] const json::object* response_to(const json::value& id) const {
    for (const auto& m : messages)
      if (m.is_object() && !m.get_object().contains("method") && m.get_object().contains("id") &&
          m.get_object().at("id") == id)
        return &m.get_object();
    return nullptr;
  }
  /// Requests and notifications with this method.
  [[nodiscard]] std::vector<json::value> with_method(std::string_view method) const {
    return select([&](const json::object& o) {
      const auto* m = o.if_contains("method");
      return m && m->is_string() && m->get_string() == method;
    });
  }

private:
  line_peer(const asio::any_io_executor& ex, transport_ptr t) : ex_(ex), t_(std::move(t)) {}

  void start_reading() {
    asio::co_spawn(
        ex_,
        [self = shared_from_this()]() -> asio::awaitable<void> {
          std::vector<char> buf(64 * 1024);
          std::string pending;
          for (;;) {
            const auto [ec, n] = co_await self->t_->read_some(std::span<char>(buf));
            pending.append(buf.data(), n);
            std::size_t start = 0;
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
              self->add_line(std::string_view(pending).substr(start, nl - start));
              start = nl + 1;
            }
            pending.erase(0, start);
            if (ec) break;
          }
          if (!pending.empty()) self->add_line(pending);
          self->eof = true;
        },
        asio::detached);
  }

  void add_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    lines.emplace_back(line);
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec) messages.push_back(std::move(v));
  }

  void start_writing() {
    if (writing_ || closed_) return;
    writing_ = true;
    asio::co_spawn(
        ex_,
        [self = shared_from_this()]() -> asio::awaitable<void> {
          while (!self->queue_.empty() && !self->closed_) {
            std::string bytes = std::move(self->queue_.front());
            self->queue_.pop_front();
            const auto ec = co_await self->t_->write_all(std::span<const char>(bytes.data(), bytes.size()));
            if (ec) break;
          }
          self->writing_ = false;
          if (self->shutdown_after_writes_ && self->queue_.empty()) self->t_->shutdown_write();
        },
        asio::detached);
  }

  asio::any_io_executor ex_;
  transport_ptr t_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool shutdown_after_writes_ = false;
  bool closed_ = false;
};

/// The fixture: one io_context, run only through bounded waits. At the end every endpoint is
/// shut down and must finish, so a test that leaves work hanging fails instead of leaking.
class sdk_test : public ::testing::Test {
protected:
  asio::io_context io;

  [[nodiscard]] asio::any_io_executor ex() { return io.get_executor(); }

  /// Runs handlers until `done()` holds (true) or `timeout` passes / nothing is left to run (false).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      if (io.run_one_until(deadline) == 0 && io.stopped()) return done(); // no work left
    }
    return true;
  }
  /// Runs for a fixed time (to check that something does *not* happen); returns handlers run.
  std::size_t run_for(std::chrono::milliseconds d) {
    if (io.stopped()) io.restart();
    return io.run_for(d);
  }

  std::shared_ptr<line_peer> make_peer(transport_ptr t) {
    auto p = line_peer::create(ex(), std::move(t));
    peers_.push_back(p);
    return p;
  }

  /// An endpoint wired to a scripted peer.
  struct wired {
    endpoint ep;
    std::shared_ptr<line_peer> peer;
  };
  wired wire(endpoint_builder& b) {
    auto [a, z] = make_memory_duplex(ex()).value();
    auto ep = b.connect_to(ex(), std::move(a));
    endpoints_.push_back(ep);
    return {ep, make_peer(std::move(z))};
  }

  /// Two endpoints wired to each other (client side first).
  std::pair<endpoint, endpoint> wire(endpoint_builder& a, endpoint_builder& b) {
    auto [ta, tb] = make_memory_duplex(ex()).value();
    auto ea = a.connect_to(ex(), std::move(ta));
    auto eb = b.connect_to(ex(), std::move(tb));
    endpoints_.push_back(ea);
    endpoints_.push_back(eb);
    return {ea, eb};
  }

  /// A raw connection (started) on `t`; closed at the end of the test.
  std::shared_ptr<connection> raw(transport_ptr t, connection_options o = {}) {
    auto c = connection::create(ex(), std::move(t), std::move(o));
    conns_.push_back(c);
    return c;
  }

  void TearDown() override {
    for (auto& e : endpoints_) e.shutdown();
    for (auto& p : peers_) p->shutdown_write();
    for (auto& c : conns_) c->close();
    EXPECT_TRUE(run_until([&] {
      for (auto& e : endpoints_)
        if (!e.done()) return false;
      return true;
    })) << "an endpoint did not finish";
    for (auto& c : conns_) c->abort();
    for (auto& p : peers_) p->close();
    run_for(10ms);
    endpoints_.clear();
    peers_.clear();
    conns_.clear();
  }

  std::vector<endpoint> endpoints_;
  std::vector<std::shared_ptr<line_peer>> peers_;
  std::vector<std::shared_ptr<connection>> conns_;
};

/// The `error.code` of a response object (0 when it is not an error).
inline std::int64_t error_code_of(const json::object* response) {
  if (!response) return 0;
  const auto* e = response->if_contains("error");
  return e ? e->at("code").to_number<std::int64_t>() : 0;
}

} // namespace acp::test
