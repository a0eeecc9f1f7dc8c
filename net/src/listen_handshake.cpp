// The handshake of an accepted connection (listen.hpp): TLS, then the WebSocket upgrade request
// or the NDJSON first line with its authentication rule; then the channel is handed over, or
// the connection is refused (an answer, then a graceful close). One deadline covers it all.

#include "listen_detail.hpp"
#include "prefixed_transport.hpp"
#include "streams.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <sys/socket.h>

namespace acp::net::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view authenticate_method = "_acp/authenticate";
/// After a refusal: how long the answer may take to leave and the peer to close.
constexpr std::chrono::milliseconds linger_time{1000};
/// The deadline of answering a connection over the limit (TLS included).
constexpr std::chrono::milliseconds busy_time{3000};

/// Compares a token given by a peer with the expected one in time that depends on the given
/// token's length only, never on where (or whether) it differs.
bool equal_secret(std::string_view given, std::string_view expected) noexcept {
  if (expected.empty()) return false;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  return diff == 0;
}

// ---- logging ------------------------------------------------------------------------------------

std::string who(const handshake& h) { return h.peer + " (connection " + std::to_string(h.number) + ")"; }

/// Logs the refusal and frees the connection's slot (answering and closing take a moment more).
void refused(handshake& h, std::string_view why) {
  h.slot.reset();
  log::warn(h.shared->log_where, "refused " + who(h) + ": " + std::string(why));
}

void failed(const handshake& h, std::string_view phase, const error_code& ec) {
  if (h.aborted) {
    if (h.shared->closed)
      log::debug(h.shared->log_where, who(h) + ": handshake abandoned: " + h.aborted);
    else
      log::warn(
          h.shared->log_where,
          who(h) + ": " + h.aborted + " after " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - h.started).count()) +
              " ms (" + std::string(phase) + ")");
    return;
  }
  log::warn(h.shared->log_where, who(h) + ": " + std::string(phase) + " failed: " + ec.message());
}

// ---- streams ------------------------------------------------------------------------------------

template <class Stream> constexpr bool is_tls = std::is_same_v<Stream, tls_socket>;

/// After an answer: let it leave and the peer close (TLS: close_notify; plain: stop sending and
/// read what the peer still sends), so that closing does not reset the connection under it.
template <class Stream> asio::awaitable<void> close_gracefully(handshake& h, Stream& stream) {
  h.deadline(clock::now() + linger_time);
  if constexpr (is_tls<Stream>) {
    auto [ec] = co_await stream.async_shutdown(use_tuple);
    (void)ec;
  } else {
    error_code ignored;
    stream.shutdown(asio::socket_base::shutdown_send, ignored);
    std::array<char, 4096> scratch{};
    for (std::size_t total = 0; total < (std::size_t{1} << 20);) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
      if (ec) break;
      total += n;
    }
  }
  h.finish();
}

std::string describe(std::string_view kind, const handshake& h) { return std::string(kind) + " " + h.peer; }

boost::system::result<transport_ptr> to_transport(handshake& h, tls_socket& stream) {
  return make_tls_transport(std::move(stream), describe("tls", h));
}
template <class Socket> boost::system::result<transport_ptr> to_transport(handshake& h, Socket& socket) {
  error_code ec;
  const int fd = socket.release(ec);
  if (ec) return ec;
  const auto& where = h.shared->where;
  return make_socket_transport(h.shared->ex, fd,
                               where.scheme == scheme::unix_socket ? "unix " + where.path : describe("tcp", h));
}

/// The handshake has passed: the channel goes to the owner, unless the listener closed meanwhile.
void hand_over(handshake& h, message_channel_ptr channel) {
  auto& s = *h.shared;
  if (s.closed || !s.on_connection) {
    log::debug(s.log_where, who(h) + ": not handed over: the listener closed");
    channel->close();
    return;
  }
  log::debug(s.log_where, who(h) + ": accepted");
  channel = with_idle_timeout(s.ex, std::move(channel), s.options.idle_timeout);
  s.on_connection(accepted_connection{std::move(channel), h.peer, h.number, connection_slot(std::move(h.slot))});
}

// ---- answers -----------------------------------------------------------------------------------

template <class Stream>
asio::awaitable<void> refuse_http(handshake& h, Stream& stream, http::status status, std::string_view why,
                                  unsigned version = 11) {
  refused(h, std::to_string(static_cast<unsigned>(status)) + " " + std::string(why));
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "acp-conductor");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  res.keep_alive(false);
  res.body() = std::string(why) + "\n";
  res.prepare_payload();
  h.deadline(clock::now() + linger_time);
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  (void)n;
  if (!ec) co_await close_gracefully(h, stream);
}

