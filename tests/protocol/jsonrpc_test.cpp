// JSON-RPC 2.0 classification, parse errors, batches and id echo (docs/PROTOCOL.md §1, §2).
#include <acp/protocol/framing.hpp>
#include <acp/protocol/jsonrpc.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;
using acp::jsonrpc::check;
using acp::jsonrpc::invalid_message;
using acp::jsonrpc::line_parser;
using acp::jsonrpc::message;
using acp::jsonrpc::message_kind;

message expect_message(std::string_view text) {
  auto c = check(json::parse(text));
  if (auto* m = std::get_if<message>(&c)) return std::move(*m);
  ADD_FAILURE() << "expected a valid message: " << text << " -> " << std::get<invalid_message>(c).error.message;
  return message::notification("invalid");
}

invalid_message expect_invalid(std::string_view text) {
  auto c = check(json::parse(text));
  if (auto* i = std::get_if<invalid_message>(&c)) return std::move(*i);
  ADD_FAILURE() << "expected an invalid message: " << text;
  return {};
}

bool is_valid_utf8_json_string(const std::string& s) {
  // Boost.JSON rejects invalid UTF-8; serialize the string and parse it back.
  boost::system::error_code ec;
  auto v = json::parse(json::serialize(json::value(s)), ec);
  return !ec && v.is_string() && v.get_string() == s;
}

// ---- classification ---------------------------------------------------------------------------

TEST(jsonrpc_check, request) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":7,"method":"session/prompt","params":{"sessionId":"s1"}})");
  EXPECT_EQ(m.kind(), message_kind::request);
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method(), "session/prompt");
  EXPECT_EQ(m.id(), json::value(7));
  ASSERT_NE(m.params(), nullptr);
  EXPECT_EQ(*m.params(), json::parse(R"({"sessionId":"s1"})"));
  EXPECT_EQ(m.result(), nullptr);
  EXPECT_FALSE(m.is_error());
}

TEST(jsonrpc_check, request_with_null_id_params_array_or_absent) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":null,"method":"m","params":[1,2]})");
  EXPECT_TRUE(m.is_request()) << "an explicit null id is still a request";
  EXPECT_TRUE(m.id().is_null());
  ASSERT_NE(m.params(), nullptr);
  EXPECT_TRUE(m.params()->is_array());
  EXPECT_EQ(expect_message(R"({"jsonrpc":"2.0","id":1,"method":"m"})").params(), nullptr);
  EXPECT_EQ(expect_message(R"({"jsonrpc":"2.0","id":1,"method":"m","params":null})").params(), nullptr);
}

TEST(jsonrpc_check, notification) {
  auto m = expect_message(R"({"jsonrpc":"2.0","method":"session/cancel","params":{"sessionId":"s1"}})");
  EXPECT_EQ(m.kind(), message_kind::notification);
  EXPECT_EQ(m.method(), "session/cancel");
  EXPECT_TRUE(m.id().is_null());
}

TEST(jsonrpc_check, unknown_members_are_kept) {
  const auto text = R"({"jsonrpc":"2.0","id":1,"method":"m","params":{},"x-extra":{"deep":[1]},"_meta":{"k":"v"}})";
  auto m = expect_message(text);
  EXPECT_EQ(json::serialize(m.json()), text);
  EXPECT_EQ(json::serialize(std::move(m).release()), text);
}

TEST(jsonrpc_check, response_with_result) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":"a","result":{"stopReason":"end_turn"}})");
  EXPECT_EQ(m.kind(), message_kind::response);
  EXPECT_FALSE(m.is_error());
  EXPECT_EQ(m.method(), "");
  EXPECT_EQ(m.id(), json::value("a"));
  ASSERT_NE(m.result(), nullptr);
  EXPECT_EQ(*m.result(), json::parse(R"({"stopReason":"end_turn"})"));
  EXPECT_FALSE(m.error());
}

TEST(jsonrpc_check, response_with_null_result) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":3,"result":null})");
  EXPECT_TRUE(m.is_response());
  EXPECT_FALSE(m.is_error());
  ASSERT_NE(m.result(), nullptr) << "\"result\": null is a success with an empty result";
  EXPECT_TRUE(m.result()->is_null());
}

