#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace acp::test {
namespace json = boost::json;
using clock = std::chrono::steady_clock;

scripted_peer::scripted_peer(std::vector<std::string> argv, std::vector<std::string> extra_env) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  char tmpl[] = "/tmp/acp-chain-stderr-XXXXXX";
  const int err_fd = ::mkstemp(tmpl);
  stderr_path_ = tmpl;

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  const int rc = ::posix_spawn(&pid_, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err_fd);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  in_fd_ = in[1];
  out_fd_ = out[0];
}

scripted_peer::~scripted_peer() {
  if (in_fd_ >= 0) ::close(in_fd_);
  if (!exit_code_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  ::unlink(stderr_path_.c_str());
}

void scripted_peer::send_line(const std::string& line) {
  std::string data = line + "\n";
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(in_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return; // the peer went away; the test sees it on read
    done += static_cast<std::size_t>(n);
  }
}

void scripted_peer::send(const json::value& v) { send_line(json::serialize(v)); }

std::optional<json::value> scripted_peer::read(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    while (true) {
      const auto nl = buffer_.find('\n');
      if (nl == std::string::npos) break;
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      if (!ec) return v;
    }
    if (eof_) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r <= 0) continue;
    char buf[65536];
    const auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0)
      eof_ = true;
    else
      buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<json::value> scripted_peer::read_response(const json::value& id, std::vector<json::value>* seen,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = read(left);
    if (!m) return std::nullopt;
    const auto* o = m->if_object();
    if (o && !o->contains("method") && o->contains("id") && o->at("id") == id) return m;
    if (seen) seen->push_back(std::move(*m));
  }
}

bool scripted_peer::read_eof(std::chrono::milliseconds timeout, std::vector<std::string>* extra) {
  const auto deadline = clock::now() + timeout;
  while (!eof_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return false;
    if (auto m = read(left); m && extra) extra->push_back(json::serialize(*m));
  }
  return true;
}

void scripted_peer::close_stdin() {
  if (in_fd_ >= 0) ::close(in_fd_);
  in_fd_ = -1;
}

void scripted_peer::close_stdout() {
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
  eof_ = true;
}

std::optional<int> scripted_peer::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

void scripted_peer::signal(int sig) { ::kill(pid_, sig); }

std::string scripted_peer::stderr_text() const {
  std::ifstream f(stderr_path_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {
std::map<pid_t, pid_t> parent_map() {
  std::map<pid_t, pid_t> parents;
  DIR* d = ::opendir("/proc");
  if (!d) return parents;
  while (auto* e = ::readdir(d)) {
    const pid_t p = static_cast<pid_t>(std::atoi(e->d_name));
    if (p <= 0) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string stat;
    std::getline(f, stat);
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (state != 'Z') parents[p] = ppid;
  }
  ::closedir(d);
  return parents;
}
} // namespace

std::vector<pid_t> scripted_peer::descendants() const {
  auto parents = parent_map();
  std::vector<pid_t> out;
  std::vector<pid_t> frontier{pid_};
  while (!frontier.empty()) {
    const pid_t p = frontier.back();
    frontier.pop_back();
    for (auto& [child, parent] : parents)
      if (parent == p) {
        out.push_back(child);
        frontier.push_back(child);
      }
  }
  return out;
}

bool all_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    auto parents = parent_map();
    bool any = false;
    for (auto p : pids) any = any || parents.contains(p);
    if (!any) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::optional<json::value> scripted_peer::initialize() {
  json::object params;
  params["protocolVersion"] = 1;
  json::object caps;
  json::object fs;
  fs["readTextFile"] = true;
  fs["writeTextFile"] = true;
  caps["fs"] = fs;
  caps["terminal"] = true;
  params["clientCapabilities"] = caps;
  send(request(0, "initialize", params));
  return read_response(0, nullptr);
}

std::string scripted_peer::new_session() {
  json::object params;
  params["cwd"] = "/tmp";
  params["mcpServers"] = json::array();
  send(request("new", "session/new", params));
  auto r = read_response("new", nullptr);
  if (!r) return {};
  const auto* result = r->as_object().if_contains("result");
  if (!result || !result->is_object() || !result->as_object().contains("sessionId")) return {};
  return std::string(result->as_object().at("sessionId").as_string());
}

std::string conductor_path() { return ACP_CONDUCTOR_BIN; }
std::string test_agent_path() { return ACP_TEST_AGENT_BIN; }
std::string arrow_path() { return ACP_ARROW_BIN; }
std::string component_path() { return ACP_CHAIN_COMPONENT_BIN; }

std::string component(const std::string& path, const std::vector<std::string>& args) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) {
      if (c == '\'')
        q += "'\\''";
      else
        q += c;
    }
    return q + "'";
  };
  std::string out = quote(path);
  for (auto& a : args) out += " " + quote(a);
  return out;
}

json::value prompt_request(const json::value& id, const std::string& session, const std::string& text) {
  json::object block{{"type", "text"}, {"text", text}};
  return request(id, "session/prompt", json::object{{"sessionId", session}, {"prompt", json::array{block}}});
}

std::vector<std::string> chain(std::vector<std::string> components, std::vector<std::string> options) {
  std::vector<std::string> argv{conductor_path()};
  for (auto& o : options) argv.push_back(o);
  argv.emplace_back("agent");
  for (auto& c : components) argv.push_back(c);
  return argv;
}

json::value request(const json::value& id, std::string_view method, json::value params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["method"] = method;
  o["params"] = std::move(params);
  return o;
}

std::string chunk_text(const std::vector<json::value>& messages) {
  std::string text;
  for (auto& m : messages) {
    const auto& o = m.as_object();
    if (!o.contains("method") || o.at("method") != "session/update") continue;
    const auto& update = o.at("params").at("update").as_object();
    if (update.at("sessionUpdate") != "agent_message_chunk") continue;
    const auto& content = update.at("content").as_object();
    if (content.contains("text")) text += std::string(content.at("text").as_string());
  }
  return text;
}

} // namespace acp::test
