// The stdio side of the bridge: a Unix socket in a private 0700 directory. A shim connection
// starts with one hello line `{"token":…,"server":…}`; the bridge answers `{"ok":true}` and from
// then on the socket carries the MCP client's newline-delimited JSON-RPC. One connection is one
// MCP session (connected upstream when the hello is accepted).

#include "core.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <list>

#include <stdlib.h>

namespace acp::mcp_bridge {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr std::string_view where = "mcp-bridge stdio";
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct shim_conn {
  explicit shim_conn(local::socket s)
      : sock(std::move(s)), signal(sock.get_executor(), asio::steady_timer::time_point::max()) {}
  local::socket sock;
  asio::steady_timer signal; ///< wakes the writer
  std::deque<std::string> out;
  bool ended = false;
  std::string in;
  void send(const json::object& m) {
    out.push_back(json::serialize(m) + "\n");
    signal.cancel();
  }
  void end() {
    ended = true;
    signal.cancel();
  }
};
} // namespace

class unix_listener {
public:
  unix_listener(std::weak_ptr<bridge::impl> b, const asio::any_io_executor& ex) : bridge_(std::move(b)), acceptor(ex) {}
  std::weak_ptr<bridge::impl> bridge_;
  local::acceptor acceptor;
  std::string dir;
  std::string path;
  bool closed = false;
  std::size_t count = 0;
  std::list<std::weak_ptr<shim_conn>> open;
};

namespace {

asio::awaitable<void> writer(std::shared_ptr<shim_conn> c) {
  for (;;) {
    while (!c->out.empty()) {
      auto [ec, n] = co_await asio::async_write(c->sock, asio::buffer(c->out.front()), tuple_awaitable);
      (void)n;
      if (ec) co_return;
      c->out.pop_front();
    }
    if (c->ended) co_return;
    c->signal.expires_at(asio::steady_timer::time_point::max());
    co_await c->signal.async_wait(tuple_awaitable);
  }
}

/// Reads one line (without its newline) within `limit` bytes; nullopt at EOF, error or overflow.
asio::awaitable<std::optional<std::string>> read_line(std::shared_ptr<shim_conn> c, std::size_t limit) {
  auto [ec, n] =
      co_await asio::async_read_until(c->sock, asio::dynamic_buffer(c->in, limit + 1), '\n', tuple_awaitable);
  if (ec) co_return std::nullopt;
  std::string line = c->in.substr(0, n - 1);
  c->in.erase(0, n);
  co_return line;
}

asio::awaitable<std::optional<std::string>> timeout(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  co_await t.async_wait(tuple_awaitable);
  co_return std::nullopt;
}

asio::awaitable<void> serve(std::shared_ptr<unix_listener> l, std::shared_ptr<shim_conn> c) {
  auto b = l->bridge_.lock();
  if (!b || l->count > b->opt.max_connections) co_return;
  auto hello_or_timeout = co_await (read_line(c, 4096) || timeout(c->sock.get_executor(), b->opt.header_timeout));
  auto hello = hello_or_timeout.index() == 0 ? std::get<0>(hello_or_timeout) : std::nullopt;
  if (!hello) co_return;
  boost::system::error_code ec;
  auto v = json::parse(*hello, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* token = o ? o->if_contains("token") : nullptr;
  const auto* server = o ? o->if_contains("server") : nullptr;
  auto decl = server && server->is_string() ? b->find_declaration(server->get_string()) : nullptr;
  if (!decl || !token || !token->is_string() || !equal_secret(token->get_string(), decl->token)) {
    log::warn(where, "a shim presented a wrong token or an unknown server; closed");
    co_return;
  }
  std::string why;
  auto s = b->open_session(decl, why);
  if (!s) {
    c->send(json::object{{"ok", false}, {"error", why}});
    c->end();
    co_await writer(c);
    co_return;
  }
  c->send(json::object{{"ok", true}});
  std::weak_ptr<shim_conn> weak = c;
  auto to_client = [weak](json::object m) {
    if (auto live = weak.lock()) live->send(m);
  };
  b->set_sink(s, to_client);
  s->on_end = [weak] {
    if (auto live = weak.lock()) live->end();
  };
  asio::co_spawn(c->sock.get_executor(), writer(c), [c](std::exception_ptr e) {
    boost::system::error_code ignored;
    c->sock.close(ignored);
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log::warn(where, std::string("writing to the shim failed: ") + x.what());
      }
    }
  });
  const auto limit = b->opt.max_body_bytes;
  for (;;) {
    auto line = co_await read_line(c, limit);
    if (!line) break;
    if (line->find_first_not_of(" \t\r") == std::string::npos) continue;
    auto msg = json::parse(*line, ec);
    if (ec || !msg.is_object()) {
      c->send(error_response(nullptr, ec ? rpc_error::parse_error("Parse error: " + ec.message())
                                         : rpc_error::invalid_request("batches are not supported")));
      continue;
    }
    b->from_client(s, std::move(msg.get_object()), [weak](std::optional<json::object> answer) {
      if (auto live = weak.lock(); live && answer) live->send(*answer);
    });
    if (s->st == session::state::closed) break;
  }
  if (c->in.size() > limit) {
    log::warn(where, "a line over max_body_bytes from the MCP client; closed");
  } else { // the client closed its output: the answers to what it asked still go back
    // Woken by every call that ends (no polling); the timer's own expiry is the deadline.
    auto wake = std::make_shared<asio::steady_timer>(c->sock.get_executor(), b->opt.call_timeout.count() > 0
                                                                                 ? b->opt.call_timeout
                                                                                 : std::chrono::milliseconds(3600000));
    s->on_call_done = [wake] { wake->cancel(); };
    while ((!s->calls.empty() || !s->waiting.empty()) && s->st != session::state::closed &&
           std::chrono::steady_clock::now() < wake->expiry())
      co_await wake->async_wait(tuple_awaitable);
    s->on_call_done = nullptr;
  }
  b->end_session(s, true, "the MCP client closed its connection");
  c->end();
}

