// acp-test-agent's MCP client (`mcp list`, `mcp call`) against servers of the official MCP
// TypeScript SDK (js/agent_mcp_server.mjs): McpServer over StreamableHTTPServerTransport (SSE
// answers, and JSON answers) and over StdioServerTransport. Every wait is bounded; without the
// SDK (the mcp_npm_install fixture could not install it) every test is skipped with the reason.
#include "../e2e/process_helpers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace acp::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
const std::string agent_bin = ACP_TEST_AGENT_BIN;
const std::string node_dir = ACP_MCP_NODE_DIR;

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = fs::path(dir) / "node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

/// Why the SDK is unusable here ("" when it is installed).
std::string skip_reason() {
  std::ifstream reason(node_dir + "/skip-reason.txt");
  std::string text;
  if (reason && std::getline(reason, text) && !text.empty()) return text;
  if (find_node().empty()) return "node is not installed";
  if (!fs::exists(node_dir + "/node_modules/@modelcontextprotocol/sdk/package.json"))
    return "@modelcontextprotocol/sdk is not installed in " + node_dir + " (run the mcp_npm_install test)";
  return {};
}

const std::string server_script = node_dir + "/agent_mcp_server.mjs";

class agent_mcp_sdk : public ::testing::Test {
protected:
  void SetUp() override {
    if (auto why = skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }

  /// Starts the SDK's HTTP server; its URL.
  std::string start_http_server(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{find_node(), server_script, "http"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    http_server_ = std::make_unique<line_child>(std::move(argv));
    auto line = http_server_->read_line(20s);
    EXPECT_TRUE(line && line->rfind("port ", 0) == 0) << (line ? *line : "no port line");
    return line ? "http://127.0.0.1:" + line->substr(5) + "/mcp" : "";
  }

  /// The next "closed SESSION" line of the HTTP server (its session was DELETEd), or "".
  std::string next_closed_session() {
    auto line = http_server_->read_line(5s);
    return line && line->rfind("closed ", 0) == 0 ? line->substr(7) : "";
  }

  static json::value http_decl(std::string name, std::string url) {
    json::array headers{json::object{{"name", "X-Test-Token"}, {"value", "t0k"}}};
    return json::object{{"type", "http"}, {"name", std::move(name)}, {"url", std::move(url)}, {"headers", headers}};
  }
  static json::value stdio_decl(std::string name, std::string token) {
    json::array env{json::object{{"name", "AGENT_TEST_TOKEN"}, {"value", std::move(token)}}};
    return json::object{{"name", std::move(name)},
                        {"command", find_node()},
                        {"args", json::array{server_script.c_str(), "stdio"}},
                        {"env", std::move(env)}};
  }

  void start_agent(json::array servers) {
    agent_ = std::make_unique<line_child>(std::vector<std::string>{agent_bin});
    ASSERT_TRUE(agent_->started());
    send(json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", {{"protocolVersion", 1}}}});
    (void)next();
    send(json::object{{"jsonrpc", "2.0"},
                      {"id", 2},
                      {"method", "session/new"},
                      {"params", {{"cwd", "/tmp"}, {"mcpServers", std::move(servers)}}}});
    auto created = next();
    ASSERT_TRUE(created.as_object().contains("result")) << json::serialize(created);
    session_ = std::string(created.at("result").at("sessionId").as_string());
  }

  void send(const json::value& v) { ASSERT_TRUE(agent_->send(json::serialize(v))); }

  json::value next() {
    auto line = agent_->read_line(30s);
    if (!line) {
      ADD_FAILURE() << "no line from the agent within the timeout";
      return json::object{{"missing", true}};
    }
    boost::system::error_code ec;
    auto v = json::parse(*line, ec);
    if (ec) ADD_FAILURE() << "not JSON: " << *line;
    return v;
  }

  /// Runs one prompt; its chunks (the turn must end with end_turn).
  std::vector<std::string> turn(std::string_view text) {
    const int id = ++prompt_id_;
    json::array blocks{json::object{{"type", "text"}, {"text", text}}};
    send(json::object{{"jsonrpc", "2.0"},
                      {"id", id},
                      {"method", "session/prompt"},
                      {"params", {{"sessionId", session_}, {"prompt", std::move(blocks)}}}});
    std::vector<std::string> texts;
    for (;;) {
      auto m = next();
      const auto& o = m.as_object();
      if (o.contains("missing")) return texts;
      if (o.contains("id") && !o.contains("method")) {
        EXPECT_EQ(o.at("id"), id);
        EXPECT_EQ(o.contains("result") ? o.at("result").at("stopReason") : json::value("error"), "end_turn");
        return texts;
      }
      if (o.at("method") == "session/update")
        texts.emplace_back(m.at("params").at("update").at("content").at("text").as_string());
      else
        ADD_FAILURE() << "unexpected: " << json::serialize(m);
    }
  }

  std::unique_ptr<line_child> http_server_;
  std::unique_ptr<line_child> agent_;
  std::string session_;
  int prompt_id_ = 10;
};

using lines = std::vector<std::string>;

TEST_F(agent_mcp_sdk, streamable_http_with_sse_answers_lists_calls_and_deletes_the_session) {
  const auto url = start_http_server();
  start_agent({http_decl("web", url)});
  EXPECT_EQ(turn("mcp list"), (lines{"web: add, echo, fail, whoami"}));
  EXPECT_NE(next_closed_session(), "") << "the session was not DELETEd at the end of the command";
  EXPECT_EQ(turn(R"(mcp call web add {"a": 2, "b": 3})"), (lines{"sum: 5"}));
  EXPECT_NE(next_closed_session(), "");
  // The declared header and the negotiated MCP-Protocol-Version reach the server.
  EXPECT_EQ(turn("mcp call web whoami"), (lines{"token: t0k, protocol: 2025-06-18"}));
  EXPECT_NE(next_closed_session(), "");
}

TEST_F(agent_mcp_sdk, streamable_http_with_json_answers) {
  const auto url = start_http_server({"--json"});
  start_agent({http_decl("web", url)});
  EXPECT_EQ(turn("mcp list"), (lines{"web: add, echo, fail, whoami"}));
  EXPECT_EQ(turn(R"(mcp call web echo {"text": "héllo \"quoted\""})"), (lines{"echo: héllo \"quoted\""}));
}

