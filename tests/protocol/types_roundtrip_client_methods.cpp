// encode(decode(x)) == x for the params and results of every agent -> client method, every
// session/update variant and every elicitation shape.
#include "types_round_trip.hpp"

#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace {

using acp::test::round_trip;

acp::session_update update_round_trip(std::string_view update) {
  auto n = round_trip<acp::session_notification>(
      std::string(R"({"sessionId": "s", "_meta": {"t": 1}, "u": 1, "update": )") + std::string(update) + "}");
  return n.update;
}

TEST(types_round_trip, request_permission) {
  auto r = round_trip<acp::request_permission_request>(R"({
    "sessionId": "s",
    "toolCall": {"toolCallId": "t1", "title": "Edit", "kind": "edit", "status": "pending",
                 "content": [{"type": "diff", "path": "/a", "oldText": "x", "newText": "y", "u": 1}],
                 "locations": [{"path": "/a", "line": 3, "_meta": {}}],
                 "rawInput": {"path": "/a", "any": [1, null]}, "_meta": {"k": 1}, "u": 1},
    "options": [{"optionId": "o1", "name": "Allow", "kind": "allow_once"},
                {"optionId": "o2", "name": "Never", "kind": "reject_always", "_meta": {}, "u": 1}],
    "_meta": {}, "u": 1
  })");
  EXPECT_EQ(r.tool_call.kind, acp::tool_kind::edit);
  EXPECT_EQ(std::get<acp::diff>((*r.tool_call.content)[0]).new_text, "y");
  EXPECT_EQ(r.options[1].kind, acp::permission_option_kind::reject_always);

  auto selected = round_trip<acp::request_permission_response>(
      R"({"outcome": {"outcome": "selected", "optionId": "o1", "_meta": {}, "u": 1}, "_meta": {}, "u": 1})");
  EXPECT_EQ(std::get<acp::selected_permission_outcome>(selected.outcome).option_id, "o1");
  auto cancelled = round_trip<acp::request_permission_response>(R"({"outcome": {"outcome": "cancelled"}})");
  EXPECT_TRUE(std::holds_alternative<acp::cancelled_permission_outcome>(cancelled.outcome));
  auto unknown =
      round_trip<acp::request_permission_response>(R"({"outcome": {"outcome": "deferred", "until": "later"}})");
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>(unknown.outcome));
}

TEST(types_round_trip, session_update_message_chunks) {
  auto user = update_round_trip(
      R"({"sessionUpdate": "user_message_chunk", "content": {"type": "text", "text": "hi"}, "messageId": "m1", "_meta": {}, "u": 1})");
  EXPECT_EQ(std::get<acp::text_content>(std::get<acp::user_message_chunk>(user).content).text, "hi");
  auto agent = update_round_trip(
      R"({"sessionUpdate": "agent_message_chunk", "content": {"type": "image", "data": "AA==", "mimeType": "image/png", "u": 2}})");
  EXPECT_TRUE(std::holds_alternative<acp::agent_message_chunk>(agent));
  auto thought =
      update_round_trip(R"({"sessionUpdate": "agent_thought_chunk", "content": {"type": "text", "text": "hmm"}})");
  EXPECT_TRUE(std::holds_alternative<acp::agent_thought_chunk>(thought));
}

TEST(types_round_trip, session_update_tool_calls) {
  auto call = update_round_trip(R"({"sessionUpdate": "tool_call", "toolCallId": "t1", "title": "Read",
    "kind": "read", "status": "in_progress",
    "content": [{"type": "content", "content": {"type": "text", "text": "x"}, "_meta": {}},
                {"type": "terminal", "terminalId": "term1", "u": 1},
                {"type": "hologram", "z": 1}],
    "locations": [{"path": "/a"}], "rawInput": {"p": 1}, "rawOutput": "out", "_meta": {}, "u": 1})");
  const auto& tc = std::get<acp::tool_call>(call);
  EXPECT_EQ(tc.status, acp::tool_call_status::in_progress);
  EXPECT_EQ(std::get<acp::terminal>((*tc.content)[1]).terminal_id, "term1");
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>((*tc.content)[2]));
  auto update = update_round_trip(R"({"sessionUpdate": "tool_call_update", "toolCallId": "t1",
    "status": "completed", "title": "Done", "content": [], "rawOutput": {"ok": true}})");
  EXPECT_EQ(std::get<acp::tool_call_update>(update).title, "Done");
}

