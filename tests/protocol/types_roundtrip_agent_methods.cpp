// encode(decode(x)) == x for the params and results of every client -> agent method. Each
// sample carries unknown members and `_meta` at the top and in nested objects.
#include "types_round_trip.hpp"

#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace {

using acp::test::round_trip;

TEST(types_round_trip, initialize_request) {
  auto r = round_trip<acp::initialize_request>(R"({
    "protocolVersion": 1,
    "clientCapabilities": {
      "fs": {"readTextFile": true, "writeTextFile": false, "_meta": {"k": 1}, "fsExtra": true},
      "terminal": true,
      "session": {"configOptions": {"boolean": {}}},
      "auth": {"terminal": true},
      "elicitation": {"form": {}, "url": {"_meta": {}}},
      "futureCap": {"x": 1}
    },
    "clientInfo": {"name": "zed", "title": "Zed", "version": "0.200.0"},
    "_meta": {"trace": "abc"},
    "unknownTop": [1, 2]
  })");
  EXPECT_EQ(r.protocol_version, 1);
  ASSERT_TRUE(r.client_capabilities && r.client_capabilities->fs);
  EXPECT_EQ(r.client_capabilities->fs->read_text_file, true);
  EXPECT_TRUE(r.client_capabilities->fs->extra.contains("fsExtra"));
  EXPECT_TRUE(r.extra.contains("unknownTop"));
  EXPECT_FALSE(r.extra.contains("_meta"));
  ASSERT_TRUE(r.meta);
}

TEST(types_round_trip, initialize_response) {
  auto r = round_trip<acp::initialize_response>(R"({
    "protocolVersion": 1,
    "agentCapabilities": {
      "loadSession": true,
      "promptCapabilities": {"image": true, "audio": false, "embeddedContext": true},
      "mcpCapabilities": {"http": true, "sse": false},
      "sessionCapabilities": {"list": {}, "delete": {}, "additionalDirectories": {},
                              "resume": {"_meta": {"a": 1}}, "close": {}},
      "auth": {"logout": {}},
      "_meta": {"n": 1}
    },
    "authMethods": [
      {"id": "agent-login", "name": "Log in", "description": "d"},
      {"type": "terminal", "id": "tui", "name": "TUI", "args": ["--login"], "env": {"A": "1"}},
      {"type": "oauth-future", "id": "o", "name": "O", "weird": true}
    ],
    "agentInfo": {"name": "agent", "version": "1.0"},
    "_meta": {"x": 1},
    "extraTop": "y"
  })");
  ASSERT_TRUE(r.auth_methods);
  ASSERT_EQ(r.auth_methods->size(), 3u);
  EXPECT_TRUE(std::holds_alternative<acp::auth_method_agent>((*r.auth_methods)[0]));
  EXPECT_TRUE(std::holds_alternative<acp::auth_method_terminal>((*r.auth_methods)[1]));
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>((*r.auth_methods)[2]));
  EXPECT_TRUE(r.agent_capabilities->session_capabilities->delete_.has_value());
}

TEST(types_round_trip, authenticate_and_logout) {
  round_trip<acp::authenticate_request>(R"({"methodId": "agent-login", "_meta": {"a": 1}, "unknown": true})");
  round_trip<acp::authenticate_response>(R"({"_meta": {"a": 1}, "unknown": {"_meta": 2}})");
  round_trip<acp::logout_request>(R"({"_meta": {}, "u": 1})");
  round_trip<acp::logout_response>(R"({"u": null})");
  round_trip<acp::logout_response>(R"({})");
}

TEST(types_round_trip, new_session_request) {
  auto r = round_trip<acp::new_session_request>(R"({
    "cwd": "/home/u/p",
    "additionalDirectories": ["/tmp"],
    "mcpServers": [
      {"name": "fs", "command": "/bin/mcp", "args": ["-v"],
       "env": [{"name": "K", "value": "V", "_meta": {"q": 1}, "u": 0}], "u": 1},
      {"type": "http", "name": "web", "url": "https://x/mcp",
       "headers": [{"name": "Authorization", "value": "Bearer t"}], "_meta": {}},
      {"type": "sse", "name": "s", "url": "https://x/sse", "headers": []},
      {"type": "websocket", "name": "w", "url": "wss://x"}
    ],
    "_meta": {"m": 1},
    "u": 2
  })");
  ASSERT_EQ(r.mcp_servers.size(), 4u);
  EXPECT_EQ(std::get<acp::mcp_server_stdio>(r.mcp_servers[0]).env[0].value, "V");
  EXPECT_EQ(std::get<acp::mcp_server_http>(r.mcp_servers[1]).headers[0].name, "Authorization");
  EXPECT_TRUE(std::holds_alternative<acp::mcp_server_sse>(r.mcp_servers[2]));
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>(r.mcp_servers[3]));
  EXPECT_FALSE(std::get<acp::mcp_server_http>(r.mcp_servers[1]).extra.contains("type"));
}

