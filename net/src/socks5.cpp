// SOCKS5: the client handshake (RFC 1928 and RFC 1929), proxy URLs and the environment.

#include "socks5.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace acp::net {
namespace asio = boost::asio;
using boost::system::error_code;

namespace detail {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string proxy_name(const socks5_proxy& p) {
  const bool v6 = p.host.find(':') != std::string::npos;
  return (v6 ? "[" + p.host + "]" : p.host) + ":" + std::to_string(p.port);
}

} // namespace

std::string socks5_reply_text(unsigned code) {
  switch (code) {
  case 1:
    return "general SOCKS server failure";
  case 2:
    return "connection not allowed by ruleset";
  case 3:
    return "network unreachable";
  case 4:
    return "host unreachable";
  case 5:
    return "connection refused by destination host";
  case 6:
    return "TTL expired";
  case 7:
    return "command not supported";
  case 8:
    return "address type not supported";
  default:
    return "unknown reply code";
  }
}

asio::awaitable<std::string> socks5_handshake(asio::ip::tcp::socket& s, const socks5_proxy& proxy,
                                              const std::string& host, unsigned short port) {
  const auto who = "SOCKS5 proxy " + proxy_name(proxy);
  const bool with_password = !proxy.username.empty();
  if (proxy.username.size() > 255 || proxy.password.size() > 255)
    co_return who + ": the user name and the password may have at most 255 bytes each";

  // Greeting: the methods we offer.
  std::vector<std::uint8_t> out{5, static_cast<std::uint8_t>(with_password ? 2 : 1), 0x00};
  if (with_password) out.push_back(0x02);
  if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(out), use_tuple); ec)
    co_return who + ": " + ec.message() + " (sending the greeting)";
  std::array<std::uint8_t, 2> choice{};
  if (auto [ec, n] = co_await asio::async_read(s, asio::buffer(choice), use_tuple); ec)
    co_return who + ": " + (ec == asio::error::eof ? std::string("closed the connection") : ec.message()) +
        " (reading the chosen method)";
  if (choice[0] != 5) co_return who + ": not a SOCKS5 proxy (version " + std::to_string(choice[0]) + " in its answer)";
  if (choice[1] == 0xFF)
    co_return who + " accepts none of the offered authentication methods (" +
        (with_password ? "none, user/password" : "none; it may need a user name and password") + ")";
  if (choice[1] == 0x02 && with_password) {
    // RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD.
    std::vector<std::uint8_t> auth{1, static_cast<std::uint8_t>(proxy.username.size())};
    auth.insert(auth.end(), proxy.username.begin(), proxy.username.end());
    auth.push_back(static_cast<std::uint8_t>(proxy.password.size()));
    auth.insert(auth.end(), proxy.password.begin(), proxy.password.end());
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(auth), use_tuple);
    std::fill(auth.begin(), auth.end(), std::uint8_t{0});
    if (ec) co_return who + ": " + ec.message() + " (sending the user name and password)";
    std::array<std::uint8_t, 2> status{};
    if (auto [rec, rn] = co_await asio::async_read(s, asio::buffer(status), use_tuple); rec)
      co_return who + ": " + (rec == asio::error::eof ? std::string("closed the connection") : rec.message()) +
          " (after the user name and password)";
    if (status[1] != 0) co_return who + " refused the user name or password";
  } else if (choice[1] != 0x00) {
    co_return who + " chose an authentication method that was not offered (" + std::to_string(choice[1]) + ")";
  }

  // CONNECT: VER 5, CMD 1, RSV, ATYP, address, port.
  std::vector<std::uint8_t> req{5, 1, 0};
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    req.push_back(0x01);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&a4);
    req.insert(req.end(), b, b + 4);
  } else if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    req.push_back(0x04);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&a6);
    req.insert(req.end(), b, b + 16);
  } else {
    if (host.empty() || host.size() > 255) co_return who + ": the host name must have 1 to 255 bytes";
    req.push_back(0x03);
    req.push_back(static_cast<std::uint8_t>(host.size()));
    req.insert(req.end(), host.begin(), host.end());
  }
  req.push_back(static_cast<std::uint8_t>(port >> 8));
  req.push_back(static_cast<std::uint8_t>(port & 0xFF));
  if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(req), use_tuple); ec)
    co_return who + ": " + ec.message() + " (sending the connect request)";

  std::array<std::uint8_t, 5> head{}; // VER REP RSV ATYP and the first address byte
  if (auto [ec, n] = co_await asio::async_read(s, asio::buffer(head), use_tuple); ec)
    co_return who + ": " + (ec == asio::error::eof ? std::string("closed the connection") : ec.message()) +
        " (reading the connect reply)";
  if (head[0] != 5) co_return who + ": not a SOCKS5 reply (version " + std::to_string(head[0]) + ")";
  if (head[1] != 0) co_return who + " refused: " + socks5_reply_text(head[1]) + " (" + std::to_string(head[1]) + ")";
  std::size_t rest = 0; // the bound address after its first byte, and the port
  switch (head[3]) {
  case 0x01:
    rest = 3 + 2;
    break;
  case 0x04:
    rest = 15 + 2;
    break;
  case 0x03:
    rest = std::size_t{head[4]} + 2;
    break;
  default:
    co_return who + ": a reply with an unknown address type (" + std::to_string(head[3]) + ")";
  }
  std::vector<std::uint8_t> bound(rest);
  if (auto [ec, n] = co_await asio::async_read(s, asio::buffer(bound), use_tuple); ec)
    co_return who + ": " + ec.message() + " (reading the bound address)";
  co_return std::string();
}

} // namespace detail

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Percent-decoding of URL user information; nullopt on a broken escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

