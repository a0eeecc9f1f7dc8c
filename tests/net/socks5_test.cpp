// SOCKS5: the client handshake against a proxy scripted byte by byte (methods, user/password,
// address types, every refusal as a sentence without the password), proxy URLs and the
// environment (ALL_PROXY, NO_PROXY, ACP_SOCKS5_PASSWORD).

#include "connect_support.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdlib>
#include <optional>

namespace acp::net::test {
namespace {

// ---- SOCKS5, scripted byte by byte ----

/// A scripted SOCKS5 proxy: reads the greeting, answers `method`; for user/password reads the
/// credentials and answers `auth_status`; reads the request (kept) and answers `reply`.
struct scripted_socks {
  explicit scripted_socks(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  unsigned short port() const { return acceptor.local_endpoint().port(); }

  /// The client may hang up at any step (a refusal): that ends the script.
  asio::awaitable<void> serve(std::uint8_t method, std::uint8_t auth_status, std::uint8_t reply) {
    try {
      co_await script(method, auth_status, reply);
    } catch (const boost::system::system_error&) {
      hung_up = true;
    }
  }
  asio::awaitable<void> script(std::uint8_t method, std::uint8_t auth_status, std::uint8_t reply) {
    auto s = co_await acceptor.async_accept(asio::use_awaitable);
    std::array<std::uint8_t, 2> head{};
    co_await asio::async_read(s, asio::buffer(head), asio::use_awaitable);
    greeting.resize(head[1]);
    co_await asio::async_read(s, asio::buffer(greeting), asio::use_awaitable);
    const std::array<std::uint8_t, 2> choice{5, method};
    co_await asio::async_write(s, asio::buffer(choice), asio::use_awaitable);
    if (method == 0xFF) co_return;
    if (method == 2) {
      std::array<std::uint8_t, 2> vl{};
      co_await asio::async_read(s, asio::buffer(vl), asio::use_awaitable);
      std::string u(vl[1], '\0');
      co_await asio::async_read(s, asio::buffer(u), asio::use_awaitable);
      std::uint8_t pl = 0;
      co_await asio::async_read(s, asio::buffer(&pl, 1), asio::use_awaitable);
      std::string p(pl, '\0');
      co_await asio::async_read(s, asio::buffer(p), asio::use_awaitable);
      user = u;
      password = p;
      const std::array<std::uint8_t, 2> status{1, auth_status};
      co_await asio::async_write(s, asio::buffer(status), asio::use_awaitable);
      if (auth_status != 0) co_return;
    }
    std::array<std::uint8_t, 4> req{};
    co_await asio::async_read(s, asio::buffer(req), asio::use_awaitable);
    atyp = req[3];
    std::size_t len = atyp == 1 ? 4 : atyp == 4 ? 16 : 0;
    if (atyp == 3) {
      std::uint8_t n = 0;
      co_await asio::async_read(s, asio::buffer(&n, 1), asio::use_awaitable);
      len = n;
    }
    address.resize(len);
    co_await asio::async_read(s, asio::buffer(address), asio::use_awaitable);
    std::array<std::uint8_t, 2> pb{};
    co_await asio::async_read(s, asio::buffer(pb), asio::use_awaitable);
    port_asked = static_cast<unsigned short>(pb[0] << 8 | pb[1]);
    const std::array<std::uint8_t, 10> answer{5, reply, 0, 1, 127, 0, 0, 1, 0, 80};
    co_await asio::async_write(s, asio::buffer(answer), asio::use_awaitable);
    if (reply != 0) co_return;
    // Connected: the "destination" reads one line.
    std::string buf;
    auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n', use_tuple);
    if (!ec) line = buf.substr(0, n - 1);
    done = true;
  }

  tcp::acceptor acceptor;
  std::vector<std::uint8_t> greeting;
  std::string user, password, address, line;
  std::uint8_t atyp = 0;
  unsigned short port_asked = 0;
  bool done = false;
  bool hung_up = false;
};

TEST_F(connect_test, socks5_without_authentication_sends_the_name_unresolved) {
  scripted_socks proxy(io);
  spawn(proxy.serve(0, 0, 0), "socks proxy");
  connect_options o;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
  auto r = connect_to("tcp://agent.example:4000", o);
  auto* ch = keep(r);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(proxy.greeting, (std::vector<std::uint8_t>{0x00}));
  EXPECT_EQ(proxy.atyp, 3);
  EXPECT_EQ(proxy.address, "agent.example");
  EXPECT_EQ(proxy.port_asked, 4000);
  EXPECT_EQ(ch->describe(), "ndjson over tcp agent.example:4000 via SOCKS5 127.0.0.1:" + std::to_string(proxy.port()));
  ASSERT_TRUE(send(*ch, json::object{{"jsonrpc", "2.0"}, {"method", "through"}}));
  ASSERT_TRUE(run_until([&] { return proxy.done; }));
  EXPECT_EQ(proxy.line, R"({"jsonrpc":"2.0","method":"through"})");
}

TEST_F(connect_test, socks5_with_user_and_password_and_literal_addresses) {
  scripted_socks proxy(io);
  spawn(proxy.serve(2, 0, 0), "socks proxy");
  connect_options o;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port(), .username = "alice", .password = "pw"};
  auto r = connect_to("tcp://10.1.2.3:4000", o);
  ASSERT_TRUE(r) << r.error();
  keep(r);
  EXPECT_EQ(proxy.greeting, (std::vector<std::uint8_t>{0x00, 0x02}));
  EXPECT_EQ(proxy.user, "alice");
  EXPECT_EQ(proxy.password, "pw");
  EXPECT_EQ(proxy.atyp, 1);
  EXPECT_EQ(proxy.address, std::string("\x0a\x01\x02\x03", 4));

