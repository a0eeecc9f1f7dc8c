// The MCP Streamable HTTP side of the bridge (Boost.Beast; the only file that includes it).
// One coroutine per connection; every phase has a deadline (first byte, head, body, write).

#include "core.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <list>

namespace acp::mcp_bridge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr std::string_view where = "mcp-bridge http";
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct connection {
  explicit connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buf;
  bool busy = false; ///< between a request's head and its answer (close() lets it finish)
};

/// The GET stream of a session: messages for it, and a signal for its writer.
struct event_stream {
  explicit event_stream(const asio::any_io_executor& ex) : signal(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer signal;
  std::deque<json::object> out;
  bool ended = false;
};
} // namespace

class http_listener : public std::enable_shared_from_this<http_listener> {
public:
  http_listener(std::weak_ptr<bridge::impl> b, const asio::any_io_executor& ex) : bridge_(std::move(b)), acceptor(ex) {}
  std::weak_ptr<bridge::impl> bridge_;
  tcp::acceptor acceptor;
  unsigned short port = 0;
  bool closed = false;
  std::list<std::weak_ptr<connection>> open;
  std::size_t count = 0;
};

namespace {

bool local_origin(std::string_view origin) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!origin.starts_with(scheme)) continue;
    auto host = origin.substr(scheme.size());
    for (std::string_view name : {"127.0.0.1", "localhost", "[::1]"}) {
      if (!host.starts_with(name)) continue;
      auto rest = host.substr(name.size());
      if (rest.empty()) return true;
      if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
      for (char ch : rest.substr(1))
        if (ch < '0' || ch > '9') return false;
      return true;
    }
  }
  return false;
}

bool accepts(std::string_view accept, std::string_view type) { return accept.find(type) != std::string_view::npos; }

