// acp-test-agent's MCP client over HTTP and stdio, against servers that need no MCP SDK: a
// canned HTTP server checked byte by byte (headers, SSE events, error statuses, answers cut at
// every few bytes), a port that never answers, refused and https URLs, canned and dying stdio
// servers. tests/mcp/agent_mcp_sdk_test.cpp has the official MCP SDK's servers.
#include "agent_mcp_fixture.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <sstream>
#include <thread>

namespace acp::e2e {
namespace {

/// A TCP port that accepts connections (the kernel's backlog) and never answers.
class silent_listener {
public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
  }
  ~silent_listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  [[nodiscard]] int port() const { return port_; }

private:
  int fd_ = -1;
  int port_ = 0;
};

/// An HTTP server that answers the i-th connection's request with `responses[i]` (then closes)
/// and keeps each request's text; it stops after the last response or 10 s.
class canned_http_server {
public:
  explicit canned_http_server(std::vector<std::string> responses) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, responses = std::move(responses)] { serve(responses); });
  }
  ~canned_http_server() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  canned_http_server(const canned_http_server&) = delete;
  canned_http_server& operator=(const canned_http_server&) = delete;
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
  /// The requests received (call after the agent is done with the server).
  std::vector<std::string> requests() {
    if (thread_.joinable()) thread_.join();
    return requests_;
  }

private:
  void serve(const std::vector<std::string>& responses) {
    const auto deadline = clock::now() + 10s;
    for (const auto& response : responses) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string text;
      char buf[4096];
      for (;;) { // the head, then Content-Length bytes of body
        const auto head_end = text.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          std::size_t length = 0;
          const auto cl = text.find("Content-Length: ");
          if (cl != std::string::npos && cl < head_end) length = std::stoul(text.substr(cl + 16));
          if (text.size() >= head_end + 4 + length) break;
        }
        pollfd q{c, POLLIN, 0};
        if (clock::now() > deadline || ::poll(&q, 1, 2000) <= 0) break;
        const auto n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
      }
      requests_.push_back(text);
      std::string_view rest(response);
      while (!rest.empty()) {
        const auto n = ::write(c, rest.data(), rest.size());
        if (n <= 0) break;
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::string> requests_;
};

bool has_header(const std::string& request, std::string_view line) {
  return request.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

TEST_F(agent_mcp, http_exchange_sends_the_headers_and_reads_sse_events) {
  const std::string init_events =
      ": a comment\n\n"
      "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":1,\r\n"
      "data: \"result\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
      "\"serverInfo\":{\"name\":\"canned\",\"version\":\"1\"}}}\n\n";
  const std::string list_json = R"([{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"x"},{"name":"y"}]}}])";
  canned_http_server server(
      {"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nMcp-Session-Id: s-1\r\nConnection: close\r\n\r\n" +
           init_events,
       "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(list_json.size()) +
           "\r\n\r\n" + list_json,
       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"});
  start();
  json::array headers{json::object{{"name", "X-Api-Key"}, {"value", "k1"}}};
  const auto s = open_session(
      {json::object{{"type", "http"}, {"name", "canned"}, {"url", server.url()}, {"headers", std::move(headers)}}});
  prompt(10, s, "mcp list");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"canned: x, y"}));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].rfind("POST /mcp HTTP/1.1\r\n", 0), 0u) << requests[0];
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(has_header(requests[i], "Accept: application/json, text/event-stream")) << requests[i];
    EXPECT_TRUE(has_header(requests[i], "Content-Type: application/json")) << requests[i];
    EXPECT_TRUE(has_header(requests[i], "X-Api-Key: k1")) << requests[i];
  }
  EXPECT_EQ(requests[0].find("Mcp-Session-Id"), std::string::npos) << requests[0];
  EXPECT_EQ(requests[0].find("MCP-Protocol-Version"), std::string::npos) << requests[0];
  EXPECT_NE(requests[0].find("\"method\":\"initialize\""), std::string::npos) << requests[0];
  EXPECT_NE(requests[1].find("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"), std::string::npos)
      << requests[1];
  EXPECT_NE(requests[2].find("\"method\":\"tools/list\""), std::string::npos) << requests[2];
  for (int i = 1; i < 4; ++i) {
    EXPECT_TRUE(has_header(requests[i], "Mcp-Session-Id: s-1")) << requests[i];
    EXPECT_TRUE(has_header(requests[i], "MCP-Protocol-Version: 2025-06-18")) << requests[i];
  }
  EXPECT_EQ(requests[3].rfind("DELETE /mcp HTTP/1.1\r\n", 0), 0u) << requests[3];
}

