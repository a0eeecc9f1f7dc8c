// `acp-mcp-bridge --shim`: the stdio MCP server an agent starts; relays to the bridge's socket.

#include <acp/mcp_bridge/tool.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace acp::mcp_bridge {

namespace {
constexpr const char* prefix = "acp-mcp-bridge: error: ";

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// Reads the bridge's one-line answer to the hello (within 10 s); what follows stays in `rest`.
bool read_answer(int fd, std::string& line, std::string& rest) {
  std::string buf;
  for (;;) {
    if (auto nl = buf.find('\n'); nl != std::string::npos) {
      line = buf.substr(0, nl);
      rest = buf.substr(nl + 1);
      return true;
    }
    if (buf.size() > 4096) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    char chunk[1024];
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}
} // namespace

int run_shim(std::ostream& err) {
  const char* path = std::getenv("ACP_MCP_BRIDGE_SOCKET");
  const char* token = std::getenv("ACP_MCP_BRIDGE_TOKEN");
  const char* server = std::getenv("ACP_MCP_BRIDGE_SERVER");
  for (auto [name, value] : {std::pair{"ACP_MCP_BRIDGE_SOCKET", path}, std::pair{"ACP_MCP_BRIDGE_TOKEN", token},
                             std::pair{"ACP_MCP_BRIDGE_SERVER", server}}) {
    if (!value || !*value) {
      err << prefix << name << " is not set (the shim is started by an agent for a bridged MCP server)\n";
      return 1;
    }
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) {
    err << prefix << "ACP_MCP_BRIDGE_SOCKET is too long for a Unix socket path\n";
    return 1;
  }
  std::strcpy(addr.sun_path, path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    err << prefix << "cannot connect to the bridge at " << path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  const auto hello = boost::json::serialize(boost::json::object{{"token", token}, {"server", server}}) + "\n";
  std::string answer, rest;
  if (!write_all(fd, hello.data(), hello.size()) || !read_answer(fd, answer, rest)) {
    err << prefix << "the bridge refused the connection (wrong token or unknown server)\n";
    ::close(fd);
    return 1;
  }
  boost::system::error_code ec;
  auto a = boost::json::parse(answer, ec);
  const auto* ok = !ec && a.is_object() ? a.get_object().if_contains("ok") : nullptr;
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    const auto* why = !ec && a.is_object() ? a.get_object().if_contains("error") : nullptr;
    err << prefix << "the bridge refused the connection: "
        << (why && why->is_string() ? std::string(why->get_string()) : std::string("no reason given")) << "\n";
    ::close(fd);
    return 1;
  }
  if (!rest.empty() && !write_all(STDOUT_FILENO, rest.data(), rest.size())) return 0;
  bool stdin_open = true;
  char buf[65536];
  for (;;) {
    pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
    if (::poll(p, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || !write_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n))) break;
    }
    if (stdin_open && p[1].revents) {
      auto n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        stdin_open = false;
        ::shutdown(fd, SHUT_WR); // the bridge ends the session; its remaining output still arrives
        continue;
      }
      if (!write_all(fd, buf, static_cast<std::size_t>(n))) break;
    }
  }
  ::close(fd);
  return 0;
}

} // namespace acp::mcp_bridge
