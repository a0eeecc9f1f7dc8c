// The bridge's HTTP side against raw requests: the declaration rewrite, the relay to a fake
// provider, and every refusal (token, Origin, size, JSON, session, deadlines, failures).

#include "bridge_support.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::mcp_bridge::test {
namespace {

const json::value acp_decl = json::parse(R"({"type":"acp","name":"tools","serverId":"mcp-server:tools"})");
const std::string init_body =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}})";

TEST(bridge_capabilities, acp_flag_is_read_set_and_mode_chosen) {
  auto r = json::parse(R"({"agentCapabilities":{"mcpCapabilities":{"http":true}}})");
  EXPECT_FALSE(agent_speaks_acp(r));
  EXPECT_EQ(choose_mode(r), mode::http);
  advertise_acp(r);
  EXPECT_TRUE(agent_speaks_acp(r));
  EXPECT_EQ(r, json::parse(R"({"agentCapabilities":{"mcpCapabilities":{"http":true,"acp":true}}})"));
  json::value empty = json::object{};
  EXPECT_EQ(choose_mode(empty), mode::stdio);
  advertise_acp(empty);
  EXPECT_EQ(empty, json::parse(R"({"agentCapabilities":{"mcpCapabilities":{"acp":true}}})"));
  auto wrong = json::parse(R"({"agentCapabilities":{"mcpCapabilities":{"acp":"yes"}}})");
  EXPECT_FALSE(agent_speaks_acp(wrong));
}

class bridge_http : public bridge_fixture {
protected:
  /// Opens a session with a raw initialize; returns its Mcp-Session-Id.
  std::string open_session(const json::value& decl) {
    auto r = exchange(port_of(decl), post(path_of(decl), token_of(decl), init_body));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json_body().at("result").at("serverInfo").at("name"), "fake-provider");
    return r.headers["mcp-session-id"];
  }
  http_reply call(const json::value& decl, const std::string& session, const std::string& body) {
    return exchange(port_of(decl), post(path_of(decl), token_of(decl), body, "Mcp-Session-Id: " + session + "\r\n"));
  }
};

TEST_F(bridge_http, rewrites_both_generations_and_leaves_other_entries) {
  start();
  auto params = json::parse(R"({"sessionId":"s","mcpServers":[
      {"type":"acp","name":"tools","serverId":"mcp-server:tools"},
      {"name":"fs","command":"/bin/mcp-fs","args":[],"env":[]},
      {"type":"http","name":"old","url":"acp:older-tools","headers":[]},
      {"type":"http","name":"web","url":"https://example.org/mcp","headers":[]}]})");
  const auto before = params;
  EXPECT_EQ(on_io([&] { return bridge_->rewrite_declarations(params); }), 2u);
  const auto& list = params.at("mcpServers").as_array();
  for (std::size_t i : {0u, 2u}) {
    const auto& d = list[i];
    EXPECT_EQ(d.at("type"), "http");
    EXPECT_EQ(d.at("name"), before.at("mcpServers").at(i).at("name"));
    EXPECT_TRUE(d.at("url").as_string().starts_with("http://127.0.0.1:")) << d;
    EXPECT_EQ(d.at("headers").at(0).at("name"), "Authorization");
    EXPECT_EQ(token_of(d).size(), 32u); // 128 bits, hex
  }
  EXPECT_NE(token_of(list[0]), token_of(list[2]));
  EXPECT_NE(path_of(list[0]), path_of(list[2]));
  EXPECT_EQ(list[1], before.at("mcpServers").at(1));
  EXPECT_EQ(list[3], before.at("mcpServers").at(3));
  json::value none = json::parse(R"({"sessionId":"s","mcpServers":[]})");
  EXPECT_EQ(on_io([&] { return bridge_->rewrite_declarations(none); }), 0u);
}