TEST(jsonrpc_check, response_with_error) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"nope","data":{"method":"x"}}})");
  EXPECT_TRUE(m.is_response());
  EXPECT_TRUE(m.is_error());
  EXPECT_EQ(m.result(), nullptr);
  auto e = m.error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, -32601);
  EXPECT_EQ(e->message, "nope");
  EXPECT_EQ(e->data, json::parse(R"({"method":"x"})"));
}

TEST(jsonrpc_check, not_an_object) {
  for (auto text : {"1", "\"s\"", "null", "true"}) {
    auto inv = expect_invalid(text);
    EXPECT_EQ(inv.error.code, -32600) << text;
    EXPECT_TRUE(inv.id.is_null()) << text;
    EXPECT_FALSE(inv.response_shaped) << text;
  }
}

TEST(jsonrpc_check, wrong_or_missing_jsonrpc_version_recovers_the_id) {
  for (auto text : {R"({"jsonrpc":"1.0","id":5,"method":"m"})", R"({"id":5,"method":"m"})",
                    R"({"jsonrpc":2.0,"id":5,"method":"m"})"}) {
    auto inv = expect_invalid(text);
    EXPECT_EQ(inv.error.code, -32600) << text;
    EXPECT_EQ(inv.id, json::value(5)) << text;
  }
  auto inv = expect_invalid(R"({"jsonrpc":"2.1","id":"abc","method":"m"})");
  EXPECT_EQ(inv.id, json::value("abc"));
}

TEST(jsonrpc_check, method_not_a_string) {
  auto inv = expect_invalid(R"({"jsonrpc":"2.0","id":6,"method":42})");
  EXPECT_EQ(inv.error.code, -32600);
  EXPECT_EQ(inv.id, json::value(6));
  EXPECT_FALSE(inv.response_shaped);
}

TEST(jsonrpc_check, params_a_string_or_number) {
  for (auto text :
       {R"({"jsonrpc":"2.0","id":8,"method":"m","params":"x"})", R"({"jsonrpc":"2.0","id":8,"method":"m","params":1})",
        R"({"jsonrpc":"2.0","id":8,"method":"m","params":false})"}) {
    auto inv = expect_invalid(text);
    EXPECT_EQ(inv.error.code, -32600) << text;
    EXPECT_EQ(inv.id, json::value(8)) << text;
  }
}

TEST(jsonrpc_check, request_with_result_is_invalid) {
  auto inv = expect_invalid(R"({"jsonrpc":"2.0","id":9,"method":"m","result":{}})");
  EXPECT_EQ(inv.error.code, -32600);
  EXPECT_EQ(inv.id, json::value(9));
}

TEST(jsonrpc_check, both_result_and_error_is_response_shaped) {
  auto inv = expect_invalid(R"({"jsonrpc":"2.0","id":10,"result":{},"error":{"code":1,"message":"m"}})");
  EXPECT_EQ(inv.error.code, -32600);
  EXPECT_EQ(inv.id, json::value(10));
  EXPECT_TRUE(inv.response_shaped) << "never answer a response; fail the pending id instead";
}

TEST(jsonrpc_check, response_without_id_is_response_shaped) {
  auto inv = expect_invalid(R"({"jsonrpc":"2.0","result":{}})");
  EXPECT_EQ(inv.error.code, -32600);
  EXPECT_TRUE(inv.id.is_null());
  EXPECT_TRUE(inv.response_shaped);
}

TEST(jsonrpc_check, id_without_method_result_or_error) {
  auto inv = expect_invalid(R"({"jsonrpc":"2.0","id":11})");
  EXPECT_EQ(inv.error.code, -32600);
  EXPECT_EQ(inv.id, json::value(11));
}

TEST(jsonrpc_check, neither_method_nor_id) {
  auto inv = expect_invalid(R"({"jsonrpc":"2.0"})");
  EXPECT_EQ(inv.error.code, -32600);
  EXPECT_TRUE(inv.id.is_null());
  EXPECT_FALSE(inv.response_shaped);
}

TEST(jsonrpc_check, id_an_object_array_float_or_bool_is_invalid_with_null_id) {
  for (auto text : {R"({"jsonrpc":"2.0","id":{"a":1},"method":"m"})", R"({"jsonrpc":"2.0","id":[1],"method":"m"})",
                    R"({"jsonrpc":"2.0","id":1.5,"method":"m"})", R"({"jsonrpc":"2.0","id":1.0,"method":"m"})",
                    R"({"jsonrpc":"2.0","id":1e3,"method":"m"})", R"({"jsonrpc":"2.0","id":true,"method":"m"})",
                    R"({"jsonrpc":"2.0","id":2.5,"result":{}})"}) {
    auto inv = expect_invalid(text);
    EXPECT_EQ(inv.error.code, -32600) << text;
    EXPECT_TRUE(inv.id.is_null()) << "an invalid id cannot be echoed: " << text;
  }
}