// ---- NDJSON: the first line ---------------------------------------------------------------------

template <class Stream>
asio::awaitable<void> refuse_ndjson(handshake& h, Stream& stream, int code, std::string_view message) {
  refused(h, message);
  std::string line = R"({"jsonrpc":"2.0","id":null,"error":{"code":)" + std::to_string(code) + R"(,"message":")" +
                     std::string(message) + "\"}}\n";
  h.deadline(clock::now() + linger_time);
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(line), use_tuple);
  (void)n;
  if (!ec) co_await close_gracefully(h, stream);
}

/// The token of an authentication line (`{"method":"_acp/authenticate","params":{"token":…}}`):
/// nullopt when the line is something else; an empty optional inside when it has no token string.
std::optional<std::optional<std::string>> authentication(std::string_view line) {
  if (line.find(authenticate_method) == std::string_view::npos) return std::nullopt;
  error_code ec;
  auto v = json::parse(line, ec);
  const auto* obj = ec ? nullptr : v.if_object();
  const auto* method = obj ? obj->if_contains("method") : nullptr;
  if (!method || !method->is_string() || method->get_string() != authenticate_method) return std::nullopt;
  const auto* params = obj->if_contains("params");
  const auto* token = params && params->is_object() ? params->get_object().if_contains("token") : nullptr;
  if (!token || !token->is_string()) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(token->get_string())};
}

/// An HTTP request line (`GET / HTTP/1.1`): a browser or curl on an NDJSON port. Refused, so that
/// a web page cannot smuggle JSON-RPC lines in a request body to a server without a token.
bool http_request_line(std::string_view line) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || space < 3 || space > 10) return false;
  for (char c : line.substr(0, space))
    if (c < 'A' || c > 'Z') return false;
  return line.ends_with(" HTTP/1.1") || line.ends_with(" HTTP/1.0");
}

/// `bytes`: what was read before (plaintext: the first read, looked at for a TLS handshake).
template <class Stream>
asio::awaitable<void> ndjson_phase(std::shared_ptr<handshake> hp, Stream& stream, std::string bytes) {
  auto& h = *hp;
  const auto& opt = h.shared->options;
  if (h.busy) co_return co_await refuse_ndjson(h, stream, -32000, "server busy: too many connections");
  std::size_t newline = std::string::npos;
  std::array<char, 4096> chunk{};
  while ((newline = bytes.find('\n')) == std::string::npos && bytes.size() <= opt.max_header_bytes) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), use_tuple);
    bytes.append(chunk.data(), n);
    if (!ec) continue;
    if (h.aborted || bytes.empty() || (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated)) {
      failed(h, "reading the first line", ec);
      co_return;
    }
    break; // the peer ended its output: what it sent is the whole first line
  }
  const bool too_long = (newline == std::string::npos ? bytes.size() : newline) > opt.max_header_bytes;
  auto line = std::string_view(bytes).substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const auto auth = too_long ? std::nullopt : authentication(line);
  std::string limit_text = "unauthorized: the first line is over " + std::to_string(opt.max_header_bytes) + " bytes";
  if (!too_long && http_request_line(line))
    co_return co_await refuse_http(h, stream, http::status::bad_request,
                                   "this port speaks JSON-RPC lines (NDJSON), not HTTP");
  bool keep_line = true;
  if (opt.bearer_token) {
    if (too_long) co_return co_await refuse_ndjson(h, stream, -32001, limit_text);
    if (!auth || !*auth) co_return co_await refuse_ndjson(h, stream, -32001, "unauthorized: missing token");
    if (!equal_secret(**auth, *opt.bearer_token))
      co_return co_await refuse_ndjson(h, stream, -32001, "unauthorized: wrong token");
    keep_line = false;
  } else if (auth) {
    keep_line = false; // a token is never passed on
  } else if (too_long && bytes.find(authenticate_method) != std::string::npos) {
    co_return co_await refuse_ndjson(h, stream, -32001, limit_text); // perhaps one: never passed on either
  }
  h.finish();
  if (h.shared->closed) co_return;
  auto transport = to_transport(h, stream);
  if (!transport) {
    failed(h, "taking over the socket", transport.error());
    co_return;
  }
  // What follows a dropped line (nothing when the peer ended right after it, without a newline).
  std::string prefix = keep_line                      ? std::move(bytes)
                       : newline == std::string::npos ? std::string()
                                                      : bytes.substr(newline + 1);
  auto channel = make_ndjson_channel(h.shared->ex, make_prefixed_transport(std::move(prefix), std::move(*transport)),
                                     ndjson_options{.max_message_bytes = opt.max_message_bytes});
  hand_over(h, std::move(channel));
}

