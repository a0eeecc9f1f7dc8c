// acp::net::listener with C++ clients over raw sockets: the NDJSON first line and its token,
// limits, deadlines, the idle timeout, unix socket files; and the two private pieces it is built
// from (the prefixed transport, with_idle_timeout).

#include "listen_support.hpp"

namespace {
using namespace acp::net::listen_test;

// ---- NDJSON over TCP and unix sockets ----------------------------------------------------------------

template <class Connect> asio::awaitable<void> right_token_scenario(server& srv, Connect connect) {
  auto c = co_await connect();
  // The authentication line and the first two messages in one write: nothing after the line is lost.
  co_await send(c, auth_line(secret) + request_line(1) + request_line(2, "session/new"));
  EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
  if (srv.accepted.size() != 1) co_return;
  auto& ch = *srv.accepted[0].channel;
  auto first = co_await next_message(ch);
  EXPECT_TRUE(first && first->method() == "initialize" && first->id() == json::value(1)) << "the first message";
  auto second = co_await next_message(ch);
  EXPECT_TRUE(second && second->method() == "session/new") << "the second message";
  // (GCC: no array temporaries in an expression with co_await.)
  const json::object answer{{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object{}}};
  co_await reply(ch, answer);
  const std::string expected = R"({"jsonrpc":"2.0","id":1,"result":{}})";
  const auto line = co_await read_line(c);
  EXPECT_EQ(line, expected);
  EXPECT_EQ(srv.accepted[0].number, 1u);
}

TEST(listen_ndjson, tcp_right_token_hands_over_the_channel_without_the_auth_line) {
  asio::io_context ioc;
  server srv(ioc, tcp_url(), with_token());
  ASSERT_EQ(srv.error, "");
  const auto port = srv.port();
  ASSERT_NE(port, 0);
  EXPECT_EQ(srv.l->local_url().text(), "tcp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(run(ioc, right_token_scenario(srv, [port] { return connect_tcp(port); })));
  EXPECT_TRUE(srv.accepted[0].peer.starts_with("127.0.0.1:")) << srv.accepted[0].peer;
}

TEST(listen_ndjson, ipv6_loopback_peers_are_bracketed) {
  asio::io_context ioc;
  server srv(ioc, url{.scheme = scheme::tcp, .host = "::1", .port = 0}, {});
  if (!srv.error.empty()) GTEST_SKIP() << "no IPv6 loopback here: " << srv.error;
  const auto port = srv.port();
  EXPECT_EQ(srv.l->local_url().text(), "tcp://[::1]:" + std::to_string(port));
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    tcp::socket c(ioc);
    auto [ec] = co_await c.async_connect(tcp::endpoint(asio::ip::make_address("::1"), port), use_tuple);
    EXPECT_FALSE(ec);
    if (ec) co_return;
    co_await send(c, request_line(1));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
  }()));
  ASSERT_EQ(srv.accepted.size(), 1u);
  EXPECT_TRUE(srv.accepted[0].peer.starts_with("[::1]:")) << srv.accepted[0].peer;
  EXPECT_EQ(srv.accepted[0].channel->describe(), "ndjson over tcp " + srv.accepted[0].peer);
}

TEST(listen_ndjson, unix_right_token_hands_over_the_channel_and_the_socket_file_goes_on_close) {
  asio::io_context ioc;
  temp_dir dir;
  const auto path = (dir.path / "acp.sock").string();
  server srv(ioc, url{.scheme = scheme::unix_socket, .path = path}, with_token());
  ASSERT_EQ(srv.error, "");
  EXPECT_TRUE(fs::is_socket(path));
  ASSERT_TRUE(run(ioc, right_token_scenario(srv, [path] { return connect_unix(path); })));
  EXPECT_EQ(srv.accepted[0].peer, "unix");
  EXPECT_EQ(srv.accepted[0].channel->describe(), "ndjson over unix " + path);
  srv.l->close();
  EXPECT_FALSE(fs::exists(path));
}

