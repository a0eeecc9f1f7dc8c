// The text form of `jsonrpc::message` (jsonrpc.hpp, `message::scan`) against the DOM path: a line
// that `message::scan` takes is the message `check(parse(line))` gives; `append_line` writes it
// back; `wrap_message` / `unwrap_message` (envelope.hpp) give the DOM path's result; a line that
// it leaves alone still gets the DOM result from `line_parser`.
#include "text_message_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace acp::test::text_form; // NOLINT(google-build-using-namespace): test helpers

class text_message_lines : public testing::TestWithParam<line_case> {};

TEST_P(text_message_lines, scan_gives_the_message_of_the_dom_path) {
  const auto line = GetParam().line;
  const auto text = text_message(line);
  const auto dom = dom_message(line);
  EXPECT_TRUE(same_message(text, dom));
  EXPECT_TRUE(text.is_text()); // comparing worked on copies
  EXPECT_TRUE(text.payload_text());
  EXPECT_EQ(text.is_error(), dom.is_error());
}

TEST_P(text_message_lines, append_line_writes_the_message_of_the_dom_path) {
  const auto line = GetParam().line;
  const auto text = text_message(line);
  const auto dom = dom_message(line);
  EXPECT_TRUE(writes_as(text, dom.json()));
  EXPECT_TRUE(text.is_text()) << "writing built the DOM";
  // What it writes is again a text message, the same one.
  auto out = wire(text);
  out.pop_back();
  const auto again = message::scan(out);
  ASSERT_TRUE(again) << out;
  EXPECT_TRUE(same_message(*again, dom));
  EXPECT_EQ(wire(*again), wire(text));
}

TEST_P(text_message_lines, line_parser_takes_the_fast_path) {
  const auto line = GetParam().line;
  line_parser parser;
  auto parsed = parser.parse(line);
  ASSERT_FALSE(parsed.batch);
  ASSERT_EQ(parsed.items.size(), 1u);
  const auto* m = std::get_if<message>(&parsed.items.front());
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->is_text());
  EXPECT_TRUE(same_message(*m, dom_message(line)));
}

TEST_P(text_message_lines, accessors_build_the_dom_once_with_the_same_content) {
  const auto line = GetParam().line;
  const auto dom = dom_message(line);
  auto text = text_message(line);
  if (text.is_response()) {
    const auto* r = text.result(); // read-only: the text stays the message
    EXPECT_TRUE(text.is_text());
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(*r, *dom.result());
    EXPECT_FALSE(text.error());
  } else {
    const auto* p = text.params();
    EXPECT_FALSE(text.is_text());
    ASSERT_EQ(p == nullptr, dom.params() == nullptr);
    if (p) {
      EXPECT_EQ(*p, *dom.params());
    }
  }
  // Only read: the DOM is the message now, but it still says what the text said, so the text is
  // what it writes, byte for byte.
  const auto original = text_message(line);
  EXPECT_EQ(text.payload_text(), original.payload_text());
  EXPECT_EQ(text.json(), dom.json());
  EXPECT_TRUE(same_message(text, dom));
  EXPECT_EQ(wire(text), wire(original));
  if (!has_non_finite(text.json())) {
    EXPECT_TRUE(writes_as(text, dom.json()));
  }
  const auto released = message(text).release();
  EXPECT_EQ(released, dom.json());
}

