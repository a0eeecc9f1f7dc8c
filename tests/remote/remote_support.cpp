#include "remote_support.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace acp::remote_test {
namespace json = boost::json;
using clock = std::chrono::steady_clock;

namespace {

/// The tests choose their proxy and token themselves: none comes from the environment they run in.
const bool environment_cleared = [] {
  for (const char* name :
       {"ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "ACP_CONDUCTOR_TOKEN", "ACP_SOCKS5_PASSWORD"})
    ::unsetenv(name);
  return true;
}();

} // namespace

// ---- server ----

server::server(std::vector<std::string> argv, std::vector<std::string> env, std::chrono::milliseconds timeout)
    : peer_(std::make_unique<scripted_peer>(std::move(argv), std::move(env))) {
  (void)environment_cleared;
  const auto deadline = clock::now() + timeout;
  const std::string marker = "serving on ";
  for (;;) {
    const auto text = log();
    if (const auto at = text.find(marker); at != std::string::npos) {
      const auto begin = at + marker.size();
      const auto end = text.find_first_of(" \n", begin);
      if (end != std::string::npos) {
        url_ = text.substr(begin, end - begin);
        return;
      }
    }
    if (clock::now() >= deadline || peer_->wait_exit(0ms)) return;
    std::this_thread::sleep_for(10ms);
  }
}

server::~server() {
  if (!peer_->wait_exit(0ms)) {
    const auto left = descendants();
    peer_->signal(SIGTERM);
    if (!peer_->wait_exit(5s)) ::kill(-peer_->pid(), SIGKILL);
    for (const auto p : left) {
      ::kill(-p, SIGKILL); // components run in process groups of their own
      ::kill(p, SIGKILL);
    }
  }
}

int server::port() const {
  const auto scheme_end = url_.find("://");
  if (scheme_end == std::string::npos) return 0;
  const auto authority = url_.substr(scheme_end + 3);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(authority.c_str() + colon + 1);
}

bool server::wait_log(const std::string& text, std::chrono::milliseconds timeout) const {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (log().find(text) != std::string::npos) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool server::wait_line(const std::string& first, const std::string& then, std::chrono::milliseconds timeout) const {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const auto text = log();
    for (auto at = text.find(first); at != std::string::npos; at = text.find(first, at + 1)) {
      const auto end = text.find('\n', at);
      const auto next = text.find(then, at + first.size());
      if (next != std::string::npos && (end == std::string::npos || next < end)) return true;
    }
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool server::no_descendants(std::chrono::milliseconds timeout) const {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (descendants().empty()) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// ---- argv ----

std::vector<std::string> serve_argv(const std::string& listen, std::vector<std::string> serve_options,
                                    std::vector<std::string> components, std::vector<std::string> global) {
  std::vector<std::string> argv{acp::test::conductor_path()};
  for (auto& g : global) argv.push_back(std::move(g));
  argv.emplace_back("serve");
  argv.emplace_back("--listen");
  argv.push_back(listen);
  for (auto& o : serve_options) argv.push_back(std::move(o));
  argv.emplace_back("agent");
  for (auto& c : components) argv.push_back(std::move(c));
  return argv;
}

std::vector<std::string> connect_argv(const std::string& url, std::vector<std::string> global) {
  std::vector<std::string> argv{acp::test::conductor_path()};
  for (auto& g : global) argv.push_back(std::move(g));
  argv.emplace_back("connect");
  argv.push_back(url);
  return argv;
}

std::string test_agent(const std::vector<std::string>& args) {
  return acp::test::component(acp::test::test_agent_path(), args);
}

// ---- the editor's turn ----

turn_result run_turn(scripted_peer& editor, const std::string& text, std::chrono::milliseconds timeout) {
  turn_result r;
  r.init = editor.initialize();
  if (!r.init || !r.init->as_object().contains("result")) return r;
  r.initialized = true;
  r.session = editor.new_session();
  if (r.session.empty()) return r;
  editor.send(acp::test::prompt_request("turn", r.session, text));
  std::vector<json::value> seen;
  r.answer = editor.read_response("turn", &seen, timeout);
  r.text = acp::test::chunk_text(seen);
  if (r.answer)
    if (const auto* result = r.answer->as_object().if_contains("result"); result && result->is_object())
      if (const auto* stop = result->as_object().if_contains("stopReason"); stop && stop->is_string())
        r.stop_reason = std::string(stop->as_string());
  return r;
}

std::string token_file(const acp::net::test::temp_dir& dir, const std::string& token) {
  const auto path = dir.file("token");
  if (!acp::net::test::write_file(path, token + "\n")) return {};
  return path;
}

// ---- sockets ----

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool wait_closed(int fd, std::chrono::milliseconds timeout, std::string* got) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    std::array<char, 4096> buf{};
    const auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    if (got) got->append(buf.data(), static_cast<std::size_t>(n));
  }
}

// ---- answers ----

const json::object* error_of(const std::optional<json::value>& answer) {
  if (!answer || !answer->is_object()) return nullptr;
  const auto* e = answer->as_object().if_contains("error");
  return e && e->is_object() ? &e->as_object() : nullptr;
}

std::string error_reason(const std::optional<json::value>& answer) {
  const auto* e = error_of(answer);
  if (!e) return {};
  const auto* data = e->if_contains("data");
  if (!data || !data->is_object()) return {};
  const auto* reason = data->as_object().if_contains("reason");
  return reason && reason->is_string() ? std::string(reason->as_string()) : std::string();
}

long long ms_since(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count();
}

} // namespace acp::remote_test
