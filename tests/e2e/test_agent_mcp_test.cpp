// acp-test-agent's MCP client driven over its stdio, with the client half written here: the
// advertised mcpCapabilities, `mcp list` / `mcp call` on an `acp` server answered by this test
// (mcp/connect, mcp/message, mcp/disconnect), and the failures that need no MCP SDK (an unknown
// server, a tool error, an HTTP server that never answers, a stdio server that exits at once or
// hangs). tests/mcp/agent_mcp_sdk_test.cpp has the official MCP SDK's servers.
#include "process_helpers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <sstream>
#include <thread>

namespace acp::e2e {
namespace {

namespace json = boost::json;
const std::string agent_bin = ACP_TEST_AGENT_BIN;

class agent_mcp : public ::testing::Test {
protected:
  void start(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{agent_bin};
    argv.insert(argv.end(), args.begin(), args.end());
    agent_ = std::make_unique<line_child>(std::move(argv));
    ASSERT_TRUE(agent_->started());
  }

  void send(const json::value& v) { ASSERT_TRUE(agent_->send(json::serialize(v))); }

  json::value next(clock::duration timeout = 10s) {
    auto line = agent_->read_line(timeout);
    if (!line) {
      ADD_FAILURE() << "no line from the agent within the timeout";
      return json::object{{"missing", true}};
    }
    boost::system::error_code ec;
    auto v = json::parse(*line, ec);
    if (ec) ADD_FAILURE() << "not JSON: " << *line;
    return v;
  }

  static json::value request(int id, std::string_view method, json::value params) {
    return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  }
  static json::value answer(const json::value& id, json::value result) {
    return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  }

  json::value initialize() {
    send(request(1, "initialize", json::object{{"protocolVersion", 1}}));
    return next();
  }

  /// initialize + session/new with `servers`; the session id.
  std::string open_session(json::array servers) {
    (void)initialize();
    send(request(2, "session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", std::move(servers)}}));
    auto created = next();
    EXPECT_TRUE(created.as_object().contains("result")) << json::serialize(created);
    return created.as_object().contains("result") ? std::string(created.at("result").at("sessionId").as_string()) : "";
  }

  void prompt(int id, const std::string& session, std::string_view text) {
    json::array blocks{json::object{{"type", "text"}, {"text", text}}};
    send(request(id, "session/prompt", json::object{{"sessionId", session}, {"prompt", std::move(blocks)}}));
  }

  /// The text of a chunk (fails the test when `v` is not an agent_message_chunk).
  static std::string chunk_text(const json::value& v) {
    const auto* o = v.if_object();
    if (!o || !o->contains("method") || o->at("method") != "session/update") {
      ADD_FAILURE() << "not a session/update: " << json::serialize(v);
      return {};
    }
    return std::string(v.at("params").at("update").at("content").at("text").as_string());
  }

  /// Chunks up to the answer to prompt `id`; the stop reason in `stop`.
  std::vector<std::string> chunks_until_answer(int id, std::string& stop, clock::duration timeout = 15s) {
    std::vector<std::string> texts;
    for (;;) {
      auto m = next(timeout);
      const auto& o = m.as_object();
      if (o.contains("missing")) return texts;
      if (o.contains("id") && !o.contains("method")) {
        EXPECT_EQ(o.at("id"), id);
        stop = o.contains("result") ? std::string(o.at("result").at("stopReason").as_string()) : "error";
        return texts;
      }
      texts.push_back(chunk_text(m));
    }
  }

  /// The next message, which must be a request for `method` from the agent.
  json::value expect_request(std::string_view method) {
    auto m = next();
    EXPECT_EQ(m.as_object().contains("method") ? m.at("method") : json::value(), json::value(method))
        << json::serialize(m);
    EXPECT_TRUE(m.as_object().contains("id")) << json::serialize(m);
    return m;
  }

  /// Plays the providing client for one MCP-over-ACP connection: answers mcp/connect with
  /// `connection`, then the MCP handshake; returns the next mcp/message request (the real one).
  json::value accept_connection(const std::string& server_id, const std::string& connection) {
    auto connect = expect_request("mcp/connect");
    EXPECT_EQ(connect.at("params").at("serverId"), json::value(server_id));
    send(answer(connect.at("id"), json::object{{"connectionId", connection}}));
    auto init = expect_request("mcp/message");
    EXPECT_EQ(init.at("params").at("connectionId"), json::value(connection));
    EXPECT_EQ(init.at("params").at("method"), "initialize");
    EXPECT_EQ(init.at("params").at("params").at("protocolVersion"), "2025-06-18");
    EXPECT_EQ(init.at("params").at("params").at("clientInfo").at("name"), "acp-test-agent");
    send(answer(init.at("id"), json::object{{"protocolVersion", "2025-06-18"},
                                            {"capabilities", json::object{{"tools", json::object()}}},
                                            {"serverInfo", json::object{{"name", "scripted"}, {"version", "1"}}}}));
    auto initialized = next();
    EXPECT_EQ(initialized.at("method"), "mcp/message");
    EXPECT_FALSE(initialized.as_object().contains("id")) << "notifications/initialized is a notification";
    EXPECT_EQ(initialized.at("params").at("method"), "notifications/initialized");
    EXPECT_EQ(initialized.at("params").at("connectionId"), json::value(connection));
    return expect_request("mcp/message");
  }