TEST_P(text_message_lines, wrap_message_gives_the_dom_result) {
  const auto line = GetParam().line;
  for (const auto gen : {pp::generation::current, pp::generation::legacy}) {
    for (const auto& id : outer_ids()) {
      SCOPED_TRACE(std::string(gen == pp::generation::current ? "current" : "legacy") + " outer id " +
                   (id ? json::serialize(*id) : "none"));
      const auto text = text_message(line);
      auto from_text = pp::wrap_message(text, id, gen);
      auto from_dom = pp::wrap_message(dom_message(line), id, gen);
      EXPECT_TRUE(same_message(from_text, from_dom));
      if (!text.is_response()) {
        EXPECT_TRUE(from_text.is_text()) << "the text path was not taken";
      }
      EXPECT_TRUE(writes_as(from_text, from_dom.json()));
      // Through the wire and back: the original message with the outer id.
      auto out = wire(from_text);
      out.pop_back();
      const auto envelope = message::scan(out);
      ASSERT_TRUE(envelope) << out;
      std::string why_text, why_dom;
      auto back = pp::unwrap_message(*envelope, &why_text);
      auto back_dom = pp::unwrap_message(from_dom, &why_dom);
      EXPECT_TRUE(same_unwrap(back, why_text, back_dom, why_dom));
      if (!text.is_response() && back) {
        EXPECT_TRUE(back->is_text());
        // The inner message, its id replaced by the outer one; `params: null` is dropped.
        const auto original = dom_message(line);
        std::optional<json::value> params;
        if (const auto* p = original.params()) params = *p;
        const auto expected =
            id ? message::request(*id, original.method(), params) : message::notification(original.method(), params);
        EXPECT_TRUE(same_message(*back, expected));
      }
    }
  }
}

