#include "support.hpp"

#include <boost/asio/post.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acp::net::test {

bool io_test::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    // Bounded slices: a child process or another thread may be what we wait for.
    const auto slice =
        std::min<std::chrono::steady_clock::time_point>(deadline, std::chrono::steady_clock::now() + 20ms);
    io.run_one_until(slice);
  }
  return true;
}

void io_test::run_for(std::chrono::milliseconds d) {
  if (io.stopped()) io.restart();
  io.run_for(d);
}

void io_test::spawn(asio::awaitable<void> task, std::string what) {
  asio::co_spawn(io, std::move(task), [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      ADD_FAILURE() << what << ": " << x.what();
    }
  });
}

// ---- channels ----

void channel_test::TearDown() {
  for (auto& c : kept)
    if (c) c->close();
}

channel_test::outcome channel_test::connect_to(const std::string& text, connect_options o,
                                               std::chrono::milliseconds wait) {
  auto u = parse_url(text);
  if (!u) {
    ADD_FAILURE() << text << ": " << u.error();
    return std::string("bad url");
  }
  return connect_to(*u, std::move(o), wait);
}

channel_test::outcome channel_test::connect_to(const url& target, connect_options o, std::chrono::milliseconds wait) {
  auto out = std::make_shared<std::optional<outcome>>();
  spawn(
      [](asio::any_io_executor ex, url t, connect_options opt,
         std::shared_ptr<std::optional<outcome>> r) -> asio::awaitable<void> {
        *r = co_await connect(ex, std::move(t), std::move(opt));
      }(ex(), target, std::move(o), out),
      "connect");
  if (!run_until([&] { return out->has_value(); }, wait)) return std::string("the test's wait ran out");
  return std::move(**out);
}

message_channel* channel_test::keep(outcome& r) {
  if (!r) {
    ADD_FAILURE() << r.error();
    return nullptr;
  }
  kept.push_back(std::move(*r));
  return kept.back().get();
}

bool channel_test::send(message_channel& ch, const boost::json::object& m, std::chrono::milliseconds wait) {
  if (ch.queue(m).ec) return false;
  auto done = std::make_shared<std::optional<boost::system::error_code>>();
  spawn(
      [](message_channel& c, std::shared_ptr<std::optional<boost::system::error_code>> d) -> asio::awaitable<void> {
        boost::system::error_code ec;
        while (!ec && c.queued_bytes() != 0) ec = co_await c.flush();
        *d = ec;
      }(ch, done),
      "flush");
  return run_until([&] { return done->has_value(); }, wait) && !**done;
}

std::shared_ptr<std::optional<channel_input>> channel_test::start_read(message_channel& ch) {
  auto got = std::make_shared<std::optional<channel_input>>();
  spawn(
      [](message_channel& c, std::shared_ptr<std::optional<channel_input>> o) -> asio::awaitable<void> {
        *o = co_await c.read();
      }(ch, got),
      "read");
  return got;
}

std::optional<channel_input> channel_test::read_one(message_channel& ch, std::chrono::milliseconds wait) {
  auto got = start_read(ch);
  if (!run_until([&] { return got->has_value(); }, wait)) return std::nullopt;
  return std::move(**got);
}

std::string channel_test::method_of(const std::optional<channel_input>& in) {
  if (!in || in->type != channel_input::kind::messages || in->parsed.items.size() != 1) return "(no message)";
  const auto* m = std::get_if<jsonrpc::message>(&in->parsed.items.front());
  return m ? std::string(m->method()) : "(invalid)";
}

// ---- files ----

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/acp-net-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

// ---- commands ----

