// acp-mcp-bridge as a proxy (configure_proxy) between a scripted conductor: `acp: true` goes up
// only when the agent lacks it, declarations are rewritten only then, and a rewritten
// declaration is served through the chain (mcp/connect and mcp/message toward the client).

#include "../proxy_sdk/test_support.hpp"
#include "bridge_support.hpp"

#include <acp/mcp_bridge/tool.hpp>

#include <filesystem>

namespace acp::mcp_bridge::test {
namespace {

using acp::test::J;

json::value request(json::value id, std::string_view method, json::value params) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
json::value result(json::value id, json::value r) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(r)}};
}

const json::value new_session = J(R"({"cwd":"/w","mcpServers":[
    {"type":"acp","name":"tools","serverId":"mcp-server:tools"},
    {"name":"fs","command":"/bin/fs-server","args":[],"env":[]}]})");

class bridge_proxy : public acp::test::sdk_test {
protected:
  void start(proxy_options o = {}) {
    acp::proxy_builder p;
    configure_proxy(p, std::move(o));
    auto w = wire(p);
    c = w.peer;
  }
  const json::object& got(std::size_t n) { return c->messages.at(n).as_object(); }
  bool wait_messages(std::size_t n) {
    return run_until([&] { return c->messages.size() >= n; });
  }
  /// `_proxy/initialize` answered by the agent with `agent_result`; returns what the client got.
  json::value initialize(const json::value& agent_result) {
    c->send(request(0, "_proxy/initialize", {{"protocolVersion", 1}}));
    EXPECT_TRUE(wait_messages(1));
    EXPECT_EQ(got(0).at("params").at("method"), "initialize");
    c->send(result(got(0).at("id"), agent_result));
    EXPECT_TRUE(wait_messages(2));
    return got(1);
  }
  std::shared_ptr<acp::test::line_peer> c;
  std::vector<acp::child_process> children;
};

TEST_F(bridge_proxy, an_agent_without_acp_gets_it_advertised_and_its_declarations_bridged) {
  start();
  const auto up = initialize(J(R"({"protocolVersion":1,"agentCapabilities":{"mcpCapabilities":{"http":true}}})"));
  EXPECT_EQ(up,
            result(0, J(R"({"protocolVersion":1,"agentCapabilities":{"mcpCapabilities":{"http":true,"acp":true}}})")));
  c->send(request(1, "session/new", new_session));
  ASSERT_TRUE(wait_messages(3));
  EXPECT_EQ(got(2).at("method"), "_proxy/successor");
  const auto& servers = got(2).at("params").at("params").at("mcpServers").as_array();
  EXPECT_EQ(servers[0].at("type"), "http");
  EXPECT_TRUE(servers[0].at("url").as_string().starts_with("http://127.0.0.1:"));
  EXPECT_EQ(servers[1], new_session.at("mcpServers").at(1));

  // The agent's MCP client reaches the provider through the chain: mcp/connect and mcp/message
  // go toward the client, plain.
  const auto decl = json::value(servers[0]);
  auto http = std::async(std::launch::async, [decl] {
    return exchange(
        port_of(decl),
        post(path_of(decl), token_of(decl),
             R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})"));
  });
  ASSERT_TRUE(wait_messages(4));
  EXPECT_EQ(got(3).at("method"), "mcp/connect");
  EXPECT_EQ(got(3).at("params"), J(R"({"serverId":"mcp-server:tools"})"));
  c->send(result(got(3).at("id"), {{"connectionId", "k1"}}));
  ASSERT_TRUE(wait_messages(5));
  EXPECT_EQ(got(4).at("method"), "mcp/message");
  EXPECT_EQ(got(4).at("params").at("connectionId"), "k1");
  EXPECT_EQ(got(4).at("params").at("method"), "initialize");
  c->send(result(got(4).at("id"),
                 J(R"({"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"p","version":"1"}})")));
  ASSERT_TRUE(run_until([&] { return http.wait_for(0s) == std::future_status::ready; }));
  const auto reply = http.get();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json_body().at("result").at("serverInfo").at("name"), "p");

  // mcp/message for a connection the bridge does not own passes on toward the agent.
  c->send(request(7, "mcp/message", {{"connectionId", "not-ours"}, {"method", "ping"}}));
  ASSERT_TRUE(wait_messages(6));
  EXPECT_EQ(got(5).at("method"), "_proxy/successor");
  EXPECT_EQ(got(5).at("params").at("method"), "mcp/message");
}