bool known_version(std::string_view v) {
  for (std::string_view k : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"})
    if (v == k) return true;
  return false;
}

using response = http::response<http::string_body>;

response make_response(http::status st, unsigned version, bool keep_alive, std::string body = {},
                       std::string_view content_type = "application/json") {
  response res{st, version};
  res.set(http::field::server, "acp-mcp-bridge");
  if (!body.empty()) res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

response status_only(http::status st, unsigned version, bool keep_alive, std::string_view why) {
  return make_response(st, version, keep_alive, json::serialize(json::object{{"error", why}}));
}

response rpc_failure(http::status st, unsigned version, bool keep_alive, const rpc_error& e) {
  return make_response(st, version, keep_alive, json::serialize(error_response(nullptr, e)));
}

asio::awaitable<bool> write_response(std::shared_ptr<connection> c, response res, std::chrono::milliseconds limit) {
  c->stream.expires_after(limit);
  auto [ec, n] = co_await http::async_write(c->stream, res, tuple_awaitable);
  (void)n;
  co_return !ec;
}

/// After an answer to a request whose body was not read: stop sending and discard what the
/// client still sends (briefly), so that closing does not reset the connection under the answer.
asio::awaitable<void> linger_close(std::shared_ptr<connection> c) {
  boost::system::error_code ignored;
  c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  c->stream.expires_after(std::chrono::milliseconds(500));
  std::array<char, 16384> scratch{};
  for (std::size_t total = 0; total < (std::size_t(4) << 20);) {
    auto [ec, n] = co_await c->stream.async_read_some(asio::buffer(scratch), tuple_awaitable);
    if (ec) break;
    total += n;
  }
}

/// Completes when the peer closes (true) or sends more than `limit` bytes meanwhile; read bytes
/// stay in the connection's buffer for the next request.
asio::awaitable<bool> watch_close(std::shared_ptr<connection> c, std::size_t limit) {
  for (;;) {
    auto [ec, n] = co_await c->stream.socket().async_read_some(c->buf.prepare(4096), tuple_awaitable);
    if (ec) co_return true;
    c->buf.commit(n);
    if (c->buf.size() > limit) co_return true;
  }
}

/// The answer to one POSTed request: waits for it, or for the client to go away.
struct waiter {
  explicit waiter(const asio::any_io_executor& ex) : signal(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer signal;
  std::optional<std::optional<json::object>> answer;
};

asio::awaitable<void> run_stream(std::shared_ptr<bridge::impl> b, std::shared_ptr<connection> c,
                                 std::shared_ptr<session> s, std::shared_ptr<event_stream> st) {
  std::string head = "HTTP/1.1 200 OK\r\nServer: acp-mcp-bridge\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nMcp-Session-Id: " +
                     s->key + "\r\nConnection: close\r\n\r\n";
  c->stream.expires_after(b->opt.body_timeout);
  auto [ec0, n0] = co_await asio::async_write(c->stream, asio::buffer(head), tuple_awaitable);
  (void)n0;
  if (ec0) co_return;
  std::weak_ptr<event_stream> weak = st;
  b->set_sink(s, [weak](json::object m) {
    if (auto live = weak.lock()) {
      live->out.push_back(std::move(m));
      live->signal.cancel();
    }
  });
  s->on_end = [weak] {
    if (auto live = weak.lock()) {
      live->ended = true;
      live->signal.cancel();
    }
  };
  for (;;) {
    while (!st->out.empty()) {
      std::string event = "event: message\ndata: " + json::serialize(st->out.front()) + "\n\n";
      st->out.pop_front();
      c->stream.expires_after(b->opt.body_timeout);
      auto [ec, n] = co_await asio::async_write(c->stream, asio::buffer(event), tuple_awaitable);
      (void)n;
      if (ec) co_return;
    }
    if (st->ended) co_return;
    c->stream.expires_never();
    st->signal.expires_at(asio::steady_timer::time_point::max());
    auto which = co_await (st->signal.async_wait(tuple_awaitable) || watch_close(c, 0));
    if (which.index() == 1) co_return; // the client went away (or sent something on a stream)
  }
}

asio::awaitable<void> stream_then_release(std::shared_ptr<bridge::impl> b, std::shared_ptr<connection> c,
                                          std::shared_ptr<session> s) {
  auto st = std::make_shared<event_stream>(c->stream.get_executor());
  co_await run_stream(b, c, s, st);
  if (s->st != session::state::closed && s->to_client) {
    b->set_sink(s, nullptr);
    s->on_end = nullptr;
  }
}

/// Handles one request whose head and body have been read. Returns false to close.
asio::awaitable<bool> handle(std::shared_ptr<bridge::impl> b, std::shared_ptr<connection> c,
                             http::request<http::string_body> req) {
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  const auto& opt = b->opt;
  auto reply = [&](response r) { return write_response(c, std::move(r), opt.body_timeout); };

  const auto target = std::string_view(req.target());
  constexpr std::string_view prefix = "/mcp/";
  auto decl = target.starts_with(prefix) ? b->find_declaration(target.substr(prefix.size())) : nullptr;
  if (!decl) co_return (co_await reply(status_only(http::status::not_found, v, ka, "unknown MCP endpoint"))) && ka;
  const auto auth = std::string_view(req[http::field::authorization]);
  if (!auth.starts_with("Bearer ") || !equal_secret(auth.substr(7), decl->token)) {
    auto r = status_only(http::status::unauthorized, v, ka, "missing or wrong bearer token");
    r.set(http::field::www_authenticate, "Bearer");
    co_return (co_await reply(std::move(r))) && ka;
  }
  const auto session_header = std::string_view(req["Mcp-Session-Id"]);
  std::shared_ptr<session> s;
  if (!session_header.empty()) {
    s = b->find_session(session_header);
    if (!s || s->decl != decl)
      co_return (co_await reply(status_only(http::status::not_found, v, ka, "unknown Mcp-Session-Id"))) && ka;
  }
  const auto version = std::string_view(req["MCP-Protocol-Version"]);
  if (!version.empty() && !known_version(version) && !(s && version == s->protocol_version))
    co_return (co_await reply(status_only(http::status::bad_request, v, ka, "unsupported MCP-Protocol-Version"))) && ka;

  if (req.method() == http::verb::delete_) {
    if (!s) co_return (co_await reply(status_only(http::status::bad_request, v, ka, "missing Mcp-Session-Id"))) && ka;
    b->end_session(s, true, "the MCP client ended the session");
    co_return (co_await reply(make_response(http::status::ok, v, ka))) && ka;
  }
  if (req.method() == http::verb::get) {
    if (!accepts(req[http::field::accept], "text/event-stream"))
      co_return (co_await reply(
          status_only(http::status::method_not_allowed, v, ka, "GET needs Accept: text/event-stream"))) &&
          ka;
    if (!s) co_return (co_await reply(status_only(http::status::bad_request, v, ka, "missing Mcp-Session-Id"))) && ka;
    if (s->to_client)
      co_return (co_await reply(status_only(http::status::conflict, v, ka, "a stream is already open"))) && ka;
    co_await stream_then_release(b, c, s);
    co_return false;
  }
  if (req.method() != http::verb::post) {
    auto r = status_only(http::status::method_not_allowed, v, ka, "use POST, GET or DELETE");
    r.set(http::field::allow, "POST, GET, DELETE");
    co_return (co_await reply(std::move(r))) && ka;
  }

  boost::system::error_code ec;
  auto body = json::parse(req.body(), ec);
  if (ec)
    co_return (co_await reply(
        rpc_failure(http::status::bad_request, v, ka, rpc_error::parse_error("Parse error: " + ec.message())))) &&
        ka;
  if (body.is_array())
    co_return (co_await reply(
        rpc_failure(http::status::bad_request, v, ka, rpc_error::invalid_request("batches are not supported")))) &&
        ka;
  auto* msg = body.if_object();
  const auto* method = msg ? msg->if_contains("method") : nullptr;
  const auto* id = msg ? msg->if_contains("id") : nullptr;
  const bool is_request = method && method->is_string() && id;
  const bool is_response = !method && id && (msg->contains("result") || msg->contains("error"));
  if (!msg || (method && !method->is_string()) || (!method && !is_response) || (id && !jsonrpc::is_valid_id(*id)))
    co_return (co_await reply(
        rpc_failure(http::status::bad_request, v, ka, rpc_error::invalid_request("not a JSON-RPC message")))) &&
        ka;
  const bool initialize = is_request && method->get_string() == "initialize";
  if (!s && !initialize)
    co_return (co_await reply(
        status_only(http::status::bad_request, v, ka, "missing Mcp-Session-Id (send initialize first)"))) &&
        ka;
  if (!s) {
    std::string why;
    s = b->open_session(decl, why);
    if (!s)
      co_return (
          co_await reply(rpc_failure(http::status::service_unavailable, v, ka, rpc_error::internal_error(why)))) &&
          ka;
  }
  if (!is_request) {
    b->from_client(s, std::move(*msg), nullptr);
    co_return (co_await reply(make_response(http::status::accepted, v, ka))) && ka;
  }

  const json::value client_id = *id;
  auto w = std::make_shared<waiter>(c->stream.get_executor());
  std::weak_ptr<waiter> weak = w;
  b->from_client(s, std::move(*msg), [weak](std::optional<json::object> answer) {
    if (auto live = weak.lock()) {
      live->answer = std::move(answer);
      live->signal.cancel();
    }
  });
  c->stream.expires_never();
  while (!w->answer) {
    auto which = co_await (w->signal.async_wait(tuple_awaitable) || watch_close(c, opt.max_body_bytes));
    if (which.index() == 1 && !w->answer) { // the client went away mid-call
      b->abandon(s, client_id);
      co_return false;
    }
  }
  auto answer = std::move(*w->answer);
  if (!answer) answer = error_response(client_id, rpc_error::request_cancelled());
  const bool sse =
      accepts(req[http::field::accept], "text/event-stream") && !accepts(req[http::field::accept], "application/json");
  auto text = json::serialize(*answer);
  auto r = sse ? make_response(http::status::ok, v, ka, "event: message\ndata: " + text + "\n\n", "text/event-stream")
               : make_response(http::status::ok, v, ka, std::move(text));
  if (initialize && s->st != session::state::closed) r.set("Mcp-Session-Id", s->key);
  co_return (co_await reply(std::move(r))) && ka;
}

asio::awaitable<void> serve(std::shared_ptr<http_listener> l, std::shared_ptr<connection> c) {
  auto b = l->bridge_.lock();
  if (!b) co_return;
  const auto& opt = b->opt;
  if (l->count > opt.max_connections) {
    co_await write_response(c, status_only(http::status::service_unavailable, 11, false, "too many connections"),
                            std::chrono::milliseconds(1000));
    co_return;
  }
  for (bool first = true;; first = false) {
    if (c->buf.size() == 0) { // wait for the first byte of the next request
      c->stream.expires_after(first ? opt.header_timeout : opt.idle_timeout);
      auto [ec, n] = co_await c->stream.async_read_some(c->buf.prepare(4096), tuple_awaitable);
      if (ec) co_return;
      c->buf.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(opt.max_body_bytes);
    c->stream.expires_after(opt.header_timeout);
    auto [ec, n] = co_await http::async_read_header(c->stream, c->buf, parser, tuple_awaitable);
    (void)n;
    if (ec == http::error::header_limit) {
      if (co_await write_response(
              c, status_only(http::status::request_header_fields_too_large, 11, false, "header too large"),
              opt.body_timeout))
        co_await linger_close(c);
      co_return;
    }
    if (ec == http::error::body_limit) { // Content-Length over the limit: seen with the head
      if (co_await write_response(c, status_only(http::status::payload_too_large, 11, false, "body too large"),
                                  opt.body_timeout))
        co_await linger_close(c);
      co_return;
    }
    if (ec) co_return; // deadline, close or garbage: nothing sensible to answer
    if (l->closed) co_return;
    const auto& head = parser.get();
    const unsigned v = head.version();
    if (auto origin = std::string_view(head[http::field::origin]); !origin.empty() && !local_origin(origin)) {
      if (co_await write_response(c, status_only(http::status::forbidden, v, false, "foreign Origin"),
                                  opt.body_timeout))
        co_await linger_close(c);
      co_return;
    }
    if (auto len = parser.content_length(); len && *len > opt.max_body_bytes) {
      if (co_await write_response(c, status_only(http::status::payload_too_large, v, false, "body too large"),
                                  opt.body_timeout))
        co_await linger_close(c);
      co_return;
    }
    c->stream.expires_after(opt.body_timeout);
    auto [ec2, n2] = co_await http::async_read(c->stream, c->buf, parser, tuple_awaitable);
    (void)n2;
    if (ec2 == http::error::body_limit) {
      if (co_await write_response(c, status_only(http::status::payload_too_large, v, false, "body too large"),
                                  opt.body_timeout))
        co_await linger_close(c);
      co_return;
    }
    if (ec2) co_return;
    c->busy = true;
    auto keep = co_await handle(b, c, parser.release());
    c->busy = false;
    if (!keep || l->closed) co_return;
  }
}

asio::awaitable<void> accept_loop(std::shared_ptr<http_listener> l) {
  for (;;) {
    auto [ec, sock] = co_await l->acceptor.async_accept(tuple_awaitable);
    if (l->closed) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::warn(where, "accept failed: " + ec.message());
      continue;
    }
    auto c = std::make_shared<connection>(std::move(sock));
    l->open.remove_if([](const auto& w) { return w.expired(); });
    l->open.push_back(c);
    ++l->count;
    asio::co_spawn(l->acceptor.get_executor(), serve(l, c), [l, c](std::exception_ptr e) {
      --l->count;
      boost::system::error_code ignored;
      c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      c->stream.socket().close(ignored);
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log::warn(where, std::string("connection failed: ") + x.what());
        }
      }
    });
  }
}

/// Ends idle sessions every quarter of the idle timeout (at most every 10 s).
asio::awaitable<void> sweep_idle(std::shared_ptr<http_listener> l, std::chrono::milliseconds every) {
  asio::steady_timer t(l->acceptor.get_executor());
  for (;;) {
    t.expires_after(every);
    co_await t.async_wait(tuple_awaitable);
    if (l->closed) co_return;
    if (auto b = l->bridge_.lock())
      b->expire_idle_sessions();
    else
      co_return;
  }
}

} // namespace

