// Connecting to a remote component: resolve, TCP connect (or unix), SOCKS5, TLS, the WebSocket
// upgrade or the NDJSON authentication line, all within one deadline (connect.hpp).
//
// The deadline is a timer whose expiry aborts the phase in progress (it cancels the resolver or
// closes the socket), so every phase, Beast's and OpenSSL's included, ends at once; the error
// then names the phase that was running.

#include "socks5.hpp"
#include "streams.hpp"

#include <acp/protocol/jsonrpc.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <functional>
#include <memory>
#include <utility>

namespace acp::net {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using detail::tcp_socket;
using detail::tls_socket;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using connect_result = boost::system::result<message_channel_ptr, std::string>;

/// The overall deadline: the phase running and how to abort it.
struct deadline {
  explicit deadline(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::string phase = "resolve";
  std::function<void()> abort; // aborts the phase in progress
  bool expired = false;
};

bool is_ip_literal(const std::string& host) {
  in_addr a4{};
  in6_addr a6{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  if (d.count() < 1000) return std::to_string(d.count()) + " ms";
  return std::to_string(d.count() / 1000) + "." + std::to_string(d.count() % 1000 / 100) + " s";
}

/// An I/O error as a sentence fragment; OpenSSL's reason without the library name.
std::string why(const error_code& ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "the peer closed the connection";
  if (ec.category() == asio::error::get_ssl_category()) {
    if (const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) return reason;
  }
  return ec.message();
}

/// The "Host" header value: host, or host:port when the port is not the scheme's default.
std::string host_header(const url& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + u.host + "]" : u.host;
  const unsigned short default_port = u.scheme == scheme::wss ? 443 : 80;
  if (u.port != default_port) h += ":" + std::to_string(u.port);
  return h;
}

/// The server's answer to a WebSocket upgrade: its header may take this much.
constexpr std::uint32_t upgrade_answer_limit = 16 * 1024;

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(std::max(len, 0)));
  return out;
}

/// A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1). Empty if the generator fails.
std::string websocket_key() {
  unsigned char nonce[16];
  if (::RAND_bytes(nonce, sizeof nonce) != 1) return {};
  return base64(nonce, sizeof nonce);
}

/// The Sec-WebSocket-Accept a server must answer `key` with: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(const std::string& key) {
  const std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (::EVP_Digest(text.data(), text.size(), digest, &n, ::EVP_sha1(), nullptr) != 1) return {};
  return base64(digest, n);
}

/// `{"jsonrpc":"2.0","method":"_acp/authenticate","params":{"token":"…"}}\n` (PROTOCOL.md §8).
std::string authentication_line(const std::string& token) {
  std::string line = R"({"jsonrpc":"2.0","method":"_acp/authenticate","params":{"token":)";
  jsonrpc::append_json_string(line, token);
  line += "}}\n";
  return line;
}

/// Overwrites a string holding a secret before it is freed.
void wipe(std::string& s) noexcept {
  std::fill(s.begin(), s.end(), '\0');
  s.clear();
}

class connector {
public:
  connector(asio::any_io_executor ex, url target, connect_options options, deadline& d)
      : ex_(std::move(ex)), target_(std::move(target)), options_(std::move(options)), d_(d) {}
  ~connector() {
    if (options_.bearer_token) wipe(*options_.bearer_token);
    if (options_.socks5) wipe(options_.socks5->password);
  }
  connector(const connector&) = delete;
  connector& operator=(const connector&) = delete;

  asio::awaitable<connect_result> run() {
    if (target_.scheme == scheme::unix_socket) co_return co_await connect_unix();
    tcp_socket socket(ex_);
    if (auto e = co_await open_tcp(socket); !e.empty()) co_return e;
    switch (target_.scheme) {
    case scheme::tcp: {
      const int fd = release(socket);
      if (fd < 0) co_return "cannot use the connection to " + target_.authority();
      auto t = make_socket_transport(ex_, fd, description());
      if (!t) co_return "cannot use the connection to " + target_.authority() + ": " + t.error().message();
      co_return co_await ndjson(std::move(*t));
    }
    case scheme::tls: {
      auto ctx = make_context();
      if (!ctx) co_return ctx.error();
      tls_socket tls(std::move(socket), **ctx);
      if (auto e = co_await tls_handshake(tls); !e.empty()) co_return e;
      co_return co_await ndjson(detail::make_tls_transport(std::move(tls), description()));
    }
    case scheme::ws:
      co_return co_await upgrade(std::move(socket));
    case scheme::wss: {
      auto ctx = make_context();
      if (!ctx) co_return ctx.error();
      tls_socket tls(std::move(socket), **ctx);
      if (auto e = co_await tls_handshake(tls); !e.empty()) co_return e;
      co_return co_await upgrade(std::move(tls));
    }
    case scheme::unix_socket:
      break;
    }
    co_return std::string("unsupported scheme");
  }

private:
  std::string description() const {
    auto d = std::string(to_string(target_.scheme)) + " " + target_.authority();
    if (options_.socks5) d += " via SOCKS5 " + options_.socks5->host + ":" + std::to_string(options_.socks5->port);
    return d;
  }