template <class Connect>
asio::awaitable<void> refused_scenario(server& srv, Connect connect, std::string first, std::string why) {
  auto c = co_await connect();
  co_await send(c, first + request_line(2));
  bool ended = false;
  const auto answer = co_await read_to_end(c, 3s, &ended);
  EXPECT_TRUE(ended) << "the server closes after the error line";
  EXPECT_FALSE(answer.empty());
  if (answer.empty()) co_return;
  EXPECT_EQ(answer.back(), '\n');
  EXPECT_EQ(answer.find('\n'), answer.size() - 1) << "one line";
  EXPECT_EQ(error_of(answer.substr(0, answer.size() - 1)), (std::pair<std::int64_t, std::string>{-32001, why}));
  EXPECT_EQ(answer.find(secret), std::string::npos) << "the answer holds the token";
  co_await sleep(50ms);
  EXPECT_TRUE(srv.accepted.empty());
  EXPECT_EQ(srv.l->active(), 0u);
}

TEST(listen_ndjson, tcp_missing_token_is_refused_with_one_error_line) {
  asio::io_context ioc;
  server srv(ioc, tcp_url(), with_token());
  const auto port = srv.port();
  testing::internal::CaptureStderr();
  const bool ok =
      run(ioc, refused_scenario(
                   srv, [port] { return connect_tcp(port); }, request_line(1), "unauthorized: missing token"));
  const auto log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(ok);
  EXPECT_NE(log.find("refused 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("missing token"), std::string::npos) << log;
}

TEST(listen_ndjson, tcp_wrong_token_is_refused_and_never_logged) {
  asio::io_context ioc;
  server srv(ioc, tcp_url(), with_token());
  const auto port = srv.port();
  testing::internal::CaptureStderr();
  const bool ok = run(ioc, refused_scenario(
                               srv, [port] { return connect_tcp(port); }, auth_line("not-" + secret + "-at-all"),
                               "unauthorized: wrong token"));
  const auto log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(ok);
  EXPECT_NE(log.find("wrong token"), std::string::npos);
  EXPECT_EQ(log.find(secret), std::string::npos) << "the log holds the token";
}

TEST(listen_ndjson, unix_missing_and_wrong_token_are_refused) {
  asio::io_context ioc;
  temp_dir dir;
  const auto path = (dir.path / "acp.sock").string();
  server srv(ioc, url{.scheme = scheme::unix_socket, .path = path}, with_token());
  ASSERT_EQ(srv.error, "");
  const auto connect = [path] { return connect_unix(path); };
  EXPECT_TRUE(run(ioc, refused_scenario(srv, connect, request_line(1), "unauthorized: missing token")));
  EXPECT_TRUE(run(ioc, refused_scenario(srv, connect, auth_line("x"), "unauthorized: wrong token")));
  // An authentication line without a token string is a missing token.
  EXPECT_TRUE(run(ioc, refused_scenario(srv, connect,
                                        R"({"jsonrpc":"2.0","method":"_acp/authenticate"})"
                                        "\n",
                                        "unauthorized: missing token")));
}

TEST(listen_ndjson, without_a_token_the_auth_line_is_dropped_and_never_passed_on) {
  asio::io_context ioc;
  server srv(ioc, tcp_url(), {});
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto c = co_await connect_tcp(port);
    co_await send(c, auth_line(secret));
    co_await sleep(20ms);
    co_await send(c, request_line(7));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
    if (srv.accepted.empty()) co_return;
    auto first = co_await next_message(*srv.accepted[0].channel);
    EXPECT_TRUE(first && first->method() == "initialize" && first->id() == json::value(7))
        << "the first message after the dropped line";
    // The line without its newline, then the end of the client's output: still dropped.
    auto d = co_await connect_tcp(port);
    auto line = auth_line(secret);
    line.pop_back();
    co_await send(d, line);
    d.shutdown(tcp::socket::shutdown_send);
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 2; }));
    if (srv.accepted.size() != 2) co_return;
    auto in = co_await srv.accepted[1].channel->read();
    EXPECT_EQ(in.type, acp::channel_input::kind::ended) << "the token was passed on";
  }()));
}