TEST(types_round_trip, session_update_other_variants) {
  auto p = update_round_trip(R"({"sessionUpdate": "plan",
    "entries": [{"content": "step", "priority": "high", "status": "pending", "_meta": {}, "u": 1}]})");
  EXPECT_EQ(std::get<acp::plan>(p).entries[0].priority, acp::plan_entry_priority::high);
  auto cmds = update_round_trip(R"({"sessionUpdate": "available_commands_update", "availableCommands": [
    {"name": "web", "description": "Search", "input": {"hint": "query", "_meta": {}}},
    {"name": "x", "description": "y", "input": {"schema": {}}},
    {"name": "z", "description": "w", "u": 1}]})");
  const auto& list = std::get<acp::available_commands_update>(cmds).available_commands;
  EXPECT_EQ(std::get<acp::unstructured_command_input>(*list[0].input).hint, "query");
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>(*list[1].input));
  update_round_trip(R"({"sessionUpdate": "current_mode_update", "currentModeId": "code", "_meta": {}})");
  update_round_trip(R"({"sessionUpdate": "config_option_update",
    "configOptions": [{"id": "t", "name": "T", "type": "boolean", "currentValue": false}]})");
  update_round_trip(R"({"sessionUpdate": "session_info_update", "title": "New", "updatedAt": "2025-01-01T00:00:00Z"})");
  auto usage = update_round_trip(R"({"sessionUpdate": "usage_update", "used": 1200, "size": 200000,
    "cost": {"amount": 0.25, "currency": "USD", "_meta": {}, "u": 1}})");
  EXPECT_EQ(std::get<acp::usage_update>(usage).cost->amount, 0.25);
  auto future = update_round_trip(R"({"sessionUpdate": "future_update", "data": [1]})");
  EXPECT_EQ(std::get<acp::unknown_variant>(future).json.at("sessionUpdate").as_string(), "future_update");
}

TEST(types_round_trip, fs_methods) {
  auto read = round_trip<acp::read_text_file_request>(
      R"({"sessionId": "s", "path": "/a", "line": 10, "limit": 5, "_meta": {}, "u": 1})");
  EXPECT_EQ(read.line, 10u);
  round_trip<acp::read_text_file_response>(R"({"content": "text", "_meta": {}, "u": 1})");
  round_trip<acp::write_text_file_request>(R"({"sessionId": "s", "path": "/a", "content": "x", "_meta": {}, "u": 1})");
  round_trip<acp::write_text_file_response>(R"({"u": 1})");
}

TEST(types_round_trip, terminal_methods) {
  auto create = round_trip<acp::create_terminal_request>(R"({"sessionId": "s", "command": "ls", "args": ["-l"],
    "env": [{"name": "A", "value": "B", "u": 1}], "cwd": "/p", "outputByteLimit": 1048576, "_meta": {}, "u": 1})");
  EXPECT_EQ(create.output_byte_limit, 1048576u);
  round_trip<acp::create_terminal_response>(R"({"terminalId": "term1", "_meta": {}})");
  round_trip<acp::terminal_output_request>(R"({"sessionId": "s", "terminalId": "term1", "_meta": {}, "u": 1})");
  auto out = round_trip<acp::terminal_output_response>(R"({"output": "x", "truncated": false,
    "exitStatus": {"exitCode": 0, "signal": "SIGTERM", "_meta": {}, "u": 1}, "_meta": {}, "u": 1})");
  EXPECT_EQ(out.exit_status->exit_code, 0u);
  round_trip<acp::release_terminal_request>(R"({"sessionId": "s", "terminalId": "t", "u": 1})");
  round_trip<acp::release_terminal_response>(R"({"_meta": {}})");
  round_trip<acp::wait_for_terminal_exit_request>(R"({"sessionId": "s", "terminalId": "t", "_meta": {}})");
  round_trip<acp::wait_for_terminal_exit_response>(R"({"exitCode": 1, "signal": "SIGKILL", "_meta": {}, "u": 1})");
  round_trip<acp::kill_terminal_request>(R"({"sessionId": "s", "terminalId": "t", "_meta": {}, "u": 1})");
  round_trip<acp::kill_terminal_response>(R"({})");
}

