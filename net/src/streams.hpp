#pragma once
// Private: the streams both sides (connect.cpp, listen.cpp) turn into channels, after their
// handshakes. Beast and Asio SSL live only in net/src.

#include <acp/sdk/channel.hpp>
#include <acp/sdk/observe.hpp>
#include <acp/sdk/transport.hpp>

#include "ws_framing.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace acp::net::detail {

using tcp_socket = boost::asio::ip::tcp::socket;
using tls_socket = boost::asio::ssl::stream<tcp_socket>;

/// A byte transport over an established TLS stream (handshake done). `shutdown_write` sends
/// close_notify; reads after the peer's close_notify or a truncated stream report eof.
[[nodiscard]] transport_ptr make_tls_transport(tls_socket stream, std::string description);

struct ws_channel_options {
  std::size_t max_message_bytes = std::size_t{64} * 1024 * 1024;
  std::chrono::milliseconds ping_interval{20000};
  std::chrono::milliseconds idle_timeout{0}; ///< no message either way for this long: close; 0 none
  std::string description;                   ///< "ws 127.0.0.1:4000"
  ws_role role = ws_role::server;            ///< the client masks its frames; the server requires it
  byte_observer observe;                     ///< each message read or sent, its text then "\n" (net::connect_options)
};

/// A message channel over a stream whose WebSocket upgrade is done (either role): one JSON-RPC
/// message (or batch) per text frame; a binary frame is an invalid message (-32700 by the
/// connection); close frames end reading (eof). `already_read`: what the upgrade's HTTP reader
/// read past the HTTP message (frames sent right behind it), which the channel reads first.
[[nodiscard]] message_channel_ptr make_ws_channel(tcp_socket socket, std::string already_read,
                                                  ws_channel_options options);
[[nodiscard]] message_channel_ptr make_ws_channel(tls_socket stream, std::string already_read,
                                                  ws_channel_options options);

/// A client's NDJSON channel: a server's refusal line (docs/PROTOCOL.md §8) as its first input
/// ends reading (`read_error`, detail "refused by the server: <its message>") instead of
/// arriving as a response with a null id.
[[nodiscard]] message_channel_ptr watch_for_refusal(message_channel_ptr inner);

/// Wraps `inner` so that no message read or queued for `timeout` closes it (reading ends with
/// read_error, detail "idle timeout"). `timeout` 0: returns `inner` unchanged.
[[nodiscard]] message_channel_ptr with_idle_timeout(const boost::asio::any_io_executor& ex, message_channel_ptr inner,
                                                    std::chrono::milliseconds timeout);

} // namespace acp::net::detail