TEST(listen_ndjson, without_a_token_the_first_line_is_the_first_message_and_nothing_after_it_is_lost) {
  asio::io_context ioc;
  server srv(ioc, tcp_url(), {});
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto c = co_await connect_tcp(port);
    // Two messages in one write, the second split across two writes.
    const auto second = request_line(2, "session/new");
    co_await send(c, request_line(1) + second.substr(0, 10));
    co_await sleep(20ms);
    co_await send(c, second.substr(10));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
    if (srv.accepted.empty()) co_return;
    auto& ch = *srv.accepted[0].channel;
    auto m1 = co_await next_message(ch);
    auto m2 = co_await next_message(ch);
    EXPECT_TRUE(m1 && m1->method() == "initialize" && m1->id() == json::value(1));
    EXPECT_TRUE(m2 && m2->method() == "session/new" && m2->id() == json::value(2));
    EXPECT_EQ(ch.bytes_read(), request_line(1).size() + second.size()) << "every byte reached the channel";
  }()));
}

TEST(listen_ndjson, an_http_request_is_answered_400_and_its_body_never_read_as_messages) {
  asio::io_context ioc;
  server srv(ioc, tcp_url(), {}); // no token: the case a web page could abuse
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto c = co_await connect_tcp(port);
    const auto body = request_line(1) + request_line(2, "session/new");
    co_await send(c, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body);
    bool ended = false;
    const auto answer = co_await read_to_end(c, 3s, &ended);
    EXPECT_TRUE(ended);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
    EXPECT_NE(answer.find("not HTTP"), std::string::npos) << answer;
    co_await sleep(50ms);
    EXPECT_TRUE(srv.accepted.empty());
  }()));
}

TEST(listen_ndjson, first_line_over_max_header_bytes_is_refused_when_a_token_is_required) {
  asio::io_context ioc;
  auto opt = with_token();
  opt.max_header_bytes = 1024;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, refused_scenario(
                           srv, [port] { return connect_tcp(port); }, std::string(2000, ' ') + auth_line(secret),
                           "unauthorized: the first line is over 1024 bytes")));
}

TEST(listen_ndjson, without_a_token_a_long_first_line_is_still_the_first_message) {
  asio::io_context ioc;
  listen_options opt;
  opt.max_header_bytes = 1024;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto c = co_await connect_tcp(port);
    const std::string big =
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":")" + std::string(5000, 'x') + "\"}}\n";
    co_await send(c, big);
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
    if (srv.accepted.empty()) co_return;
    auto m = co_await next_message(*srv.accepted[0].channel);
    EXPECT_TRUE(m && m->method() == "initialize");
  }()));
}

TEST(listen_ndjson, over_max_connections_is_refused_until_a_slot_is_freed) {
  asio::io_context ioc;
  listen_options opt;
  opt.max_connections = 1;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto a = co_await connect_tcp(port);
    co_await send(a, request_line(1));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
    EXPECT_EQ(srv.l->active(), 1u);
    // Over the limit: the busy line, then the end; nothing handed over.
    auto b = co_await connect_tcp(port);
    bool ended = false;
    const auto answer = co_await read_to_end(b, 3s, &ended);
    EXPECT_TRUE(ended);
    EXPECT_EQ(error_of(answer.substr(0, answer.find('\n'))),
              (std::pair<std::int64_t, std::string>{-32000, "server busy: too many connections"}));
    EXPECT_EQ(srv.accepted.size(), 1u);
    // The owner frees the slot (the connection ends): the next client is served.
    srv.accepted[0].slot.release();
    srv.accepted[0].channel.reset();
    EXPECT_EQ(srv.l->active(), 0u);
    auto c = co_await connect_tcp(port);
    co_await send(c, request_line(3));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 2; }));
    EXPECT_EQ(srv.l->active(), 1u);
  }()));
}