/// An error result (a socks5_proxy could be built from a string: say which side is meant).
struct refusal {
  std::string text;
  template <class T> operator boost::system::result<T, std::string>() && {
    return boost::system::result<T, std::string>(boost::system::in_place_error, std::move(text));
  }
};
refusal refuse(std::string text) { return {std::move(text)}; }

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

/// Whether NO_PROXY (`list`) excludes `host`: `*`, a name (itself and its subdomains), `.suffix`.
bool excluded(std::string_view list, const std::string& host) {
  const auto h = lower(host);
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    auto entry = list.substr(start, end - start);
    start = end + 1;
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front()))) entry.remove_prefix(1);
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back()))) entry.remove_suffix(1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    auto e = lower(entry);
    if (e.size() > 2 && e.front() == '[' && e.back() == ']') e = e.substr(1, e.size() - 2);
    if (e.front() == '.') {
      if (h.size() > e.size() && h.ends_with(e)) return true;
      if (h == e.substr(1)) return true;
      continue;
    }
    if (h == e) return true;
    if (h.size() > e.size() && h.ends_with(e) && h[h.size() - e.size() - 1] == '.') return true;
  }
  return false;
}

} // namespace

boost::system::result<socks5_proxy, std::string> parse_socks5_url(std::string_view text) {
  const auto sep = text.find("://");
  const auto name = lower(text.substr(0, sep == std::string_view::npos ? 0 : sep));
  if (sep == std::string_view::npos || (name != "socks5" && name != "socks5h"))
    return refuse(std::string("a SOCKS5 proxy is given as socks5://[user[:password]@]host[:port]"));
  auto rest = text.substr(sep + 3);
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") return refuse(std::string("a socks5:// proxy URL takes no path"));
    rest = rest.substr(0, slash);
  }
  socks5_proxy p;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = info.find(':');
    auto user = percent_decode(info.substr(0, colon));
    std::optional<std::string> password = std::string();
    if (colon != std::string_view::npos) password = percent_decode(info.substr(colon + 1));
    if (!user || !password)
      return refuse(std::string("the socks5:// proxy URL has a broken %-escape in its user information"));
    if (user->empty()) return refuse(std::string("the socks5:// proxy URL has an empty user name"));
    if (user->size() > 255 || password->size() > 255)
      return refuse(std::string("the SOCKS5 user name and password may have at most 255 bytes each"));
    p.username = std::move(*user);
    p.password = std::move(*password);
  }
  std::string_view port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      return refuse(std::string("the socks5:// proxy URL's IPv6 address lacks its ]"));
    p.host = std::string(rest.substr(1, close - 1));
    const auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return refuse(std::string("the socks5:// proxy URL has text after its IPv6 address"));
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = rest.find(':');
    p.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      has_port = true;
    }
  }
  if (p.host.empty()) return refuse(std::string("the socks5:// proxy URL has no host"));
  if (has_port) {
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || v == 0 || v > 65535)
      return refuse("the socks5:// proxy " + p.host + " has a bad port (1 to 65535)");
    p.port = static_cast<unsigned short>(v);
  }
  return p;
}

boost::system::result<std::optional<socks5_proxy>, std::string> socks5_from_environment(const url& target) {
  if (target.scheme == scheme::unix_socket) return std::optional<socks5_proxy>();
  const char* name = "ALL_PROXY";
  const char* value = env(name);
  if (value == nullptr) {
    name = "all_proxy";
    value = env(name);
  }
  if (value == nullptr) return std::optional<socks5_proxy>();
  for (const char* no : {"NO_PROXY", "no_proxy"})
    if (const char* list = env(no); list && excluded(list, target.host)) return std::optional<socks5_proxy>();
  auto p = parse_socks5_url(value);
  if (!p) return refuse(std::string(name) + ": " + p.error() + " (only SOCKS5 proxies are supported)");
  if (!p->username.empty() && p->password.empty())
    if (const char* pw = env("ACP_SOCKS5_PASSWORD")) p->password = pw;
  if (p->password.size() > 255) return refuse(std::string("ACP_SOCKS5_PASSWORD: at most 255 bytes"));
  return std::optional<socks5_proxy>(std::move(*p));
}

} // namespace acp::net
