#pragma once
// Shared by the connect tests (connect_test.cpp, connect_tls_test.cpp, socks5_test.cpp): the
// fixture, and small C++ peers (a line server, a server that never answers).

#include "streams.hpp"
#include "support.hpp"

#include <acp/net/connect.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <vector>

namespace acp::net::test {

namespace json = boost::json;
using tcp = asio::ip::tcp;
using boost::system::error_code;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

class connect_test : public channel_test {
protected:
  /// A loopback TCP acceptor on a free port.
  tcp::acceptor listen_tcp() { return tcp::acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)); }

  /// The lines a plain server read on its accepted connection.
  struct line_server {
    std::vector<std::string> lines;
    bool eof = false;
  };
  template <class Stream>
  static asio::awaitable<void> read_lines(Stream& s, std::shared_ptr<line_server> out, std::size_t want) {
    std::string buf;
    while (out->lines.size() < want) {
      auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n', use_tuple);
      if (ec) {
        out->eof = true;
        co_return;
      }
      out->lines.push_back(buf.substr(0, n - 1));
      buf.erase(0, n);
    }
  }
};

/// The authentication line for the token "s3cret \"quoted\"" (never printed by a failure).
inline constexpr const char* auth_line_for_secret =
    R"({"jsonrpc":"2.0","method":"_acp/authenticate","params":{"token":"s3cret \"quoted\""}})";

/// A server that accepts and then never says anything (nor closes).
struct silent_server {
  explicit silent_server(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), held(io) {
    acceptor.async_accept(held, [](const error_code&) {});
  }
  unsigned short port() const { return acceptor.local_endpoint().port(); }
  tcp::acceptor acceptor;
  tcp::socket held;
};

} // namespace acp::net::test
