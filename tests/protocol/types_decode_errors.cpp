// Decode errors name the offending member by its JSON path; nothing throws.
#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

namespace {

template <class T> std::string error_of(std::string_view text) {
  auto r = acp::decode<T>(boost::json::parse(text));
  EXPECT_FALSE(r.has_value());
  return r ? std::string("<decoded>") : r.error().what();
}

TEST(types_decode_errors, wrong_type_nested_in_array) {
  EXPECT_EQ(error_of<acp::prompt_request>(
                R"({"sessionId": "s", "prompt": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"},
                                                {"type": "text", "text": 5}]})"),
            "prompt[2].text: expected string");
}

TEST(types_decode_errors, decode_params_prefixes_params) {
  const auto params =
      boost::json::parse(R"({"sessionId": "s", "prompt": [{"type": "text", "text": "a"}, {"type": 3}]})");
  auto r = acp::decode_params<acp::prompt_request>(&params);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().path, "params.prompt[1].type");
  EXPECT_EQ(r.error().message, "expected string");
  EXPECT_EQ(r.error().what(), "params.prompt[1].type: expected string");
}

TEST(types_decode_errors, missing_required_field) {
  EXPECT_EQ(error_of<acp::prompt_request>(R"({"prompt": []})"), "sessionId: missing required field");
  EXPECT_EQ(error_of<acp::prompt_request>(R"({"sessionId": "s", "prompt": [{"text": "x"}]})"),
            "prompt[0].type: missing required field");
  EXPECT_EQ(
      error_of<acp::new_session_request>(
          R"({"cwd": "/", "mcpServers": [{"name": "n", "command": "c", "args": [], "env": [{"name": "a", "value": "b"}, {"name": "k"}]}]})"),
      "mcpServers[0].env[1].value: missing required field");
  EXPECT_EQ(error_of<acp::session_notification>(R"({"sessionId": "s", "update": {"sessionUpdate": "plan"}})"),
            "update.entries: missing required field");
}

TEST(types_decode_errors, wrong_scalar_types) {
  EXPECT_EQ(error_of<acp::prompt_request>(R"({"sessionId": 5, "prompt": []})"), "sessionId: expected string");
  EXPECT_EQ(error_of<acp::prompt_request>(R"({"sessionId": "s", "prompt": {}})"), "prompt: expected array");
  EXPECT_EQ(error_of<acp::terminal_output_response>(R"({"output": "", "truncated": "no"})"),
            "truncated: expected boolean");
  EXPECT_EQ(error_of<acp::read_text_file_request>(R"({"sessionId": "s", "path": "/", "line": -1})"),
            "line: integer out of range");
  EXPECT_EQ(error_of<acp::read_text_file_request>(R"({"sessionId": "s", "path": "/", "line": 1.5})"),
            "line: expected integer");
  EXPECT_EQ(error_of<acp::initialize_request>(R"({"protocolVersion": 70000})"),
            "protocolVersion: integer out of range");
  EXPECT_EQ(
      error_of<acp::session_notification>(
          R"({"sessionId": "s", "update": {"sessionUpdate": "usage_update", "used": 1, "size": 2, "cost": {"amount": "1", "currency": "USD"}}})"),
      "update.cost.amount: expected number");
  EXPECT_EQ(error_of<acp::create_elicitation_response>(R"({"action": "accept", "content": {"x": {"y": 1}}})"),
            "content.x: expected string, number, boolean or array of strings");
}

TEST(types_decode_errors, not_an_object) {
  EXPECT_EQ(error_of<acp::prompt_request>("[1]"), "expected object");
  EXPECT_EQ(error_of<acp::request_permission_response>(R"({"outcome": "selected"})"), "outcome: expected object");
}

TEST(types_decode_errors, discriminator_must_be_a_string) {
  EXPECT_EQ(error_of<acp::session_notification>(R"({"sessionId": "s", "update": {"sessionUpdate": 1}})"),
            "update.sessionUpdate: expected string");
}

TEST(types_decode_errors, unknown_discriminator_is_not_an_error) {
  // Every tagged union of the schema is open here: unknown variants are kept, not rejected.
  auto r = acp::decode<acp::request_permission_response>(boost::json::parse(R"({"outcome": {"outcome": "maybe"}})"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>(r->outcome));
}

TEST(types_decode_errors, null_optional_reads_as_absent) {
  auto r = acp::decode<acp::read_text_file_request>(
      boost::json::parse(R"({"sessionId": "s", "path": "/a", "line": null, "_meta": null})"));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_FALSE(r->line);
  EXPECT_FALSE(r->meta);
  EXPECT_EQ(acp::encode(*r), boost::json::parse(R"({"sessionId": "s", "path": "/a"})"));
}

TEST(types_decode_errors, absent_or_null_params_read_as_empty_object) {
  EXPECT_TRUE(acp::decode_params<acp::logout_request>(nullptr));
  const boost::json::value null;
  EXPECT_TRUE(acp::decode_result<acp::authenticate_response>(&null));
  auto r = acp::decode_params<acp::cancel_notification>(nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "params.sessionId: missing required field");
  auto res = acp::decode_result<acp::prompt_response>(&null);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().what(), "result.stopReason: missing required field");
}

TEST(types_decode_errors, value_throws_only_when_asked) {
  auto r = acp::decode<acp::prompt_request>(boost::json::parse("{}"));
  ASSERT_FALSE(r);
  EXPECT_THROW((void)r.value(), std::runtime_error);
}

} // namespace
