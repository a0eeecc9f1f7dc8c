#pragma once
// Serving on a URL: each accepted connection, once its handshake has passed, becomes a message
// channel handed to the owner (who runs a chain, an agent or a proxy on it).
//
// Phases of a connection, all within `handshake_timeout` together: TCP (or unix) accept, the TLS
// handshake (tls://, wss://), then either the WebSocket upgrade request (ws://, wss://: headers
// at most `max_header_bytes`; `Authorization: Bearer TOKEN` checked when a token is required;
// refused with 401 (missing) / 403 (wrong) / 400 (not an upgrade) / 503 (over the connection
// limit), answered and closed) or, for NDJSON schemes, the first line: when it is the
// authentication notification (docs/PROTOCOL.md §8) its token is checked (and a notification
// without a required token, or with a wrong one, is refused with one JSON-RPC error line, id
// null, code -32001, then closed); any other first line is kept for the channel when no token
// is required. Tokens are compared in constant time. Nothing is handed over (so nothing is
// spawned) before all of this has passed. A slow peer cannot hold a slot past the deadline.
//
// Limits: at most `max_connections` connections at once (handshakes included); one over it is
// refused (503 / the JSON-RPC error line) and closed. The owner holds a `connection_slot` for
// as long as the connection lives. The idle timeout (no message read or queued for that long)
// closes the channel (reading ends with `read_error`, detail "idle timeout").
//
// Every refused connection gets one log line (peer, why). Secrets are never logged.

#include <acp/net/url.hpp>
#include <acp/sdk/channel.hpp>
#include <acp/sdk/unique_function.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace acp::net {

struct tls_server_options {
  std::string cert_file;      ///< PEM certificate chain (required for tls:// and wss://)
  std::string key_file;       ///< PEM private key
  std::string client_ca_file; ///< when set, clients must present a certificate it signed
};

struct listen_options {
  std::size_t max_connections = 64;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)}; ///< 0: none
  std::size_t max_message_bytes = std::size_t{64} * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds ping_interval{20000}; ///< WebSocket keep-alive
  std::optional<std::string> bearer_token;        ///< secret; nullopt: none required
  tls_server_options tls;
};

/// Held by the owner while an accepted connection lives; its destruction frees the slot.
class connection_slot {
public:
  connection_slot() = default;
  explicit connection_slot(std::shared_ptr<void> token) : token_(std::move(token)) {}
  void release() noexcept { token_.reset(); }

private:
  std::shared_ptr<void> token_;
};

struct accepted_connection {
  message_channel_ptr channel;
  std::string peer;         ///< "127.0.0.1:53422", "[::1]:5000", "unix"
  std::uint64_t number = 0; ///< 1, 2, ... in accept order
  connection_slot slot;
};

class listener {
public:
  /// Binds and listens on `where` (port 0: a free port; a unix path: an existing socket file is
  /// replaced only when nothing listens on it). TLS files are loaded here. The error is one
  /// sentence (`cannot listen on 127.0.0.1:80: Permission denied`, `--cert: cannot read …`).
  [[nodiscard]] static boost::system::result<std::shared_ptr<listener>, std::string>
  open(boost::asio::any_io_executor ex, const url& where, listen_options options);

  virtual ~listener() = default;
  /// The address actually bound (the real port when 0 was asked for).
  [[nodiscard]] virtual url local_url() const = 0;
  /// Starts accepting; `on_connection` runs on the executor for each connection that passed its
  /// handshake. Refusals and handshake failures are logged, never handed over.
  virtual void start(unique_function<void(accepted_connection)> on_connection) = 0;
  /// Stops accepting and abandons handshakes in progress (a unix socket file is removed).
  /// Connections already handed over are the owner's. Idempotent.
  virtual void close() noexcept = 0;
  /// Connections counted against the limit now (handshakes and live slots).
  [[nodiscard]] virtual std::size_t active() const noexcept = 0;
};

} // namespace acp::net
