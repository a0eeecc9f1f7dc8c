#pragma once
// Private: what a listener (listen.cpp) and its connections' handshakes (listen_handshake.cpp)
// share. Beast stays in listen_handshake.cpp.

#include <acp/net/listen.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace acp::net::detail {

using local_socket = boost::asio::local::stream_protocol::socket;
struct handshake;

/// The state of one listener, shared by its accept loop and its handshakes (which may outlive
/// the `listener` object for a moment after close).
struct listener_shared {
  listener_shared(boost::asio::any_io_executor e, listen_options o)
      : ex(std::move(e)), options(std::move(o)), tcp_acceptor(ex), unix_acceptor(ex) {}

  boost::asio::any_io_executor ex;
  listen_options options;
  url where;                                      ///< as bound (the real port)
  std::string log_where;                          ///< "listen ws://127.0.0.1:4000/"
  std::shared_ptr<boost::asio::ssl::context> tls; ///< tls://, wss://
  boost::asio::ip::tcp::acceptor tcp_acceptor;
  boost::asio::local::stream_protocol::acceptor unix_acceptor;
  unique_function<void(accepted_connection)> on_connection;
  /// Connections counted against max_connections: handshakes and handed-over slots. Shared with
  /// the slots, which may outlive everything else.
  std::shared_ptr<std::atomic<std::size_t>> active = std::make_shared<std::atomic<std::size_t>>(0);
  std::size_t refusing = 0; ///< connections over the limit being answered (not counted)
  std::uint64_t accepted = 0;
  bool closed = false;
  std::unordered_map<std::uint64_t, std::weak_ptr<handshake>> handshakes; ///< by connection number
};

/// One accepted connection until it is handed over or refused. Its deadline (one for every phase)
/// is a timer that shuts the socket down (shutdown(2): every pending and later operation on it
/// fails at once, whatever layer — TLS, HTTP, WebSocket — is using it).
struct handshake : std::enable_shared_from_this<handshake> {
  handshake(std::shared_ptr<listener_shared> s, int socket_fd, std::string peer_text, std::uint64_t n, bool over);
  ~handshake();
  handshake(const handshake&) = delete;
  handshake& operator=(const handshake&) = delete;

  /// Shuts the socket down before `at` (an earlier deadline stays).
  void deadline(std::chrono::steady_clock::time_point at);
  /// Shuts the socket down now; `why` says so in the log ("handshake timed out", "listener closed").
  void abort(const char* why) noexcept;
  /// The handshake has passed (or is over): the timer no longer applies.
  void finish() noexcept;

  std::shared_ptr<listener_shared> shared;
  int fd;
  std::string peer;
  std::uint64_t number;
  bool busy; ///< over the limit: answered and closed
  std::shared_ptr<void> slot;
  boost::asio::steady_timer timer;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point due = std::chrono::steady_clock::time_point::max();
  const char* aborted = nullptr;
  bool done = false;
};

/// Runs the handshake of an accepted socket (TCP for tcp, tls, ws and wss; unix) and hands the
/// channel over, or refuses it. `busy`: over the connection limit (refused at once).
void start_handshake(const std::shared_ptr<listener_shared>& s, boost::asio::ip::tcp::socket socket, std::string peer,
                     bool busy);
void start_handshake(const std::shared_ptr<listener_shared>& s, local_socket socket, std::string peer, bool busy);

} // namespace acp::net::detail
