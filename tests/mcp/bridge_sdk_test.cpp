// The bridge against an independent peer, the official MCP TypeScript SDK's Client
// (js/bridge_client.mjs): over HTTP (StreamableHTTPClientTransport) and over stdio through the
// shim (StdioClientTransport). And the shim's own refusals.

#include "bridge_support.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

namespace acp::mcp_bridge::test {
namespace {

struct run_result {
  int status = -1;
  std::string out;
};

/// Runs a shell command (stdout captured; stderr passed through), bounded by `timeout`.
run_result run(const std::string& command) {
  run_result r;
  FILE* p = ::popen(("timeout 60 " + command).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

class bridge_sdk : public bridge_fixture {
protected:
  void SetUp() override {
    std::ifstream skip(std::string(ACP_MCP_NODE_DIR) + "/skip-reason.txt");
    std::stringstream why;
    why << skip.rdbuf();
    if (skip) GTEST_SKIP() << why.str();
    if (!std::ifstream(std::string(ACP_MCP_NODE_DIR) + "/node_modules/@modelcontextprotocol/sdk/package.json"))
      GTEST_SKIP() << "the MCP SDK is not installed (run the mcp_npm_install test first)";
  }
  json::value run_client(const json::value& decl) {
    const auto r = run("env BRIDGE_DECL=" + shell_quote(json::serialize(decl)) + " node " + ACP_MCP_NODE_DIR +
                       "/bridge_client.mjs");
    EXPECT_EQ(r.status, 0) << r.out;
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    return v;
  }
  void expect_full_exchange(const json::value& out) {
    ASSERT_TRUE(out.is_object()) << out;
    EXPECT_EQ(out.at("server"), "fake-provider");
    EXPECT_EQ(out.at("tools"), json::parse(R"(["ask","echo","fail","hang","notify","slow"])"));
    EXPECT_EQ(out.at("echo"), "hello bridge");
    EXPECT_EQ(out.at("failIsError"), true);
    EXPECT_EQ(out.at("failText"), "the tool failed on purpose");
    EXPECT_EQ(out.at("unknownMethod"), -32601);
    EXPECT_EQ(out.at("slow"), json::parse(R"(["slept t0","slept t1","slept t2","slept t3"])"));
    EXPECT_LT(out.at("concurrentMs").to_number<int>(), 1100) << "four 300 ms calls ran concurrently";
    EXPECT_EQ(out.at("listChanged"), true);
    EXPECT_EQ(out.at("ping"), true);
  }
};

TEST_F(bridge_sdk, the_official_client_over_streamable_http) {
  start();
  const auto d = rewrite(json::parse(R"({"type":"acp","name":"tools","serverId":"mcp-server:tools"})"));
  const auto out = run_client(d);
  expect_full_exchange(out);
  EXPECT_EQ(out.at("sessionId").as_string().size(), 32u);
  EXPECT_TRUE(log_->wait_for("disconnect conn-1")) << "terminateSession sends DELETE";
}

TEST_F(bridge_sdk, the_official_client_over_stdio_through_the_shim) {
  start({.kind = mode::stdio, .shim_program = ACP_MCP_BRIDGE_PROGRAM});
  const auto d = rewrite(json::parse(R"({"type":"acp","name":"tools","serverId":"mcp-server:tools"})"));
  expect_full_exchange(run_client(d));
  EXPECT_TRUE(log_->wait_for("disconnect conn-1")) << "the shim's end ends the MCP connection";
}

class bridge_shim : public bridge_fixture {};

TEST_F(bridge_shim, missing_settings_refused_socket_and_wrong_token_are_one_line_errors) {
  const std::string shim = ACP_MCP_BRIDGE_PROGRAM;
  auto r = run("env -u ACP_MCP_BRIDGE_SOCKET " + shim + " --shim </dev/null 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "acp-mcp-bridge: error: ACP_MCP_BRIDGE_SOCKET is not set (the shim is started by an agent for a "
                   "bridged MCP server)\n");
  r = run("env ACP_MCP_BRIDGE_SOCKET=/nonexistent/s ACP_MCP_BRIDGE_TOKEN=t ACP_MCP_BRIDGE_SERVER=x " + shim +
          " --shim </dev/null 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out,
            "acp-mcp-bridge: error: cannot connect to the bridge at /nonexistent/s: No such file or directory\n");

  start({.kind = mode::stdio, .shim_program = shim});
  const auto d = rewrite(json::parse(R"({"type":"acp","name":"tools","serverId":"mcp-server:tools"})"));
  std::map<std::string, std::string> env;
  for (const auto& e : d.at("env").as_array()) env[std::string(e.at("name").as_string())] = e.at("value").as_string();
  r = run("env ACP_MCP_BRIDGE_SOCKET=" + env["ACP_MCP_BRIDGE_SOCKET"] +
          " ACP_MCP_BRIDGE_TOKEN=wrong ACP_MCP_BRIDGE_SERVER=" + env["ACP_MCP_BRIDGE_SERVER"] + " " + shim +
          " --shim </dev/null 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "acp-mcp-bridge: error: the bridge refused the connection (wrong token or unknown server)\n");
  EXPECT_FALSE(log_->has("connect conn-1"));
  // The right settings: a raw line exchange through the shim.
  r = run("printf '%s\\n' "
          "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}' "
          "'not json' | env ACP_MCP_BRIDGE_SOCKET=" +
          env["ACP_MCP_BRIDGE_SOCKET"] + " ACP_MCP_BRIDGE_TOKEN=" + env["ACP_MCP_BRIDGE_TOKEN"] +
          " ACP_MCP_BRIDGE_SERVER=" + env["ACP_MCP_BRIDGE_SERVER"] + " " + shim + " --shim");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"serverInfo\":{\"name\":\"fake-provider\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"code\":-32700"), std::string::npos) << r.out;
}

} // namespace
// A stdio client that writes its requests and closes its input at once still gets every answer:
// the bridge waits for the calls it owes (woken as each ends, not by polling) before it ends the
// MCP connection.
TEST_F(bridge_shim, answers_owed_when_the_client_closes_its_input_still_arrive) {
  const std::string shim = ACP_MCP_BRIDGE_PROGRAM;
  start({.kind = mode::stdio, .shim_program = shim});
  const auto d = rewrite(json::parse(R"({"type":"acp","name":"tools","serverId":"mcp-server:tools"})"));
  std::string env_words;
  for (const auto& e : d.at("env").as_array())
    env_words += " " + std::string(e.at("name").as_string()) + "=" + std::string(e.at("value").as_string());
  const auto started = std::chrono::steady_clock::now();
  const auto r = run("printf '%s\\n' "
                     "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                     "\"2025-06-18\"}}' "
                     "'{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\","
                     "\"arguments\":{\"ms\":300,\"tag\":\"late\"}}}' | env" +
                     env_words + " " + shim + " --shim");
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"serverInfo\":{\"name\":\"fake-provider\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("slept late"), std::string::npos) << r.out;
  EXPECT_LT(took, 3s) << "the answer waited for something other than the call";
  EXPECT_TRUE(log_->wait_for("disconnect conn-1")) << "then the MCP connection ends";
}

} // namespace acp::mcp_bridge::test
