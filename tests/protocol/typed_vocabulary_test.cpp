// The typed vocabulary every proxy writes: open enums (named constants that assign and compare,
// unknown values kept byte-exact), designated initialisers for every message type, and
// Boost.JSON's value_to / value_from for the typed messages.
#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

namespace json = boost::json;

json::value parse(std::string_view text) { return json::parse(text); }

// ---- open enums --------------------------------------------------------------------------------

// A constant converts to its own enumeration only; no string converts implicitly.
static_assert(std::is_convertible_v<acp::stop_reason::constant, acp::stop_reason>);
static_assert(!std::is_convertible_v<acp::stop_reason::constant, acp::tool_kind>);
static_assert(!std::is_assignable_v<std::optional<acp::tool_kind>&, acp::tool_call_status::constant>);
static_assert(!std::is_convertible_v<const char*, acp::stop_reason>);
static_assert(!std::is_convertible_v<std::string, acp::stop_reason>);
static_assert(std::is_constructible_v<acp::stop_reason, std::string>);
static_assert(acp::tool_kind::delete_.str() == "delete");

/// Every named constant of `E` has the schema's wire text, assigns, compares equal to itself
/// and to a value read from its text, differs from every other constant, and round-trips.
template <class E> void check_constants(std::vector<std::pair<typename E::constant, std::string_view>> all) {
  for (const auto& [c, text] : all) {
    E e;
    EXPECT_TRUE(e.empty());
    e = c;
    EXPECT_EQ(e.str(), text);
    EXPECT_EQ(acp::to_string(e), text);
    EXPECT_TRUE(e == c);
    EXPECT_TRUE(c == e);
    EXPECT_TRUE(e == E(std::string(text)));
    EXPECT_FALSE(e != c);
    for (const auto& [d, other] : all) {
      if (other != text) {
        EXPECT_FALSE(e == d) << text << " == " << other;
      }
    }
    EXPECT_EQ(acp::encode(e), json::value(text));
    auto back = acp::decode<E>(json::value(text));
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == c) << *back;
  }
}

TEST(open_enum, every_constant_has_its_wire_text_and_compares) {
  using acp::stop_reason;
  check_constants<stop_reason>({{stop_reason::end_turn, "end_turn"},
                                {stop_reason::max_tokens, "max_tokens"},
                                {stop_reason::max_turn_requests, "max_turn_requests"},
                                {stop_reason::refusal, "refusal"},
                                {stop_reason::cancelled, "cancelled"}});
  using acp::tool_kind;
  check_constants<tool_kind>({{tool_kind::read, "read"},
                              {tool_kind::edit, "edit"},
                              {tool_kind::delete_, "delete"},
                              {tool_kind::move, "move"},
                              {tool_kind::search, "search"},
                              {tool_kind::execute, "execute"},
                              {tool_kind::think, "think"},
                              {tool_kind::fetch, "fetch"},
                              {tool_kind::switch_mode, "switch_mode"},
                              {tool_kind::other, "other"}});
  using acp::tool_call_status;
  check_constants<tool_call_status>({{tool_call_status::pending, "pending"},
                                     {tool_call_status::in_progress, "in_progress"},
                                     {tool_call_status::completed, "completed"},
                                     {tool_call_status::failed, "failed"}});
  using acp::permission_option_kind;
  check_constants<permission_option_kind>({{permission_option_kind::allow_once, "allow_once"},
                                           {permission_option_kind::allow_always, "allow_always"},
                                           {permission_option_kind::reject_once, "reject_once"},
                                           {permission_option_kind::reject_always, "reject_always"}});
  using acp::plan_entry_priority;
  check_constants<plan_entry_priority>({{plan_entry_priority::high, "high"},
                                        {plan_entry_priority::medium, "medium"},
                                        {plan_entry_priority::low, "low"}});
  using acp::plan_entry_status;
  check_constants<plan_entry_status>({{plan_entry_status::pending, "pending"},
                                      {plan_entry_status::in_progress, "in_progress"},
                                      {plan_entry_status::completed, "completed"}});
  check_constants<acp::role>({{acp::role::assistant, "assistant"}, {acp::role::user, "user"}});
  using acp::session_config_option_category;
  check_constants<session_config_option_category>({{session_config_option_category::mode, "mode"},
                                                   {session_config_option_category::model, "model"},
                                                   {session_config_option_category::model_config, "model_config"},
                                                   {session_config_option_category::thought_level, "thought_level"}});
  using acp::elicitation_action;
  check_constants<elicitation_action>({{elicitation_action::accept, "accept"},
                                       {elicitation_action::decline, "decline"},
                                       {elicitation_action::cancel, "cancel"}});
  using acp::string_format;
  check_constants<string_format>({{string_format::email, "email"},
                                  {string_format::uri, "uri"},
                                  {string_format::date, "date"},
                                  {string_format::date_time, "date-time"}});
}

