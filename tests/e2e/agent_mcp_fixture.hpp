#pragma once
// The client half for driving acp-test-agent's MCP commands over its stdio (test_agent_mcp_*.cpp):
// requests and answers written here, and the provider side of MCP over ACP (mcp/connect, the
// MCP handshake, mcp/disconnect).
#include "process_helpers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace acp::e2e {

namespace json = boost::json;
inline const std::string mcp_agent_bin = ACP_TEST_AGENT_BIN;

class agent_mcp : public ::testing::Test {
protected:
  void start(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{mcp_agent_bin};
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

} // namespace acp::e2e