TEST(listen_ndjson, a_flood_over_the_limit_is_closed_without_answers_past_a_bound) {
  asio::io_context ioc;
  listen_options opt;
  opt.max_connections = 1;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto a = co_await connect_tcp(port);
    co_await send(a, request_line(1));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
    // 20 more that never close: 16 refusals are answered (each lingers up to a second), the
    // others are closed at once without an answer.
    std::vector<tcp::socket> flood;
    for (int i = 0; i < 20; ++i) flood.push_back(co_await connect_tcp(port));
    int answered = 0;
    int closed_silently = 0;
    for (auto& s : flood) {
      bool ended = false;
      const auto answer = co_await read_to_end(s, 3s, &ended);
      EXPECT_TRUE(ended);
      if (answer.find("server busy") != std::string::npos)
        ++answered;
      else if (answer.empty())
        ++closed_silently;
    }
    EXPECT_EQ(answered, 16);
    EXPECT_EQ(closed_silently, 4);
    EXPECT_EQ(srv.accepted.size(), 1u);
  }()));
}

TEST(listen_ndjson, a_trickling_client_is_cut_at_the_deadline_while_others_are_served) {
  asio::io_context ioc;
  auto opt = with_token();
  opt.handshake_timeout = 600ms;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto slow = co_await connect_tcp(port);
    const auto start = clock_type::now();
    bool slow_ended = false;
    bool writer_done = false;
    std::optional<clock_type::duration> cut_after;
    // The slow client: one byte of its authentication line every 100 ms (it would need ~6 s).
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          const auto line = auth_line(secret);
          for (char ch : line) {
            auto [ec, n] = co_await asio::async_write(slow, asio::buffer(&ch, 1), use_tuple);
            (void)n;
            if (ec) break;
            co_await sleep(100ms);
          }
          writer_done = true;
        },
        [&](std::exception_ptr) { writer_done = true; });
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          bool ended = false;
          (void)co_await read_to_end(slow, 5s, &ended);
          slow_ended = ended;
          cut_after = clock_type::now() - start;
        },
        [](std::exception_ptr) {});
    // Meanwhile others are served.
    for (int i = 0; i < 3; ++i) {
      auto c = co_await connect_tcp(port);
      co_await send(c, auth_line(secret) + request_line(i));
      EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == std::size_t(i + 1); }, 500ms))
          << "client " << i << " served while the slow one trickles";
    }
    EXPECT_TRUE(co_await eventually([&] { return cut_after.has_value(); }, 3s));
    EXPECT_TRUE(slow_ended) << "the slow client's connection was closed";
    if (cut_after) {
      EXPECT_GE(*cut_after, 550ms);
      EXPECT_LT(*cut_after, 1500ms);
    }
    EXPECT_EQ(srv.accepted.size(), 3u);
    EXPECT_TRUE(co_await eventually([&] { return writer_done; }, 3s)) << "the slow client's writes fail";
  }()));
}

TEST(listen_ndjson, the_idle_timeout_ends_the_channel_and_closes_the_connection) {
  asio::io_context ioc;
  listen_options opt;
  opt.idle_timeout = 300ms;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto c = co_await connect_tcp(port);
    co_await send(c, request_line(1));
    EXPECT_TRUE(co_await eventually([&] { return srv.accepted.size() == 1; }));
    if (srv.accepted.empty()) co_return;
    auto& ch = *srv.accepted[0].channel;
    const auto start = clock_type::now();
    auto first = co_await next_message(ch);
    EXPECT_TRUE(first.has_value());
    // Activity keeps it open: a message every 150 ms for 600 ms.
    for (int i = 0; i < 4; ++i) {
      co_await sleep(150ms);
      co_await send(c, request_line(10 + i));
      EXPECT_TRUE(co_await next_message(ch)) << "message " << i;
    }
    auto end = co_await ch.read();
    const auto after = clock_type::now() - start;
    EXPECT_EQ(end.type, acp::channel_input::kind::ended);
    EXPECT_EQ(end.end.reason, acp::close_reason::read_error);
    EXPECT_EQ(end.end.detail, "idle timeout");
    EXPECT_GE(after, 850ms);
    EXPECT_LT(after, 2s);
    bool ended = false;
    (void)co_await read_to_end(c, 2s, &ended);
    EXPECT_TRUE(ended) << "the client sees the end";
  }()));
}