TEST_F(bridge_http, stdio_declaration_keeps_secrets_out_of_argv_in_a_private_directory) {
  start({.kind = mode::stdio, .shim_program = "/opt/bin/acp-mcp-bridge"});
  const auto d = rewrite(acp_decl);
  EXPECT_EQ(d.at("name"), "tools");
  EXPECT_EQ(d.at("command"), "/opt/bin/acp-mcp-bridge");
  EXPECT_EQ(d.at("args"), json::parse(R"(["--shim"])"));
  std::map<std::string, std::string> env;
  for (const auto& e : d.at("env").as_array()) env[std::string(e.at("name").as_string())] = e.at("value").as_string();
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env["ACP_MCP_BRIDGE_TOKEN"].size(), 32u);
  const auto dir = env["ACP_MCP_BRIDGE_SOCKET"].substr(0, env["ACP_MCP_BRIDGE_SOCKET"].rfind('/'));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  on_io([&] {
    bridge_->close();
    return 0;
  });
  EXPECT_NE(::stat(dir.c_str(), &st), 0) << "the private directory is removed at close";
}

TEST_F(bridge_http, missing_or_wrong_token_is_401) {
  start();
  const auto d = rewrite(acp_decl);
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), "", init_body)).status, 401);
  auto wrong = token_of(d);
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), wrong, init_body)).status, 401);
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d) + "0", init_body)).status, 401);
  EXPECT_FALSE(log_->has("connect conn-1"));
}

TEST_F(bridge_http, foreign_origin_is_403_and_a_local_one_is_served) {
  start();
  const auto d = rewrite(acp_decl);
  for (const char* origin : {"https://evil.example", "http://127.0.0.1.evil.example", "http://localhost:80x", "null"})
    EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d), init_body, std::string("Origin: ") + origin + "\r\n"))
                  .status,
              403)
        << origin;
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d), init_body, "Origin: http://localhost:3000\r\n")).status,
            200);
}

TEST_F(bridge_http, oversize_body_is_413) {
  start({.max_body_bytes = 1024});
  const auto d = rewrite(acp_decl);
  const std::string big =
      R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" + std::string(2000, 'x') + "\"}}";
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d), big)).status, 413);
  // chunked, without a length up front
  std::string chunked = "POST " + path_of(d) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_of(d) +
                        "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", big.size());
  chunked += size + big + "\r\n0\r\n\r\n";
  EXPECT_EQ(exchange(port_of(d), chunked).status, 413);
}

TEST_F(bridge_http, malformed_json_is_a_parse_error_and_a_batch_is_refused) {
  start();
  const auto d = rewrite(acp_decl);
  auto r = exchange(port_of(d), post(path_of(d), token_of(d), "{\"jsonrpc\":\"2.0\",\"id\":1,"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json_body().at("error").at("code"), -32700) << r.body;
  r = exchange(port_of(d), post(path_of(d), token_of(d), "[" + init_body + "]"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json_body().at("error").at("code"), -32600) << r.body;
  r = exchange(port_of(d), post(path_of(d), token_of(d), R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})"));
  EXPECT_EQ(r.json_body().at("error").at("code"), -32600) << r.body;
}

TEST_F(bridge_http, unknown_session_path_or_version_is_refused) {
  start();
  const auto d = rewrite(acp_decl);
  const std::string ping = R"({"jsonrpc":"2.0","id":2,"method":"ping"})";
  EXPECT_EQ(call(d, "0123456789abcdef", ping).status, 404);
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d), ping)).status, 400) << "no session id";
  EXPECT_EQ(exchange(port_of(d), post("/mcp/nosuch", token_of(d), init_body)).status, 404);
  EXPECT_EQ(
      exchange(port_of(d), post(path_of(d), token_of(d), init_body, "MCP-Protocol-Version: 1999-01-01\r\n")).status,
      400);
}