  scripted_socks v6(io);
  spawn(v6.serve(0, 0, 0), "socks proxy");
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = v6.port()};
  auto r2 = connect_to("tcp://[::1]:4000", o);
  ASSERT_TRUE(r2) << r2.error();
  keep(r2);
  EXPECT_EQ(v6.atyp, 4);
  EXPECT_EQ(v6.address.size(), 16U);
  EXPECT_EQ(v6.address.back(), '\x01');
}

TEST_F(connect_test, socks5_refusals_are_sentences_without_the_password) {
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(0, 0, 5), "socks proxy");
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                             " refused: connection refused by destination host (5)");
  }
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(2, 1, 0), "socks proxy");
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port(), .username = "alice", .password = "hunter2"};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(),
              "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) + " refused the user name or password");
  }
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(0xFF, 0, 0), "socks proxy");
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                             " accepts none of the offered authentication methods (none; it may need a user name "
                             "and password)");
  }
  {
    scripted_socks proxy(io);
    spawn(proxy.serve(2, 0, 0), "socks proxy"); // asks for a password we did not offer
    connect_options o;
    o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = proxy.port()};
    auto r = connect_to("tcp://agent.example:4000", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "SOCKS5 proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                             " chose an authentication method that was not offered (2)");
    EXPECT_TRUE(run_until([&] { return proxy.hung_up; })); // no credentials were sent
  }
  unsigned short closed = 0;
  {
    auto a = listen_tcp();
    closed = a.local_endpoint().port();
  }
  connect_options o;
  o.socks5 = socks5_proxy{.host = "127.0.0.1", .port = closed};
  auto r = connect_to("tcp://agent.example:4000", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "cannot connect to SOCKS5 proxy 127.0.0.1:" + std::to_string(closed) + ": Connection refused");
}

// ---- proxy settings ----