  /// The agent's mcp/disconnect for `connection`, answered.
  void expect_disconnect(const std::string& connection) {
    auto bye = expect_request("mcp/disconnect");
    EXPECT_EQ(bye.at("params").at("connectionId"), json::value(connection));
    send(answer(bye.at("id"), json::object()));
  }

  static json::value acp_server(std::string name, std::string id) {
    return json::object{{"type", "acp"}, {"name", std::move(name)}, {"serverId", std::move(id)}};
  }
  static json::value tool_result(std::string text, bool is_error = false) {
    json::object r{{"content", json::array{json::object{{"type", "text"}, {"text", std::move(text)}}}}};
    if (is_error) r["isError"] = true;
    return r;
  }

  std::unique_ptr<line_child> agent_;
};

TEST_F(agent_mcp, initialize_advertises_http_by_default) {
  start();
  const auto caps = initialize().at("result").at("agentCapabilities").at("mcpCapabilities");
  EXPECT_EQ(caps, (json::value{{"http", true}, {"sse", false}, {"acp", false}}));
}

TEST_F(agent_mcp, mcp_capabilities_option_chooses_what_is_advertised) {
  start({"--mcp-capabilities", "acp,sse"});
  EXPECT_EQ(initialize().at("result").at("agentCapabilities").at("mcpCapabilities"),
            (json::value{{"http", false}, {"sse", true}, {"acp", true}}));
}

TEST_F(agent_mcp, mcp_capabilities_none_advertises_nothing) {
  start({"--mcp-capabilities", "none"});
  EXPECT_EQ(initialize().at("result").at("agentCapabilities").at("mcpCapabilities"),
            (json::value{{"http", false}, {"sse", false}, {"acp", false}}));
}

TEST(agent_mcp_cli, unknown_mcp_capability_is_a_usage_error) {
  const auto r = run({agent_bin, "--mcp-capabilities", "http,stdio"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown MCP transport 'stdio'"), std::string::npos) << r.err;
}

TEST(agent_mcp_cli, help_lists_the_mcp_commands_and_options) {
  const auto r = run({agent_bin, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* word : {"mcp list", "mcp call SERVER TOOL", "--mcp-capabilities", "--mcp-connect-timeout-ms",
                           "--mcp-request-timeout-ms"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
}

TEST_F(agent_mcp, list_over_acp_connects_lists_and_disconnects) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp list");
  auto list = accept_connection("mcp-server:1", "conn-1");
  EXPECT_EQ(list.at("params").at("method"), "tools/list");
  // Server-initiated traffic on the way: a notification is ignored, a request refused.
  send(json::object{
      {"jsonrpc", "2.0"},
      {"method", "mcp/message"},
      {"params", json::object{{"connectionId", "conn-1"}, {"method", "notifications/tools/list_changed"}}}});
  send(request(77, "mcp/message",
               json::object{{"connectionId", "conn-1"}, {"method", "sampling/createMessage"}, {"params", {}}}));
  auto refused = next();
  EXPECT_EQ(refused.at("id"), 77);
  EXPECT_EQ(refused.at("error").at("code"), -32601);
  json::array tools{json::object{{"name", "read_file"}, {"inputSchema", json::object{{"type", "object"}}}},
                    json::object{{"name", "search"}, {"inputSchema", json::object{{"type", "object"}}}}};
  send(answer(list.at("id"), json::object{{"tools", std::move(tools)}}));
  expect_disconnect("conn-1");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"tools: read_file, search"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, list_follows_next_cursor) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp list");
  auto page1 = accept_connection("mcp-server:1", "c");
  send(answer(page1.at("id"), json::object{{"tools", json::array{json::object{{"name", "a"}}}}, {"nextCursor", "p2"}}));
  auto page2 = expect_request("mcp/message");
  EXPECT_EQ(page2.at("params").at("params").at("cursor"), "p2");
  send(answer(page2.at("id"), json::object{{"tools", json::array{json::object{{"name", "b"}}}}}));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"tools: a, b"}));
}