TEST_F(bridge_http, a_session_relays_connect_messages_and_disconnect) {
  start();
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  ASSERT_EQ(session.size(), 32u);
  EXPECT_TRUE(log_->has("connect conn-1"));
  EXPECT_TRUE(log_->has("request initialize"));
  EXPECT_EQ(call(d, session, R"({"jsonrpc":"2.0","method":"notifications/initialized"})").status, 202);
  EXPECT_TRUE(log_->wait_for("notification notifications/initialized"));
  auto r =
      call(d, session,
           R"({"jsonrpc":"2.0","id":"e","method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.json_body(),
            json::parse(R"({"jsonrpc":"2.0","id":"e","result":{"content":[{"type":"text","text":"hi"}]}})"));
  r = call(d, session, R"({"jsonrpc":"2.0","id":3,"method":"no/such"})");
  EXPECT_EQ(r.json_body().at("error").at("code"), -32601);
  // SSE when the client accepts only that
  const std::string ping = R"({"jsonrpc":"2.0","id":4,"method":"ping"})";
  r = exchange(port_of(d), "POST " + path_of(d) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_of(d) +
                               "\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + session +
                               "\r\nConnection: close\r\nContent-Length: " + std::to_string(ping.size()) + "\r\n\r\n" +
                               ping);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(r.body, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}\n\n");
  r = exchange(port_of(d), "DELETE " + path_of(d) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_of(d) +
                               "\r\nMcp-Session-Id: " + session + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(log_->wait_for("disconnect conn-1"));
  EXPECT_EQ(call(d, session, R"({"jsonrpc":"2.0","id":5,"method":"ping"})").status, 404);
  EXPECT_EQ(on_io([&] { return bridge_->open_sessions(); }), 0u);
}

TEST_F(bridge_http, older_generation_uses_the_underscore_methods) {
  start();
  const auto d = rewrite(json::parse(R"({"type":"http","name":"old","url":"acp:older-tools","headers":[]})"));
  const auto session = open_session(d);
  EXPECT_TRUE(log_->has("_connect acp:older-tools"));
  auto r = call(d, session, R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  EXPECT_EQ(r.json_body().at("result").at("tools").as_array().size(), 6u);
  exchange(port_of(d), "DELETE " + path_of(d) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_of(d) +
                           "\r\nMcp-Session-Id: " + session + "\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(log_->wait_for("_disconnect old-1"));
}

TEST_F(bridge_http, a_refused_connect_answers_initialize_with_the_error) {
  start();
  const auto d = rewrite(json::parse(R"({"type":"acp","name":"x","serverId":"mcp-server:unknown"})"));
  auto r = exchange(port_of(d), post(path_of(d), token_of(d), init_body));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json_body().at("error").at("code"), -32602) << r.body;
  EXPECT_FALSE(r.headers.contains("mcp-session-id"));
  EXPECT_EQ(on_io([&] { return bridge_->open_sessions(); }), 0u);
}

TEST_F(bridge_http, headers_trickled_slowly_hit_the_deadline) {
  start({.header_timeout = 300ms});
  const auto d = rewrite(acp_decl);
  const int fd = connect_local(port_of(d));
  ASSERT_GE(fd, 0);
  const auto req = post(path_of(d), token_of(d), init_body);
  const auto begin = std::chrono::steady_clock::now();
  bool closed = false;
  for (std::size_t i = 0; i < req.size() && std::chrono::steady_clock::now() - begin < 5s; ++i) {
    if (!send_all(fd, req.substr(i, 1))) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
    char ch;
    if (::recv(fd, &ch, 1, MSG_DONTWAIT) == 0) {
      closed = true;
      break;
    }
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_FALSE(log_->has("connect conn-1"));
}

TEST_F(bridge_http, an_idle_connection_without_a_request_is_closed) {
  start({.header_timeout = 200ms});
  const auto d = rewrite(acp_decl);
  const int fd = connect_local(port_of(d));
  const auto begin = std::chrono::steady_clock::now();
  char ch;
  EXPECT_EQ(::recv(fd, &ch, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  ::close(fd);
}

TEST_F(bridge_http, a_client_gone_mid_call_cancels_upstream_and_the_bridge_goes_on) {
  start();
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  const int fd = connect_local(port_of(d));
  ASSERT_TRUE(send_all(fd, post(path_of(d), token_of(d),
                                R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"hang"}})",
                                "Mcp-Session-Id: " + session + "\r\n")));
  ASSERT_TRUE(log_->wait_for("request tools/call"));
  ::close(fd);
  EXPECT_TRUE(log_->wait_for("cancelled"));
  EXPECT_EQ(call(d, session, R"({"jsonrpc":"2.0","id":10,"method":"ping"})").json_body().at("result"), json::object{});
}

TEST_F(bridge_http, notifications_cancelled_cancels_the_relayed_request) {
  start();
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  auto pending = std::async(std::launch::async, [&] {
    return call(d, session, R"({"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"hang"}})");
  });
  ASSERT_TRUE(log_->wait_for("request tools/call"));
  EXPECT_EQ(
      call(d, session, R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":21}})").status,
      202);
  EXPECT_TRUE(log_->wait_for("cancelled"));
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(pending.get().json_body().at("error").at("code"), -32800);
}