TEST_P(text_message_lines, unwrap_message_gives_the_dom_result) {
  const auto line = GetParam().line;
  const auto text = text_message(line);
  // (Responses too: none of these results is shaped like envelope params; for one that is, see
  // text_message_envelope.DISABLED_unwrap_of_a_response_fails_as_on_the_dom.)
  std::string why_text, why_dom;
  const auto from_text = pp::unwrap_message(text, &why_text);
  const auto from_dom = pp::unwrap_message(dom_message(line), &why_dom);
  EXPECT_TRUE(same_unwrap(from_text, why_text, from_dom, why_dom));
  if (from_text) {
    EXPECT_TRUE(writes_as(*from_text, message(*from_dom).json()));
  }
  // The inner message wrapped again (both generations, with and without outer id): as the DOM.
  if (!from_text) return;
  for (const auto gen : {pp::generation::current, pp::generation::legacy}) {
    for (const auto& id : outer_ids()) {
      const auto a = pp::wrap_message(*from_text, id, gen);
      const auto b = pp::wrap_message(*from_dom, id, gen);
      EXPECT_TRUE(same_message(a, b));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(acp, text_message_lines, testing::ValuesIn(common_lines),
                         [](const testing::TestParamInfo<line_case>& param_info) {
                           return std::string(param_info.param.name);
                         });

// Envelopes whose params hold only `method` (a plain string) and `params` unwrap without a DOM.
// ---- lines the fast path leaves to the DOM ------------------------------------------------------

/// Params nested `n` deep inside the message (the message itself is depth 1).
std::string nested_params_line(std::size_t n, std::string_view extra = "") {
  return R"({"jsonrpc":"2.0","method":"m",)" + std::string(extra) + R"("params":)" + std::string(n, '[') + "1" +
         std::string(n, ']') + "}";
}

const std::string deep_line = nested_params_line(64); // depth 65: over json_scan::max_depth
const std::string at_depth_line_with_extra = nested_params_line(63, R"("x":1,)");

const line_case fallback_lines[] = {
    {"error_response", R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}})"},
    {"error_response_with_data",
     R"({"jsonrpc":"2.0","id":"x","error":{"code":-32603,"message":"boom","data":{"a":[1]}}})"},
    {"malformed_error", R"({"jsonrpc":"2.0","id":3,"error":{"code":"x"}})"},
    {"unknown_member", R"({"jsonrpc":"2.0","id":1,"method":"m","params":{},"extra":true})"},
    {"top_level_meta",
     R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s"},"_meta":{"trace":"t"}})"},
    {"escaped_method", R"({"jsonrpc":"2.0","id":1,"method":"session\/prompt","params":{}})"},
    {"unicode_escaped_method", R"({"jsonrpc":"2.0","method":"session\u002fupdate","params":{}})"},
    {"escaped_string_id", R"({"jsonrpc":"2.0","id":"a\"b","method":"m"})"},
    {"unicode_escaped_string_id", R"({"jsonrpc":"2.0","id":"\u0041","result":1})"},
    {"escaped_key", R"({"jsonrpc":"2.0","\u0069d":1,"method":"m"})"},
    {"escaped_version", R"({"jsonrpc":"2\u002e0","method":"m"})"},
    {"negative_zero_id", R"({"jsonrpc":"2.0","id":-0,"result":{}})"},
    {"negative_zero_id_request", R"({"jsonrpc":"2.0","id":-0,"method":"m"})"},
    {"uint64_id", R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"m","params":{}})"},
    {"int64_max_plus_one_id", R"({"jsonrpc":"2.0","id":9223372036854775808,"result":null})"},
    {"too_big_id", R"({"jsonrpc":"2.0","id":18446744073709551616,"method":"m"})"},
    {"too_small_id", R"({"jsonrpc":"2.0","id":-9223372036854775809,"method":"m"})"},
    {"fraction_id", R"({"jsonrpc":"2.0","id":1.0,"method":"m"})"},
    {"exponent_id", R"({"jsonrpc":"2.0","id":1e2,"result":1})"},
    {"bool_id", R"({"jsonrpc":"2.0","id":true,"method":"m"})"},
    {"object_id", R"({"jsonrpc":"2.0","id":{},"result":1})"},
    {"array_id", R"({"jsonrpc":"2.0","id":[1],"method":"m"})"},
    {"duplicate_id", R"({"jsonrpc":"2.0","id":1,"id":2,"method":"m"})"},
    {"duplicate_method", R"({"jsonrpc":"2.0","method":"a","method":"b"})"},
    {"duplicate_params", R"({"jsonrpc":"2.0","method":"a","params":{"x":1},"params":[2]})"},
    {"duplicate_version", R"({"jsonrpc":"1.0","jsonrpc":"2.0","method":"a"})"},
    {"batch", R"([{"jsonrpc":"2.0","method":"a","params":{}},{"jsonrpc":"2.0","id":1,"result":1}])"},
    {"batch_of_one", R"([{"jsonrpc":"2.0","id":1,"method":"m"}])"},
    {"batch_with_garbage", R"([{"jsonrpc":"2.0","method":"a"},1,"x"])"},
    {"empty_batch", "[]"},
    {"version_1", R"({"jsonrpc":"1.0","id":1,"method":"m"})"},
    {"version_number", R"({"jsonrpc":2.0,"id":1,"method":"m"})"},
    {"no_version", R"({"id":1,"method":"m"})"},
    {"version_with_space", R"({"jsonrpc":"2.0 ","id":1,"method":"m"})"},
    {"params_string", R"({"jsonrpc":"2.0","id":1,"method":"m","params":"x"})"},
    {"params_number", R"({"jsonrpc":"2.0","method":"m","params":1})"},
    {"params_false", R"({"jsonrpc":"2.0","method":"m","params":false})"},
    {"method_and_result", R"({"jsonrpc":"2.0","id":1,"method":"m","result":{}})"},
    {"method_number", R"({"jsonrpc":"2.0","id":1,"method":1})"},
    {"method_null", R"({"jsonrpc":"2.0","method":null})"},
    {"response_with_params", R"({"jsonrpc":"2.0","id":1,"result":1,"params":{}})"},
    {"response_without_id", R"({"jsonrpc":"2.0","result":1})"},
    {"id_only", R"({"jsonrpc":"2.0","id":1})"},
    {"params_only", R"({"jsonrpc":"2.0","params":{}})"},
    {"version_only", R"({"jsonrpc":"2.0"})"},
    {"empty_object", "{}"},
    {"six_members", R"({"jsonrpc":"2.0","id":1,"method":"m","params":{},"a":1,"b":2})"},
    {"deeper_than_the_scanner", deep_line},
    {"at_the_scanners_depth_but_unknown_member", at_depth_line_with_extra},
    {"four_digit_exponent", R"({"jsonrpc":"2.0","method":"m","params":[1e-1000,2E-0001]})"},
    {"near_the_double_range", R"({"jsonrpc":"2.0","method":"m","params":[1.7976931348623157e308]})"},
    {"newline_inside", "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\n\"params\":{}}"},
    {"surrogate_escape_in_params", R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"t":"\uD83D\uDE00"}})"},
    {"lone_surrogate_escape", R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"t":"\uD83D"}})"},
    {"invalid_utf8", "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"t\":\"\xC3\x28\"}}"},
    {"not_json", "Starting agent v1.2..."},
    {"truncated", R"({"jsonrpc":"2.0","id":1,"method":"m","params":{)"},
    {"trailing_garbage", R"({"jsonrpc":"2.0","method":"m"} x)"},
    {"two_objects", R"({"jsonrpc":"2.0","method":"m"}{"jsonrpc":"2.0","method":"m"})"},
    {"number", "1"},
    {"string", R"("{\"jsonrpc\":\"2.0\"}")"},
    {"null", "null"},
    {"empty", ""},
};

