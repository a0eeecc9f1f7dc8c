// MCP over ACP (unstable): the `{"type":"acp"}` server declaration, mcpCapabilities.acp,
// mcp/connect, mcp/message, mcp/disconnect, the older _mcp/* forms and session/fork. Every
// sample round-trips byte for byte with unknown members kept; the method table matches
// schema.unstable.json and method_traits.
#include "types_round_trip.hpp"

#include <acp/protocol/methods.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <tuple>

namespace {

using acp::test::round_trip;
namespace json = boost::json;

TEST(types_round_trip, mcp_server_acp_declaration_in_new_session) {
  auto r = round_trip<acp::new_session_request>(R"({
    "cwd": "/w",
    "mcpServers": [
      {"type": "acp", "name": "tools", "serverId": "mcp-server:1b2c", "_meta": {"k": 1}, "u": [1]},
      {"type": "http", "name": "old", "url": "acp:1b2c", "headers": []},
      {"name": "fs", "command": "/bin/mcp", "args": [], "env": []}
    ]
  })");
  ASSERT_EQ(r.mcp_servers.size(), 3u);
  const auto* acp_server = std::get_if<acp::mcp_server_acp>(&r.mcp_servers[0]);
  ASSERT_NE(acp_server, nullptr);
  EXPECT_EQ(acp_server->name, "tools");
  EXPECT_EQ(acp_server->server_id, "mcp-server:1b2c");
  EXPECT_EQ(acp_server->extra.at("u"), json::parse("[1]"));
  EXPECT_FALSE(acp_server->extra.contains("type"));
  EXPECT_EQ(std::get<acp::mcp_server_http>(r.mcp_servers[1]).url, "acp:1b2c");
}

TEST(types_round_trip, mcp_server_acp_is_written_with_its_type) {
  const acp::mcp_server s = acp::mcp_server_acp{.name = "tools", .server_id = "mcp-server:x"};
  EXPECT_EQ(acp::encode(s), json::parse(R"({"type":"acp","name":"tools","serverId":"mcp-server:x"})"));
}