TEST_F(bridge_proxy, an_agent_with_acp_is_left_untouched) {
  start();
  const auto caps =
      J(R"({"protocolVersion":1,"agentCapabilities":{"mcpCapabilities":{"acp":true,"http":true}},"_meta":{"x":1}})");
  EXPECT_EQ(initialize(caps), result(0, caps));
  c->send(request(1, "session/new", new_session));
  ASSERT_TRUE(wait_messages(3));
  EXPECT_EQ(got(2).at("params").at("params"), new_session);
}

TEST_F(bridge_proxy, an_agent_without_http_gets_the_stdio_shim_and_mode_can_be_forced) {
  start({.bridge = {.shim_program = "/usr/bin/acp-mcp-bridge"}});
  initialize(J(R"({"protocolVersion":1,"agentCapabilities":{}})"));
  c->send(request(1, "session/load", new_session));
  ASSERT_TRUE(wait_messages(3));
  const auto& d = got(2).at("params").at("params").at("mcpServers").at(0);
  EXPECT_EQ(d.at("command"), "/usr/bin/acp-mcp-bridge");
  EXPECT_EQ(d.at("args"), J(R"(["--shim"])"));
  EXPECT_FALSE(d.as_object().contains("type"));
}

TEST_F(bridge_proxy, forced_http_mode_wins_over_the_capability) {
  start({.forced_mode = mode::http});
  initialize(J(R"({"protocolVersion":1})"));
  c->send(request(1, "session/new", new_session));
  ASSERT_TRUE(wait_messages(3));
  EXPECT_EQ(got(2).at("params").at("params").at("mcpServers").at(0).at("type"), "http");
}

/// The acp-mcp-bridge program itself, spawned, between the scripted conductor and a shim it
/// declared: the shim it names is the program, and an MCP initialize written to the shim goes
/// out as mcp/connect and mcp/message toward the client and comes back answered.
TEST_F(bridge_proxy, the_program_bridges_through_its_own_shim) {
  auto spawn = [&](const acp::process_spec& spec) {
    auto child = acp::child_process::spawn(ex(), spec);
    EXPECT_TRUE(child.has_value());
    auto peer = make_peer(child->take_transport());
    children.push_back(std::move(*child));
    return peer;
  };
  c = spawn({.name = "bridge", .command = ACP_MCP_BRIDGE_PROGRAM});
  initialize(J(R"({"protocolVersion":1,"agentCapabilities":{"mcpCapabilities":{"http":false}}})"));
  EXPECT_TRUE(got(1).at("result").at("agentCapabilities").at("mcpCapabilities").at("acp").as_bool());
  c->send(request(1, "session/new", new_session));
  ASSERT_TRUE(wait_messages(3));
  const auto decl = json::value(got(2).at("params").at("params").at("mcpServers").at(0));
  EXPECT_EQ(std::filesystem::canonical(std::string(decl.at("command").as_string())),
            std::filesystem::canonical(ACP_MCP_BRIDGE_PROGRAM));
  acp::process_spec shim{.name = "shim", .command = std::string(decl.at("command").as_string()), .args = {"--shim"}};
  for (const auto& e : decl.at("env").as_array())
    shim.env.emplace_back(std::string(e.at("name").as_string()), std::string(e.at("value").as_string()));
  auto agent_side = spawn(shim);
  agent_side->send(R"({"jsonrpc":"2.0","id":"i","method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  ASSERT_TRUE(wait_messages(4));
  EXPECT_EQ(got(3).at("method"), "mcp/connect");
  c->send(result(got(3).at("id"), {{"connectionId", "k9"}}));
  ASSERT_TRUE(wait_messages(5));
  EXPECT_EQ(got(4).at("params").at("connectionId"), "k9");
  c->send(result(got(4).at("id"),
                 J(R"({"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"q","version":"1"}})")));
  ASSERT_TRUE(run_until([&] { return !agent_side->messages.empty(); }));
  EXPECT_EQ(agent_side->messages[0].at("id"), "i");
  EXPECT_EQ(agent_side->messages[0].at("result").at("serverInfo").at("name"), "q");
  agent_side->shutdown_write(); // the agent's MCP client ends: the connection ends upstream
  ASSERT_TRUE(wait_messages(6));
  EXPECT_EQ(got(5).at("method"), "mcp/disconnect");
  EXPECT_EQ(got(5).at("params"), J(R"({"connectionId":"k9"})"));
}

} // namespace
} // namespace acp::mcp_bridge::test