TEST(jsonrpc_check, error_missing_code_or_message_is_response_shaped) {
  for (auto text : {R"({"jsonrpc":"2.0","id":12,"error":{"message":"m"}})",
                    R"({"jsonrpc":"2.0","id":12,"error":{"code":"x","message":"m"}})",
                    R"({"jsonrpc":"2.0","id":12,"error":{"code":1.5,"message":"m"}})",
                    R"({"jsonrpc":"2.0","id":12,"error":{"code":1}})", R"({"jsonrpc":"2.0","id":12,"error":"boom"})"}) {
    auto inv = expect_invalid(text);
    EXPECT_EQ(inv.error.code, -32600) << text;
    EXPECT_EQ(inv.id, json::value(12)) << text;
    EXPECT_TRUE(inv.response_shaped) << text;
  }
}

TEST(jsonrpc_check, to_string_names_kinds) {
  EXPECT_EQ(acp::jsonrpc::to_string(message_kind::request), "request");
  EXPECT_EQ(acp::jsonrpc::to_string(message_kind::notification), "notification");
  EXPECT_EQ(acp::jsonrpc::to_string(message_kind::response), "response");
}

// ---- builders ---------------------------------------------------------------------------------

TEST(jsonrpc_build, builders_emit_exact_bytes) {
  EXPECT_EQ(json::serialize(message::request(1, "m", json::parse(R"({"a":1})")).json()),
            R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}})");
  EXPECT_EQ(json::serialize(message::request("r", "m").json()), R"({"jsonrpc":"2.0","id":"r","method":"m"})")
      << "absent params are not emitted as null";
  EXPECT_EQ(json::serialize(message::notification("n").json()), R"({"jsonrpc":"2.0","method":"n"})");
  EXPECT_EQ(json::serialize(message::response(2, json::object{}).json()), R"({"jsonrpc":"2.0","id":2,"result":{}})");
  EXPECT_EQ(json::serialize(message::error_response(nullptr, acp::rpc_error::invalid_request("bad")).json()),
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}})");
}

TEST(jsonrpc_build, built_messages_pass_the_checker) {
  for (auto& m : {message::request(1, "m", json::array{}), message::notification("n", json::object{}),
                  message::response("x", nullptr), message::error_response(3, acp::rpc_error::internal_error())}) {
    auto c = check(json::value(m.json()));
    ASSERT_TRUE(std::holds_alternative<message>(c)) << json::serialize(m.json());
    EXPECT_EQ(std::get<message>(c).kind(), m.kind());
  }
}

TEST(jsonrpc_build, set_id_replaces_request_and_response_ids_only) {
  auto r = message::request(1, "m");
  r.set_id("p-1");
  EXPECT_EQ(r.id(), json::value("p-1"));
  auto n = message::notification("n");
  n.set_id(5);
  EXPECT_FALSE(n.json().contains("id")) << "a notification never gains an id";
}

TEST(jsonrpc_build, malformed_error_object_read_from_a_message_is_still_an_error) {
  // Built unchecked (the checker would reject it): error() keeps what it said.
  json::object o{{"jsonrpc", "2.0"}, {"id", 1}, {"error", "boom"}};
  message m(message_kind::response, std::move(o));
  auto e = m.error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, -32603);
  EXPECT_EQ(e->data, json::value("boom"));
}

// ---- id echo ----------------------------------------------------------------------------------

