// The text form of `jsonrpc::message`, continued (see text_message_test.cpp): envelopes, numbers,
// editing a text message, scanning in place, and a large payload byte for byte.
#include "text_message_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace acp::test::text_form; // NOLINT(google-build-using-namespace): test helpers

TEST(text_message_envelope, simple_envelopes_unwrap_as_text) {
  for (
      const std::string_view line :
      {R"({"jsonrpc":"2.0","id":"c-17","method":"_proxy/successor","params":{"method":"session/prompt","params":{"sessionId":"s1"}}})",
       R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/update","params":[1]}})",
       R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor/request","params":{"method":"m","params":null}})",
       R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m"}})"}) {
    auto inner = pp::unwrap_message(text_message(line));
    ASSERT_TRUE(inner) << line;
    EXPECT_TRUE(inner->is_text()) << line;
  }
  auto inner = pp::unwrap_message(text_message(
      R"({"jsonrpc":"2.0","id":"c-17","method":"_proxy/successor","params":{"method":"session/prompt","params":{ "sessionId" : "s1" }}})"));
  ASSERT_TRUE(inner);
  EXPECT_EQ(
      wire(*inner),
      "{\"jsonrpc\":\"2.0\",\"id\":\"c-17\",\"method\":\"session/prompt\",\"params\":{ \"sessionId\" : \"s1\" }}\n");
}

TEST(text_message_envelope, meta_and_unknown_members_fall_back_to_the_dom_result) {
  for (
      const std::string_view line :
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":{"a":1},"_meta":{"k":1}}})",
       R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":{"a":1},"meta":{"k":1}}})",
       R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":{"a":1},"other":1}})"}) {
    std::string why_text, why_dom;
    const auto a = pp::unwrap_message(text_message(line), &why_text);
    const auto b = pp::unwrap_message(dom_message(line), &why_dom);
    ASSERT_TRUE(a) << why_text;
    EXPECT_FALSE(a->is_text()) << "the text path did not fall back: " << line;
    EXPECT_TRUE(same_unwrap(a, why_text, b, why_dom)) << line;
    EXPECT_EQ(a->params()->as_object().at("a"), 1);
  }
}

TEST(text_message_envelope, malformed_envelopes_give_the_dom_error) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"params":{}}})", "params.method: missing"},
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":5}})",
       "params.method: expected string"},
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":"s"}})",
       "params.params: expected object, array or null"},
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":0}})",
       "params.params: expected object, array or null"},
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":[]})",
       "params: expected an object with \"method\""},
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":null})",
       "params: expected an object with \"method\""},
      {R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor"})", "params: expected an object with \"method\""},
  };
  for (const auto& [line, error] : cases) {
    std::string why_text, why_dom;
    EXPECT_FALSE(pp::unwrap_message(text_message(line), &why_text)) << line;
    EXPECT_FALSE(pp::unwrap_message(dom_message(line), &why_dom)) << line;
    EXPECT_EQ(why_text, error) << line;
    EXPECT_EQ(why_dom, error) << line;
  }
}

// unwrap_message of a *response* fails on both paths (a response has no params); the text path
// once read the result as if it were the envelope's params.
TEST(text_message_envelope, unwrap_of_a_response_fails_as_on_the_dom) {
  const std::string_view line = R"({"jsonrpc":"2.0","id":1,"result":{"method":"session/prompt","params":{}}})";
  std::string why_text, why_dom;
  const auto a = pp::unwrap_message(text_message(line), &why_text);
  const auto b = pp::unwrap_message(dom_message(line), &why_dom);
  EXPECT_FALSE(b);
  EXPECT_TRUE(same_unwrap(a, why_text, b, why_dom));
}

// Boost.JSON 1.81 rounds a long decimal one way or the other depending on how many bytes follow
// it in the buffer (here: the correctly rounded ...6.61328125 with more than about 13 bytes after
// the number, ...6.6171875 with fewer). The text form parses its payload in place, followed by
// the rest of the line, so it reads the same double as the DOM path.
TEST(text_message_dom, a_long_decimal_reads_the_same_as_on_the_dom_path) {
  const std::string_view line = R"({"method":"m","params":[18446666666666.6151],"jsonrpc":"2.0"})";
  const auto text = text_message(line);
  const auto dom = dom_message(line);
  EXPECT_EQ(message(text).params()->as_array()[0], dom.params()->as_array()[0]);
  EXPECT_TRUE(same_message(text, dom));
}