TEST(open_enum, named_constants_assign_to_message_fields) {
  acp::prompt_response resp;
  resp.stop_reason = acp::stop_reason::end_turn;
  EXPECT_TRUE(resp.stop_reason == acp::stop_reason::end_turn);
  EXPECT_FALSE(resp.stop_reason == acp::stop_reason::cancelled);

  acp::tool_call_update update;
  update.kind = acp::tool_kind::edit;
  update.status = acp::tool_call_status::failed;
  EXPECT_TRUE(update.kind == acp::tool_kind::edit);
  EXPECT_TRUE(update.status == acp::tool_call_status::failed);
  EXPECT_FALSE(update.status == acp::tool_call_status::completed);

  acp::permission_option option;
  option.kind = acp::permission_option_kind::allow_always;
  acp::plan_entry entry;
  entry.priority = acp::plan_entry_priority::low;
  entry.status = acp::plan_entry_status::in_progress;
  acp::annotations annotations;
  annotations.audience = std::vector<acp::role>{acp::role::user};
  acp::session_config_option config;
  config.category = acp::session_config_option_category::thought_level;
  acp::create_elicitation_response answer;
  answer.action = acp::elicitation_action::decline;
  acp::string_property_schema property;
  property.format = acp::string_format::date_time;

  EXPECT_EQ(acp::encode(option), parse(R"({"optionId": "", "name": "", "kind": "allow_always"})"));
  EXPECT_EQ(acp::encode(entry), parse(R"({"content": "", "priority": "low", "status": "in_progress"})"));
  EXPECT_EQ(acp::encode(annotations), parse(R"({"audience": ["user"]})"));
  EXPECT_EQ(acp::encode(config).at("category"), "thought_level");
  EXPECT_EQ(acp::encode(answer), parse(R"({"action": "decline"})"));
  EXPECT_EQ(acp::encode(property), parse(R"({"format": "date-time"})"));
}

TEST(open_enum, unknown_stop_reason_round_trips_byte_exact) {
  const std::string text = R"({"stopReason":"paused_for_review_\u00e9","_meta":{"k":1}})";
  auto r = acp::decode<acp::prompt_response>(parse(text));
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_EQ(r->stop_reason.str(), "paused_for_review_\xc3\xa9");
  for (auto known : {acp::stop_reason::end_turn, acp::stop_reason::max_tokens, acp::stop_reason::max_turn_requests,
                     acp::stop_reason::refusal, acp::stop_reason::cancelled}) {
    EXPECT_FALSE(r->stop_reason == known) << known;
  }
  EXPECT_EQ(json::serialize(acp::encode(*r)), "{\"stopReason\":\"paused_for_review_\xc3\xa9\",\"_meta\":{\"k\":1}}");

  // A value built in code from an unknown text is written as given.
  const acp::prompt_response built{.stop_reason = acp::stop_reason("future")};
  EXPECT_EQ(json::serialize(acp::encode(built)), R"({"stopReason":"future"})");
}