// ---- WebSocket: the upgrade request -------------------------------------------------------------

/// The token of `Authorization: Bearer TOKEN` (scheme case-insensitive); empty when none.
std::string_view bearer_token(std::string_view header) {
  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size() || (header[scheme.size()] != ' ' && header[scheme.size()] != '\t')) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if ((header[i] | 0x20) != scheme[i]) return {};
  auto token = header.substr(scheme.size());
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

/// A browser's Origin on this machine: http(s)://localhost, 127.x.y.z or [::1], any port. Without
/// a token, a page from anywhere else may not drive the server through the visitor's browser.
bool local_origin(std::string_view origin) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!origin.starts_with(scheme)) continue;
    auto host = origin.substr(scheme.size());
    if (const auto colon = host.rfind(':'); colon != std::string_view::npos && host.back() != ']') {
      const auto port = host.substr(colon + 1);
      if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
          std::stoul(std::string(port)) > 65535)
        return false;
      host = host.substr(0, colon);
    }
    if (host == "localhost" || host == "[::1]") return true;
    if (!host.starts_with("127.")) return false;
    int dots = 0;
    for (char c : host) {
      if (c == '.')
        ++dots;
      else if (c < '0' || c > '9')
        return false;
    }
    return dots == 3;
  }
  return false;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

template <class Stream>
asio::awaitable<void> ws_phase(std::shared_ptr<handshake> hp, Stream& stream, std::string bytes) {
  auto& h = *hp;
  const auto& opt = h.shared->options;
  if (h.busy) co_return co_await refuse_http(h, stream, http::status::service_unavailable, "too many connections");
  beast::flat_buffer buffer;
  buffer.commit(asio::buffer_copy(buffer.prepare(bytes.size()), asio::buffer(bytes)));
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(opt.max_header_bytes, UINT32_MAX)));
  parser.body_limit(1024);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
  (void)n;
  if (ec && !h.aborted) {
    if (ec == http::error::header_limit)
      co_return co_await refuse_http(h, stream, http::status::request_header_fields_too_large,
                                     "request header over " + std::to_string(opt.max_header_bytes) + " bytes");
    if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::ssl::error::stream_truncated &&
        ec != asio::error::connection_reset)
      co_return co_await refuse_http(h, stream, http::status::bad_request, "bad HTTP request: " + ec.message());
  }
  if (ec) {
    failed(h, "reading the upgrade request", ec);
    co_return;
  }
  const auto& req = parser.get();
  if (!websocket::is_upgrade(req))
    co_return co_await refuse_http(h, stream, http::status::bad_request, "not a WebSocket upgrade request",
                                   req.version());
  if (const auto& want = h.shared->where.path; want != "/" && path_of(req.target()) != path_of(want))
    co_return co_await refuse_http(h, stream, http::status::not_found, "no WebSocket endpoint at this path",
                                   req.version());
  if (const auto origin = std::string_view(req[http::field::origin]);
      !opt.bearer_token && !origin.empty() && !local_origin(origin))
    co_return co_await refuse_http(h, stream, http::status::forbidden, "foreign Origin: a token is required",
                                   req.version());
  if (opt.bearer_token) {
    const auto token = bearer_token(req[http::field::authorization]);
    if (token.empty())
      co_return co_await refuse_http(h, stream, http::status::unauthorized, "missing bearer token", req.version());
    if (!equal_secret(token, *opt.bearer_token))
      co_return co_await refuse_http(h, stream, http::status::forbidden, "wrong bearer token", req.version());
  }
  websocket::stream<Stream> ws(std::move(stream));
  ws.read_message_max(opt.max_message_bytes);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "acp-conductor"); }));
  auto [ec2] = co_await ws.async_accept(req, use_tuple);
  if (ec2) {
    failed(h, "WebSocket upgrade", ec2);
    co_return;
  }
  h.finish();
  if (h.shared->closed) co_return;
  // What the request's reader read past the request (a client that did not wait for the 101) is
  // read first, not lost.
  auto channel = make_ws_channel(std::move(ws.next_layer()), beast::buffers_to_string(buffer.data()),
                                 ws_channel_options{.max_message_bytes = opt.max_message_bytes,
                                                    .ping_interval = opt.ping_interval,
                                                    .idle_timeout = std::chrono::milliseconds(0),
                                                    .description = describe(to_string(h.shared->where.scheme), h)});
  hand_over(h, std::move(channel));
}