// Numbers Boost.JSON reads as infinity or NaN (beyond a double's range; zeros with a huge
// exponent) would be written back as `Infinity` / `NaN`, which is not JSON. The scanner leaves
// every number of 10^300 or more to the DOM path, and the line parser answers those that do not
// fit a double -32700, whichever path: nothing unparsable is ever forwarded.
TEST(text_message_dom, numbers_beyond_a_double_are_rejected_not_forwarded_as_infinity) {
  for (const std::string_view line :
       {R"({"jsonrpc":"2.0","method":"m","params":[1E999]})", R"({"jsonrpc":"2.0","method":"m","params":[-1e999]})",
        R"({"jsonrpc":"2.0","method":"m","params":[1e1000]})", R"({"jsonrpc":"2.0","method":"m","params":[0E999]})",
        R"({"jsonrpc":"2.0","id":1,"result":0e400})",
        R"({"jsonrpc":"2.0","id":1,"result":{"big":1)"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        R"(}})"}) {
    SCOPED_TRACE(line);
    EXPECT_FALSE(message::scan(line));
    line_parser parser;
    auto parsed = parser.parse(line);
    ASSERT_EQ(parsed.items.size(), 1u);
    const auto* bad = std::get_if<acp::jsonrpc::invalid_message>(&parsed.items.front());
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->error.code, -32700);
    EXPECT_NE(bad->error.message.find("number out of range"), std::string::npos) << bad->error.message;
  }
  // Just inside the range: accepted (by the DOM path) and written as a finite number.
  line_parser parser;
  auto parsed = parser.parse(R"({"jsonrpc":"2.0","method":"m","params":[1.7976931348623157e308,-1e299]})");
  const auto* m = std::get_if<message>(&parsed.items.front());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(wire(*m).find("Infinity"), std::string::npos);
}

// ---- editing a text message ---------------------------------------------------------------------

constexpr std::string_view prompt_line =
    R"({"jsonrpc":"2.0","id":42,"method":"session/prompt","params":{"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]}})";
constexpr std::string_view update_line =
    R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk"}}})";
constexpr std::string_view result_line = R"({"jsonrpc":"2.0","id":"r-1","result":{"stopReason":"end_turn"}})";

TEST(text_message_edit, set_id_keeps_the_text_form) {
  for (const json::value& id :
       {json::value(7), json::value("c-1"), json::value("q\"uo\\te\n"), json::value(nullptr),
        json::value(-9223372036854775807 - 1), json::value(std::uint64_t{18446744073709551615u})}) {
    SCOPED_TRACE(json::serialize(id));
    auto text = text_message(prompt_line);
    auto dom = dom_message(prompt_line);
    text.set_id(id);
    dom.set_id(id);
    EXPECT_TRUE(text.is_text());
    EXPECT_EQ(text.id(), id);
    EXPECT_TRUE(writes_as(text, dom.json()));
    EXPECT_TRUE(same_message(text, dom));

    auto response = text_message(result_line);
    auto response_dom = dom_message(result_line);
    response.set_id(id);
    response_dom.set_id(id);
    EXPECT_TRUE(response.is_text());
    EXPECT_TRUE(writes_as(response, response_dom.json()));
  }
  auto renumbered = text_message(prompt_line);
  renumbered.set_id(json::value(7));
  EXPECT_EQ(
      wire(renumbered),
      R"({"jsonrpc":"2.0","id":7,"method":"session/prompt","params":{"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]}})"
      "\n");
}

TEST(text_message_edit, set_id_on_a_notification_changes_nothing) {
  auto text = text_message(update_line);
  auto dom = dom_message(update_line);
  text.set_id(json::value(3));
  dom.set_id(json::value(3));
  EXPECT_TRUE(text.is_notification());
  EXPECT_TRUE(text.id().is_null());
  EXPECT_TRUE(same_message(text, dom));
  EXPECT_TRUE(writes_as(text, dom.json()));
}

TEST(text_message_edit, make_request_keeps_the_text_form) {
  auto text = text_message(update_line);
  auto dom = dom_message(update_line);
  text.make_request(json::value("n-1"));
  dom.make_request(json::value("n-1"));
  EXPECT_TRUE(text.is_text());
  EXPECT_TRUE(text.is_request());
  EXPECT_EQ(text.id(), json::value("n-1"));
  EXPECT_TRUE(same_message(text, dom));
  EXPECT_EQ(
      wire(text),
      R"({"jsonrpc":"2.0","id":"n-1","method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk"}}})"
      "\n");
  // On a request it replaces the id; on a response it does nothing.
  auto req = text_message(prompt_line);
  req.make_request(json::value(1));
  EXPECT_EQ(req.id(), 1);
  auto resp = text_message(result_line);
  auto resp_dom = dom_message(result_line);
  resp.make_request(json::value(1));
  resp_dom.make_request(json::value(1));
  EXPECT_TRUE(resp.is_response());
  EXPECT_TRUE(same_message(resp, resp_dom));
}

