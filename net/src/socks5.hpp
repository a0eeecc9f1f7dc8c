#pragma once
// Private: the SOCKS5 client handshake (RFC 1928, user/password RFC 1929) on a TCP connection
// to the proxy, asking it to connect to a host and port. Names are sent as names (ATYP 0x03):
// the proxy resolves them; literal addresses as addresses (0x01, 0x04).

#include <acp/net/connect.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>

namespace acp::net::detail {

/// Runs the handshake on `proxy_connection` (connected to `proxy`). Empty on success (the
/// connection then carries the bytes of `host:port`), else one sentence naming the proxy
/// (`SOCKS5 proxy 127.0.0.1:1080 refused: connection refused by destination host (5)`), never
/// the password.
[[nodiscard]] boost::asio::awaitable<std::string> socks5_handshake(boost::asio::ip::tcp::socket& proxy_connection,
                                                                   const socks5_proxy& proxy, const std::string& host,
                                                                   unsigned short port);

/// The sentence for a SOCKS5 reply code (RFC 1928 §6), e.g. "connection refused by destination host".
[[nodiscard]] std::string socks5_reply_text(unsigned code);

} // namespace acp::net::detail