TEST(listen_ndjson, tls_to_a_plaintext_port_fails_quickly_and_nothing_is_handed_over) {
  asio::io_context ioc;
  listen_options opt;
  opt.handshake_timeout = 10s; // the refusal is not the deadline's
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<tcp::socket> s(co_await connect_tcp(port), ctx);
    const auto start = clock_type::now();
    auto [ec] = co_await s.async_handshake(asio::ssl::stream_base::client, use_tuple);
    EXPECT_TRUE(ec) << "the TLS handshake fails";
    EXPECT_LT(clock_type::now() - start, 2s);
    co_await sleep(50ms);
    EXPECT_TRUE(srv.accepted.empty());
    EXPECT_EQ(srv.l->active(), 0u);
  }()));
}

TEST(listen_ndjson, close_abandons_handshakes_in_progress) {
  asio::io_context ioc;
  auto opt = with_token();
  opt.handshake_timeout = 10s;
  server srv(ioc, tcp_url(), opt);
  const auto port = srv.port();
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    auto c = co_await connect_tcp(port);
    co_await send(c, R"({"jsonrpc":"2.0","method":"_acp/auth)"); // half a line
    EXPECT_TRUE(co_await eventually([&] { return srv.l->active() == 1; }));
    const auto start = clock_type::now();
    srv.l->close();
    bool ended = false;
    (void)co_await read_to_end(c, 3s, &ended);
    EXPECT_TRUE(ended);
    EXPECT_LT(clock_type::now() - start, 1s);
    EXPECT_TRUE(co_await eventually([&] { return srv.l->active() == 0; }));
    // Closed: connecting fails.
    tcp::socket again(ioc);
    auto [ec] = co_await again.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_tuple);
    EXPECT_TRUE(ec);
    EXPECT_TRUE(srv.accepted.empty());
  }()));
}

// ---- opening ---------------------------------------------------------------------------------------

TEST(listen_open, a_unix_socket_someone_listens_on_is_kept_and_a_stale_one_replaced) {
  asio::io_context ioc;
  temp_dir dir;
  const auto path = (dir.path / "acp.sock").string();
  const url where{.scheme = scheme::unix_socket, .path = path};
  auto first = acp::net::listener::open(ioc.get_executor(), where, {});
  ASSERT_TRUE(first) << first.error();
  auto second = acp::net::listener::open(ioc.get_executor(), where, {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), "cannot listen on unix:" + path + ": another process is listening on it");
  // A stale socket file (bound, nobody listening) is replaced.
  (*first)->close();
  {
    stream_protocol::acceptor stale(ioc);
    stale.open();
    stale.bind(stream_protocol::endpoint(path));
  }
  ASSERT_TRUE(fs::is_socket(path));
  auto third = acp::net::listener::open(ioc.get_executor(), where, {});
  ASSERT_TRUE(third) << third.error();
  // A file that is not a socket is never removed.
  const auto plain = (dir.path / "plain").string();
  std::ofstream(plain) << "data";
  auto fourth = acp::net::listener::open(ioc.get_executor(), url{.scheme = scheme::unix_socket, .path = plain}, {});
  ASSERT_FALSE(fourth);
  EXPECT_EQ(fourth.error(), "cannot listen on unix:" + plain + ": the file exists and is not a socket");
  EXPECT_TRUE(fs::is_regular_file(plain));
}

TEST(listen_open, errors_are_one_sentence) {
  asio::io_context ioc;
  // A port in use.
  server srv(ioc, tcp_url(), {});
  auto busy = acp::net::listener::open(ioc.get_executor(), url{.host = "127.0.0.1", .port = srv.port()}, {});
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error(), "cannot listen on 127.0.0.1:" + std::to_string(srv.port()) + ": Address already in use");
  // TLS without files, with unreadable files.
  auto no_cert = acp::net::listener::open(ioc.get_executor(), tcp_url(scheme::tls), {});
  ASSERT_FALSE(no_cert);
  EXPECT_EQ(no_cert.error(),
            "cannot listen on tls://127.0.0.1:0: a certificate and its key are required (--cert, --key)");
  listen_options opt;
  opt.tls.cert_file = "/nonexistent/cert.pem";
  opt.tls.key_file = "/nonexistent/key.pem";
  auto missing = acp::net::listener::open(ioc.get_executor(), tcp_url(scheme::wss, "/"), opt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "--cert: cannot read /nonexistent/cert.pem: No such file or directory");
  // An empty token would let an empty one in.
  listen_options empty;
  empty.bearer_token = "";
  auto no_token = acp::net::listener::open(ioc.get_executor(), tcp_url(), empty);
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error(), "cannot listen on tcp://127.0.0.1:0: the token is empty");
}

