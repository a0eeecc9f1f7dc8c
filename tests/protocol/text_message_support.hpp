#pragma once
// Shared by the text-form tests (text_message_test.cpp, text_message_edit_test.cpp): comparing
// a text message with the message the DOM path gives for the same line, and the table of
// realistic ACP lines in the common shape.
#include <acp/protocol/envelope.hpp>
#include <acp/protocol/framing.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/protocol/text_buffer.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acp::test::text_form {

namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::check;
using acp::jsonrpc::invalid_message;
using acp::jsonrpc::line_parser;
using acp::jsonrpc::message;
using acp::jsonrpc::message_kind;
using acp::jsonrpc::parsed_line;

inline std::string cut(std::string_view s) { return std::string(s.substr(0, 300)); }

/// The line as `line_parser` parses it on the DOM path (its default max_depth).
inline json::value parse_line(std::string_view line) {
  json::parse_options opt;
  opt.max_depth = line_parser::default_max_depth;
  return json::parse(line, {}, opt);
}

inline message dom_message(std::string_view line) {
  auto c = check(parse_line(line));
  if (auto* m = std::get_if<message>(&c)) return std::move(*m);
  ADD_FAILURE() << "not a valid message: " << cut(line) << " -> " << std::get<invalid_message>(c).error.message;
  return message::notification("invalid");
}

inline message text_message(std::string_view line) {
  auto m = message::scan(line);
  if (!m) {
    ADD_FAILURE() << "message::scan refused " << cut(line);
    return message::notification("invalid");
  }
  EXPECT_TRUE(m->is_text()) << cut(line);
  return std::move(*m);
}

inline std::string wire(const message& m) {
  std::string out;
  acp::framing::append_line(out, m);
  return out;
}

/// Compares kind, id, method and the whole JSON, on copies (`json()` turns a text message into a
/// DOM message; the originals keep their form).
inline testing::AssertionResult same_message(const message& a, const message& b) {
  if (a.kind() != b.kind())
    return testing::AssertionFailure() << "kind " << to_string(a.kind()) << " vs " << to_string(b.kind());
  if (a.id() != b.id() || acp::jsonrpc::id_key(a.id()) != acp::jsonrpc::id_key(b.id()))
    return testing::AssertionFailure() << "id " << json::serialize(a.id()) << " vs " << json::serialize(b.id());
  if (a.method() != b.method()) return testing::AssertionFailure() << "method " << a.method() << " vs " << b.method();
  message ca = a;
  message cb = b;
  if (ca.json() != cb.json())
    return testing::AssertionFailure() << "JSON " << cut(json::serialize(ca.json())) << "\n  vs "
                                       << cut(json::serialize(cb.json()));
  return testing::AssertionSuccess();
}

/// `append_line` of `m`: one line that parses to `expected`.
inline testing::AssertionResult writes_as(const message& m, const json::object& expected) {
  const auto out = wire(m);
  if (out.empty() || out.back() != '\n' || out.find('\n') != out.size() - 1)
    return testing::AssertionFailure() << "not one line: " << cut(out);
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = line_parser::default_max_depth;
  const auto v = json::parse(std::string_view(out).substr(0, out.size() - 1), ec, {}, opt);
  if (ec) return testing::AssertionFailure() << "not JSON (" << ec.message() << "): " << cut(out);
  if (!v.is_object() || v.get_object() != expected)
    return testing::AssertionFailure() << cut(out) << "\n  expected " << cut(json::serialize(expected));
  return testing::AssertionSuccess();
}

inline testing::AssertionResult same_unwrap(const std::optional<message>& a, const std::string& why_a,
                                            const std::optional<message>& b, const std::string& why_b) {
  if (a.has_value() != b.has_value())
    return testing::AssertionFailure() << "text path " << (a ? "unwraps" : "fails: " + why_a) << ", DOM path "
                                       << (b ? "unwraps" : "fails: " + why_b);
  if (!a) {
    if (why_a != why_b) return testing::AssertionFailure() << "error '" << why_a << "' vs '" << why_b << "'";
    return testing::AssertionSuccess();
  }
  return same_message(*a, *b);
}