asio::awaitable<void> accept_loop(std::shared_ptr<unix_listener> l) {
  for (;;) {
    auto [ec, sock] = co_await l->acceptor.async_accept(tuple_awaitable);
    if (l->closed) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::warn(where, "accept failed: " + ec.message());
      continue;
    }
    auto c = std::make_shared<shim_conn>(std::move(sock));
    l->open.remove_if([](const auto& w) { return w.expired(); });
    l->open.push_back(c);
    ++l->count;
    asio::co_spawn(l->acceptor.get_executor(), serve(l, c), [l, c](std::exception_ptr e) {
      --l->count;
      boost::system::error_code ignored;
      if (c->out.empty()) c->sock.close(ignored); // else the writer closes it once drained
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log::warn(where, std::string("shim connection failed: ") + x.what());
        }
      }
    });
  }
}

} // namespace

std::shared_ptr<unix_listener> start_unix_listener(const std::shared_ptr<bridge::impl>& b) {
  auto l = std::make_shared<unix_listener>(b, b->ex);
  std::error_code fec;
  auto base = std::filesystem::temp_directory_path(fec);
  std::string templ = (fec ? std::string("/tmp") : base.string()) + "/acp-mcp-bridge-XXXXXX";
  if (!::mkdtemp(templ.data())) { // mkdtemp creates the directory 0700
    log::error(where, "cannot create a private directory for the shim socket: " + std::string(std::strerror(errno)));
    return nullptr;
  }
  l->dir = templ;
  l->path = templ + "/s";
  boost::system::error_code ec;
  const local::endpoint ep(l->path);
  if (l->acceptor.open(ep.protocol(), ec); !ec) l->acceptor.bind(ep, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    log::error(where, "cannot listen on " + l->path + ": " + ec.message());
    std::filesystem::remove_all(l->dir, fec);
    return nullptr;
  }
  asio::co_spawn(b->ex, accept_loop(l), [](std::exception_ptr e) {
    if (e) log::error(where, "the shim listener stopped on an exception");
  });
  return l;
}

const std::string& socket_path_of(const unix_listener& l) noexcept { return l.path; }

void close_listener(unix_listener& l) {
  if (l.closed) return;
  l.closed = true;
  boost::system::error_code ignored;
  l.acceptor.close(ignored);
  for (auto& w : l.open)
    if (auto c = w.lock()) c->sock.close(ignored);
  l.open.clear();
  std::error_code fec;
  std::filesystem::remove_all(l.dir, fec);
}

} // namespace acp::mcp_bridge