command_result run_command(const std::string& command) {
  command_result r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// ---- certificates ----

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

/// Generates the files into `c.dir`; the error or empty.
std::string generate(test_certificates& c) {
  const auto f = [&](const char* name) { return c.dir + "/" + name; };
  c.ca_cert = f("ca.pem");
  c.server_cert = f("server.pem");
  c.server_key = f("server.key");
  c.client_cert = f("client.pem");
  c.client_key = f("client.key");
  c.other_ca_cert = f("other-ca.pem");
  c.other_cert = f("other.pem");
  c.other_key = f("other.key");
  if (!write_file(f("server.ext"), "basicConstraints=CA:FALSE\n"
                                   "keyUsage=digitalSignature,keyEncipherment\n"
                                   "extendedKeyUsage=serverAuth\n"
                                   "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n") ||
      !write_file(f("client.ext"), "basicConstraints=CA:FALSE\n"
                                   "keyUsage=digitalSignature,keyEncipherment\n"
                                   "extendedKeyUsage=clientAuth\n") ||
      !write_file(f("other.ext"), "basicConstraints=CA:FALSE\n"
                                  "extendedKeyUsage=serverAuth\n"
                                  "subjectAltName=DNS:other.invalid\n"))
    return "cannot write into " + c.dir;
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::vector<std::string> steps = {
      // Two CAs.
      "openssl req -x509 " + key + " -days 2 -subj /CN=acp-test-ca -keyout " + quote(f("ca.key")) + " -out " +
          quote(c.ca_cert),
      "openssl req -x509 " + key + " -days 2 -subj /CN=acp-other-ca -keyout " + quote(f("other-ca.key")) + " -out " +
          quote(c.other_ca_cert),
      // The server and client certificates, signed by the test CA.
      "openssl req -new " + key + " -subj /CN=localhost -keyout " + quote(c.server_key) + " -out " +
          quote(f("server.csr")),
      "openssl x509 -req -days 2 -in " + quote(f("server.csr")) + " -CA " + quote(c.ca_cert) + " -CAkey " +
          quote(f("ca.key")) + " -CAcreateserial -extfile " + quote(f("server.ext")) + " -out " + quote(c.server_cert),
      "openssl req -new " + key + " -subj /CN=acp-test-client -keyout " + quote(c.client_key) + " -out " +
          quote(f("client.csr")),
      "openssl x509 -req -days 2 -in " + quote(f("client.csr")) + " -CA " + quote(c.ca_cert) + " -CAkey " +
          quote(f("ca.key")) + " -CAcreateserial -extfile " + quote(f("client.ext")) + " -out " + quote(c.client_cert),
      // A server certificate for another name, signed by the test CA (a wrong host name).
      "openssl req -new " + key + " -subj /CN=other.invalid -keyout " + quote(c.other_key) + " -out " +
          quote(f("other.csr")),
      "openssl x509 -req -days 2 -in " + quote(f("other.csr")) + " -CA " + quote(c.ca_cert) + " -CAkey " +
          quote(f("ca.key")) + " -CAcreateserial -extfile " + quote(f("other.ext")) + " -out " + quote(c.other_cert),
  };
  for (const auto& step : steps) {
    const auto r = run_command(step);
    if (r.status != 0) return "`" + step + "` failed: " + r.output;
  }
  return {};
}

struct certificate_store {
  std::unique_ptr<temp_dir> dir;
  test_certificates certs;
  std::string error;
  bool made = false;
};

certificate_store& store() {
  static certificate_store s;
  return s;
}

} // namespace

const test_certificates* certificates(std::string* error) {
  static std::mutex m;
  std::lock_guard lock(m);
  auto& s = store();
  if (!s.made) {
    s.made = true;
    s.dir = std::make_unique<temp_dir>();
    s.certs.dir = s.dir->path();
    s.error = generate(s.certs);
  }
  if (!s.error.empty()) {
    if (error) *error = s.error;
    return nullptr;
  }
  return &s.certs;
}

// ---- child processes ----

child_process::~child_process() { stop(); }

bool child_process::start(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  if (argv.empty() || pid_ > 0) return false;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(fds[1], STDOUT_FILENO);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(fds[1]);
  pid_ = pid;
  out_fd_ = fds[0];
  return true;
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto nl = buffered_.find('\n'); nl != std::string::npos) {
      auto line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    if (out_fd_ < 0) return std::nullopt;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char buf[4096];
    const auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
      continue;
    }
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

void child_process::stop() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (out_fd_ >= 0) {
    ::close(out_fd_);
    out_fd_ = -1;
  }
}

// ---- node ----

std::string node_dir() {
#ifdef ACP_NET_NODE_DIR
  return ACP_NET_NODE_DIR;
#else
  return {};
#endif
}

std::optional<std::string> node_skip_reason() {
  const auto dir = node_dir();
  if (dir.empty()) return std::string("this test executable has no node directory");
  std::ifstream in(dir + "/skip-reason.txt");
  std::string reason;
  if (in && std::getline(in, reason) && !reason.empty()) return reason;
  struct stat st {};
  if (::stat((dir + "/node_modules/ws/package.json").c_str(), &st) != 0)
    return std::string("the ws package is not installed (run the net_npm_install test first)");
  return std::nullopt;
}

} // namespace acp::net::test