TEST_F(agent_mcp, http_error_status_is_an_error_with_the_body) {
  canned_http_server server({"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ngone"});
  start();
  const auto s = open_session(
      {json::object{{"type", "http"}, {"name", "web"}, {"url", server.url()}, {"headers", json::array()}}});
  prompt(10, s, "mcp list");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"web: mcp error: initialize: POST " +
                                                                     server.url() + ": HTTP 404 Not Found: gone"}));
  EXPECT_EQ(server.requests().size(), 1u) << "no DELETE without a session";
}

TEST_F(agent_mcp, sse_stream_that_ends_without_the_response_is_an_error) {
  canned_http_server server({"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                             "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"});
  start();
  const auto s = open_session(
      {json::object{{"type", "http"}, {"name", "web"}, {"url", server.url()}, {"headers", json::array()}}});
  prompt(10, s, "mcp list");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"web: mcp error: initialize: POST " + server.url() +
                                      ": the event stream ended without the response"}));
}

TEST_F(agent_mcp, http_answer_cut_at_any_byte_is_an_error_never_a_hang) {
  const std::string answer =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nMcp-Session-Id: s\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "4a\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-06-18\"}}\n\n\r\n"
      "0\r\n\r\n";
  const auto event_end = answer.find("}}\n\n") + 3; // the event is complete from here on
  std::vector<std::unique_ptr<canned_http_server>> servers;
  json::array decls;
  for (std::size_t cut = 0; cut < event_end; cut += 7) {
    servers.push_back(std::make_unique<canned_http_server>(std::vector<std::string>{answer.substr(0, cut)}));
    decls.push_back(json::object{{"type", "http"},
                                 {"name", "cut" + std::to_string(cut)},
                                 {"url", servers.back()->url()},
                                 {"headers", json::array()}});
  }
  // Once the headers are through, the agent DELETEs the session it was given; no one answers
  // that, so a short request deadline keeps the test quick.
  start({"--mcp-request-timeout-ms", "300"});
  const auto s = open_session(std::move(decls));
  prompt(10, s, "mcp list");
  std::string stop;
  const auto lines = chunks_until_answer(10, stop, 30s);
  ASSERT_EQ(lines.size(), servers.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].rfind("cut" + std::to_string(i * 7) + ": mcp error: initialize: POST ", 0), 0u) << lines[i];
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, http_server_that_never_answers_hits_the_deadline) {
  silent_listener silent;
  ASSERT_NE(silent.port(), 0);
  start({"--mcp-request-timeout-ms", "300"});
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/mcp";
  const auto s =
      open_session({json::object{{"type", "http"}, {"name", "mute"}, {"url", url}, {"headers", json::array()}}});
  const auto started = clock::now();
  prompt(10, s, "mcp call mute anything");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: initialize: POST " + url + ": no answer within 300 ms"}));
  EXPECT_EQ(stop, "end_turn");
  EXPECT_LT(clock::now() - started, 5s);
}

TEST_F(agent_mcp, cancel_cuts_a_silent_http_request_short) {
  silent_listener silent;
  ASSERT_NE(silent.port(), 0);
  start({"--mcp-request-timeout-ms", "20000"});
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/mcp";
  const auto s =
      open_session({json::object{{"type", "http"}, {"name", "mute"}, {"url", url}, {"headers", json::array()}}});
  prompt(10, s, "mcp call mute anything");
  std::this_thread::sleep_for(200ms); // the POST is written and waits for its answer
  const auto cancelled_at = clock::now();
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), std::vector<std::string>{});
  EXPECT_EQ(stop, "cancelled");
  EXPECT_LT(clock::now() - cancelled_at, 5s) << "the 20 s request deadline was waited for";
}

TEST_F(agent_mcp, cancel_cuts_a_silent_stdio_server_short_and_kills_it) {
  const std::string marker = "ACP_AGENT_MCP_MARKER=" + std::to_string(::getpid()) + "-cancel";
  const auto eq = marker.find('=');
  start({"--mcp-request-timeout-ms", "20000"});
  const auto s = open_session({json::object{
      {"name", "stuck"},
      {"command", "/bin/sh"},
      {"args", json::array{"-c", "sleep 30"}},
      {"env", json::array{json::object{{"name", marker.substr(0, eq)}, {"value", marker.substr(eq + 1)}}}}}});
  prompt(10, s, "mcp list");
  std::this_thread::sleep_for(200ms);
  const auto cancelled_at = clock::now();
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), std::vector<std::string>{});
  EXPECT_EQ(stop, "cancelled");
  EXPECT_LT(clock::now() - cancelled_at, 5s);
  const auto deadline = clock::now() + 3s;
  while (!processes_with_env(marker).empty() && clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(processes_with_env(marker).empty()) << "the MCP server outlived the cancelled command";
}