TEST(open_enum, unknown_tool_kind_and_status_round_trip) {
  const std::string text =
      R"({"sessionId":"s","update":{"sessionUpdate":"tool_call_update","toolCallId":"c","kind":"teleport","status":"queued"}})";
  auto n = acp::decode<acp::session_notification>(parse(text));
  ASSERT_TRUE(n.has_value()) << n.error().what();
  const auto& u = std::get<acp::tool_call_update>(n->update);
  EXPECT_EQ(u.kind->str(), "teleport");
  EXPECT_EQ(u.status->str(), "queued");
  EXPECT_EQ(json::serialize(acp::encode(*n)), text);
}

TEST(open_enum, a_non_string_is_a_decode_error_with_its_path) {
  auto r = acp::decode<acp::prompt_response>(parse(R"({"stopReason": 3})"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what(), "stopReason: expected string");
  auto p = acp::decode<acp::plan>(parse(R"({"entries": [{"content": "x", "priority": "high", "status": null}]})"));
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().what(), "entries[0].status: expected string");
}

// ---- designated initialisers -------------------------------------------------------------------

TEST(designated_init, message_chunks_have_their_own_members) {
  const acp::session_notification agent{.session_id = "s",
                                        .update = acp::agent_message_chunk{.content = acp::text_content{.text = "hi"}}};
  EXPECT_EQ(acp::encode(agent), parse(R"({"sessionId": "s", "update": {"sessionUpdate": "agent_message_chunk",
                                           "content": {"type": "text", "text": "hi"}}})"));
  const acp::session_update user =
      acp::user_message_chunk{.content = acp::text_content{.text = "q"}, .message_id = "m1"};
  EXPECT_EQ(acp::encode(user), parse(R"({"sessionUpdate": "user_message_chunk",
                                         "content": {"type": "text", "text": "q"}, "messageId": "m1"})"));
  const acp::session_update thought =
      acp::agent_thought_chunk{.content = acp::text_content{.text = "hmm"}, .meta = json::value{{"t", 1}}};
  EXPECT_EQ(acp::encode(thought), parse(R"({"sessionUpdate": "agent_thought_chunk",
                                            "content": {"type": "text", "text": "hmm"}, "_meta": {"t": 1}})"));
  EXPECT_EQ(acp::encode(acp::agent_text("s", "hi")), acp::encode(agent));
}

TEST(designated_init, tool_calls_plans_and_permissions) {
  const acp::session_update call =
      acp::tool_call{.tool_call_id = "c1",
                     .title = "Read a.txt",
                     .kind = acp::tool_kind::read,
                     .status = acp::tool_call_status::pending,
                     .locations = std::vector<acp::tool_call_location>{{.path = "/a.txt"}}};
  EXPECT_EQ(acp::encode(call), parse(R"({"sessionUpdate": "tool_call", "toolCallId": "c1", "title": "Read a.txt",
                                         "kind": "read", "status": "pending", "locations": [{"path": "/a.txt"}]})"));
  const acp::session_update update =
      acp::tool_call_update{.tool_call_id = "c1", .status = acp::tool_call_status::completed};
  EXPECT_EQ(acp::encode(update),
            parse(R"({"sessionUpdate": "tool_call_update", "toolCallId": "c1", "status": "completed"})"));
  const acp::session_update plan = acp::plan{.entries = {{.content = "step one",
                                                          .priority = acp::plan_entry_priority::high,
                                                          .status = acp::plan_entry_status::pending}}};
  EXPECT_EQ(acp::encode(plan), parse(R"({"sessionUpdate": "plan",
                                         "entries": [{"content": "step one", "priority": "high", "status": "pending"}]})"));
  const acp::request_permission_request ask{
      .session_id = "s",
      .tool_call = {.tool_call_id = "c1", .kind = acp::tool_kind::edit},
      .options = {{.option_id = "yes", .name = "Allow", .kind = acp::permission_option_kind::allow_once}}};
  EXPECT_EQ(acp::encode(ask), parse(R"({"sessionId": "s", "toolCall": {"toolCallId": "c1", "kind": "edit"},
                                        "options": [{"optionId": "yes", "name": "Allow", "kind": "allow_once"}]})"));
  const acp::prompt_response done{.stop_reason = acp::stop_reason::max_turn_requests};
  EXPECT_EQ(acp::encode(done), parse(R"({"stopReason": "max_turn_requests"})"));
}