// ---- the pieces ------------------------------------------------------------------------------------

TEST(prefixed_transport, returns_the_prefix_in_pieces_then_the_inner_bytes) {
  asio::io_context ioc;
  auto duplex = acp::make_memory_duplex(ioc.get_executor());
  ASSERT_TRUE(duplex);
  auto [inner, other] = std::move(*duplex);
  auto t = acp::net::detail::make_prefixed_transport("hello ", std::move(inner));
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await other->write_all(std::span<const char>("world", 5)));
    std::array<char, 4> buf{};
    std::string got;
    while (got.size() < 11) {
      auto [ec, n] = co_await t->read_some(buf);
      EXPECT_FALSE(ec);
      if (ec) break;
      got.append(buf.data(), n);
    }
    EXPECT_EQ(got, "hello world");
    // Writing goes to the inner transport.
    EXPECT_FALSE(co_await t->write_all(std::span<const char>("back", 4)));
    auto [ec, n] = co_await other->read_some(buf);
    EXPECT_EQ(std::string(buf.data(), n), "back");
    (void)ec;
  }()));
}

TEST(idle_timeout, queueing_keeps_the_channel_open_and_silence_ends_it) {
  asio::io_context ioc;
  auto duplex = acp::make_memory_duplex(ioc.get_executor());
  ASSERT_TRUE(duplex);
  auto [a, b] = std::move(*duplex);
  auto ch = acp::net::detail::with_idle_timeout(ioc.get_executor(),
                                                acp::make_ndjson_channel(ioc.get_executor(), std::move(a)), 200ms);
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    const auto start = clock_type::now();
    // Sending only (nothing read) for 500 ms keeps it open.
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < 5; ++i) {
            const json::object tick{{"jsonrpc", "2.0"}, {"method", "tick"}};
            co_await reply(*ch, tick);
            co_await sleep(100ms);
          }
        },
        [](std::exception_ptr) {});
    auto end = co_await ch->read();
    const auto after = clock_type::now() - start;
    EXPECT_EQ(end.type, acp::channel_input::kind::ended);
    EXPECT_EQ(end.end.detail, "idle timeout");
    EXPECT_GE(after, 600ms);
    EXPECT_LT(after, 1500ms);
    // A zero timeout leaves the channel as it was.
    auto plain = acp::make_ndjson_channel(ioc.get_executor(), std::move(b));
    auto* raw = plain.get();
    EXPECT_EQ(acp::net::detail::with_idle_timeout(ioc.get_executor(), std::move(plain), 0ms).get(), raw);
  }()));
}

TEST(idle_timeout, closing_by_the_owner_is_not_an_idle_timeout_and_frees_the_executor) {
  asio::io_context ioc;
  auto duplex = acp::make_memory_duplex(ioc.get_executor());
  ASSERT_TRUE(duplex);
  auto ch = acp::net::detail::with_idle_timeout(
      ioc.get_executor(), acp::make_ndjson_channel(ioc.get_executor(), std::move(duplex->first)), 1h);
  ASSERT_TRUE(run(ioc, [&]() -> asio::awaitable<void> {
    ch->close();
    auto end = co_await ch->read();
    EXPECT_EQ(end.type, acp::channel_input::kind::ended);
    EXPECT_EQ(end.end.reason, acp::close_reason::closed_locally);
  }()));
  // No timer left waiting for an hour: the context runs out of work at once.
  ioc.restart();
  const auto start = clock_type::now();
  ioc.run_for(2s);
  EXPECT_LT(clock_type::now() - start, 1s);
}

} // namespace