constexpr std::string_view config_options = R"([
  {"id": "model", "name": "Model", "category": "model", "type": "select", "currentValue": "fast",
   "options": [{"value": "fast", "name": "Fast"},
               {"value": "smart", "name": "Smart", "description": "slow", "_meta": {}, "u": 1}],
   "u": 1},
  {"id": "think", "name": "Think", "description": "d", "type": "boolean", "currentValue": true,
   "_meta": {"k": 1}},
  {"id": "grp", "name": "Grouped", "type": "select", "currentValue": "a",
   "options": [{"group": "g1", "name": "G1", "options": [{"value": "a", "name": "A"}], "_meta": {}}]},
  {"id": "fut", "name": "Future", "type": "slider", "min": 0}
])";

TEST(types_round_trip, new_session_response) {
  auto r = round_trip<acp::new_session_response>(std::string(R"({"sessionId": "sess-1",
        "modes": {"currentModeId": "ask", "_meta": {},
                  "availableModes": [{"id": "ask", "name": "Ask", "description": "asks"},
                                     {"id": "code", "name": "Code", "u": 1}]},
        "_meta": {"x": 1}, "u": true, "configOptions": )") +
                                                 std::string(config_options) + "}");
  ASSERT_TRUE(r.config_options);
  const auto& opts = *r.config_options;
  ASSERT_EQ(opts.size(), 4u);
  const auto& select = std::get<acp::session_config_select>(opts[0].kind);
  EXPECT_EQ(select.current_value, "fast");
  EXPECT_EQ(std::get<0>(select.options).size(), 2u);
  EXPECT_TRUE(select.extra.contains("u"));
  EXPECT_EQ(opts[0].category, acp::session_config_option_category::model);
  EXPECT_TRUE(std::get<acp::session_config_boolean>(opts[1].kind).current_value);
  EXPECT_TRUE(opts[1].meta.has_value());
  EXPECT_EQ(std::get<1>(std::get<acp::session_config_select>(opts[2].kind).options)[0].group, "g1");
  const auto& fut = std::get<acp::unknown_variant>(opts[3].kind);
  EXPECT_TRUE(fut.json.contains("min"));
  EXPECT_FALSE(fut.json.contains("id")); // described by the option itself
}

TEST(types_round_trip, load_list_delete_resume_close) {
  round_trip<acp::load_session_request>(
      R"({"mcpServers": [], "cwd": "/p", "additionalDirectories": [], "sessionId": "s1", "_meta": {}, "u": 1})");
  round_trip<acp::load_session_response>(
      R"({"modes": {"currentModeId": "a", "availableModes": [], "u": 3}, "configOptions": [], "_meta": {"a": 1}, "u": 1})");
  round_trip<acp::list_sessions_request>(R"({"cwd": "/p", "cursor": "c1", "_meta": {}, "u": 1})");
  round_trip<acp::list_sessions_response>(R"({
    "sessions": [{"sessionId": "s1", "cwd": "/p", "additionalDirectories": ["/q"], "title": "T",
                  "updatedAt": "2025-01-01T00:00:00Z", "_meta": {"a": 1}, "u": 1}],
    "nextCursor": "c2", "_meta": {}, "u": 1})");
  round_trip<acp::delete_session_request>(R"({"sessionId": "s1", "_meta": {}, "u": 1})");
  round_trip<acp::delete_session_response>(R"({"_meta": {"a": [1]}, "u": 1})");
  round_trip<acp::resume_session_request>(R"({"sessionId": "s", "cwd": "/p", "additionalDirectories": ["/x"],
    "mcpServers": [{"name": "n", "command": "c", "args": [], "env": [], "_meta": {"z": 1}, "u": 1}],
    "_meta": {}, "u": 1})");
  round_trip<acp::resume_session_response>(std::string(R"({"_meta": {}, "u": 1, "configOptions": )") +
                                           std::string(config_options) + "}");
  round_trip<acp::close_session_request>(R"({"sessionId": "s1", "_meta": {}, "u": 1})");
  round_trip<acp::close_session_response>(R"({"_meta": {}, "u": 1})");
}

