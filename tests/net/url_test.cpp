// URLs of remote components and listeners: every form, every error sentence, loopback rules.

#include <acp/net/url.hpp>

#include <gtest/gtest.h>

namespace acp::net {
namespace {

url parsed(std::string_view text) {
  auto r = parse_url(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error());
  return r ? *r : url{};
}

std::string error_of(std::string_view text) {
  auto r = parse_url(text);
  EXPECT_FALSE(r.has_value()) << text << " parsed";
  return r ? std::string() : r.error();
}

TEST(url, tcp_with_a_name_an_ipv4_and_an_ipv6_address) {
  auto a = parsed("tcp://example.org:4000");
  EXPECT_EQ(a.scheme, scheme::tcp);
  EXPECT_EQ(a.host, "example.org");
  EXPECT_EQ(a.port, 4000);
  EXPECT_EQ(a.path, "");
  EXPECT_FALSE(a.secure());
  EXPECT_FALSE(a.websocket());
  EXPECT_EQ(a.authority(), "example.org:4000");
  EXPECT_EQ(a.text(), "tcp://example.org:4000");

  auto b = parsed("tcp://127.0.0.1:0");
  EXPECT_EQ(b.host, "127.0.0.1");
  EXPECT_EQ(b.port, 0);

  auto c = parsed("tcp://[::1]:4000");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 4000);
  EXPECT_EQ(c.authority(), "[::1]:4000");
  EXPECT_EQ(c.text(), "tcp://[::1]:4000");

  EXPECT_EQ(parsed("tcp://h:1/").port, 1); // a bare trailing slash is accepted
  EXPECT_EQ(parsed("tcp://h:65535").port, 65535);
}

TEST(url, tls_is_secure_and_needs_a_port) {
  auto u = parsed("tls://localhost:8443");
  EXPECT_EQ(u.scheme, scheme::tls);
  EXPECT_TRUE(u.secure());
  EXPECT_FALSE(u.websocket());
  EXPECT_EQ(u.text(), "tls://localhost:8443");
  EXPECT_EQ(error_of("tls://localhost"), "tls://localhost: a port is required (tls://localhost:PORT)");
}

TEST(url, websocket_ports_default_and_paths_keep_their_query) {
  auto a = parsed("ws://h");
  EXPECT_EQ(a.scheme, scheme::ws);
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.path, "/");
  EXPECT_TRUE(a.websocket());
  EXPECT_FALSE(a.secure());
  EXPECT_EQ(a.text(), "ws://h:80/");

  auto b = parsed("wss://h/acp/v1?x=1&y=2");
  EXPECT_EQ(b.scheme, scheme::wss);
  EXPECT_EQ(b.port, 443);
  EXPECT_EQ(b.path, "/acp/v1?x=1&y=2");
  EXPECT_TRUE(b.secure());
  EXPECT_EQ(b.text(), "wss://h:443/acp/v1?x=1&y=2");

  auto c = parsed("ws://[::1]:4000/acp");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.text(), "ws://[::1]:4000/acp");

  EXPECT_EQ(parsed("ws://h?q=1").path, "/?q=1");
  EXPECT_EQ(parsed("ws://h:9/").path, "/");
}

TEST(url, schemes_are_case_insensitive) {
  EXPECT_EQ(parsed("TCP://h:1").scheme, scheme::tcp);
  EXPECT_EQ(parsed("Wss://h").scheme, scheme::wss);
  EXPECT_EQ(parsed("UNIX:/run/a.sock").scheme, scheme::unix_socket);
}

TEST(url, unix_paths_in_three_forms) {
  auto a = parsed("unix:/run/acp.sock");
  EXPECT_EQ(a.scheme, scheme::unix_socket);
  EXPECT_EQ(a.path, "/run/acp.sock");
  EXPECT_EQ(a.host, "");
  EXPECT_EQ(a.port, 0);
  EXPECT_EQ(a.authority(), "/run/acp.sock");
  EXPECT_EQ(a.text(), "unix:/run/acp.sock");
  EXPECT_EQ(parsed("unix:///run/acp.sock").path, "/run/acp.sock");
  auto rel = parsed("unix:acp.sock");
  EXPECT_EQ(rel.path, "acp.sock");
  EXPECT_EQ(rel.text(), "unix:acp.sock");
  EXPECT_EQ(parsed("unix:" + std::string(107, 'a')).path.size(), 107U);
}