inline bool has_non_finite(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (const auto* a = v.if_array())
    return std::any_of(a->begin(), a->end(), [](const json::value& e) { return has_non_finite(e); });
  if (const auto* o = v.if_object())
    return std::any_of(o->begin(), o->end(), [](const json::key_value_pair& kv) { return has_non_finite(kv.value()); });
  return false;
}
inline bool has_non_finite(const json::object& o) { return has_non_finite(json::value(o)); }

inline std::vector<std::optional<json::value>> outer_ids() {
  return {std::nullopt, json::value(7), json::value("c-17"), json::value(nullptr), json::value(-1)};
}

// ---- contract: lines in the common shape ------------------------------------------------------

struct line_case {
  const char* name;
  std::string_view line;
};

inline std::ostream& operator<<(std::ostream& os, const line_case& c) { return os << c.name; }

inline const line_case common_lines[] = {
    {"update_chunk",
     R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"sess_1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Hello, \"world\"\n\u00e9 é 😀 \\ \/"}}}})"},
    {"update_tool_call",
     R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"tool_call","toolCallId":"t1","title":"Read","kind":"read","status":"pending","locations":[{"path":"/a","line":3}],"content":[{"type":"diff","path":"/a","oldText":null,"newText":"x"}]},"_meta":{"seq":1}}})"},
    {"update_plan",
     R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"plan","entries":[{"content":"do","priority":"high","status":"pending"}]}}})"},
    {"prompt_string_id",
     R"({"jsonrpc":"2.0","id":"req-1","method":"session/prompt","params":{"sessionId":"s1","prompt":[{"type":"text","text":"echo hello"},{"type":"resource_link","uri":"file:///a.txt","name":"a.txt"}]}})"},
    {"prompt_int_id", R"({"jsonrpc":"2.0","id":42,"method":"session/prompt","params":{"sessionId":"s1","prompt":[]}})"},
    {"prompt_zero_id", R"({"jsonrpc":"2.0","id":0,"method":"session/prompt","params":{"sessionId":"s1","prompt":[]}})"},
    {"negative_id", R"({"jsonrpc":"2.0","id":-7,"method":"session/new","params":{"cwd":"/","mcpServers":[]}})"},
    {"int64_max_id", R"({"jsonrpc":"2.0","id":9223372036854775807,"method":"m","params":{}})"},
    {"int64_min_id", R"({"jsonrpc":"2.0","id":-9223372036854775808,"result":{}})"},
    {"null_id_request", R"({"jsonrpc":"2.0","id":null,"method":"session/load","params":{"sessionId":"s"}})"},
    {"utf8_string_id", R"({"jsonrpc":"2.0","id":"é-😀","method":"m","params":[]})"},
    {"empty_string_id", R"({"jsonrpc":"2.0","id":"","result":null})"},
    {"initialize",
     R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":1,"clientCapabilities":{"fs":{"readTextFile":true,"writeTextFile":true},"terminal":true},"clientInfo":{"name":"zed","version":"0.1"}}})"},
    {"read_text_file",
     R"({"jsonrpc":"2.0","id":6,"method":"fs/read_text_file","params":{"sessionId":"s1","path":"/a","line":1,"limit":10}})"},
    {"cancel", R"({"jsonrpc":"2.0","method":"session/cancel","params":{"sessionId":"s1"}})"},
    {"members_reordered", R"({"params":{"sessionId":"s1"},"method":"session/cancel","jsonrpc":"2.0"})"},
    {"id_last", R"({"method":"session/prompt","params":{},"jsonrpc":"2.0","id":3})"},
    {"whitespace",
     " {\t\"jsonrpc\" : \"2.0\" ,\r \"id\" : 5 , \"method\":\"m\" , \"params\" : { \"a\" : [ 1 , 2 ] } } \t"},
    {"params_null", R"({"jsonrpc":"2.0","id":1,"method":"m","params":null})"},
    {"params_null_notification", R"({"jsonrpc":"2.0","method":"n","params":null})"},
    {"params_array", R"({"jsonrpc":"2.0","id":1,"method":"m","params":[1,"two",{"three":3},[4],null,true]})"},
    {"params_empty_array", R"({"jsonrpc":"2.0","method":"n","params":[]})"},
    {"no_params_request", R"({"jsonrpc":"2.0","id":"x","method":"session/list"})"},
    {"no_params_notification", R"({"jsonrpc":"2.0","method":"initialized"})"},
    {"result_object", R"({"jsonrpc":"2.0","id":2,"result":{"stopReason":"end_turn"}})"},
    {"result_null", R"({"jsonrpc":"2.0","id":3,"result":null})"},
    {"result_array", R"({"jsonrpc":"2.0","id":"r","result":[{"id":"a"},{"id":"b"}]})"},
    {"result_scalar", R"({"jsonrpc":"2.0","id":4,"result":"done"})"},
    {"result_number", R"({"jsonrpc":"2.0","id":4,"result":-0.5e-3})"},
    {"result_bool", R"({"jsonrpc":"2.0","id":4,"result":false})"},
    {"result_null_id", R"({"jsonrpc":"2.0","id":null,"result":{}})"},
    {"result_first", R"({"result":{"outcome":{"outcome":"selected","optionId":"a"}},"id":5,"jsonrpc":"2.0"})"},
    {"numbers_in_params",
     R"({"jsonrpc":"2.0","method":"n","params":{"a":-0,"b":1E298,"c":1e-999,"d":18446744073709551616,"e":18446744073709551615,"f":0.1,"g":-9223372036854775809}})"},
    {"duplicate_keys_in_params", R"({"jsonrpc":"2.0","method":"n","params":{"a":1,"a":2}})"},
    {"method_raw_utf8", R"({"jsonrpc":"2.0","method":"ext/ünïcode","params":{}})"},
    {"method_with_slash_and_dollar", R"({"jsonrpc":"2.0","method":"$/cancel_request","params":{"requestId":2}})"},
    {"successor_request",
     R"({"jsonrpc":"2.0","id":"c-17","method":"_proxy/successor","params":{"method":"session/prompt","params":{"sessionId":"s1","prompt":[{"type":"text","text":"x"}]}}})"},
    {"successor_notification",
     R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":">"}}}}})"},
    {"successor_params_null",
     R"({"jsonrpc":"2.0","id":9,"method":"proxy/successor","params":{"method":"session/cancel","params":null}})"},
    {"successor_without_params",
     R"({"jsonrpc":"2.0","id":9,"method":"_proxy/successor","params":{"method":"session/cancel"}})"},
    {"successor_params_array",
     R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":[1,[2]]}})"},
    {"successor_params_first",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{ "params" : {"a":1} , "method" : "m" }})"},
    {"legacy_request",
     R"({"jsonrpc":"2.0","id":4,"method":"_proxy/successor/request","params":{"method":"initialize","params":{"protocolVersion":1}}})"},
    {"legacy_notification",
     R"({"jsonrpc":"2.0","method":"_proxy/successor/notification","params":{"method":"session/cancel","params":{"sessionId":"s"}}})"},
    {"successor_with_meta",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":{},"_meta":{"k":1}}})"},
    {"successor_with_legacy_meta",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":{},"meta":{}}})"},
    {"successor_unknown_member", R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","x":1}})"},
    {"successor_escaped_method",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"session\/prompt","params":{}}})"},
    {"successor_escaped_key",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"m\u0065thod":"m","params":{}}})"},
    {"successor_duplicate_method",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"a","method":"b"}})"},
    {"successor_missing_method", R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"params":{}}})"},
    {"successor_method_not_string",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":5,"params":{}}})"},
    {"successor_inner_params_string",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"m","params":"s"}})"},
    {"successor_inner_params_number",
     R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":1}})"},
    {"successor_inner_params_true",
     R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":true}})"},
    {"successor_params_array_envelope",
     R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":["method","m"]})"},
    {"successor_params_null_envelope", R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":null})"},
    {"successor_no_params_envelope", R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor"})"},
    {"successor_empty_params_envelope", R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{}})"},
};

} // namespace acp::test::text_form