  void phase(std::string name, std::function<void()> abort) {
    d_.phase = std::move(name);
    d_.abort = std::move(abort);
  }

  static int release(tcp_socket& s) {
    error_code ec;
    const int fd = s.release(ec);
    return ec ? -1 : fd;
  }

  /// Resolves and connects to the target, or to the SOCKS5 proxy and through it.
  asio::awaitable<std::string> open_tcp(tcp_socket& socket) {
    const bool proxied = options_.socks5.has_value();
    const std::string host = proxied ? options_.socks5->host : target_.host;
    const unsigned short port = proxied ? options_.socks5->port : target_.port;
    const std::string where = proxied
                                  ? "SOCKS5 proxy " + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                        ":" + std::to_string(port)
                                  : target_.authority();
    tcp::resolver resolver(ex_);
    phase("resolve", [&resolver] { resolver.cancel(); });
    auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
    if (rec) co_return "cannot resolve " + host + ": " + rec.message();
    if (endpoints.empty()) co_return "cannot resolve " + host + ": no address";

    phase("TCP connect", [&socket] {
      error_code ignored;
      socket.close(ignored);
    });
    error_code last;
    for (const auto& entry : endpoints) {
      if (d_.expired) break;
      error_code ignored;
      socket.close(ignored);
      auto [ec] = co_await socket.async_connect(entry.endpoint(), use_tuple);
      if (!ec) {
        last = {};
        break;
      }
      last = ec;
    }
    if (last || !socket.is_open()) co_return "cannot connect to " + where + ": " + (last ? last.message() : "closed");
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);