/// What `line_parser` gives on the DOM path (jsonrpc.hpp).
parsed_line dom_parse(std::string_view line) {
  parsed_line out;
  json::parse_options opt;
  opt.max_depth = line_parser::default_max_depth;
  boost::system::error_code ec;
  auto v = json::parse(line, ec, {}, opt);
  if (ec) {
    out.items.emplace_back(
        invalid_message{acp::rpc_error::parse_error("Parse error: " + ec.message()), nullptr, false});
    return out;
  }
  if (auto* arr = v.if_array()) {
    if (arr->empty()) {
      out.items.emplace_back(
          invalid_message{acp::rpc_error::invalid_request("Invalid request: empty batch"), nullptr, false});
      return out;
    }
    out.batch = true;
    for (auto& item : *arr) out.items.push_back(check(std::move(item)));
    return out;
  }
  out.items.push_back(check(std::move(v)));
  return out;
}

class text_message_fallback : public testing::TestWithParam<line_case> {};

TEST_P(text_message_fallback, scan_refuses_and_line_parser_gives_the_dom_result) {
  const auto line = GetParam().line;
  EXPECT_FALSE(message::scan(line));
  line_parser parser;
  const auto got = parser.parse(line);
  const auto expected = dom_parse(line);
  ASSERT_EQ(got.batch, expected.batch);
  ASSERT_EQ(got.items.size(), expected.items.size());
  for (std::size_t i = 0; i < got.items.size(); ++i) {
    SCOPED_TRACE("item " + std::to_string(i));
    const auto* gm = std::get_if<message>(&got.items[i]);
    const auto* em = std::get_if<message>(&expected.items[i]);
    ASSERT_EQ(gm != nullptr, em != nullptr);
    if (gm) {
      EXPECT_FALSE(gm->is_text());
      EXPECT_TRUE(same_message(*gm, *em));
      EXPECT_EQ(gm->is_error(), em->is_error());
      continue;
    }
    const auto& gi = std::get<invalid_message>(got.items[i]);
    const auto& ei = std::get<invalid_message>(expected.items[i]);
    EXPECT_EQ(gi.error.code, ei.error.code);
    EXPECT_EQ(gi.error.message, ei.error.message);
    EXPECT_EQ(gi.id, ei.id);
    EXPECT_EQ(gi.response_shaped, ei.response_shaped);
  }
}

INSTANTIATE_TEST_SUITE_P(acp, text_message_fallback, testing::ValuesIn(fallback_lines),
                         [](const testing::TestParamInfo<line_case>& param_info) {
                           return std::string(param_info.param.name);
                         });

// Scanning in place (see text_message_edit_test.cpp): a line left to the DOM path leaves the
// buffer it lies in as it was.
TEST(text_message_owner, a_refused_line_leaves_the_buffer_as_it_is) {
  for (const auto& c : fallback_lines) {
    SCOPED_TRACE(c.name);
    const std::string content = "x" + std::string(c.line) + "\n";
    acp::text_buffer buffer(content);
    const char* data = buffer.data();
    EXPECT_FALSE(message::scan(buffer.view().substr(1, c.line.size()), line_parser::default_max_depth, &buffer));
    EXPECT_EQ(buffer.data(), data);
    EXPECT_EQ(buffer.view(), content);
    line_parser parser;
    const auto parsed = parser.parse(buffer.view().substr(1, c.line.size()), &buffer);
    EXPECT_EQ(buffer.view(), content);
    EXPECT_EQ(parsed.items.size(), dom_parse(c.line).items.size());
  }
}

} // namespace
