// acp-fanout's pure logic: names, ids, the merged initialize and session results, stop reasons,
// update tagging and the speaker headings.
#include <acp/fanout/merge.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace {
namespace json = boost::json;
using namespace acp::fanout;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(fanout_names, duplicates_get_a_number_in_order) {
  EXPECT_EQ(unique_names({"codex-acp", "claude", "codex-acp", "codex-acp"}),
            (std::vector<std::string>{"codex-acp", "claude", "codex-acp#2", "codex-acp#3"}));
}

TEST(fanout_names, a_given_name_that_looks_numbered_is_not_reused) {
  EXPECT_EQ(unique_names({"a", "a#2", "a"}), (std::vector<std::string>{"a", "a#2", "a#3"}));
}

TEST(fanout_ids, prefixed_ids_split_back_to_their_agent_longest_name_first) {
  const std::vector<std::string> names{"a", "a/b", "c"};
  EXPECT_EQ(prefixed_id("c", "x/y"), "c/x/y");
  auto hit = split_prefixed_id(names, "a/b/oauth");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->first, 1u);
  EXPECT_EQ(hit->second, "oauth");
  hit = split_prefixed_id(names, "c/x/y");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->first, 2u);
  EXPECT_EQ(hit->second, "x/y");
  EXPECT_FALSE(split_prefixed_id(names, "d/x"));
  EXPECT_FALSE(split_prefixed_id(names, "c/"));
}

TEST(fanout_sessions, session_ids_round_trip_with_awkward_characters) {
  const std::vector<std::string> ids{"sess-1", "a,b%c d", ""};
  const auto up = encode_session_id(ids);
  EXPECT_EQ(up.rfind("fanout:", 0), 0u);
  EXPECT_EQ(up.find(' '), std::string::npos);
  auto back = decode_session_id(up, 3);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, ids);
  EXPECT_FALSE(decode_session_id(up, 2));              // another fan-out's id
  EXPECT_FALSE(decode_session_id("sess-1", 1));        // not ours at all
  EXPECT_FALSE(decode_session_id("fanout:a%2", 1));    // cut escape
  EXPECT_FALSE(decode_session_id("fanout:a%zz,b", 2)); // bad escape
}

TEST(fanout_initialize, capabilities_are_the_intersection_and_auth_methods_are_prefixed) {
  const auto a = obj(R"({"protocolVersion":1,"agentCapabilities":{"loadSession":true,
      "promptCapabilities":{"image":true,"audio":true,"embeddedContext":false},
      "mcpCapabilities":{"http":true,"sse":true}},
      "authMethods":[{"id":"login","name":"Log in"}],"agentInfo":{"name":"alpha","version":"1"}})");
  const auto b = obj(R"({"protocolVersion":1,"agentCapabilities":{"loadSession":false,
      "promptCapabilities":{"image":true,"audio":false},"mcpCapabilities":{"http":true}},
      "authMethods":[{"id":"login","name":"Sign in"},{"id":"key","name":"API key"}]})");
  const auto m = merge_initialize({"alpha", "beta"}, {a, b}, "9.9");
  EXPECT_EQ(m.at("protocolVersion"), 1);
  const auto& caps = m.at("agentCapabilities").as_object();
  EXPECT_EQ(caps.at("loadSession"), false);
  EXPECT_EQ(caps.at("promptCapabilities"), json::parse(R"({"image":true,"audio":false,"embeddedContext":false})"));
  EXPECT_EQ(caps.at("mcpCapabilities"), json::parse(R"({"http":true,"sse":false})"));
  const auto& auth = m.at("authMethods").as_array();
  ASSERT_EQ(auth.size(), 3u);
  EXPECT_EQ(auth[0].at("id"), "alpha/login");
  EXPECT_EQ(auth[0].at("name"), "[alpha] Log in");
  EXPECT_EQ(auth[1].at("id"), "beta/login");
  EXPECT_EQ(auth[2].at("id"), "beta/key");
  EXPECT_EQ(m.at("agentInfo").at("name"), "acp-fanout");
  EXPECT_EQ(m.at("agentInfo").at("version"), "9.9");
  const auto& agents = m.at("_meta").at("fanout").at("agents").as_array();
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0].at("agentInfo").at("name"), "alpha");
  EXPECT_EQ(agents[1].at("name"), "beta");
}

TEST(fanout_initialize, lowest_protocol_version_and_missing_capabilities_are_false) {
  const auto m = merge_initialize(
      {"a", "b"},
      {obj(R"({"protocolVersion":2,"agentCapabilities":{"loadSession":true}})"), obj(R"({"protocolVersion":1})")}, "1");
  EXPECT_EQ(m.at("protocolVersion"), 1);
  EXPECT_EQ(m.at("agentCapabilities").at("loadSession"), false);
  EXPECT_TRUE(m.at("authMethods").as_array().empty());
}