std::shared_ptr<http_listener> start_http_listener(const std::shared_ptr<bridge::impl>& b) {
  auto l = std::make_shared<http_listener>(b, b->ex);
  boost::system::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  if (l->acceptor.open(ep.protocol(), ec); !ec) l->acceptor.bind(ep, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    log::error(where, "cannot listen on 127.0.0.1: " + ec.message());
    return nullptr;
  }
  l->port = l->acceptor.local_endpoint(ec).port();
  asio::co_spawn(b->ex, accept_loop(l), [](std::exception_ptr e) {
    if (e) log::error(where, "the HTTP listener stopped on an exception");
  });
  if (const auto idle = b->opt.session_idle_timeout; idle.count() > 0) {
    const auto every = std::clamp(idle / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(10000));
    asio::co_spawn(b->ex, sweep_idle(l, every), [](std::exception_ptr e) {
      if (e) log::error(where, "the idle-session sweeper stopped on an exception");
    });
  }
  return l;
}

unsigned short port_of(const http_listener& l) noexcept { return l.port; }

void close_listener(http_listener& l) {
  if (l.closed) return;
  l.closed = true;
  boost::system::error_code ignored;
  l.acceptor.close(ignored);
  // Idle connections close now; a busy one is answered (the bridge ends every session right
  // after this, which answers waiting requests and ends streams) and then closes.
  for (auto& w : l.open)
    if (auto c = w.lock(); c && !c->busy) {
      c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      c->stream.socket().close(ignored);
    }
}

} // namespace acp::mcp_bridge
