#include "network_options.hpp"

#include <acp/net/connect.hpp>
#include <acp/net/url.hpp>

#include <CLI/CLI.hpp>

#include <charconv>

namespace acp::conductor {

std::string one_line(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (text.size() > max) out += "...";
  return out;
}

void add_network_options(CLI::App& app, conductor_options& opts, network_texts& texts) {
  const std::string group = "Remote components and connect";
  app.add_option("--connect-timeout", texts.connect_timeout,
                 "Deadline for reaching a remote component: resolve, connect, SOCKS5, TLS, WebSocket")
      ->type_name("DURATION")
      ->default_str("10s")
      ->group(group);
  app.add_option("--ca-file", opts.remote.ca_file,
                 "PEM certificates to trust for tls:// and wss:// (default: the system's)")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--cert", opts.remote.cert_file, "PEM client certificate for mutual TLS (with --key)")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--key", opts.remote.key_file, "PEM private key of --cert")->type_name("FILE")->group(group);
  app.add_flag_callback(
         "--no-verify-server-name", [&opts] { opts.remote.verify_server_name = false; },
         "Accept a server certificate issued for another name (the chain is still verified)")
      ->group(group);
  app.add_option("--token-file", texts.token_file,
                 "Bearer token: sent to remote components (default: $ACP_CONDUCTOR_TOKEN); with `serve`, "
                 "the token clients must present")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--socks5", opts.remote.socks5,
                 "Reach remote components through this SOCKS5 proxy: socks5://[USER@]HOST[:PORT] (password "
                 "in $ACP_SOCKS5_PASSWORD; default: $ALL_PROXY)")
      ->type_name("URL")
      ->group(group);
  app.add_option("--ping-interval", texts.ping_interval,
                 "WebSocket keep-alive: a ping after this long without input; the peer is dead after twice that")
      ->type_name("DURATION")
      ->default_str("20s")
      ->group(group);

  const std::string serve_group = "serve";
  app.add_option("--tls-cert", texts.tls_cert, "serve on tls:// or wss://: the server's PEM certificate chain")
      ->type_name("FILE")
      ->group(serve_group);
  app.add_option("--tls-key", texts.tls_key, "serve: the PEM private key of --tls-cert")
      ->type_name("FILE")
      ->group(serve_group);
  app.add_option("--client-ca", texts.client_ca, "serve: require client certificates signed by these PEM CAs")
      ->type_name("FILE")
      ->group(serve_group);
  app.add_option("--max-connections", texts.max_connections, "serve: connections at once (handshakes included)")
      ->type_name("N")
      ->default_str("64")
      ->group(serve_group);
  app.add_option("--handshake-timeout", texts.handshake_timeout,
                 "serve: deadline for a connection's TLS handshake, upgrade and token")
      ->type_name("DURATION")
      ->default_str("10s")
      ->group(serve_group);
  app.add_option("--idle-timeout", texts.idle_timeout,
                 "serve: close a connection after this long without a message (0: never)")
      ->type_name("DURATION")
      ->default_str("1h")
      ->group(serve_group);
  app.add_flag("--allow-insecure-listen", texts.allow_insecure,
               "serve: allow a non-loopback address without TLS and --token-file")
      ->group(serve_group);
}

namespace {

std::optional<std::string> duration(std::string_view option, const std::string& text, std::chrono::milliseconds& out,
                                    bool zero_ok) {
  if (text.empty()) return std::nullopt;
  const auto d = parse_duration(text);
  if (!d || (!zero_ok && d->count() == 0))
    return std::string(option) + ": invalid duration `" + one_line(text, 40) + "` (expected e.g. 500ms, 10s or 1m" +
           (zero_ok ? ", or 0 for none)" : ")");
  out = *d;
  return std::nullopt;
}

} // namespace

std::optional<std::string> apply_network_options(conductor_options& opts, const network_texts& texts, bool serving) {
  if (auto e = duration("--connect-timeout", texts.connect_timeout, opts.remote.connect_timeout, false)) return e;
  if (auto e = duration("--ping-interval", texts.ping_interval, opts.remote.ping_interval, false)) return e;
  if (!opts.remote.cert_file.empty() != !opts.remote.key_file.empty())
    return std::string("--cert and --key go together (a client certificate and its key)");
  if (!opts.remote.socks5.empty()) {
    auto proxy = net::parse_socks5_url(opts.remote.socks5);
    if (!proxy) return "--socks5: " + proxy.error();
    if (!proxy->password.empty())
      return std::string("--socks5: a password on the command line is visible to every user of the machine; "
                         "put it in $ACP_SOCKS5_PASSWORD");
  }

  const bool serve_only = !texts.listen.empty() || !texts.tls_cert.empty() || !texts.tls_key.empty() ||
                          !texts.client_ca.empty() || !texts.max_connections.empty() ||
                          !texts.handshake_timeout.empty() || !texts.idle_timeout.empty() || texts.allow_insecure;
  if (!serving) {
    if (serve_only)
      return std::string("--listen, --tls-cert, --tls-key, --client-ca, --max-connections, --handshake-timeout, "
                         "--idle-timeout and --allow-insecure-listen belong to `serve`");
    opts.remote.token_file = texts.token_file;
    return std::nullopt;
  }

  conductor_options::serve_options s;
  if (texts.listen.empty()) return std::string("serve: --listen URL is required");
  auto where = net::parse_url(texts.listen);
  if (!where) return "--listen: " + where.error();
  s.listen = where->text();
  s.token_file = texts.token_file;
  s.tls_cert = texts.tls_cert;
  s.tls_key = texts.tls_key;
  s.client_ca = texts.client_ca;
  s.allow_insecure = texts.allow_insecure;
  if (where->secure() && (s.tls_cert.empty() || s.tls_key.empty()))
    return "--listen " + where->text() + ": --tls-cert and --tls-key are required for " +
           std::string(net::to_string(where->scheme)) + "://";
  if (!where->secure() && (!s.tls_cert.empty() || !s.tls_key.empty() || !s.client_ca.empty()))
    return "--tls-cert, --tls-key and --client-ca need a tls:// or wss:// address (not " + where->text() + ")";
  if (!texts.max_connections.empty()) {
    std::size_t n = 0;
    const auto* end = texts.max_connections.data() + texts.max_connections.size();
    auto [ptr, ec] = std::from_chars(texts.max_connections.data(), end, n);
    if (ec != std::errc{} || ptr != end || n == 0)
      return "--max-connections: expected a positive number, not `" + one_line(texts.max_connections, 40) + "`";
    s.max_connections = n;
  }
  if (auto e = duration("--handshake-timeout", texts.handshake_timeout, s.handshake_timeout, false)) return e;
  if (auto e = duration("--idle-timeout", texts.idle_timeout, s.idle_timeout, true)) return e;
  if (!net::is_loopback(*where) && !s.allow_insecure && (!where->secure() || s.token_file.empty()))
    return "--listen " + where->text() +
           ": refusing a non-loopback address without TLS and --token-file (anyone who reaches it could run the "
           "chain); use tls:// or wss:// with --token-file, or --allow-insecure-listen";
  opts.serve = std::move(s);
  return std::nullopt;
}

} // namespace acp::conductor