TEST_F(agent_mcp, http_refused_and_https_are_errors) {
  start();
  const auto s = open_session(
      {json::object{
           {"type", "http"}, {"name", "closed"}, {"url", "http://127.0.0.1:1/mcp"}, {"headers", json::array()}},
       json::object{
           {"type", "http"}, {"name", "tls"}, {"url", "https://example.com/mcp"}, {"headers", json::array()}}});
  prompt(10, s, "mcp list");
  std::string stop;
  const auto lines = chunks_until_answer(10, stop);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("closed: mcp error: initialize: cannot connect to http://127.0.0.1:1/mcp: ", 0), 0u)
      << lines[0];
  EXPECT_EQ(lines[1], "tls: mcp error: https:// is not supported by acp-test-agent (plain http:// only): "
                      "https://example.com/mcp");
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, stdio_server_that_exits_at_once_is_an_error_with_its_status) {
  start();
  const auto s = open_session({json::object{{"name", "dead"},
                                            {"command", "/bin/sh"},
                                            {"args", json::array{"-c", "echo going away >&2; exit 3"}},
                                            {"env", json::array()}}});
  prompt(10, s, "mcp list");
  std::string stop;
  const auto lines = chunks_until_answer(10, stop);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("dead: mcp error: initialize: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("exited with status 3"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("stderr: going away"), std::string::npos) << lines[0];
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, stdio_server_that_hangs_is_killed_at_the_end_of_the_command) {
  const std::string marker = "ACP_AGENT_MCP_MARKER=" + std::to_string(::getpid()) + "-hang";
  start({"--mcp-request-timeout-ms", "300"});
  const auto eq = marker.find('=');
  const auto s = open_session({json::object{
      {"name", "stuck"},
      {"command", "/bin/sh"},
      {"args", json::array{"-c", "sleep 30; echo never"}},
      {"env", json::array{json::object{{"name", marker.substr(0, eq)}, {"value", marker.substr(eq + 1)}}}}}});
  prompt(10, s, "mcp call stuck t");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: initialize: no answer from the MCP server within 300 ms"}));
  EXPECT_EQ(stop, "end_turn");
  // The group got SIGTERM before the turn ended; give init a moment to reap an orphaned sleep.
  const auto deadline = clock::now() + 3s;
  while (!processes_with_env(marker).empty() && clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(processes_with_env(marker).empty()) << "the MCP server (or its child) outlived the command";
}

TEST_F(agent_mcp, stdio_wire_skips_non_json_and_refuses_server_requests) {
  // A canned server: everything it will say up front (a log line, a server request, the answers
  // to ids 1 and 2), then it records what the agent wrote until the end of its input.
  temp_dir dir;
  const auto input = (dir.path() / "input.jsonl").string();
  write_whole(dir.path() / "output.txt",
              "starting up, not JSON\n"
              R"({"jsonrpc":"2.0","id":"r1","method":"roots/list"})"
              "\n"
              R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}})"
              "\n"
              R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{}}})"
              "\n"
              R"({"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"only"}]}})"
              "\n");
  start();
  const std::string script = "cat \"$0\"; cat > \"$1\"";
  const auto s = open_session(
      {json::object{{"name", "canned"},
                    {"command", "/bin/sh"},
                    {"args", json::array{"-c", script.c_str(), (dir.path() / "output.txt").c_str(), input.c_str()}},
                    {"env", json::array()}}});
  prompt(10, s, "mcp list");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"canned: only"}));
  std::vector<json::value> sent;
  std::istringstream lines(read_whole(input));
  for (std::string line; std::getline(lines, line);) sent.push_back(json::parse(line));
  ASSERT_EQ(sent.size(), 4u) << read_whole(input);
  EXPECT_EQ(sent[0].at("method"), "initialize");
  EXPECT_EQ(sent[0].at("id"), 1);
  EXPECT_EQ(sent[0].at("params").at("protocolVersion"), "2025-06-18");
  EXPECT_EQ(sent[1].at("id"), "r1");
  EXPECT_EQ(sent[1].at("error").at("code"), -32601);
  EXPECT_EQ(sent[2], (json::value{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}));
  EXPECT_EQ(sent[3].at("method"), "tools/list");
  EXPECT_EQ(sent[3].at("id"), 2);
}

} // namespace
} // namespace acp::e2e