TEST(types_decode_errors, mcp_server_acp_without_server_id) {
  const auto r = acp::decode<acp::mcp_server>(json::parse(R"({"type":"acp","name":"t"})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "serverId: missing required field");
}

TEST(types_round_trip, mcp_capabilities_acp) {
  auto r = round_trip<acp::mcp_capabilities>(R"({"http": true, "acp": true, "u": 1})");
  EXPECT_EQ(r.acp, true);
  auto init = round_trip<acp::initialize_response>(
      R"({"protocolVersion": 1, "agentCapabilities": {"mcpCapabilities": {"acp": false}}})");
  ASSERT_TRUE(init.agent_capabilities && init.agent_capabilities->mcp_capabilities);
  EXPECT_EQ(init.agent_capabilities->mcp_capabilities->acp, false);
}

TEST(types_round_trip, mcp_connect_message_disconnect) {
  EXPECT_EQ(round_trip<acp::connect_mcp_request>(R"({"serverId": "mcp-server:a", "_meta": {}, "u": 1})").server_id,
            "mcp-server:a");
  EXPECT_EQ(round_trip<acp::connect_mcp_response>(R"({"connectionId": "c1", "u": 2})").connection_id, "c1");
  auto m = round_trip<acp::message_mcp_request>(
      R"({"connectionId": "c1", "method": "tools/call", "params": {"name": "x", "arguments": {}}, "u": 3})");
  EXPECT_EQ(m.method, "tools/call");
  ASSERT_TRUE(m.params);
  EXPECT_EQ(m.params->at("name"), "x");
  EXPECT_FALSE(round_trip<acp::message_mcp_request>(R"({"connectionId": "c1", "method": "ping"})").params);
  round_trip<acp::message_mcp_notification>(R"({"connectionId": "c1", "method": "notifications/initialized"})");
  // The result of mcp/message is the inner MCP result, any JSON value.
  EXPECT_EQ(round_trip<acp::message_mcp_response>(R"({"tools": [], "nextCursor": "n"})").result.at("nextCursor"), "n");
  round_trip<acp::message_mcp_response>(R"([1, "two"])");
  EXPECT_EQ(round_trip<acp::disconnect_mcp_request>(R"({"connectionId": "c1", "u": {}})").connection_id, "c1");
  round_trip<acp::disconnect_mcp_response>(R"({"_meta": {"a": 1}, "u": 1})");
}

TEST(types_round_trip, legacy_mcp_methods) {
  EXPECT_EQ(round_trip<acp::legacy_connect_mcp_request>(R"({"acp_url": "acp:1b2c", "u": 1})").acp_url, "acp:1b2c");
  EXPECT_EQ(round_trip<acp::legacy_connect_mcp_response>(R"({"connection_id": "c9"})").connection_id, "c9");
  EXPECT_EQ(round_trip<acp::legacy_message_mcp_request>(R"({"connectionId": "c9", "method": "ping", "params": {}})")
                .connection_id,
            "c9");
  round_trip<acp::legacy_message_mcp_notification>(R"({"connectionId": "c9", "method": "n", "u": 1})");
  EXPECT_EQ(round_trip<acp::legacy_disconnect_mcp_notification>(R"({"connection_id": "c9", "u": 1})").connection_id,
            "c9");
}

TEST(types_decode_errors, mcp_message_paths) {
  auto r = acp::decode<acp::message_mcp_request>(json::parse(R"({"method": "ping"})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "connectionId: missing required field");
  auto l = acp::decode<acp::legacy_connect_mcp_request>(json::parse(R"({"acp_url": 3})"));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().what(), "acp_url: expected string");
}

TEST(types_round_trip, session_fork) {
  auto r = round_trip<acp::fork_session_request>(R"({
    "sessionId": "s1", "cwd": "/w", "additionalDirectories": ["/x"],
    "mcpServers": [{"type": "acp", "name": "tools", "serverId": "mcp-server:z"}], "_meta": {}, "u": 1})");
  EXPECT_EQ(r.session_id, "s1");
  ASSERT_TRUE(r.mcp_servers);
  EXPECT_TRUE(std::holds_alternative<acp::mcp_server_acp>(r.mcp_servers->at(0)));
  EXPECT_EQ(round_trip<acp::fork_session_response>(R"({"sessionId": "s2", "u": 2})").session_id, "s2");
}

json::value read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

TEST(methods_table, unstable_methods_match_schema_unstable) {
  const auto schema = read_json(std::string(ACP_SCHEMA_DIR) + "/v1/schema.unstable.json");
  const auto meta = read_json(std::string(ACP_SCHEMA_DIR) + "/v1/meta.unstable.json");
  const auto& defs = schema.at("$defs").as_object();
  auto listed = [&](const char* group, std::string_view name) {
    for (const auto& kv : meta.at(group).as_object()) {
      if (kv.value().as_string() == name) return true;
    }
    return false;
  };
  ASSERT_EQ(acp::unstable_methods().size(), 4u);
  for (const auto& m : acp::unstable_methods()) {
    SCOPED_TRACE(std::string(m.name));
    EXPECT_EQ(acp::find_method(m.name), nullptr); // not a stable method
    EXPECT_EQ(acp::find_unstable_method(m.name), &m);
    const bool to_agent = listed("agentMethods", m.name);
    const bool to_client = listed("clientMethods", m.name);
    EXPECT_EQ(m.receiver, to_agent && to_client ? std::nullopt
                          : to_agent            ? std::optional(acp::peer::agent)
                                                : std::optional(acp::peer::client));
    const std::string side = m.receiver ? std::string(acp::to_string(*m.receiver)) : "both";
    for (const auto def : {m.params_def, m.result_def}) {
      const auto* d = defs.if_contains(def);
      ASSERT_NE(d, nullptr) << def;
      EXPECT_EQ(d->at("x-method").as_string(), m.name);
      EXPECT_EQ(d->at("x-side").as_string(), side);
    }
  }
  EXPECT_EQ(acp::find_unstable_method("session/prompt"), nullptr);
  EXPECT_EQ(acp::find_unstable_method("_mcp/connect"), nullptr);
}

TEST(methods_table, mcp_method_traits) {
  using acp::method_traits;
  static_assert(method_traits<acp::connect_mcp_request>::method == "mcp/connect");
  static_assert(std::is_same_v<method_traits<acp::connect_mcp_request>::response, acp::connect_mcp_response>);
  static_assert(method_traits<acp::connect_mcp_request>::receiver == acp::peer::client);
  static_assert(method_traits<acp::message_mcp_request>::is_request);
  static_assert(!method_traits<acp::message_mcp_notification>::is_request);
  static_assert(!method_traits<acp::message_mcp_request>::receiver);
  static_assert(method_traits<acp::disconnect_mcp_request>::receiver == acp::peer::client);
  static_assert(method_traits<acp::fork_session_request>::receiver == acp::peer::agent);
  static_assert(method_traits<acp::legacy_connect_mcp_request>::method == "_mcp/connect");
  static_assert(!method_traits<acp::legacy_disconnect_mcp_notification>::is_request);
  std::apply(
      [](auto... p) {
        (
            [] {
              using traits = acp::method_traits<decltype(p)>;
              const auto* info = acp::find_unstable_method(traits::method);
              ASSERT_NE(info, nullptr) << traits::method;
              EXPECT_EQ(info->receiver, traits::receiver) << traits::method;
            }(),
            ...);
      },
      std::tuple<acp::fork_session_request, acp::connect_mcp_request, acp::message_mcp_request,
                 acp::message_mcp_notification, acp::disconnect_mcp_request>{});
}

} // namespace
