// Addresses of remote components and listeners (url.hpp).

#include <acp/net/url.hpp>

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace acp::net {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

bool is_ipv4(const std::string& s) noexcept {
  in_addr a{};
  return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}
bool is_ipv6(const std::string& s) noexcept {
  in6_addr a{};
  return ::inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool is_name_char(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

/// The largest unix socket path (sun_path holds a terminating NUL).
constexpr std::size_t max_unix_path = sizeof(sockaddr_un{}.sun_path) - 1;

boost::system::result<url, std::string> parse_unix(std::string_view text, std::string_view rest) {
  url u;
  u.scheme = scheme::unix_socket;
  if (rest.starts_with("//")) {
    // unix:///path: an empty authority, then an absolute path.
    rest.remove_prefix(2);
    if (!rest.starts_with('/'))
      return "\"" + std::string(text) + "\": a unix socket URL has no host (unix:/path, unix:///path or unix:path)";
  }
  if (rest.empty()) return std::string("unix: a socket path is required (unix:/path/to/socket)");
  if (rest.find('\0') != std::string_view::npos) return std::string("unix: the socket path holds a NUL byte");
  if (rest.size() > max_unix_path)
    return "unix: the socket path is too long (" + std::to_string(rest.size()) + " bytes; at most " +
           std::to_string(max_unix_path) + ")";
  u.path = std::string(rest);
  return u;
}

} // namespace

std::string_view to_string(scheme s) noexcept {
  switch (s) {
  case scheme::tcp:
    return "tcp";
  case scheme::unix_socket:
    return "unix";
  case scheme::tls:
    return "tls";
  case scheme::ws:
    return "ws";
  case scheme::wss:
    return "wss";
  }
  return "tcp";
}

std::string url::authority() const {
  if (scheme == scheme::unix_socket) return path;
  std::string out;
  if (host.find(':') != std::string::npos)
    out = "[" + host + "]";
  else
    out = host;
  return out + ":" + std::to_string(port);
}

std::string url::text() const {
  if (scheme == scheme::unix_socket) return "unix:" + path;
  std::string out = std::string(to_string(scheme)) + "://" + authority();
  if (websocket()) out += path.empty() ? "/" : path;
  return out;
}

bool looks_like_url(std::string_view text) noexcept {
  for (std::string_view prefix : {"tcp://", "unix:", "tls://", "ws://", "wss://"})
    if (iequals_prefix(text, prefix)) return true;
  return false;
}

boost::system::result<url, std::string> parse_url(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return "\"" + std::string(text) + "\" is not a URL (expected tcp://host:port, unix:/path, tls://host:port, " +
           "ws://host[:port][/path] or wss://…)";
  const std::string name = lower(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);

  url u;
  if (name == "unix") return parse_unix(text, rest);
  if (name == "tcp")
    u.scheme = scheme::tcp;
  else if (name == "tls")
    u.scheme = scheme::tls;
  else if (name == "ws")
    u.scheme = scheme::ws;
  else if (name == "wss")
    u.scheme = scheme::wss;
  else
    return "unknown scheme \"" + name + "\" (expected tcp, unix, tls, ws or wss)";
  const std::string scheme_text = name + "://";
  if (!rest.starts_with("//")) return "\"" + std::string(text) + "\": expected " + scheme_text + " before the host";
  rest.remove_prefix(2);

  // The authority ends at the path, the query or a fragment.
  const auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  // Never echo user information: it may hold a password.
  if (authority.find('@') != std::string_view::npos)
    return name + " URL: user information (user:password@) is not allowed; give secrets in a file or the "
                  "environment";
  if (authority.empty()) return "\"" + std::string(text) + "\": a host is required";

  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return "\"" + std::string(text) + "\": an IPv6 address lacks its closing ]";
    u.host = std::string(authority.substr(1, close - 1));
    if (!is_ipv6(u.host)) return "\"" + std::string(text) + "\": \"" + u.host + "\" is not an IPv6 address";
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "\"" + std::string(text) + "\": unexpected text after the IPv6 address";
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto c = authority.find(':');
    if (c != authority.rfind(':'))
      return "\"" + std::string(text) + "\": an IPv6 address goes in brackets (" + scheme_text + "[::1]:4000)";
    u.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) {
      port_text = authority.substr(c + 1);
      has_port = true;
    }
    if (u.host.empty()) return "\"" + std::string(text) + "\": a host is required";
    if (!std::all_of(u.host.begin(), u.host.end(), is_name_char))
      return "\"" + std::string(text) + "\": \"" + u.host + "\" is not a valid host name";
    const bool dotted_digits = std::all_of(u.host.begin(), u.host.end(), [](char ch) {
      return ch == '.' || std::isdigit(static_cast<unsigned char>(ch)) != 0;
    });
    if (dotted_digits && !is_ipv4(u.host))
      return "\"" + std::string(text) + "\": \"" + u.host + "\" is not a valid IPv4 address";
  }

  if (has_port) {
    unsigned value = 0;
    const auto* first = port_text.data();
    const auto* last = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (port_text.empty() || ec != std::errc() || ptr != last || value > 65535)
      return "\"" + std::string(text) + "\": the port must be a number from 0 to 65535";
    u.port = static_cast<unsigned short>(value);
  } else if (u.scheme == scheme::ws) {
    u.port = 80;
  } else if (u.scheme == scheme::wss) {
    u.port = 443;
  } else {
    const auto shown = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    return scheme_text + shown + ": a port is required (" + scheme_text + shown + ":PORT)";
  }

  if (tail.find('#') != std::string_view::npos) return "\"" + std::string(text) + "\": a fragment (#…) is not allowed";
  if (u.websocket()) {
    if (tail.empty())
      u.path = "/";
    else if (tail.front() == '?')
      u.path = "/" + std::string(tail);
    else
      u.path = std::string(tail);
    if (std::any_of(u.path.begin(), u.path.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f; }))
      return "\"" + std::string(text) + "\": the path holds a space or a control character";
  } else if (!tail.empty() && tail != "/") {
    return "\"" + std::string(text) + "\": " + scheme_text + " takes no path or query";
  }
  return u;
}

bool is_loopback(const url& u) noexcept {
  if (u.scheme == scheme::unix_socket) return true;
  const auto host = lower(u.host);
  if (host == "localhost" || host == "localhost.") return true;
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) return a6.s6_addr[12] == 127;
  }
  return false;
}

} // namespace acp::net
