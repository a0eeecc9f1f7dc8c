#pragma once
// Addresses of remote components and listeners: `tcp://host:port`, `unix:/path`,
// `tls://host:port`, `ws://host[:port][/path]`, `wss://host[:port][/path]`.
//
// Hosts are names, IPv4 addresses or bracketed IPv6 addresses (`tcp://[::1]:4000`; `host` holds
// `::1`). `tcp://` and `tls://` need a port (0 is allowed for a listener: any free port);
// `ws://` defaults to 80, `wss://` to 443; the path defaults to `/` and keeps its query. `unix:`
// takes a path (`unix:/run/acp.sock`, `unix:///run/acp.sock`, or relative `unix:acp.sock`).
// User information (`user:pass@`) is refused: secrets never travel in a URL on a command line.
// No Asio here.

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace acp::net {

enum class scheme { tcp, unix_socket, tls, ws, wss };
[[nodiscard]] std::string_view to_string(scheme s) noexcept; ///< "tcp", "unix", "tls", "ws", "wss"

struct url {
  enum scheme scheme = scheme::tcp;
  std::string host;        ///< without brackets; empty for unix
  unsigned short port = 0; ///< 0 for unix (and "any" for a listener)
  std::string path;        ///< unix: the socket path; ws/wss: the request target ("/" at least)
  /// `true` for wss and tls.
  [[nodiscard]] bool secure() const noexcept { return scheme == scheme::tls || scheme == scheme::wss; }
  /// `true` for ws and wss (one JSON-RPC message per text frame); the others carry NDJSON.
  [[nodiscard]] bool websocket() const noexcept { return scheme == scheme::ws || scheme == scheme::wss; }
  /// `host:port` with IPv6 bracketed, or the unix path: for logs and errors.
  [[nodiscard]] std::string authority() const;
  /// The URL written back (`ws://[::1]:4000/acp`), for logs; it never holds a secret.
  [[nodiscard]] std::string text() const;
};

/// Parses a URL of the forms above. The error is one sentence, e.g.
/// `tcp://host: a port is required (tcp://host:PORT)`, `unknown scheme "http" (expected tcp, unix,
/// tls, ws or wss)`.
[[nodiscard]] boost::system::result<url, std::string> parse_url(std::string_view text);

/// Whether a component string is an address rather than a command: it starts with `tcp://`,
/// `unix:`, `tls://`, `ws://` or `wss://` (case-insensitive scheme).
[[nodiscard]] bool looks_like_url(std::string_view text) noexcept;

/// A loopback address: `localhost`, 127.0.0.0/8, `::1`, or a unix socket. Names other than
/// `localhost` are not resolved (they count as not loopback).
[[nodiscard]] bool is_loopback(const url& u) noexcept;

} // namespace acp::net