TEST(socks5_url, forms_and_errors) {
  auto a = parse_socks5_url("socks5://proxy.example");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "proxy.example");
  EXPECT_EQ(a->port, 1080);
  EXPECT_EQ(a->username, "");
  auto b = parse_socks5_url("SOCKS5H://al%40ice:p%3Aw@[::1]:9050/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 9050);
  EXPECT_EQ(b->username, "al@ice");
  EXPECT_EQ(b->password, "p:w");
  auto c = parse_socks5_url("socks5://bob@10.0.0.1:1081");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "bob");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->port, 1081);

  const auto error = [](std::string_view text) {
    auto r = parse_socks5_url(text);
    EXPECT_FALSE(r) << text;
    return r ? std::string() : r.error();
  };
  EXPECT_EQ(error("http://proxy:3128"), "a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port]");
  EXPECT_EQ(error("proxy:1080"), "a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port]");
  EXPECT_EQ(error("socks5://"), "the socks5:// proxy URL has no host");
  EXPECT_EQ(error("socks5://h:0"), "the socks5:// proxy h has a bad port (1 to 65535)");
  EXPECT_EQ(error("socks5://h:99999"), "the socks5:// proxy h has a bad port (1 to 65535)");
  EXPECT_EQ(error("socks5://h/x"), "a socks5:// proxy URL takes no path");
  EXPECT_EQ(error("socks5://u:pa%zzword@h"), "the socks5:// proxy URL has a broken %-escape in its user information");
  EXPECT_EQ(error("socks5://:hunter2@h"), "the socks5:// proxy URL has an empty user name");
  EXPECT_EQ(error("socks5://[::1"), "the socks5:// proxy URL's IPv6 address lacks its ]");
  for (const char* secret_case : {"socks5://u:hunter2@h:0", "socks5://u:hunter2%zz@h", "socks5://:hunter2@h"})
    EXPECT_EQ(error(secret_case).find("hunter2"), std::string::npos) << "an error repeats the password";
}

/// Sets environment variables for one test and restores them.
class environment_test : public ::testing::Test {
protected:
  void SetUp() override {
    for (const char* n : names) {
      const char* v = std::getenv(n);
      saved.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n);
    }
  }
  void TearDown() override {
    for (auto& [n, v] : saved) {
      if (v)
        ::setenv(n.c_str(), v->c_str(), 1);
      else
        ::unsetenv(n.c_str());
    }
  }
  static url target(const char* text) { return *parse_url(text); }
  static constexpr const char* names[] = {"ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "ACP_SOCKS5_PASSWORD"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
};

TEST_F(environment_test, no_proxy_set_means_none) {
  auto r = socks5_from_environment(target("tcp://h:1"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(environment_test, all_proxy_and_the_password_variable) {
  ::setenv("ALL_PROXY", "socks5h://alice@127.0.0.1:9050", 1);
  ::setenv("ACP_SOCKS5_PASSWORD", "hunter2", 1);
  auto r = socks5_from_environment(target("ws://agent.example/acp"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->host, "127.0.0.1");
  EXPECT_EQ((*r)->port, 9050);
  EXPECT_EQ((*r)->username, "alice");
  EXPECT_TRUE((*r)->password == "hunter2");
  // A unix socket never goes through a proxy.
  auto u = socks5_from_environment(target("unix:/tmp/x.sock"));
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->has_value());
}

TEST_F(environment_test, lower_case_all_proxy_is_read_too) {
  ::setenv("all_proxy", "socks5://127.0.0.1", 1);
  auto r = socks5_from_environment(target("tcp://h:1"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->port, 1080);
}

TEST_F(environment_test, no_proxy_excludes_names_suffixes_and_everything) {
  ::setenv("ALL_PROXY", "socks5://127.0.0.1:1080", 1);
  ::setenv("NO_PROXY", "internal.example, .corp.example,10.0.0.1", 1);
  const auto proxied = [&](const char* t) {
    auto r = socks5_from_environment(target(t));
    EXPECT_TRUE(r) << t;
    return r && r->has_value();
  };
  EXPECT_FALSE(proxied("tcp://internal.example:1"));
  EXPECT_FALSE(proxied("tcp://a.internal.example:1"));
  EXPECT_FALSE(proxied("tcp://x.corp.example:1"));
  EXPECT_FALSE(proxied("tcp://CORP.example:1"));
  EXPECT_FALSE(proxied("tcp://10.0.0.1:1"));
  EXPECT_TRUE(proxied("tcp://notinternal.example:1"));
  EXPECT_TRUE(proxied("tcp://example.org:1"));
  ::setenv("no_proxy", "*", 1);
  ::unsetenv("NO_PROXY");
  EXPECT_FALSE(proxied("tcp://example.org:1"));
}

TEST_F(environment_test, another_scheme_in_all_proxy_is_an_error_without_its_secret) {
  ::setenv("ALL_PROXY", "http://user:hunter2@proxy:3128", 1);
  auto r = socks5_from_environment(target("tcp://h:1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "ALL_PROXY: a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port] (only SOCKS5 "
                       "proxies are supported)");
}

} // namespace
} // namespace acp::net::test