TEST(text_message_edit, set_method_keeps_the_text_form_and_escapes) {
  for (const std::string_view method : {std::string_view("initialize"), std::string_view("a\"b\\c\nd\x01"),
                                        std::string_view("ü/😀"), std::string_view("")}) {
    auto text = text_message(prompt_line);
    auto dom = dom_message(prompt_line);
    text.set_method(method);
    dom.set_method(method);
    EXPECT_TRUE(text.is_text());
    EXPECT_EQ(text.method(), method);
    EXPECT_TRUE(writes_as(text, dom.json()));
    EXPECT_TRUE(same_message(text, dom));
    // And wrapped: the envelope carries the new method.
    for (const auto gen : {pp::generation::current, pp::generation::legacy}) {
      const auto a = pp::wrap_message(text, json::value(1), gen);
      const auto b = pp::wrap_message(dom, json::value(1), gen);
      EXPECT_TRUE(same_message(a, b));
      EXPECT_TRUE(writes_as(a, message(b).json()));
    }
  }
  auto resp = text_message(result_line);
  resp.set_method("x");
  EXPECT_EQ(resp.method(), "");
  EXPECT_TRUE(writes_as(resp, dom_message(result_line).json()));
}

TEST(text_message_edit, json_builds_a_dom_message_with_the_same_content) {
  auto text = text_message(prompt_line);
  text.set_id(json::value(9));
  text.set_method("session/load");
  auto& obj = text.json();
  EXPECT_FALSE(text.is_text());
  // Not edited yet: still written as its text (with the new id and method).
  EXPECT_EQ(text.payload_text(), text_message(prompt_line).payload_text());
  EXPECT_EQ(
      obj,
      json::parse(
          R"({"jsonrpc":"2.0","id":9,"method":"session/load","params":{"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]}})"));
  // From now on edits go to the DOM.
  obj["params"].as_object()["sessionId"] = "s2";
  text.set_id(json::value(10));
  EXPECT_EQ(text.id(), 10);
  EXPECT_EQ(text.params()->as_object().at("sessionId"), json::value("s2"));
  EXPECT_FALSE(text.payload_text()); // edited: the DOM is written
  EXPECT_TRUE(writes_as(text, text.json()));
  EXPECT_EQ(wire(text), json::serialize(text.json()) + "\n");
}

TEST(text_message_edit, a_copy_is_independent) {
  const auto original = text_message(prompt_line);
  auto copy = original;
  EXPECT_TRUE(copy.is_text());
  copy.set_id(json::value(1));
  copy.set_method("other");
  EXPECT_EQ(original.id(), 42);
  EXPECT_EQ(original.method(), "session/prompt");
  EXPECT_EQ(wire(original), std::string(prompt_line) + "\n");

  auto copy2 = original;
  copy2.params()->as_object()["sessionId"] = "changed";
  EXPECT_FALSE(copy2.is_text());
  EXPECT_TRUE(original.is_text());
  EXPECT_EQ(wire(original), std::string(prompt_line) + "\n");

  // The other way round: building the original's DOM leaves a copy in text form.
  auto source = text_message(update_line);
  const auto kept = source;
  source.json()["params"].as_object()["sessionId"] = "x";
  EXPECT_TRUE(kept.is_text());
  EXPECT_EQ(wire(kept), std::string(update_line) + "\n");

  // Assigning over a text message replaces it entirely.
  auto target = text_message(result_line);
  target = original;
  EXPECT_EQ(wire(target), std::string(prompt_line) + "\n");
}

// ---- scanning in place: the message adopts the buffer the line lies in ----------------------------

