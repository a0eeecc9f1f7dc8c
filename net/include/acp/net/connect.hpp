#pragma once
// Connecting to a remote component (or chain): a URL becomes a message channel.
//
//   tcp://, unix:   NDJSON over the socket (as over a child's pipes)
//   tls://          NDJSON over TLS (OpenSSL)
//   ws://, wss://   one JSON-RPC message per WebSocket text frame (Boost.Beast), over TLS for wss
//
// Phases, all within `timeout` together: resolve, TCP connect (to each resolved address in turn),
// the SOCKS5 handshake (RFC 1928; user/password RFC 1929; the proxy resolves the name: ATYP
// domain name), the TLS handshake (SNI; the certificate chain verified against `ca_file` or the
// system's store; the server name checked unless `verify_server_name` is false), the WebSocket
// upgrade (`Authorization: Bearer TOKEN` when a token is given; the server's refusal, e.g. 401,
// is the error), and for NDJSON schemes with a token the authentication line (docs/PROTOCOL.md
// §8: `{"jsonrpc":"2.0","method":"_acp/authenticate","params":{"token":"…"}}` written before any
// message; it is never seen by the connection, so never traced).
//
// WebSocket channels send a ping after `ping_interval` without input and end reading
// (`read_error`, "no answer to ping") when nothing arrives within another interval. A message
// over `max_message_bytes` is refused when queued (message_too_large) and, read, ends the channel
// as NDJSON does (`oversized`). Closing sends a close frame.
//
// Secrets (token, SOCKS password) never appear in errors or logs.

#include <acp/net/url.hpp>
#include <acp/sdk/channel.hpp>
#include <acp/sdk/observe.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace acp::net {

struct tls_client_options {
  std::string ca_file;   ///< PEM CA bundle to trust; empty: the system's default store
  std::string cert_file; ///< PEM client certificate (mutual TLS); with key_file
  std::string key_file;
  bool verify_server_name = true; ///< off only on an explicit flag
};

struct socks5_proxy {
  std::string host;
  unsigned short port = 1080;
  std::string username; ///< empty: no authentication offered
  std::string password; ///< secret
};

/// `socks5://[user[:password]@]host[:port]` or `socks5h://…` (the proxy resolves names either
/// way). Error: one sentence, never containing the password.
[[nodiscard]] boost::system::result<socks5_proxy, std::string> parse_socks5_url(std::string_view text);

/// The SOCKS5 proxy for `target` from the environment: `ALL_PROXY` (or `all_proxy`) when it is a
/// socks5 URL and `target`'s host is not excluded by `NO_PROXY`/`no_proxy` (comma-separated
/// names, `.suffix`, `*`); a password may come from `ACP_SOCKS5_PASSWORD`. nullopt: none. An
/// unusable ALL_PROXY (another scheme) is an error.
[[nodiscard]] boost::system::result<std::optional<socks5_proxy>, std::string>
socks5_from_environment(const url& target);

struct connect_options {
  std::chrono::milliseconds timeout{10000}; ///< every phase together
  tls_client_options tls;
  std::optional<std::string> bearer_token; ///< secret
  std::optional<socks5_proxy> socks5;      ///< used as given (see socks5_from_environment)
  std::size_t max_message_bytes = std::size_t{64} * 1024 * 1024;
  std::chrono::milliseconds ping_interval{20000}; ///< WebSocket keep-alive
  /// Sees what crosses the link once it is made (debug logs): NDJSON schemes the bytes read and
  /// written after the authentication line (never the token); WebSocket each message's text
  /// followed by '\n', so the log reads as NDJSON either way.
  byte_observer observe;
};

/// Connects to `target`. The error is one sentence naming the address and the phase:
/// `cannot connect to 127.0.0.1:4000: Connection refused`, `TLS handshake with example.org:443
/// failed: certificate verify failed`, `connecting to ws://h:1/ timed out after 10 s (TLS
/// handshake)`, `ws://h:1/acp refused the upgrade: 401 Unauthorized`.
[[nodiscard]] boost::asio::awaitable<boost::system::result<message_channel_ptr, std::string>>
connect(boost::asio::any_io_executor ex, url target, connect_options options);

} // namespace acp::net