TEST(types_round_trip, elicitation_form) {
  auto r = round_trip<acp::create_elicitation_request>(R"({
    "message": "Fill", "mode": "form", "sessionId": "s", "toolCallId": "t",
    "requestedSchema": {
      "type": "object", "title": "T", "description": "D", "required": ["name"],
      "properties": {
        "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 50, "pattern": "^a",
                 "format": "email", "default": "a@b", "_meta": {}, "u": 1},
        "color": {"type": "string", "enum": ["r", "g"], "oneOf": [{"const": "r", "title": "Red", "description": "d"}]},
        "n": {"type": "number", "minimum": 0.5, "maximum": 9.5, "default": 1.5},
        "i": {"type": "integer", "minimum": -1, "maximum": 10, "default": 3},
        "b": {"type": "boolean", "default": true},
        "tags": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string", "enum": ["a", "b"]}, "default": ["a"]},
        "t2": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "X", "_meta": {}}]}},
        "fut": {"type": "date-range", "from": "x"}
      },
      "_meta": {}, "u": 1
    },
    "_meta": {}, "u": 1
  })");
  const auto& form = std::get<acp::elicitation_form_mode>(r.mode);
  EXPECT_EQ(r.session_id, "s");
  EXPECT_TRUE(form.extra.contains("u"));
  const auto& props = *form.requested_schema.properties;
  EXPECT_EQ(std::get<acp::string_property_schema>(props.at("name")).max_length, 50u);
  EXPECT_EQ(std::get<acp::integer_property_schema>(props.at("i")).minimum, -1);
  EXPECT_TRUE(std::holds_alternative<acp::titled_multi_select_items>(
      std::get<acp::multi_select_property_schema>(props.at("t2")).items));
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>(props.at("fut")));
}

TEST(types_round_trip, elicitation_url_and_unknown_mode) {
  auto url = round_trip<acp::create_elicitation_request>(
      R"({"message": "Open", "mode": "url", "requestId": 7, "elicitationId": "e1", "url": "https://x/auth", "u": 1})");
  EXPECT_EQ(std::get<acp::elicitation_url_mode>(url.mode).url, "https://x/auth");
  EXPECT_EQ(url.request_id, boost::json::value(7));
  auto voice = round_trip<acp::create_elicitation_request>(
      R"({"message": "m", "mode": "voice", "sessionId": "s", "prompt": "x"})");
  EXPECT_TRUE(std::holds_alternative<acp::unknown_variant>(voice.mode));
}

TEST(types_round_trip, elicitation_results) {
  auto accept = round_trip<acp::create_elicitation_response>(
      R"({"action": "accept", "content": {"name": "a", "n": 1.5, "i": 3, "b": true, "tags": ["a"]}, "_meta": {}, "u": 1})");
  const auto& c = *accept.content;
  EXPECT_EQ(std::get<std::string>(c.at("name")), "a");
  EXPECT_EQ(std::get<double>(c.at("n")), 1.5);
  EXPECT_EQ(std::get<std::int64_t>(c.at("i")), 3);
  EXPECT_EQ(std::get<bool>(c.at("b")), true);
  EXPECT_EQ(std::get<std::vector<std::string>>(c.at("tags")).size(), 1u);
  round_trip<acp::create_elicitation_response>(R"({"action": "decline"})");
  round_trip<acp::create_elicitation_response>(R"({"action": "cancel", "_meta": {}})");
  round_trip<acp::complete_elicitation_notification>(R"({"elicitationId": "e1", "_meta": {}, "u": 1})");
}

} // namespace