TEST(jsonrpc_id, response_echoes_the_id_byte_for_byte) {
  for (std::string_view id : {"0", "-1", "9007199254740993", "18446744073709551615", "-9223372036854775808", "\"1\"",
                              "\"\"", "null", "\"\\u00e9\\n\"", "\"c-17\""}) {
    const std::string in = R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"method":"m"})";
    line_parser p;
    auto parsed = p.parse(in);
    ASSERT_EQ(parsed.items.size(), 1u) << in;
    auto* req = std::get_if<message>(&parsed.items[0]);
    ASSERT_NE(req, nullptr) << in;
    ASSERT_TRUE(req->is_request()) << in;
    const auto out = acp::framing::encode_line(json::value(message::response(req->id(), json::object{}).json()));
    const std::string want_id =
        std::string(R"("id":)") + (id == "\"\\u00e9\\n\"" ? std::string("\"\xC3\xA9\\n\"") : std::string(id));
    EXPECT_NE(out.find(want_id + ","), std::string::npos) << "in: " << in << "\nout: " << out;
    EXPECT_EQ(out, R"({"jsonrpc":"2.0",)" + want_id + R"(,"result":{}})" + "\n");
  }
}

TEST(jsonrpc_id, large_ids_keep_their_type) {
  auto big = expect_message(R"({"jsonrpc":"2.0","id":9007199254740993,"method":"m"})");
  ASSERT_TRUE(big.id().is_int64());
  EXPECT_EQ(big.id().get_int64(), 9007199254740993LL);
  auto max = expect_message(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"m"})");
  ASSERT_TRUE(max.id().is_uint64());
  EXPECT_EQ(max.id().get_uint64(), 18446744073709551615ULL);
}

TEST(jsonrpc_id, id_key_distinguishes_types) {
  using acp::jsonrpc::id_key;
  EXPECT_EQ(id_key(json::value(1)), "1");
  EXPECT_EQ(id_key(json::value("1")), "\"1\"");
  EXPECT_NE(id_key(json::value(1)), id_key(json::value("1")));
  EXPECT_EQ(id_key(json::value(nullptr)), "null");
  EXPECT_NE(id_key(json::value(nullptr)), id_key(json::value("null")));
  EXPECT_EQ(id_key(json::value("")), "\"\"");
  EXPECT_EQ(id_key(json::parse("18446744073709551615")), "18446744073709551615");
  EXPECT_EQ(id_key(json::parse("9007199254740993")), "9007199254740993");
  // The same id read from the wire and built in code has the same key.
  EXPECT_EQ(id_key(expect_message(R"({"jsonrpc":"2.0","id":42,"method":"m"})").id()), id_key(json::value(42)));
  EXPECT_EQ(id_key(json::parse("42")), id_key(json::value(std::uint64_t{42})))
      << "the key is the JSON text, whatever the integer's C++ type";
}

TEST(jsonrpc_id, is_valid_id) {
  using acp::jsonrpc::is_valid_id;
  EXPECT_TRUE(is_valid_id(json::value(1)));
  EXPECT_TRUE(is_valid_id(json::value(std::uint64_t{1})));
  EXPECT_TRUE(is_valid_id(json::value("s")));
  EXPECT_TRUE(is_valid_id(json::value(nullptr)));
  EXPECT_FALSE(is_valid_id(json::value(1.5)));
  EXPECT_FALSE(is_valid_id(json::value(true)));
  EXPECT_FALSE(is_valid_id(json::value(json::object{})));
  EXPECT_FALSE(is_valid_id(json::value(json::array{})));
}

// ---- line_parser: parse errors ----------------------------------------------------------------

invalid_message parse_one_invalid(line_parser& p, std::string_view line) {
  auto parsed = p.parse(line);
  EXPECT_FALSE(parsed.batch);
  EXPECT_EQ(parsed.items.size(), 1u);
  if (parsed.items.empty()) return {};
  auto* inv = std::get_if<invalid_message>(&parsed.items[0]);
  if (!inv) {
    ADD_FAILURE() << "expected invalid: " << line;
    return {};
  }
  return std::move(*inv);
}

std::string data_line(const invalid_message& inv) {
  if (!inv.error.data || !inv.error.data->is_object()) return "<no data>";
  const auto* l = inv.error.data->get_object().if_contains("line");
  return l && l->is_string() ? std::string(l->get_string()) : "<no data.line>";
}