TEST(fanout_sessions, modes_are_intersected_and_config_options_united) {
  const auto a = obj(R"({"sessionId":"s1","modes":{"currentModeId":"ask","availableModes":[
      {"id":"ask","name":"Ask"},{"id":"code","name":"Code"}]},
      "configOptions":[{"id":"model","name":"Model"}]})");
  const auto b = obj(R"({"sessionId":"s2","modes":{"currentModeId":"code","availableModes":[{"id":"ask","name":"Ask"}]},
      "configOptions":[{"id":"model","name":"Other"},{"id":"effort","name":"Effort"}]})");
  const auto m = merge_session_results({"a", "b"}, {&a, &b}, "fanout:s1,s2", {"s1", "s2"});
  EXPECT_EQ(m.at("sessionId"), "fanout:s1,s2");
  EXPECT_EQ(m.at("modes"), json::parse(R"({"availableModes":[{"id":"ask","name":"Ask"}],"currentModeId":"ask"})"));
  const auto& opts = m.at("configOptions").as_array();
  ASSERT_EQ(opts.size(), 2u);
  EXPECT_EQ(opts[0].at("name"), "Model");
  EXPECT_EQ(opts[1].at("id"), "effort");
  EXPECT_EQ(m.at("_meta").at("fanout").at("sessions"), json::parse(R"({"a":"s1","b":"s2"})"));
  EXPECT_EQ(config_option_ids(b), (std::vector<std::string>{"model", "effort"}));
  const auto plain = merge_session_results({"a"}, {nullptr}, "");
  EXPECT_TRUE(plain.empty()) << json::serialize(plain); // no modes, no options, no null members
}

TEST(fanout_turns, end_turn_only_when_all_ended_so_else_the_most_serious) {
  EXPECT_EQ(merge_stop_reasons({"end_turn", "end_turn"}), "end_turn");
  EXPECT_EQ(merge_stop_reasons({"end_turn", "max_tokens"}), "max_tokens");
  EXPECT_EQ(merge_stop_reasons({"max_tokens", "cancelled", "end_turn"}), "cancelled");
  EXPECT_EQ(merge_stop_reasons({"cancelled", "refusal"}), "refusal");
  EXPECT_EQ(merge_stop_reasons({"end_turn", "paused"}), "paused"); // unknown: more than max_tokens
  EXPECT_EQ(merge_stop_reasons({}), "end_turn");
}

TEST(fanout_updates, tool_call_ids_are_namespaced_and_meta_names_the_agent) {
  auto p = obj(R"({"sessionId":"x","update":{"sessionUpdate":"tool_call","toolCallId":"call-1","title":"Read",
      "_meta":{"seq":3}}})");
  tag_update(p, "beta");
  EXPECT_EQ(p.at("update").at("toolCallId"), "beta/call-1");
  EXPECT_EQ(p.at("update").at("_meta"), json::parse(R"({"seq":3,"fanout":{"agent":"beta"}})"));
  auto chunk = obj(R"({"sessionId":"x","update":{"sessionUpdate":"agent_message_chunk",
      "content":{"type":"text","text":"hi"}}})");
  EXPECT_EQ(message_chunk_text(chunk), "hi");
  tag_update(chunk, "a");
  EXPECT_EQ(chunk.at("update").at("_meta").at("fanout").at("agent"), "a");
  EXPECT_FALSE(chunk.at("update").as_object().contains("toolCallId"));
  EXPECT_FALSE(message_chunk_text(p));
}

TEST(fanout_updates, permission_requests_name_the_agent_in_title_and_meta) {
  auto p = obj(R"({"sessionId":"x","toolCall":{"toolCallId":"call-1","title":"Write file"},"options":[]})");
  tag_agent_request("session/request_permission", p, "codex-acp#2");
  EXPECT_EQ(p.at("toolCall").at("toolCallId"), "codex-acp#2/call-1");
  EXPECT_EQ(p.at("toolCall").at("title"), "[codex-acp#2] Write file");
  EXPECT_EQ(p.at("_meta").at("fanout").at("agent"), "codex-acp#2");
  auto r = obj(R"({"sessionId":"x","path":"/tmp/f"})");
  tag_agent_request("fs/read_text_file", r, "a");
  EXPECT_EQ(r.at("path"), "/tmp/f");
  EXPECT_EQ(r.at("_meta").at("fanout").at("agent"), "a");
}

TEST(fanout_framing, a_heading_when_an_agent_starts_or_speakers_switch) {
  speaker_framing f;
  EXPECT_EQ(f.before_chunk("a"), "[a]\n");
  f.sent("echo: ");
  EXPECT_EQ(f.before_chunk("a"), std::nullopt);
  f.sent("hello");
  EXPECT_EQ(f.before_chunk("b"), "\n\n[b]\n"); // ends a's line, then a blank line
  f.sent("line\n");
  EXPECT_EQ(f.before_chunk("a"), "\n[a]\n");
  f.sent("x");
  EXPECT_EQ(f.notice("[b] failed: boom"), "\n[b] failed: boom\n");
  EXPECT_EQ(f.before_chunk("a"), "[a]\n"); // after a notice the speaker is named again
  f.reset();
  EXPECT_EQ(f.before_chunk("a"), "[a]\n");
  const auto u = text_update("up", "[a]\n", json::object{{"agent", "a"}, {"heading", true}});
  EXPECT_EQ(u.at("sessionId"), "up");
  EXPECT_EQ(message_chunk_text(u), "[a]\n");
  EXPECT_EQ(u.at("update").at("_meta").at("fanout").at("heading"), true);
}

} // namespace