TEST(text_message_owner, a_text_message_adopts_the_buffer_and_equals_the_copying_scan) {
  for (const auto& c : common_lines) {
    SCOPED_TRACE(c.name);
    acp::text_buffer buffer(std::string("{\"jsonrpc\":\"2.0\"}\n") + std::string(c.line) + "\r\n{\"id\":");
    const auto line = buffer.view().substr(18, c.line.size());
    ASSERT_EQ(line, c.line);
    auto adopted = message::scan(line, line_parser::default_max_depth, &buffer);
    ASSERT_TRUE(adopted);
    EXPECT_TRUE(adopted->is_text());
    const auto copied = text_message(c.line);
    EXPECT_TRUE(same_message(*adopted, copied));
    EXPECT_EQ(wire(*adopted), wire(copied));
    // Wrapped and unwrapped again, the slices of the adopted buffer still say the same.
    for (const auto& id : outer_ids()) {
      const auto a = pp::wrap_message(*adopted, id);
      const auto b = pp::wrap_message(copied, id);
      EXPECT_EQ(wire(a), wire(b));
      std::string why_a, why_b;
      const auto ua = pp::unwrap_message(*adopted, &why_a);
      const auto ub = pp::unwrap_message(copied, &why_b);
      EXPECT_TRUE(same_unwrap(ua, why_a, ub, why_b));
      if (ua && ub) {
        EXPECT_EQ(wire(*ua), wire(*ub));
      }
    }
  }
}

TEST(text_message_owner, line_parser_hands_a_large_buffer_to_its_message) {
  const std::string payload = R"({"sessionId":"s1","text":")" + std::string((std::size_t{3} << 20) + 5, 'z') + R"("})";
  const std::string line = R"({"jsonrpc":"2.0","id":"big","method":"session/prompt","params":)" + payload + "}";
  acp::text_buffer buffer(line + "\n");
  ASSERT_GE(buffer.size(), acp::text_buffer::large_bytes);
  line_parser parser;
  auto parsed = parser.parse(buffer.view().substr(0, line.size()), &buffer);
  ASSERT_EQ(parsed.items.size(), 1u);
  auto* m = std::get_if<message>(&parsed.items.front());
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->is_text());
  EXPECT_EQ(wire(*m), line + "\n");
  auto inner = pp::unwrap_message(pp::wrap_message(*m, json::value(3), pp::generation::legacy));
  ASSERT_TRUE(inner);
  EXPECT_TRUE(inner->is_text());
  auto expected = line;
  expected.replace(expected.find(R"("big")"), 5, "3");
  EXPECT_TRUE(wire(*inner) == expected + "\n");
}

// ---- a large payload crosses the chain byte for byte --------------------------------------------

TEST(text_message_large, five_mib_payload_round_trips_byte_exactly) {
  std::string text;
  const std::string_view chunk = "plain ascii, \\\"quoted\\\", \\\\ \\n \\u00e9 \\t é€😀 / ";
  while (text.size() < (std::size_t{5} << 20)) text += chunk;
  const std::string payload =
      R"({"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":")" + text +
      R"("}},"n":[1E298,-0,0.1]})";
  const std::string line = R"({"jsonrpc":"2.0","method":"session/update","params":)" + payload + "}";
  const std::string request_line = R"({"jsonrpc":"2.0","id":7,"method":"session/update","params":)" + payload + "}";

  auto m = message::scan(line);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->is_text());
  EXPECT_EQ(wire(*m), line + "\n");

  for (const auto gen : {pp::generation::current, pp::generation::legacy}) {
    for (const bool request : {true, false}) {
      SCOPED_TRACE(std::string(gen == pp::generation::current ? "current" : "legacy") +
                   (request ? " request" : " notification"));
      auto env = pp::wrap_message(*m, request ? std::optional<json::value>(7) : std::nullopt, gen);
      ASSERT_TRUE(env.is_text());
      auto env_line = wire(env);
      ASSERT_NE(env_line.find(payload), std::string::npos) << "the payload changed in the envelope";
      env_line.pop_back();
      auto env_in = message::scan(env_line);
      ASSERT_TRUE(env_in);
      auto inner = pp::unwrap_message(std::move(*env_in));
      ASSERT_TRUE(inner);
      EXPECT_TRUE(inner->is_text());
      const auto out = wire(*inner);
      EXPECT_EQ(out.size(), (request ? request_line : line).size() + 1);
      EXPECT_TRUE(out == (request ? request_line : line) + "\n") << "the line changed on its way";
    }
  }
  // And it is the message the DOM path reads.
  const auto dom = dom_message(line);
  const auto text_of = [](const message& msg) {
    return msg.params()->as_object().at("update").as_object().at("content").as_object().at("text").as_string();
  };
  EXPECT_EQ(text_of(dom), text_of(message(*m)));
  EXPECT_TRUE(same_message(*m, dom));
}

} // namespace
