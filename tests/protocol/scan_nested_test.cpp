// The members of `params` recorded by the validating scan (json_scan::nested_members,
// message::scanned_params_members): the same members a second scan finds, never more than the
// caller's span holds, gone once the message changes; an envelope opened with them gives the
// same inner message as one opened by scanning its params again.
#include <acp/protocol/envelope.hpp>
#include <acp/protocol/json_scan.hpp>
#include <acp/protocol/jsonrpc.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace {

namespace js = acp::json_scan;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::message;

struct scanned {
  std::optional<std::size_t> top;
  js::nested_members nested;
  std::array<js::member, 5> members{};
  std::array<js::member, 2> inner{};
};

scanned scan(std::string_view text) {
  scanned s;
  s.nested = js::nested_members{.key = "params", .out = s.inner};
  s.top = js::scan_object(text, s.members, js::max_depth, true, s.nested);
  return s;
}

TEST(scan_nested, records_the_members_of_the_named_object_as_a_second_scan_finds_them) {
  for (
      const std::string_view text : {
          R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/update","params":{"a":[1,{"b":"}"}]}}})",
          R"({ "params" : { "k\"ey" : "v" , "x" : null } , "id" : 1 })",
          R"({"params":{}})",
          R"({"id":1,"params":{"only":true}})",
      }) {
    SCOPED_TRACE(text);
    const auto s = scan(text);
    ASSERT_TRUE(s.top);
    ASSERT_TRUE(s.nested.recorded);
    // The params member's text, scanned on its own (trusted rescan): the same members.
    std::optional<std::string_view> params;
    for (std::size_t i = 0; i < *s.top; ++i)
      if (s.members[i].key == "params") params = s.members[i].value;
    ASSERT_TRUE(params);
    std::array<js::member, 2> again{};
    const auto n = js::members_of_valid_object(*params, again);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, s.nested.count);
    for (std::size_t i = 0; i < *n; ++i) {
      EXPECT_EQ(s.inner[i].key, again[i].key);
      EXPECT_EQ(s.inner[i].value, again[i].value);
      EXPECT_EQ(s.inner[i].key_escaped, again[i].key_escaped);
      // Views into the scanned text itself, not copies.
      EXPECT_GE(s.inner[i].value.data(), text.data());
      EXPECT_LE(s.inner[i].value.data() + s.inner[i].value.size(), text.data() + text.size());
    }
  }
}

TEST(scan_nested, more_members_than_fit_are_not_recorded_but_the_scan_goes_on) {
  const auto s = scan(R"({"id":7,"params":{"a":1,"b":2,"c":3},"method":"m"})");
  ASSERT_TRUE(s.top);
  EXPECT_EQ(*s.top, 3u);
  EXPECT_FALSE(s.nested.recorded);
  EXPECT_EQ(s.members[2].key, "method");
}

TEST(scan_nested, only_a_top_level_object_value_of_that_key_is_recorded) {
  EXPECT_FALSE(scan(R"({"params":[1,2]})").nested.recorded);
  EXPECT_FALSE(scan(R"({"params":null})").nested.recorded);
  EXPECT_FALSE(scan(R"({"other":{"params":{"a":1}}})").nested.recorded);
  EXPECT_FALSE(scan(R"({"par\u0061ms":{"a":1}})").nested.recorded); // escaped key: as written only
}

TEST(scan_nested, the_recorded_object_is_still_validated) {
  for (const std::string_view bad : {
           R"({"params":{"a":tru}})",
           R"({"params":{"a":1,}})",
           "{\"params\":{\"a\":\"\x01\"}}",
           R"({"params":{"a":1,"b":2,"c":[}})", // past the recorded members
           R"({"params":{"a":1})",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(scan(bad).top);
  }
}

TEST(scan_nested, a_scanned_message_keeps_its_params_members_until_it_changes) {
  const std::string line = R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s","update":{"k":1}}})";
  auto msg = message::scan(line);
  ASSERT_TRUE(msg);
  std::array<js::member, 2> out{};
  const auto n = msg->scanned_params_members(out);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 2u);
  EXPECT_EQ(out[0].key, "sessionId");
  EXPECT_EQ(out[0].value, R"("s")");
  EXPECT_EQ(out[1].key, "update");
  EXPECT_EQ(out[1].value, R"({"k":1})");
  // A caller's span too small for them: not known, rather than cut short.
  std::array<js::member, 1> small{};
  EXPECT_FALSE(msg->scanned_params_members(small));
  // A copy keeps them (its own buffer); a change to the message drops them.
  const message copy = *msg;
  EXPECT_EQ(copy.scanned_params_members(out), n);
  (void)msg->json()["params"];
  msg->json()["params"].as_object()["sessionId"] = "t";
  EXPECT_FALSE(msg->scanned_params_members(out));
  // Not made by `scan`: not known.
  EXPECT_FALSE(message::notification("m", boost::json::object{{"a", 1}}).scanned_params_members(out));
  // Three members: not recorded.
  const auto three = message::scan(R"({"jsonrpc":"2.0","method":"m","params":{"a":1,"b":2,"c":3}})");
  ASSERT_TRUE(three);
  EXPECT_FALSE(three->scanned_params_members(out));
}

TEST(scan_nested, an_envelope_opened_with_recorded_members_is_the_one_opened_by_a_second_scan) {
  const std::string line =
      R"({"jsonrpc":"2.0","id":"o-1","method":"_proxy/successor","params":{"method":"fs/read_text_file","params":{"path":"/a\"b","line":3}}})";
  auto scanned_msg = message::scan(line);
  ASSERT_TRUE(scanned_msg);
  std::array<js::member, 2> out{};
  ASSERT_TRUE(scanned_msg->scanned_params_members(out));
  // The same envelope made from text without recorded members: unwrap scans its params again.
  const auto payload = *scanned_msg->payload_text();
  const auto plain = message::from_text(acp::jsonrpc::message_kind::request, "o-1", "_proxy/successor", payload);
  ASSERT_FALSE(plain.scanned_params_members(out));
  std::string why_a, why_b;
  const auto a = pp::unwrap_message(*scanned_msg, &why_a);
  const auto b = pp::unwrap_message(plain, &why_b);
  ASSERT_TRUE(a) << why_a;
  ASSERT_TRUE(b) << why_b;
  EXPECT_TRUE(a->is_text());
  EXPECT_EQ(a->method(), "fs/read_text_file");
  EXPECT_EQ(a->id(), boost::json::value("o-1"));
  EXPECT_EQ(*a->payload_text(), R"({"path":"/a\"b","line":3})");
  EXPECT_EQ(a->method(), b->method());
  EXPECT_EQ(*a->payload_text(), *b->payload_text());
}

} // namespace