TEST(jsonrpc_parse, not_json_is_a_parse_error_with_a_sample) {
  line_parser p;
  auto inv = parse_one_invalid(p, "Welcome to my agent v1.2!");
  EXPECT_EQ(inv.error.code, -32700);
  EXPECT_TRUE(inv.id.is_null());
  EXPECT_FALSE(inv.response_shaped);
  EXPECT_EQ(data_line(inv), "Welcome to my agent v1.2!");
  // The whole error serializes with "id": null.
  const auto out = json::serialize(message::error_response(inv.id, inv.error).json());
  EXPECT_EQ(out.rfind(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,)", 0), 0u) << out;
}

TEST(jsonrpc_parse, truncated_and_trailing_garbage_are_parse_errors) {
  line_parser p;
  for (auto text : {R"({"jsonrpc":"2.0","id":1)", R"({"jsonrpc":"2.0"} x)", R"({} {})", "{'a':1}", ""}) {
    EXPECT_EQ(parse_one_invalid(p, text).error.code, -32700) << text;
  }
}

TEST(jsonrpc_parse, parser_recovers_after_an_error) {
  line_parser p;
  EXPECT_EQ(parse_one_invalid(p, "{\"a\":").error.code, -32700);
  auto ok = p.parse(R"({"jsonrpc":"2.0","method":"n"})");
  ASSERT_EQ(ok.items.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<message>(ok.items[0]));
  EXPECT_EQ(std::get<message>(ok.items[0]).method(), "n");
}

TEST(jsonrpc_parse, long_line_sample_is_truncated_with_ellipsis) {
  line_parser p(line_parser::default_max_depth, 32);
  const std::string text = "not json " + std::string(1000, 'x');
  auto sample = data_line(parse_one_invalid(p, text));
  EXPECT_TRUE(sample.ends_with("\xE2\x80\xA6")) << sample;
  EXPECT_LE(sample.size(), 32u + 3u);
  EXPECT_EQ(sample.rfind("not json xxx", 0), 0u);
}

TEST(jsonrpc_parse, default_sample_is_bounded) {
  line_parser p;
  auto sample = data_line(parse_one_invalid(p, std::string(1 << 20, '#')));
  EXPECT_LE(sample.size(), line_parser::default_sample_bytes + 3);
  EXPECT_TRUE(sample.ends_with("\xE2\x80\xA6"));
}

TEST(jsonrpc_parse, invalid_utf8_is_a_parse_error_and_the_sample_is_valid_utf8) {
  line_parser p;
  const std::string bad =
      "{\"jsonrpc\":\"2.0\",\"method\":\"\xFF\xFE\",\"x\":\"\xC0\x80\xED\xA0\x80\xF4\x90\x80\x80\xE2\x82\"}";
  auto inv = parse_one_invalid(p, bad);
  EXPECT_EQ(inv.error.code, -32700);
  const auto sample = data_line(inv);
  EXPECT_TRUE(is_valid_utf8_json_string(sample)) << sample;
  EXPECT_NE(sample.find("\xEF\xBF\xBD"), std::string::npos) << "invalid bytes become U+FFFD";
  // The whole error response is valid JSON a peer can parse.
  const auto out = acp::framing::encode_line(json::value(message::error_response(inv.id, inv.error).json()));
  boost::system::error_code ec;
  auto back = json::parse(std::string_view(out).substr(0, out.size() - 1), ec);
  EXPECT_FALSE(ec) << out;
  EXPECT_EQ(back.at("error").at("data").at("line"), json::value(sample));
}

TEST(jsonrpc_parse, truncation_never_splits_a_utf8_sequence) {
  const std::string text = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80" + std::string(40, 'a'); // é € 😀
  for (std::size_t max = 0; max < 16; ++max) {
    const auto s = acp::jsonrpc::utf8_sample(text, max);
    EXPECT_TRUE(is_valid_utf8_json_string(s)) << "max " << max;
    EXPECT_TRUE(s.ends_with("\xE2\x80\xA6")) << "max " << max;
  }
}

TEST(jsonrpc_parse, utf8_sample_of_short_valid_text_is_the_text) {
  using acp::jsonrpc::utf8_sample;
  EXPECT_EQ(utf8_sample("", 10), "");
  EXPECT_EQ(utf8_sample("h\xC3\xA9llo", 10), "h\xC3\xA9llo");
  EXPECT_EQ(utf8_sample("abc", 3), "abc") << "exactly max bytes is not cut";
  EXPECT_EQ(utf8_sample("abcd", 3), "abc\xE2\x80\xA6");
  EXPECT_EQ(utf8_sample("a\xFF"
                        "b",
                        10),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8_sample("\xE2\x82", 10), "\xEF\xBF\xBD\xEF\xBF\xBD") << "a truncated sequence is invalid";
}

TEST(jsonrpc_parse, utf8_sample_rejects_overlong_surrogates_and_out_of_range) {
  using acp::jsonrpc::utf8_sample;
  for (std::string bad : {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF0\x80\x80\x80",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80", "\xBF"}) {
    const auto s = utf8_sample(bad, 64);
    EXPECT_TRUE(is_valid_utf8_json_string(s)) << json::serialize(json::array(bad.begin(), bad.end()));
    // Every byte of these sequences is rejected on its own: one U+FFFD each.
    std::string want;
    for (std::size_t i = 0; i < bad.size(); ++i) want += "\xEF\xBF\xBD";
    EXPECT_EQ(s, want);
  }
  EXPECT_EQ(utf8_sample("\xF4\x8F\xBF\xBF", 64), "\xF4\x8F\xBF\xBF") << "U+10FFFF is valid";
  EXPECT_EQ(utf8_sample("\xEF\xBF\xBD", 64), "\xEF\xBF\xBD");
}

// ---- batches ----------------------------------------------------------------------------------

TEST(jsonrpc_parse, batch_of_mixed_valid_and_invalid) {
  line_parser p;
  auto parsed = p.parse(R"([{"jsonrpc":"2.0","id":1,"method":"a"},)"
                        R"({"jsonrpc":"2.0","method":"b"},)"
                        R"(1,)"
                        R"({"jsonrpc":"2.0","id":"r","result":null},)"
                        R"({"jsonrpc":"1.0","id":2,"method":"c"},)"
                        R"([{"jsonrpc":"2.0","method":"nested"}]])");
  EXPECT_TRUE(parsed.batch);
  ASSERT_EQ(parsed.items.size(), 6u);
  ASSERT_TRUE(std::holds_alternative<message>(parsed.items[0]));
  EXPECT_TRUE(std::get<message>(parsed.items[0]).is_request());
  ASSERT_TRUE(std::holds_alternative<message>(parsed.items[1]));
  EXPECT_TRUE(std::get<message>(parsed.items[1]).is_notification());
  ASSERT_TRUE(std::holds_alternative<invalid_message>(parsed.items[2]));
  EXPECT_EQ(std::get<invalid_message>(parsed.items[2]).error.code, -32600);
  ASSERT_TRUE(std::holds_alternative<message>(parsed.items[3]));
  EXPECT_TRUE(std::get<message>(parsed.items[3]).is_response());
  ASSERT_TRUE(std::holds_alternative<invalid_message>(parsed.items[4]));
  EXPECT_EQ(std::get<invalid_message>(parsed.items[4]).id, json::value(2));
  ASSERT_TRUE(std::holds_alternative<invalid_message>(parsed.items[5])) << "batches do not nest";
  EXPECT_EQ(std::get<invalid_message>(parsed.items[5]).error.code, -32600);
}

TEST(jsonrpc_parse, batch_of_one_is_still_a_batch) {
  line_parser p;
  auto parsed = p.parse(R"([{"jsonrpc":"2.0","id":1,"method":"a"}])");
  EXPECT_TRUE(parsed.batch);
  EXPECT_EQ(parsed.items.size(), 1u);
}

TEST(jsonrpc_parse, empty_batch_is_invalid_request) {
  line_parser p;
  for (auto text : {"[]", " [ ] "}) {
    auto parsed = p.parse(text);
    EXPECT_FALSE(parsed.batch) << "answered with a single error, not an array";
    ASSERT_EQ(parsed.items.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<invalid_message>(parsed.items[0]));
    EXPECT_EQ(std::get<invalid_message>(parsed.items[0]).error.code, -32600);
    EXPECT_TRUE(std::get<invalid_message>(parsed.items[0]).id.is_null());
  }
}

TEST(jsonrpc_parse, single_message_is_not_a_batch) {
  line_parser p;
  auto parsed = p.parse(R"({"jsonrpc":"2.0","method":"n"})");
  EXPECT_FALSE(parsed.batch);
  ASSERT_EQ(parsed.items.size(), 1u);
}

// ---- nesting ----------------------------------------------------------------------------------

TEST(jsonrpc_parse, deep_nesting_is_a_parse_error_without_crashing) {
  line_parser p;
  for (std::size_t depth : {std::size_t{513}, std::size_t{10'000}, std::size_t{1'000'000}}) {
    std::string deep(depth, '[');
    EXPECT_EQ(parse_one_invalid(p, deep).error.code, -32700) << depth;
    deep += std::string(depth, ']');
    EXPECT_EQ(parse_one_invalid(p, deep).error.code, -32700) << depth << " closed";
  }
  std::string objects;
  for (int i = 0; i < 10'000; ++i) objects += "{\"a\":";
  EXPECT_EQ(parse_one_invalid(p, objects).error.code, -32700);
}

TEST(jsonrpc_parse, moderate_nesting_is_fine) {
  line_parser p;
  std::string nested = "[1]";
  for (int i = 0; i < 99; ++i) nested = "[" + nested + "]";
  const std::string text = R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"deep":)" + nested + "}}";
  auto parsed = p.parse(text);
  ASSERT_EQ(parsed.items.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<message>(parsed.items[0]));
  EXPECT_EQ(json::serialize(std::get<message>(parsed.items[0]).json()), text);
}

TEST(jsonrpc_parse, max_depth_is_configurable) {
  line_parser shallow(4);
  EXPECT_EQ(parse_one_invalid(shallow, R"({"jsonrpc":"2.0","method":"m","params":[[[[1]]]]})").error.code, -32700);
  auto ok = shallow.parse(R"({"jsonrpc":"2.0","method":"m","params":[[1]]})");
  ASSERT_EQ(ok.items.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<message>(ok.items[0]));
}

} // namespace

