// `acp-conductor --serve` as a real subprocess chain (acp-test-agent behind it): the URL on
// stderr, events streamed while the chain runs, EOF for the viewer when the conductor exits.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acp::conductor {
namespace {
using namespace std::chrono_literals;

/// Reads a descriptor with deadlines.
struct fd_reader {
  int fd = -1;
  std::string data;
  bool eof = false;

  bool read_until(const std::string& what, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (data.find(what) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  bool read_to_eof(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof)
      if (!read_some(deadline)) return eof;
    return true;
  }
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    if (eof) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      return false;
    }
    data.append(buf, static_cast<std::size_t>(n));
    return true;
  }
};

class live_view_chain : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-live-chain-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_.fd, err_.fd, sse_.fd})
      if (fd >= 0) ::close(fd);
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  void spawn(const std::vector<std::string>& args) {
    int in[2], out[2], err[2];
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_.fd = out[0];
    err_.fd = err[0];
  }
  void send(const std::string& line) {
    const std::string l = line + "\n";
    ASSERT_EQ(::write(in_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  /// The exit status, or -1 after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  std::string dir_;
  pid_t pid_ = -1;
  int in_ = -1;
  fd_reader out_, err_, sse_;
};

TEST_F(live_view_chain, a_viewer_follows_a_running_chain_and_sees_the_end) {
  const std::string trace = dir_ + "/t.jsons";
  spawn({ACP_CONDUCTOR_BIN, "--serve", "--trace", trace, "agent", ACP_TEST_AGENT_BIN});
  ASSERT_TRUE(err_.read_until("/?token=")) << err_.data;
  ASSERT_TRUE(err_.read_until("\n")) << err_.data;
  std::smatch m;
  const std::regex url(R"(acp-conductor: trace viewer at http://127\.0\.0\.1:([0-9]+)/\?token=([0-9a-f]{32})\n)");
  ASSERT_TRUE(std::regex_search(err_.data, m, url)) << err_.data;
  const int port = std::stoi(m[1]);
  const std::string token = m[2];

  sse_.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(sse_.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string req = "GET /events?token=" + token + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
  ASSERT_EQ(::write(sse_.fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  ASSERT_TRUE(sse_.read_until("\r\n\r\n")) << sse_.data;
  EXPECT_EQ(sse_.data.rfind("HTTP/1.1 200 OK", 0), 0u) << sse_.data;

  send(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"clientCapabilities":{}}})");
  ASSERT_TRUE(out_.read_until("\"id\":1")) << out_.data;
  // The events arrive while the chain runs (it is still waiting for the next request).
  ASSERT_TRUE(sse_.read_until(R"("method":"initialize")")) << sse_.data;
  ASSERT_TRUE(sse_.read_until(R"(data: {"type":"response")")) << sse_.data;

  send(R"({"jsonrpc":"2.0","id":2,"method":"session/new","params":{"cwd":"/tmp","mcpServers":[]}})");
  ASSERT_TRUE(out_.read_until("\"id\":2")) << out_.data;
  const auto sid_at = out_.data.find("\"sessionId\":\"");
  ASSERT_NE(sid_at, std::string::npos) << out_.data;
  const std::string sid = out_.data.substr(sid_at + 13, out_.data.find('"', sid_at + 13) - (sid_at + 13));
  send(R"({"jsonrpc":"2.0","id":3,"method":"session/prompt","params":{"sessionId":")" + sid +
       R"(","prompt":[{"type":"text","text":"stream 5"}]}})");
  ASSERT_TRUE(out_.read_until("\"id\":3")) << out_.data;
  ASSERT_TRUE(sse_.read_until("chunk 5")) << sse_.data;
  EXPECT_NE(sse_.data.find(R"("method":"session/update")"), std::string::npos);

  ::close(in_); // the editor goes away: the chain ends, the viewer sees the end of the stream
  in_ = -1;
  EXPECT_TRUE(sse_.read_to_eof(15s));
  EXPECT_EQ(wait_exit(15s), 0);
  // Every traced event reached the viewer, and the token is in neither the trace nor the events.
  std::ifstream f(trace);
  std::string file((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(file.find(token), std::string::npos);
  std::size_t lines = 0;
  for (char c : file) lines += c == '\n';
  std::size_t data_lines = 0;
  for (std::size_t p = 0; (p = sse_.data.find("\ndata: ", p)) != std::string::npos; ++p) ++data_lines;
  EXPECT_GT(lines, 10u);
  EXPECT_EQ(data_lines, lines);
}

TEST_F(live_view_chain, an_address_beyond_loopback_is_served_with_a_warning) {
  spawn({ACP_CONDUCTOR_BIN, "--serve=0.0.0.0:0", "agent", ACP_TEST_AGENT_BIN});
  ASSERT_TRUE(err_.read_until("anyone with the URL can read every message\n")) << err_.data;
  EXPECT_NE(err_.data.find("acp-conductor: trace viewer at http://0.0.0.0:"), std::string::npos) << err_.data;
  EXPECT_NE(err_.data.find("warning: the trace viewer listens beyond this machine (0.0.0.0:0)"), std::string::npos)
      << err_.data;
  ::close(in_);
  in_ = -1;
  EXPECT_EQ(wait_exit(15s), 0);
}

TEST_F(live_view_chain, a_port_in_use_is_one_line_and_exit_2) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string addr = "--serve=127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  spawn({ACP_CONDUCTOR_BIN, addr, "agent", ACP_TEST_AGENT_BIN});
  EXPECT_EQ(wait_exit(10s), 2);
  err_.read_to_eof(2s);
  EXPECT_NE(err_.data.find("--serve: cannot listen on 127.0.0.1:"), std::string::npos) << err_.data;
  EXPECT_EQ(std::count(err_.data.begin(), err_.data.end(), '\n'), 1) << err_.data;
  ::close(s);
}

} // namespace
} // namespace acp::conductor
