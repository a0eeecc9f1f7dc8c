// Encoding typed values built in code: absent optionals are omitted (never null), tags are
// written, `extra` never overrides typed members.
#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace {

boost::json::value json(std::string_view text) { return boost::json::parse(text); }

TEST(types_encode, absent_optionals_are_omitted) {
  acp::tool_call call;
  call.tool_call_id = "t1";
  call.title = "Read";
  const auto v = acp::encode(call);
  EXPECT_EQ(v, json(R"({"toolCallId": "t1", "title": "Read"})")) << boost::json::serialize(v);
  for (const auto& kv : v.as_object()) EXPECT_FALSE(kv.value().is_null()) << kv.key();

  acp::initialize_request init;
  EXPECT_EQ(acp::encode(init), json(R"({"protocolVersion": 1})"));
}

TEST(types_encode, session_update_carries_its_tag) {
  acp::agent_message_chunk chunk;
  chunk.content = acp::text_content{.text = "hi"};
  const acp::session_notification n{.session_id = "s", .update = chunk};
  EXPECT_EQ(acp::encode(n), json(R"({"sessionId": "s", "update": {"sessionUpdate": "agent_message_chunk",
                                                  "content": {"type": "text", "text": "hi"}}})"));
}

TEST(types_encode, untagged_alternatives_have_no_tag) {
  acp::mcp_server stdio = acp::mcp_server_stdio{.name = "n", .command = "c"};
  EXPECT_EQ(acp::encode(stdio), json(R"({"name": "n", "command": "c", "args": [], "env": []})"));
  acp::auth_method agent = acp::auth_method_agent{.id = "a", .name = "A"};
  EXPECT_EQ(acp::encode(agent), json(R"({"id": "a", "name": "A"})"));
}

TEST(types_encode, flattened_variant_members_share_the_object) {
  acp::session_config_option opt{.id = "think", .name = "Think"};
  opt.kind = acp::session_config_boolean{.current_value = true};
  EXPECT_EQ(acp::encode(opt), json(R"({"id": "think", "name": "Think", "type": "boolean", "currentValue": true})"));

  acp::create_elicitation_request req{.message = "m", .session_id = "s"};
  req.mode = acp::elicitation_url_mode{.elicitation_id = "e", .url = "https://x"};
  EXPECT_EQ(acp::encode(req), json(R"({"message": "m", "mode": "url", "elicitationId": "e",
                                       "url": "https://x", "sessionId": "s"})"));
}

TEST(types_encode, extra_never_overrides_typed_members) {
  acp::prompt_response r{.stop_reason = acp::stop_reason::end_turn};
  r.extra["stopReason"] = "refusal";
  r.extra["x"] = 1;
  EXPECT_EQ(acp::encode(r), json(R"({"stopReason": "end_turn", "x": 1})"));
}

TEST(types_encode, integral_doubles_are_written_as_integers) {
  acp::cost c{.amount = 2.0, .currency = "USD"};
  const auto v = acp::encode(c);
  EXPECT_TRUE(v.at("amount").is_int64());
  EXPECT_EQ(boost::json::serialize(v.at("amount")), "2");
  c.amount = 0.5;
  EXPECT_TRUE(acp::encode(c).at("amount").is_double());
}

TEST(types_encode, meta_is_written_as_given) {
  acp::cancel_notification n{.session_id = "s", .meta = json(R"({"trace": 1})")};
  EXPECT_EQ(acp::encode(n), json(R"({"sessionId": "s", "_meta": {"trace": 1}})"));
}

static_assert(acp::method_traits<acp::prompt_request>::method == "session/prompt");
static_assert(std::is_same_v<acp::method_traits<acp::prompt_request>::response, acp::prompt_response>);
static_assert(acp::method_traits<acp::prompt_request>::is_request);
static_assert(acp::method_traits<acp::prompt_request>::receiver == acp::peer::agent);
static_assert(!acp::method_traits<acp::session_notification>::is_request);
static_assert(std::is_void_v<acp::method_traits<acp::session_notification>::response>);
static_assert(acp::method_traits<acp::session_notification>::receiver == acp::peer::client);
static_assert(!acp::method_traits<acp::cancel_request_notification>::receiver);
static_assert(acp::method_params<acp::initialize_request>);
static_assert(!acp::method_params<acp::initialize_response>);

} // namespace