// ---- Boost.JSON value_to / value_from ------------------------------------------------------------

TEST(json_conversions, value_from_writes_what_encode_writes) {
  const acp::prompt_response r{.stop_reason = acp::stop_reason::end_turn};
  EXPECT_EQ(json::value_from(r), parse(R"({"stopReason": "end_turn"})"));
  const acp::content_block block = acp::text_content{.text = "hi"};
  EXPECT_EQ(json::value_from(block), parse(R"({"type": "text", "text": "hi"})"));
  EXPECT_EQ(json::value_from(acp::stop_reason(acp::stop_reason::refusal)), json::value("refusal"));
  // Inside Boost.JSON's own containers conversions.
  const std::vector<acp::plan_entry> entries{
      {.content = "a", .priority = acp::plan_entry_priority::low, .status = acp::plan_entry_status::completed}};
  EXPECT_EQ(json::value_from(entries), parse(R"([{"content": "a", "priority": "low", "status": "completed"}])"));
}

TEST(json_conversions, value_to_reads_what_decode_reads) {
  const auto n = json::value_to<acp::session_notification>(parse(
      R"({"sessionId": "s", "update": {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "hi"}}})"));
  EXPECT_EQ(n.session_id, "s");
  EXPECT_EQ(std::get<acp::text_content>(std::get<acp::agent_message_chunk>(n.update).content).text, "hi");
  const auto block = json::value_to<acp::content_block>(parse(R"({"type": "video", "x": 1})"));
  EXPECT_EQ(std::get<acp::unknown_variant>(block).json.at("x"), 1);
  EXPECT_TRUE(json::value_to<acp::stop_reason>(json::value("cancelled")) == acp::stop_reason::cancelled);
  const auto locations = json::value_to<std::vector<acp::tool_call_location>>(parse(R"([{"path": "/a", "line": 2}])"));
  ASSERT_EQ(locations.size(), 1u);
  EXPECT_EQ(locations[0].line, 2u);
  // value_to and value_from are inverse on a message with unknown members.
  const auto original = parse(R"({"toolCallId": "c", "kind": "think", "future": [1], "_meta": {}})");
  EXPECT_EQ(json::value_from(json::value_to<acp::tool_call_update>(original)), original);
}

TEST(json_conversions, value_to_throws_system_error_naming_the_path) {
  const auto bad = parse(R"({"sessionId": "s", "prompt": [{"type": "text", "text": 3}]})");
  try {
    (void)json::value_to<acp::prompt_request>(bad);
    FAIL() << "value_to did not throw";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), boost::system::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("prompt[0].text: expected string"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)json::value_to<acp::stop_reason>(json::value(1)), boost::system::system_error);
}

TEST(json_conversions, try_value_to_returns_the_error_code) {
  auto bad = json::try_value_to<acp::prompt_response>(parse(R"({"stopReason": false})"));
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error(), boost::system::errc::invalid_argument);
  auto good = json::try_value_to<acp::prompt_response>(parse(R"({"stopReason": "refusal"})"));
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(good->stop_reason == acp::stop_reason::refusal);
  auto missing = json::try_value_to<acp::session_notification>(parse(R"({"sessionId": "s"})"));
  EXPECT_TRUE(missing.has_error());
}

} // namespace