// ---- a connection -------------------------------------------------------------------------------

template <class Stream>
asio::awaitable<void> after_transport(std::shared_ptr<handshake> h, Stream& stream, std::string bytes) {
  if constexpr (std::is_same_v<Stream, local_socket>) {
    co_await ndjson_phase(std::move(h), stream, std::move(bytes));
  } else {
    if (h->shared->where.websocket())
      co_await ws_phase(std::move(h), stream, std::move(bytes));
    else
      co_await ndjson_phase(std::move(h), stream, std::move(bytes));
  }
}

template <class Socket> asio::awaitable<void> serve(std::shared_ptr<handshake> h, Socket socket) {
  if constexpr (std::is_same_v<Socket, tcp_socket>) {
    if (h->shared->where.secure()) {
      tls_socket stream(std::move(socket), *h->shared->tls);
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (ec) {
        failed(*h, "TLS handshake", ec);
        co_return;
      }
      co_await after_transport(std::move(h), stream, {});
      co_return;
    }
  }
  std::string bytes;
  if (!h->busy) {
    // The first bytes: a TLS client on a plaintext port is told apart at once (a handshake
    // record starts with 0x16; JSON and HTTP never do) and closed without an answer.
    std::array<char, 4096> chunk{};
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec == asio::error::eof && !h->aborted) { // a port probe, or a client that gave up
      log::info(h->shared->log_where, who(*h) + ": closed before sending anything");
      co_return;
    }
    if (ec) {
      failed(*h, "reading the first bytes", ec);
      co_return;
    }
    bytes.assign(chunk.data(), n);
    if (bytes.front() == '\x16') {
      refused(*h, "a TLS handshake on a plaintext port");
      h->finish();
      co_return;
    }
  }
  co_await after_transport(std::move(h), socket, std::move(bytes));
}

template <class Socket>
void start(const std::shared_ptr<listener_shared>& s, Socket socket, std::string peer, bool busy) {
  const auto number = ++s->accepted;
  auto h = std::make_shared<handshake>(s, socket.native_handle(), std::move(peer), number, busy);
  s->handshakes.emplace(number, h);
  const auto limit = busy ? std::min(busy_time, s->options.handshake_timeout) : s->options.handshake_timeout;
  h->deadline(clock::now() + limit);
  asio::co_spawn(s->ex, serve(h, std::move(socket)),
                 log::on_failure(s->log_where, "the handshake of connection " + std::to_string(number)));
}

} // namespace

// ---- handshake ----------------------------------------------------------------------------------

handshake::handshake(std::shared_ptr<listener_shared> s, int socket_fd, std::string peer_text, std::uint64_t n,
                     bool over)
    : shared(std::move(s)), fd(socket_fd), peer(std::move(peer_text)), number(n), busy(over), timer(shared->ex) {
  if (busy) {
    ++shared->refusing;
  } else {
    // The slot: counted from now until the owner drops it (or the handshake fails).
    shared->active->fetch_add(1);
    slot = std::shared_ptr<void>(nullptr, [count = shared->active](void*) { count->fetch_sub(1); });
  }
}

handshake::~handshake() {
  if (busy) --shared->refusing;
  shared->handshakes.erase(number);
}

void handshake::deadline(clock::time_point at) {
  if (done || at >= due) return;
  due = at;
  timer.expires_at(at);
  timer.async_wait([weak = weak_from_this()](const error_code& ec) {
    if (auto live = weak.lock(); live && !ec) live->abort("handshake timed out");
  });
}

void handshake::abort(const char* why) noexcept {
  if (done) return;
  if (!aborted) aborted = why;
  ::shutdown(fd, SHUT_RDWR);
}

void handshake::finish() noexcept {
  done = true;
  timer.cancel();
}

void start_handshake(const std::shared_ptr<listener_shared>& s, asio::ip::tcp::socket socket, std::string peer,
                     bool busy) {
  start(s, std::move(socket), std::move(peer), busy);
}
void start_handshake(const std::shared_ptr<listener_shared>& s, local_socket socket, std::string peer, bool busy) {
  start(s, std::move(socket), std::move(peer), busy);
}

} // namespace acp::net::detail