TEST_F(agent_mcp_sdk, tool_errors_from_the_sdk_are_mcp_error_chunks) {
  const auto url = start_http_server();
  start_agent({http_decl("web", url)});
  EXPECT_EQ(turn("mcp call web fail"), (lines{"mcp error: failed on purpose"}));
  const auto unknown = turn("mcp call web no_such_tool");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].rfind("mcp error: ", 0), 0u) << unknown[0];
  EXPECT_NE(unknown[0].find("no_such_tool"), std::string::npos) << unknown[0];
  const auto invalid = turn(R"(mcp call web add {"a": "two"})");
  ASSERT_EQ(invalid.size(), 1u);
  EXPECT_EQ(invalid[0].rfind("mcp error: ", 0), 0u) << invalid[0];
}

TEST_F(agent_mcp_sdk, stdio_server_lists_calls_gets_its_env_and_is_gone_after_the_command) {
  const std::string token = "agent-mcp-" + std::to_string(::getpid());
  start_agent({stdio_decl("local", token)});
  EXPECT_EQ(turn("mcp list"), (lines{"local: add, echo, fail, whoami"}));
  EXPECT_EQ(turn(R"(mcp call local add {"a": 40, "b": 2})"), (lines{"sum: 42"}));
  EXPECT_EQ(turn("mcp call local whoami"), (lines{"token: " + token + ", protocol: stdio"}));
  const auto deadline = clock::now() + 3s;
  while (!processes_with_env("AGENT_TEST_TOKEN=" + token).empty() && clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(processes_with_env("AGENT_TEST_TOKEN=" + token).empty()) << "the stdio MCP server outlived the command";
}

TEST_F(agent_mcp_sdk, list_covers_every_server_in_declaration_order) {
  const auto url = start_http_server();
  start_agent({stdio_decl("local", "x"), http_decl("web", url)});
  EXPECT_EQ(turn("mcp list"), (lines{"local: add, echo, fail, whoami", "web: add, echo, fail, whoami"}));
}

} // namespace
} // namespace acp::e2e