TEST_F(agent_mcp, call_over_acp_streams_the_text_content) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:7")});
  prompt(10, s, R"(mcp call tools echo {"text": "hi there"})");
  auto call = accept_connection("mcp-server:7", "conn-9");
  EXPECT_EQ(call.at("params").at("method"), "tools/call");
  EXPECT_EQ(call.at("params").at("params"),
            (json::value{{"name", "echo"}, {"arguments", json::object{{"text", "hi there"}}}}));
  json::object result{{"content", json::array{json::object{{"type", "text"}, {"text", "hi there"}},
                                              json::object{{"type", "text"}, {"text", "(done)"}}}}};
  send(answer(call.at("id"), std::move(result)));
  expect_disconnect("conn-9");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"hi there", "(done)"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, tool_error_result_is_an_mcp_error_chunk) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools explode");
  auto call = accept_connection("mcp-server:1", "c");
  EXPECT_EQ(call.at("params").at("params").at("arguments"), json::object());
  send(answer(call.at("id"), tool_result("it blew up", true)));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp error: it blew up"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, jsonrpc_error_is_an_mcp_error_chunk) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools nope {}");
  auto call = accept_connection("mcp-server:1", "c");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", call.at("id")},
                    {"error", json::object{{"code", -32602}, {"message", "Unknown tool: nope"}}}});
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp error: Unknown tool: nope"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, refused_mcp_connect_is_an_error_and_nothing_else_is_sent) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:gone")});
  prompt(10, s, "mcp call tools x");
  auto connect = expect_request("mcp/connect");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", connect.at("id")},
                    {"error", json::object{{"code", -32602}, {"message", "unknown server"}}}});
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp error: mcp/connect: unknown server"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, unadvertised_transport_is_used_and_said) {
  start(); // advertises http only
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools t");
  auto call = accept_connection("mcp-server:1", "c");
  send(answer(call.at("id"), tool_result("ok")));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp: tools uses transport acp, which this agent does not advertise", "ok"}));
}

TEST_F(agent_mcp, unadvertised_transport_is_noted_after_the_list_line) {
  start(); // advertises http only
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp list");
  auto list = accept_connection("mcp-server:1", "c");
  send(answer(list.at("id"), json::object{{"tools", json::array{json::object{{"name", "t"}}}}}));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"tools: t (via acp, not advertised)"}));
}

TEST_F(agent_mcp, client_that_never_answers_hits_the_deadline_and_is_cancelled) {
  start({"--mcp-capabilities", "acp", "--mcp-request-timeout-ms", "300"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools slow");
  auto call = accept_connection("mcp-server:1", "c");
  auto cancel = next(); // no answer from us: past the deadline the agent cancels the request
  EXPECT_EQ(cancel.at("method"), "$/cancel_request");
  EXPECT_EQ(cancel.at("params").at("requestId"), call.at("id"));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: mcp/message: no answer from the client within 300 ms"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, cancel_during_a_call_ends_the_turn_cancelled_within_the_deadline) {
  start({"--mcp-capabilities", "acp", "--mcp-request-timeout-ms", "500"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools slow");
  auto call = accept_connection("mcp-server:1", "c");
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  // The MCP request is not interrupted: it ends at its deadline, and nothing more is said.
  EXPECT_EQ(next().at("method"), "$/cancel_request");
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), std::vector<std::string>{});
  EXPECT_EQ(stop, "cancelled");
}

TEST_F(agent_mcp, mcp_without_a_subcommand_says_how_to_use_it) {
  start();
  const auto s = open_session({});
  prompt(10, s, "mcp");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp: expected 'mcp list' or 'mcp call SERVER TOOL {json arguments}'"}));
}

TEST_F(agent_mcp, unknown_server_name_lists_the_known_ones) {
  start();
  const auto s = open_session(
      {acp_server("tools", "mcp-server:1"),
       json::object{{"type", "http"}, {"name", "web"}, {"url", "http://127.0.0.1:1/"}, {"headers", json::array()}}});
  prompt(10, s, "mcp call nosuch tool {}");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp: no MCP server named \"nosuch\" (known: tools, web)"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, list_without_servers_says_so) {
  start();
  const auto s = open_session({});
  prompt(10, s, "mcp list");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp: this session has no MCP servers"}));
}

TEST_F(agent_mcp, bad_arguments_are_refused_before_connecting) {
  start();
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools t [1,2]");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: the arguments are not a JSON object: [1,2]"}));
}

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

TEST_F(agent_mcp, session_load_replaces_the_servers) {
  start();
  const auto s = open_session({acp_server("old", "mcp-server:1")});
  send(request(3, "session/load",
               json::object{{"sessionId", s}, {"cwd", "/tmp"}, {"mcpServers", json::array{acp_server("new", "x")}}}));
  EXPECT_TRUE(next().as_object().contains("result"));
  prompt(10, s, "mcp call old t");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp: no MCP server named \"old\" (known: new)"}));
  send(request(4, "session/load", json::object{{"sessionId", "nope"}, {"cwd", "/"}, {"mcpServers", json::array()}}));
  EXPECT_EQ(next().at("error").at("code"), -32002);
}

} // namespace
} // namespace acp::e2e