TEST(types_round_trip, set_mode_and_config_option) {
  round_trip<acp::set_session_mode_request>(R"({"sessionId": "s", "modeId": "code", "_meta": {}, "u": 1})");
  round_trip<acp::set_session_mode_response>(R"({"_meta": {}, "u": 1})");
  auto select = round_trip<acp::set_session_config_option_request>(
      R"({"sessionId": "s", "configId": "model", "value": "smart", "_meta": {"a": {"b": 1}}, "u": 1})");
  EXPECT_EQ(std::get<std::string>(select.value), "smart");
  EXPECT_FALSE(select.type);
  auto boolean = round_trip<acp::set_session_config_option_request>(
      R"({"sessionId": "s", "configId": "think", "type": "boolean", "value": false})");
  EXPECT_EQ(std::get<bool>(boolean.value), false);
  round_trip<acp::set_session_config_option_response>(std::string(R"({"_meta": {}, "u": 1, "configOptions": )") +
                                                      std::string(config_options) + "}");
}

TEST(types_round_trip, prompt_request_with_every_content_block) {
  auto r = round_trip<acp::prompt_request>(R"({
    "sessionId": "s",
    "prompt": [
      {"type": "text", "text": "hi", "_meta": {"a": 1}, "u": 1,
       "annotations": {"audience": ["user", "robot"], "priority": 0.5, "lastModified": "2025-01-01",
                       "_meta": {}, "u": 2}},
      {"type": "image", "data": "aGk=", "mimeType": "image/png", "uri": "file:///a.png"},
      {"type": "audio", "data": "aGk=", "mimeType": "audio/wav", "_meta": {}},
      {"type": "resource_link", "name": "a.txt", "uri": "file:///a.txt", "description": "d",
       "mimeType": "text/plain", "size": 12, "title": "A"},
      {"type": "resource", "resource": {"uri": "file:///b.txt", "text": "body", "mimeType": "text/plain", "u": 1}},
      {"type": "resource", "resource": {"uri": "file:///c.bin", "blob": "AAEC", "_meta": {}}},
      {"type": "video", "url": "x"}
    ],
    "_meta": {"traceparent": "00-abc"},
    "u": 1
  })");
  ASSERT_EQ(r.prompt.size(), 7u);
  EXPECT_EQ(std::get<acp::text_content>(r.prompt[0]).text, "hi");
  EXPECT_EQ(std::get<acp::text_content>(r.prompt[0]).annotations->priority, 0.5);
  EXPECT_EQ(std::get<acp::resource_link>(r.prompt[3]).size, 12);
  const auto& res = std::get<acp::embedded_resource>(r.prompt[4]).resource;
  EXPECT_EQ(std::get<acp::text_resource_contents>(res).text, "body");
  EXPECT_TRUE(
      std::holds_alternative<acp::blob_resource_contents>(std::get<acp::embedded_resource>(r.prompt[5]).resource));
  const auto& unknown = std::get<acp::unknown_variant>(r.prompt[6]);
  EXPECT_EQ(unknown.json.at("type").as_string(), "video");
}

TEST(types_round_trip, prompt_response_and_cancel) {
  EXPECT_EQ(round_trip<acp::prompt_response>(R"({"stopReason": "end_turn", "_meta": {}, "u": 1})").stop_reason,
            acp::stop_reason::end_turn);
  EXPECT_EQ(round_trip<acp::prompt_response>(R"({"stopReason": "future_reason"})").stop_reason.str(), "future_reason");
  round_trip<acp::cancel_notification>(R"({"sessionId": "s", "_meta": {}, "u": 1})");
}

TEST(types_round_trip, cancel_request_keeps_id_type) {
  EXPECT_EQ(round_trip<acp::cancel_request_notification>(R"({"requestId": 7, "_meta": {}, "u": 1})").request_id,
            boost::json::value(7));
  EXPECT_EQ(round_trip<acp::cancel_request_notification>(R"({"requestId": "7"})").request_id, boost::json::value("7"));
  EXPECT_TRUE(round_trip<acp::cancel_request_notification>(R"({"requestId": null})").request_id.is_null());
}

} // namespace
