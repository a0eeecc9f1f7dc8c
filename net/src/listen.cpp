// acp::net::listener: binding (TCP or a unix socket), TLS files, the accept loop and the
// connection count. The handshake of each connection is in listen_handshake.cpp.

#include "listen_detail.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace acp::net {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using stream_protocol = asio::local::stream_protocol;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using open_result = boost::system::result<std::shared_ptr<listener>, std::string>;

std::string errno_text(int e) { return std::strerror(e); }

/// "--cert: cannot read /x.pem: No such file or directory"; empty when readable.
std::string unreadable(std::string_view option, const std::string& file) {
  if (::access(file.c_str(), R_OK) == 0) return {};
  return std::string(option) + ": cannot read " + file + ": " + errno_text(errno);
}

boost::system::result<std::shared_ptr<ssl::context>, std::string> load_tls(const url& where,
                                                                           const tls_server_options& o) {
  if (o.cert_file.empty() || o.key_file.empty())
    return "cannot listen on " + where.text() + ": a certificate and its key are required (--cert, --key)";
  for (auto [option, file] :
       {std::pair{"--cert", &o.cert_file}, {"--key", &o.key_file}, {"--client-ca", &o.client_ca_file}})
    if (!file->empty())
      if (auto why = unreadable(option, *file); !why.empty()) return why;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  error_code ec;
  if (ctx->use_certificate_chain_file(o.cert_file, ec); ec)
    return "--cert: cannot use " + o.cert_file + ": " + ec.message();
  if (ctx->use_private_key_file(o.key_file, ssl::context::pem, ec); ec)
    return "--key: cannot use " + o.key_file + ": " + ec.message();
  if (::SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return "--key: " + o.key_file + " does not match the certificate " + o.cert_file;
  if (!o.client_ca_file.empty()) {
    if (ctx->load_verify_file(o.client_ca_file, ec); ec)
      return "--client-ca: cannot use " + o.client_ca_file + ": " + ec.message();
    if (auto* names = ::SSL_load_client_CA_file(o.client_ca_file.c_str()))
      ::SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

std::string bind_tcp(detail::listener_shared& s, const url& where) {
  const auto fail = [&](const error_code& ec) { return "cannot listen on " + where.authority() + ": " + ec.message(); };
  error_code ec;
  tcp::resolver resolver(s.ex);
  const auto endpoints = resolver.resolve(where.host, std::to_string(where.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return fail(ec);
  if (endpoints.empty()) return "cannot listen on " + where.authority() + ": the name has no address";
  // The first address that can be bound (a name may have several).
  auto& a = s.tcp_acceptor;
  for (const auto& entry : endpoints) {
    const auto ep = entry.endpoint();
    error_code ignored;
    if (a.is_open()) a.close(ignored);
    if (a.open(ep.protocol(), ec); ec) continue;
    if (a.set_option(asio::socket_base::reuse_address(true), ec); ec) continue;
    if (a.bind(ep, ec); ec) continue;
    if (a.listen(asio::socket_base::max_listen_connections, ec); ec) continue;
    s.where.port = a.local_endpoint(ec).port();
    if (!ec) return {};
  }
  error_code ignored;
  if (a.is_open()) a.close(ignored);
  return fail(ec);
}

/// Binds a unix socket; a socket file already there is replaced only when nothing listens on it.
std::string bind_unix(detail::listener_shared& s, const url& where) {
  const auto& path = where.path;
  const auto fail = [&](const std::string& why) { return "cannot listen on unix:" + path + ": " + why; };
  if (path.empty()) return "cannot listen on unix:: the socket path is empty";
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return fail("the path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  error_code ec;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail("the file exists and is not a socket");
    stream_protocol::socket probe(s.ex);
    probe.connect(stream_protocol::endpoint(path), ec);
    if (!ec) return fail("another process is listening on it");
    if (ec != asio::error::connection_refused) return fail(ec.message());
    if (::unlink(path.c_str()) != 0) return fail("cannot remove the stale socket file: " + errno_text(errno));
  } else if (errno != ENOENT) {
    return fail(errno_text(errno));
  }
  auto& a = s.unix_acceptor;
  const stream_protocol::endpoint ep(path);
  if (a.open(ep.protocol(), ec); !ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec.message());
  return {};
}

std::string peer_of(const tcp::socket& socket) {
  error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown peer";
  const auto address = ep.address();
  const auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(ep.port());
}
std::string peer_of(const detail::local_socket&) { return "unix"; }

template <class Socket> void accepted(const std::shared_ptr<detail::listener_shared>& s, Socket socket) {
  auto peer = peer_of(socket);
  if constexpr (std::is_same_v<Socket, tcp::socket>) {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
  }
  const bool busy = s->active->load() >= s->options.max_connections;
  // Over the limit, a refusal is answered; past a bound on those being answered, the
  // connection is closed at once (a flood cannot make the server hold sockets or do TLS).
  if (busy && s->refusing >= std::max<std::size_t>(16, s->options.max_connections)) {
    log::warn(s->log_where, "refused " + peer + " (connection " + std::to_string(s->accepted + 1) +
                                "): too many connections (closed without an answer)");
    ++s->accepted;
    return;
  }
  detail::start_handshake(s, std::move(socket), std::move(peer), busy);
}

template <class Acceptor>
asio::awaitable<void> accept_loop(std::shared_ptr<detail::listener_shared> s, Acceptor& acceptor) {
  asio::steady_timer pause(s->ex);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (s->closed) co_return;
    if (!ec) {
      accepted(s, std::move(socket));
      continue;
    }
    if (ec == asio::error::operation_aborted) co_return;
    if (ec == asio::error::connection_aborted) continue; // the peer gave up before its turn
    // Out of descriptors or memory: log it and try again a little later instead of spinning.
    log::warn(s->log_where, "accept failed: " + ec.message());
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(use_tuple);
    if (s->closed) co_return;
  }
}

class listener_impl final : public listener {
public:
  listener_impl(std::shared_ptr<detail::listener_shared> s, std::optional<struct stat> unix_file)
      : s_(std::move(s)), unix_file_(unix_file) {}
  ~listener_impl() override { close(); }
  listener_impl(const listener_impl&) = delete;
  listener_impl& operator=(const listener_impl&) = delete;

  url local_url() const override { return s_->where; }

  void start(unique_function<void(accepted_connection)> on_connection) override {
    if (started_ || s_->closed) return;
    started_ = true;
    s_->on_connection = std::move(on_connection);
    const auto what = "accept loop";
    if (s_->where.scheme == scheme::unix_socket)
      asio::co_spawn(s_->ex, accept_loop(s_, s_->unix_acceptor), log::on_failure(s_->log_where, what));
    else
      asio::co_spawn(s_->ex, accept_loop(s_, s_->tcp_acceptor), log::on_failure(s_->log_where, what));
  }

  void close() noexcept override {
    if (s_->closed) return;
    s_->closed = true;
    error_code ignored;
    s_->tcp_acceptor.close(ignored);
    s_->unix_acceptor.close(ignored);
    // Handshakes in progress end now (their sockets shut down); nothing more is handed over.
    auto pending = std::move(s_->handshakes);
    s_->handshakes.clear();
    for (auto& [number, weak] : pending)
      if (auto h = weak.lock()) h->abort("the listener closed");
    // The callback may be running (close() called from it): it is dropped a moment later.
    try {
      asio::post(s_->ex, [s = s_] { s->on_connection = nullptr; });
    } catch (...) {
    }
    // The socket file goes, if it is still ours (not replaced by another listener since).
    struct stat now {};
    if (unix_file_ && ::lstat(s_->where.path.c_str(), &now) == 0 && now.st_dev == unix_file_->st_dev &&
        now.st_ino == unix_file_->st_ino)
      ::unlink(s_->where.path.c_str());
  }

  std::size_t active() const noexcept override { return s_->active->load(); }

private:
  std::shared_ptr<detail::listener_shared> s_;
  std::optional<struct stat> unix_file_;
  bool started_ = false;
};

} // namespace

open_result listener::open(asio::any_io_executor ex, const url& where, listen_options options) {
  auto s = std::make_shared<detail::listener_shared>(std::move(ex), std::move(options));
  s->where = where;
  if (s->options.max_connections == 0) return "cannot listen on " + where.text() + ": max_connections is 0";
  if (s->options.bearer_token && s->options.bearer_token->empty())
    return "cannot listen on " + where.text() + ": the token is empty";
  if (where.secure()) {
    auto tls = load_tls(where, s->options.tls);
    if (!tls) return tls.error();
    s->tls = std::move(*tls);
  }
  std::optional<struct stat> unix_file;
  if (where.scheme == scheme::unix_socket) {
    if (auto why = bind_unix(*s, where); !why.empty()) return why;
    struct stat st {};
    if (::lstat(where.path.c_str(), &st) == 0) unix_file = st;
  } else if (auto why = bind_tcp(*s, where); !why.empty()) {
    return why;
  }
  s->log_where = "listen " + s->where.text();
  return std::shared_ptr<listener>(std::make_shared<listener_impl>(std::move(s), unix_file));
}

} // namespace acp::net