    if (proxied) {
      phase("SOCKS5 handshake", [&socket] {
        error_code ignored2;
        socket.close(ignored2);
      });
      auto e = co_await detail::socks5_handshake(socket, *options_.socks5, target_.host, target_.port);
      if (!e.empty()) co_return e;
    }
    co_return std::string();
  }

  boost::system::result<std::unique_ptr<ssl::context>, std::string> make_context() {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    const auto& tls = options_.tls;
    if (tls.ca_file.empty())
      ctx->set_default_verify_paths(ec);
    else
      ctx->load_verify_file(tls.ca_file, ec);
    if (ec)
      return (tls.ca_file.empty() ? std::string("cannot load the system's CA certificates")
                                  : "cannot read the CA file " + tls.ca_file) +
             ": " + why(ec);
    if (!tls.cert_file.empty() || !tls.key_file.empty()) {
      if (tls.cert_file.empty() || tls.key_file.empty())
        return std::string("a client certificate needs both a certificate file and a key file");
      ctx->use_certificate_chain_file(tls.cert_file, ec);
      if (ec) return "cannot read the client certificate " + tls.cert_file + ": " + why(ec);
      ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
      if (ec) return "cannot read the client key " + tls.key_file + ": " + why(ec);
    }
    return ctx;
  }

  /// The client side of the TLS handshake: SNI for names, the chain verified, the name checked.
  asio::awaitable<std::string> tls_handshake(tls_socket& tls) {
    const auto& host = target_.host;
    SSL* ssl_handle = tls.native_handle();
    error_code ec;
    tls.set_verify_mode(ssl::verify_peer, ec);
    if (!is_ip_literal(host)) SSL_set_tlsext_host_name(ssl_handle, host.c_str());
    if (options_.tls.verify_server_name) {
      // OpenSSL's own check (RFC 6125 names, IP addresses in the SAN), with its own error text.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int ok = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      if (ok != 1) co_return "TLS handshake with " + target_.authority() + " failed: cannot check the name " + host;
    }
    phase("TLS handshake", [&tls] {
      error_code ignored;
      tls.lowest_layer().close(ignored);
    });
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
    if (!hec) co_return std::string();
    std::string text = "TLS handshake with " + target_.authority() + " failed: " + why(hec);
    if (const long v = SSL_get_verify_result(ssl_handle); v != X509_V_OK)
      text += std::string(" (") + X509_verify_cert_error_string(v) + ")";
    co_return text;
  }

  /// The WebSocket upgrade (RFC 6455 §4.1), then the channel. Written here rather than left to
  /// Beast's websocket::stream, so that what the HTTP reader reads past the server's 101 answer
  /// (frames the server sent right behind it) goes to the channel instead of being lost.
  template <class Stream> asio::awaitable<connect_result> upgrade(Stream stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    phase("WebSocket upgrade", [&lowest] {
      error_code ignored;
      lowest.close(ignored);
    });
    const std::string failed = "WebSocket upgrade with " + target_.text() + " failed: ";
    const std::string key = websocket_key();
    if (key.empty()) co_return failed + "no random bytes for the key";
    {
      http::request<http::empty_body> req{http::verb::get, target_.path, 11};
      req.set(http::field::host, host_header(target_));
      req.set(http::field::upgrade, "websocket");
      req.set(http::field::connection, "Upgrade");
      req.set(http::field::sec_websocket_key, key);
      req.set(http::field::sec_websocket_version, "13");
      req.set(http::field::user_agent, "acp-conductor");
      if (options_.bearer_token) req.set(http::field::authorization, "Bearer " + *options_.bearer_token);
      auto [ec, n] = co_await http::async_write(stream, req, use_tuple);
      if (ec) co_return failed + why(ec);
    }
    // The header only: a 101 has no body, and a refusal's body is not needed.
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.header_limit(upgrade_answer_limit);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (ec) co_return failed + why(ec);
    const auto& res = parser.get();
    if (res.result() != http::status::switching_protocols) {
      std::string text = target_.text() + " refused the upgrade: " + std::to_string(res.result_int());
      if (!res.reason().empty()) text += " " + std::string(res.reason());
      co_return text;
    }
    if (!http::token_list(res[http::field::upgrade]).exists("websocket") ||
        !http::token_list(res[http::field::connection]).exists("upgrade"))
      co_return failed + "the answer does not upgrade to WebSocket";
    if (res[http::field::sec_websocket_accept] != websocket_accept(key))
      co_return failed + "the answer's Sec-WebSocket-Accept does not match the request's key";
    d_.abort = nullptr;
    detail::ws_channel_options o;
    o.max_message_bytes = options_.max_message_bytes;
    o.ping_interval = options_.ping_interval;
    o.description = description();
    o.role = detail::ws_role::client;
    o.observe = options_.observe;
    co_return detail::make_ws_channel(std::move(stream), beast::buffers_to_string(buffer.data()), std::move(o));
  }

  /// NDJSON over `t`, after the authentication line when there is a token.
  asio::awaitable<connect_result> ndjson(transport_ptr t) {
    if (options_.bearer_token) {
      auto* raw = t.get();
      phase("authentication", [raw] { raw->close(); });
      auto line = authentication_line(*options_.bearer_token);
      const auto ec = co_await t->write_all(std::span<const char>(line.data(), line.size()));
      wipe(line);
      if (ec) co_return "cannot send the token to " + target_.authority() + ": " + why(ec);
    }
    d_.abort = nullptr;
    t = observe_transport(std::move(t), options_.observe);
    co_return detail::watch_for_refusal(
        make_ndjson_channel(ex_, std::move(t), ndjson_options{options_.max_message_bytes}));
  }

  asio::awaitable<connect_result> connect_unix() {
    asio::local::stream_protocol::socket socket(ex_);
    phase("connect", [&socket] {
      error_code ignored;
      socket.close(ignored);
    });
    auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(target_.path), use_tuple);
    if (ec) co_return "cannot connect to " + target_.path + ": " + ec.message();
    error_code rec;
    const int fd = socket.release(rec);
    if (rec) co_return "cannot use the connection to " + target_.path + ": " + rec.message();
    auto t = make_socket_transport(ex_, fd, "unix " + target_.path);
    if (!t) co_return "cannot use the connection to " + target_.path + ": " + t.error().message();
    co_return co_await ndjson(std::move(*t));
  }

  asio::any_io_executor ex_;
  url target_;
  connect_options options_;
  deadline& d_;
};

} // namespace

asio::awaitable<boost::system::result<message_channel_ptr, std::string>> connect(asio::any_io_executor ex, url target,
                                                                                 connect_options options) {
  // Cancelled by the caller (terminal cancellation of the awaiting coroutine, e.g. `||`): the
  // phase in progress aborts and the outcome is an error, never an exception.
  const auto cancellation = co_await asio::this_coro::cancellation_state;
  const bool throwing = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  auto d = std::make_shared<deadline>(ex);
  const auto timeout = options.timeout;
  const auto shown = target.text();
  d->timer.expires_after(timeout);
  d->timer.async_wait([d](const error_code& ec) {
    if (ec) return;
    d->expired = true;
    if (auto abort = std::exchange(d->abort, nullptr)) abort();
  });
  connector c(ex, std::move(target), std::move(options), *d);
  auto result = co_await c.run();
  d->abort = nullptr;
  d->timer.cancel();
  co_await asio::this_coro::throw_if_cancelled(throwing);
  if (d->expired)
    co_return "connecting to " + shown + " timed out after " + duration_text(timeout) + " (" + d->phase + ")";
  if (cancellation.cancelled() != asio::cancellation_type::none)
    co_return "connecting to " + shown + " was cancelled (" + d->phase + ")";
  co_return result;
}

} // namespace acp::net