TEST(url, every_error_is_one_sentence) {
  EXPECT_EQ(error_of("tcp://host"), "tcp://host: a port is required (tcp://host:PORT)");
  EXPECT_EQ(error_of("tcp://[::1]"), "tcp://[::1]: a port is required (tcp://[::1]:PORT)");
  EXPECT_EQ(error_of("http://h:1"), "unknown scheme \"http\" (expected tcp, unix, tls, ws or wss)");
  EXPECT_EQ(error_of("acp-agent --flag"),
            "\"acp-agent --flag\" is not a URL (expected tcp://host:port, unix:/path, tls://host:port, "
            "ws://host[:port][/path] or wss://…)");
  EXPECT_EQ(error_of(":4000"), "\":4000\" is not a URL (expected tcp://host:port, unix:/path, tls://host:port, "
                               "ws://host[:port][/path] or wss://…)");
  EXPECT_EQ(error_of("tcp:h:1"), "\"tcp:h:1\": expected tcp:// before the host");
  EXPECT_EQ(error_of("tcp://:1"), "\"tcp://:1\": a host is required");
  EXPECT_EQ(error_of("ws://"), "\"ws://\": a host is required");
  EXPECT_EQ(error_of("ws:///acp"), "\"ws:///acp\": a host is required");
  EXPECT_EQ(error_of("tcp://h:x"), "\"tcp://h:x\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("tcp://h:"), "\"tcp://h:\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("tcp://h:65536"), "\"tcp://h:65536\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("tcp://h:-1"), "\"tcp://h:-1\": the port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("tcp://h:1/x"), "\"tcp://h:1/x\": tcp:// takes no path or query");
  EXPECT_EQ(error_of("tls://h:1?x"), "\"tls://h:1?x\": tls:// takes no path or query");
  EXPECT_EQ(error_of("ws://h/a#b"), "\"ws://h/a#b\": a fragment (#…) is not allowed");
  EXPECT_EQ(error_of("ws://h/a b"), "\"ws://h/a b\": the path holds a space or a control character");
  EXPECT_EQ(error_of("tcp://::1:4000"), "\"tcp://::1:4000\": an IPv6 address goes in brackets (tcp://[::1]:4000)");
  EXPECT_EQ(error_of("tcp://[::1:4000"), "\"tcp://[::1:4000\": an IPv6 address lacks its closing ]");
  EXPECT_EQ(error_of("tcp://[zz]:1"), "\"tcp://[zz]:1\": \"zz\" is not an IPv6 address");
  EXPECT_EQ(error_of("tcp://[::1]x:1"), "\"tcp://[::1]x:1\": unexpected text after the IPv6 address");
  EXPECT_EQ(error_of("tcp://exa$mple:1"), "\"tcp://exa$mple:1\": \"exa$mple\" is not a valid host name");
  EXPECT_EQ(error_of("tcp://300.1.1.1:1"), "\"tcp://300.1.1.1:1\": \"300.1.1.1\" is not a valid IPv4 address");
  EXPECT_EQ(error_of("unix:"), "unix: a socket path is required (unix:/path/to/socket)");
  EXPECT_EQ(error_of("unix://host/x"),
            "\"unix://host/x\": a unix socket URL has no host (unix:/path, unix:///path or unix:path)");
  EXPECT_EQ(error_of("unix:" + std::string(108, 'a')), "unix: the socket path is too long (108 bytes; at most 107)");
  EXPECT_EQ(error_of(std::string("unix:/a\0b", 9)), "unix: the socket path holds a NUL byte");
}

TEST(url, user_information_is_refused_and_never_echoed) {
  for (const char* text : {"ws://alice:s3cret@h/acp", "tcp://alice:s3cret@h:1", "wss://s3cret@h"}) {
    const auto e = error_of(text);
    EXPECT_NE(e.find("user information (user:password@) is not allowed;"), std::string::npos) << e;
    EXPECT_EQ(e.find("s3cret"), std::string::npos) << "the error repeats the secret";
  }
  EXPECT_EQ(error_of("tcp://a:b@h:1"),
            "tcp URL: user information (user:password@) is not allowed; give secrets in a file or the environment");
  // An '@' in a WebSocket path is not user information.
  EXPECT_EQ(parsed("ws://h/a@b").path, "/a@b");
}

TEST(url, looks_like_url_knows_the_five_schemes) {
  for (const char* yes : {"tcp://h:1", "unix:/x", "unix:x", "tls://h:1", "ws://h", "wss://h", "WS://h", "Unix:/x"})
    EXPECT_TRUE(looks_like_url(yes)) << yes;
  for (const char* no : {"acp-test-agent", "./agent", "http://h", "tcp:/h", "ws:/h", "/usr/bin/unix", "", "ws"})
    EXPECT_FALSE(looks_like_url(no)) << no;
}

TEST(url, loopback_addresses) {
  for (const char* yes : {"tcp://localhost:1", "tcp://LOCALHOST:1", "tcp://127.0.0.1:1", "tcp://127.9.8.7:1",
                          "ws://[::1]:1/", "ws://[::ffff:127.0.0.1]:1/", "unix:/tmp/a.sock"})
    EXPECT_TRUE(is_loopback(parsed(yes))) << yes;
  for (const char* no :
       {"tcp://0.0.0.0:1", "tcp://[::]:1", "tcp://10.0.0.1:1", "tcp://128.0.0.1:1", "tcp://example.org:1",
        "tcp://localhost.example.org:1", "ws://[::2]:1/", "ws://[::ffff:10.0.0.1]:1/"})
    EXPECT_FALSE(is_loopback(parsed(no))) << no;
}

TEST(url, scheme_names) {
  EXPECT_EQ(to_string(scheme::tcp), "tcp");
  EXPECT_EQ(to_string(scheme::unix_socket), "unix");
  EXPECT_EQ(to_string(scheme::tls), "tls");
  EXPECT_EQ(to_string(scheme::ws), "ws");
  EXPECT_EQ(to_string(scheme::wss), "wss");
}

TEST(url, text_parses_back_to_the_same_url) {
  for (const char* text : {"tcp://h:1", "tls://[::1]:2", "ws://h:3/a?b", "wss://1.2.3.4:4/", "unix:/x/y", "unix:rel"}) {
    const auto u = parsed(text);
    const auto again = parsed(u.text());
    EXPECT_EQ(again.scheme, u.scheme);
    EXPECT_EQ(again.host, u.host);
    EXPECT_EQ(again.port, u.port);
    EXPECT_EQ(again.path, u.path);
  }
}

} // namespace
} // namespace acp::net