// A message with an id but neither method nor result/error is an invalid *request*: it is
// answered (-32600 with its id), unlike a malformed response, which is never answered.
TEST(jsonrpc_check, id_without_method_or_result_is_an_answerable_invalid_request) {
  auto c = acp::jsonrpc::check(boost::json::parse(R"({"jsonrpc":"2.0","id":5,"params":{}})"));
  auto* bad = std::get_if<acp::jsonrpc::invalid_message>(&c);
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->error.code, -32600);
  EXPECT_EQ(bad->id, 5);
  EXPECT_FALSE(bad->response_shaped);
}

// The items of a parsed line: one item lives inline, more spill into a vector; either way they
// are contiguous and in order, and `at` checks the index.
TEST(jsonrpc_checked_list, one_item_inline_more_spill_in_order_and_stay_contiguous) {
  using acp::jsonrpc::checked_list;
  const auto note = [](int n) { return message::notification("m" + std::to_string(n)); };
  const auto method_at = [](const checked_list& l, std::size_t i) { return std::get<message>(l[i]).method(); };
  checked_list l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.begin(), l.end());
  EXPECT_THROW((void)l.at(0), std::out_of_range);
  l.emplace_back(note(0));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.end() - l.begin(), 1);
  EXPECT_EQ(method_at(l, 0), "m0");
  for (int i = 1; i < 5; ++i) l.push_back(acp::jsonrpc::checked(note(i)));
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l.end() - l.begin(), 5);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(method_at(l, i), "m" + std::to_string(i));
    EXPECT_EQ(&l[i], l.begin() + i);
  }
  EXPECT_EQ(std::get<message>(l.back()).method(), "m4");
  EXPECT_THROW((void)l.at(5), std::out_of_range);
  // Reserved first (a batch): everything goes to the vector, in order.
  checked_list r;
  r.reserve(3);
  for (int i = 0; i < 3; ++i) r.emplace_back(note(i));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(method_at(r, 2), "m2");
  EXPECT_EQ(std::get<message>(r.front()).method(), "m0");
  // Moved: the items go along.
  checked_list moved = std::move(l);
  ASSERT_EQ(moved.size(), 5u);
  EXPECT_EQ(method_at(moved, 3), "m3");
}

// A text message that was moved from (a handler that passed it on) answers its accessors
// without reading out of bounds: no method, no payload.
TEST(jsonrpc_message, a_moved_from_text_message_is_safe_to_ask) {
  line_parser p;
  auto parsed = p.parse(R"({"jsonrpc":"2.0","id":1,"method":"fs/read_text_file","params":{"path":"/a"}})");
  auto& m = std::get<message>(parsed.items.front());
  ASSERT_TRUE(m.is_text());
  const message taken = std::move(m);
  EXPECT_EQ(taken.method(), "fs/read_text_file");
  EXPECT_EQ(m.method(), ""); // NOLINT(bugprone-use-after-move): what this test is about
  const auto payload = m.payload_text();
  EXPECT_TRUE(!payload || payload->empty());
}