TEST_F(bridge_http, the_provider_dying_answers_pending_calls_with_errors) {
  start();
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  auto pending = std::async(std::launch::async, [&] {
    return call(d, session, R"({"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"hang"}})");
  });
  ASSERT_TRUE(log_->wait_for("request tools/call"));
  kill_provider();
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  const auto r = pending.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json_body().at("id"), 11);
  EXPECT_EQ(r.json_body().at("error").at("code"), -32603) << r.body;
}

TEST_F(bridge_http, close_answers_pending_calls_and_disconnects_upstream) {
  start();
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  auto pending = std::async(std::launch::async, [&] {
    return call(d, session, R"({"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"hang"}})");
  });
  ASSERT_TRUE(log_->wait_for("request tools/call"));
  on_io([&] {
    bridge_->close();
    bridge_->close(); // idempotent
    return 0;
  });
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(pending.get().json_body().at("error").at("code"), -32603);
  EXPECT_TRUE(log_->wait_for("disconnect conn-1"));
  EXPECT_TRUE(log_->wait_for("cancelled"));
  EXPECT_LT(connect_local(port_of(d), 1s), 0) << "no longer listening";
}

TEST_F(bridge_http, a_call_without_an_answer_times_out) {
  start({.call_timeout = 200ms});
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  const auto r = call(d, session, R"({"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"hang"}})");
  EXPECT_EQ(r.json_body().at("error").at("data").at("reason"), "timeout") << r.body;
  EXPECT_TRUE(log_->wait_for("cancelled"));
}

TEST_F(bridge_http, server_initiated_messages_reach_the_get_stream_and_answers_go_back) {
  start();
  const auto d = rewrite(acp_decl);
  const auto session = open_session(d);
  const int fd = connect_local(port_of(d));
  ASSERT_TRUE(send_all(fd, "GET " + path_of(d) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_of(d) +
                               "\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + session + "\r\n\r\n"));
  EXPECT_NE(read_until(fd, "\r\n\r\n").find("text/event-stream"), std::string::npos);
  EXPECT_EQ(call(d, session, R"({"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"notify"}})").status,
            200);
  EXPECT_NE(read_until(fd, "list_changed")
                .find("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}"),
            std::string::npos);
  EXPECT_EQ(call(d, session, R"({"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"ask"}})").status, 200);
  const auto event = read_until(fd, "roots/list");
  ASSERT_NE(event.find("\"id\":\"acp-bridge-1\""), std::string::npos) << event;
  EXPECT_EQ(call(d, session, R"({"jsonrpc":"2.0","id":"acp-bridge-1","result":{"roots":[]}})").status, 202);
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(log_->m);
      if (!log_->client_answers.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(log_->m);
  ASSERT_EQ(log_->client_answers.size(), 1u);
  EXPECT_EQ(log_->client_answers[0], json::parse(R"({"roots":[]})"));
  ::close(fd);
}

TEST_F(bridge_http, an_idle_session_is_ended_and_a_streaming_one_kept) {
  start({.session_idle_timeout = 200ms});
  const auto d = rewrite(acp_decl);
  const auto idle = open_session(d);
  const auto streaming = open_session(d);
  const int fd = connect_local(port_of(d));
  ASSERT_TRUE(send_all(fd, "GET " + path_of(d) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_of(d) +
                               "\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + streaming + "\r\n\r\n"));
  EXPECT_NE(read_until(fd, "\r\n\r\n").find("200 OK"), std::string::npos);
  EXPECT_TRUE(log_->wait_for("disconnect conn-1"));
  EXPECT_EQ(call(d, idle, R"({"jsonrpc":"2.0","id":1,"method":"ping"})").status, 404);
  EXPECT_EQ(call(d, streaming, R"({"jsonrpc":"2.0","id":2,"method":"ping"})").status, 200);
  EXPECT_FALSE(log_->has("disconnect conn-2"));
  ::close(fd);
}

TEST_F(bridge_http, connections_over_the_limit_are_refused) {
  start({.max_connections = 1});
  const auto d = rewrite(acp_decl);
  const int idle = connect_local(port_of(d));
  ASSERT_GE(idle, 0);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d), init_body)).status, 503);
  ::close(idle);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(exchange(port_of(d), post(path_of(d), token_of(d), init_body)).status, 200);
}

} // namespace
} // namespace acp::mcp_bridge::test
