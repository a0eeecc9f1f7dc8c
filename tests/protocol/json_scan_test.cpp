// json_scan (protocol/include/acp/protocol/json_scan.hpp): the validating scanner against
// Boost.JSON. Whatever the scanner accepts, Boost.JSON with the same `max_depth` accepts; the
// scanner refuses valid JSON only for nesting deeper than its limit, `\u` escapes of surrogates
// and exponents of more than three digits. Members of a scanned object are its members, in
// order, as raw text.
#include <acp/protocol/json_scan.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
namespace js = acp::json_scan;
using texts = std::initializer_list<std::string_view>;

std::string show(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

bool boost_accepts(std::string_view text, std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  boost::system::error_code ec;
  (void)json::parse(text, ec, {}, opt);
  return !ec;
}

json::value boost_parse(std::string_view text, std::size_t max_depth = 512) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  return json::parse(text, {}, opt);
}

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

/// The scanner accepts `text` exactly when Boost.JSON does (for texts that hold none of the
/// constructs the scanner may refuse), and then returns the value without surrounding whitespace.
testing::AssertionResult agrees_with_boost(std::string_view text, std::size_t depth = js::max_depth) {
  const bool boost_ok = boost_accepts(text, depth);
  const auto scanned = js::scan_value(text, depth);
  if (scanned.has_value() != boost_ok)
    return testing::AssertionFailure() << "scanner " << (scanned ? "accepts" : "refuses") << ", Boost.JSON "
                                       << (boost_ok ? "accepts" : "refuses") << ": " << show(text);
  if (scanned && *scanned != trim(text))
    return testing::AssertionFailure() << "scanned text " << show(*scanned) << " for " << show(text);
  if (scanned && (scanned->data() < text.data() || scanned->data() + scanned->size() > text.data() + text.size()))
    return testing::AssertionFailure() << "scanned text does not point into the input";
  return testing::AssertionSuccess();
}

/// Both accept `text` (one valid value).
testing::AssertionResult accepted(std::string_view text, std::size_t depth = js::max_depth) {
  if (!boost_accepts(text, depth)) return testing::AssertionFailure() << "Boost.JSON refuses " << show(text);
  return agrees_with_boost(text, depth);
}

/// Both refuse `text` (not JSON).
testing::AssertionResult refused(std::string_view text, std::size_t depth = js::max_depth) {
  if (boost_accepts(text, depth)) return testing::AssertionFailure() << "Boost.JSON accepts " << show(text);
  return agrees_with_boost(text, depth);
}

/// Valid JSON that the scanner leaves to the full parser.
testing::AssertionResult left_to_boost(std::string_view text, std::size_t depth = js::max_depth) {
  if (!boost_accepts(text, depth)) return testing::AssertionFailure() << "Boost.JSON refuses " << show(text);
  if (js::scan_value(text, depth)) return testing::AssertionFailure() << "scanner accepts " << show(text);
  std::array<js::member, 4> members;
  if (js::scan_object(text, members, depth)) return testing::AssertionFailure() << "scan_object accepts " << show(text);
  return testing::AssertionSuccess();
}

std::string nested(std::size_t depth, std::string_view open = "[", std::string_view close = "]",
                   std::string_view inner = "1") {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += open;
  s += inner;
  for (std::size_t i = 0; i < depth; ++i) s += close;
  return s;
}

/// `members_of_valid_object` on text `scan_object` accepted gives the same members.
testing::AssertionResult same_members_when_trusted(std::string_view text, std::span<const js::member> scanned) {
  std::vector<js::member> trusted(scanned.size() + 1);
  const auto n = js::members_of_valid_object(text, trusted);
  if (!n || *n != scanned.size())
    return testing::AssertionFailure() << "members_of_valid_object finds " << (n ? std::to_string(*n) : "nothing")
                                       << " instead of " << scanned.size() << " in " << show(text);
  for (std::size_t i = 0; i < *n; ++i) {
    if (trusted[i].key.data() != scanned[i].key.data() || trusted[i].key.size() != scanned[i].key.size() ||
        trusted[i].value.data() != scanned[i].value.data() || trusted[i].value.size() != scanned[i].value.size() ||
        trusted[i].key_escaped != scanned[i].key_escaped)
      return testing::AssertionFailure() << "member " << i << " differs in " << show(text);
  }
  return testing::AssertionSuccess();
}

// ---- values of every kind ---------------------------------------------------------------------

TEST(json_scan_value, accepts_values_of_every_kind) {
  for (const std::string_view text :
       {"null", "true", "false", "0", "-1", "1.5", "1e3", R"("")", R"("s")", "[]", "{}", "[null,true,false]",
        R"([1,"a",{"b":[null]}])", R"({"a":{"b":{"c":[]}}})", R"({"":0})", "[[],[[]],{}]"})
    EXPECT_TRUE(accepted(text));
}

TEST(json_scan_value, returns_the_value_without_surrounding_whitespace) {
  const std::string text = " \t\r\n[ 1 ,\t2 ,\n{ \"a\" : 3 } ]\r\n ";
  const auto v = js::scan_value(text);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "[ 1 ,\t2 ,\n{ \"a\" : 3 } ]");
  EXPECT_EQ(v->data(), text.data() + 4);
  EXPECT_TRUE(accepted(text));
  EXPECT_TRUE(accepted(" 1 "));
  EXPECT_TRUE(accepted("\n\"x\"\n"));
}

TEST(json_scan_value, only_json_whitespace_is_whitespace) {
  for (const std::string_view text : texts{"\f1", "\v1", "1\f", "[1,\v2]",
                                           "\xC2\xA0"
                                           "1",
                                           "1\xC2\xA0", std::string_view("\0 1", 3)})
    EXPECT_TRUE(refused(text));
}

TEST(json_scan_value, empty_input_is_refused) {
  for (const std::string_view text : {"", " ", "\t\r\n "}) EXPECT_TRUE(refused(text));
  std::array<js::member, 2> members;
  EXPECT_FALSE(js::scan_object("", members));
  EXPECT_FALSE(js::scan_object("  ", members));
}

TEST(json_scan_value, trailing_garbage_is_refused) {
  for (const std::string_view text : texts{"1 2", "{} x", "[]]", "{}}", "nullx", "true,", "\"a\"\"b\"", "1,", "[1] [2]",
                                           "0 0", "{\"a\":1}{", std::string_view("1\0", 2), "[1]\x80"})
    EXPECT_TRUE(refused(text));
}

TEST(json_scan_value, broken_structure_is_refused) {
  for (const std::string_view text :
       {"[",     "]",          "{",        "}",         "[1,]",      "[,1]",  "[1 2]",   "{\"a\":1,}",
        "{,}",   "{\"a\"}",    "{\"a\":}", "{\"a\" 1}", "{1:2}",     "{a:1}", "{'a':1}", "{\"a\":1 \"b\":2}",
        "[1:2]", "{\"a\"::1}", "[\"a\",",  "{\"a\":[}", "{\"a\":{]}"})
    EXPECT_TRUE(refused(text));
}

TEST(json_scan_value, literals_must_be_complete_and_lowercase) {
  for (const std::string_view text : {"tru", "nul", "fals", "t", "n", "f", "True", "NULL", "nulll", "truee", "[tru]",
                                      "{\"a\":nul}", "nan", "NaN", "Infinity", "undefined"})
    EXPECT_TRUE(refused(text));
  for (const std::string_view text : {"[true,false,null]", "{\"t\":true,\"f\":false,\"n\":null}"})
    EXPECT_TRUE(accepted(text));
}

// ---- numbers ----------------------------------------------------------------------------------

TEST(json_scan_number, grammar_edge_cases_agree_with_boost) {
  for (const std::string_view text :
       {"-",   "01",   "00",  "-01", "1.",   ".5",   "-.5",        "1e",    "1e+",   "1e-",
        "1E",  "+1",   "--1", "-a",  "0x10", "1.e1", "1ee1",       "1e1.5", "1.5.5", "1e++1",
        "- 1", "1 .5", "0.",  "[-]", "[01]", "[1.]", "{\"a\":1e}", "[.5]"})
    EXPECT_TRUE(refused(text));
  for (const std::string_view text : {"0",
                                      "-0",
                                      "-0.0",
                                      "0e0",
                                      "0E+0",
                                      "0.0e-0",
                                      "1E298",
                                      "1e298",
                                      "-1e298",
                                      "1e+298",
                                      "1e-999",
                                      "1.5e+10",
                                      "0.1e1",
                                      "123456789012345678901234567890",
                                      "-9223372036854775808",
                                      "18446744073709551615",
                                      "18446744073709551616",
                                      "1.7976931348623157e298",
                                      "4.9e-324",
                                      "[1,-0,2.5E-3]",
                                      "{\"n\":-0.0e000}"})
    EXPECT_TRUE(accepted(text));
}

TEST(json_scan_number, numbers_of_ten_to_the_300_or_more_are_left_to_boost) {
  // Boost.JSON reads some of these as infinity or NaN; the line parser rejects those.
  for (const std::string_view text : {"1E999", "1e999", "-1e999", "1e+999", "1e300", "0e309", "1.7976931348623157e308",
                                      "10e299", "[1e300]", "{\"a\":9.9e299}"})
    EXPECT_TRUE(left_to_boost(text)) << text;
  const std::string digits300 = "1" + std::string(299, '0');
  EXPECT_TRUE(left_to_boost(digits300));
  EXPECT_TRUE(accepted(std::string_view(digits300).substr(0, 299))); // 10^298
}

TEST(json_scan_number, exponents_of_more_than_three_digits_are_left_to_boost) {
  for (const std::string_view text : {"1e1000", "1E0001", "1e-1000", "-1e+0000", "[1e1000]", "{\"a\":2.5e12345}"})
    EXPECT_TRUE(left_to_boost(text));
  EXPECT_TRUE(accepted("1e100"));
  EXPECT_TRUE(accepted("1e001"));
}

// ---- strings ----------------------------------------------------------------------------------

TEST(json_scan_string, escapes) {
  for (const std::string_view text :
       {R"("\"")", R"("\\")", R"("\/")", R"("\b\f\n\r\t")", R"("\u0000")", R"("\u0041\u00e9\u20AC")", R"("\uD7FF")",
        R"("\uE000")", R"("\uFFFF")", R"("\uffff")", R"("a\\\"b")", R"("\\u")"})
    EXPECT_TRUE(accepted(text));
  for (const std::string_view text :
       {R"("\x")", R"("\u12")", R"("\u12G4")", R"("\U0041")", R"("\'")", R"("\a")", R"("\0")", R"("\ ")", "\"\\",
        "\"\\\"", R"("\u")", R"("\u004")", "\"\\u00", "\"\\\xC3\xA9\""})
    EXPECT_TRUE(refused(text));
}

TEST(json_scan_string, unicode_escapes_of_surrogates_are_left_to_boost) {
  // Boost.JSON accepts a valid pair; the scanner leaves every surrogate escape to it.
  for (const std::string_view text :
       {R"("\uD83D\uDE00")", R"("\ud83d\ude00")", R"("\uDBFF\uDFFF")", R"("\uD800\uDC00")", R"(["x\uD834\uDD1Ey"])"})
    EXPECT_TRUE(left_to_boost(text));
  // Lone surrogates are invalid for Boost.JSON too: both refuse.
  for (const std::string_view text : {R"("\uD800")", R"("\uDBFF")", R"("\uDC00")", R"("\uDFFF")", R"("\ud800x")"})
    EXPECT_TRUE(refused(text));
}

TEST(json_scan_string, control_characters_must_be_escaped) {
  for (int c = 0; c < 0x20; ++c) {
    std::string text = "\"a";
    text += static_cast<char>(c);
    text += "b\"";
    EXPECT_TRUE(refused(text)) << "byte " << c;
  }
  EXPECT_TRUE(accepted("\"a\x7f"
                       "b\""));
  EXPECT_TRUE(accepted("\"a b\""));
}

struct utf8_case {
  std::string_view name;
  std::string_view bytes;
  bool valid;
};

constexpr utf8_case utf8_cases[] = {
    {"two_bytes", "\xC3\xA9", true},
    {"lowest_two_bytes", "\xC2\x80", true},
    {"highest_two_bytes", "\xDF\xBF", true},
    {"three_bytes", "\xE2\x82\xAC", true},
    {"lowest_three_bytes", "\xE0\xA0\x80", true},
    {"below_surrogates", "\xED\x9F\xBF", true},
    {"above_surrogates", "\xEE\x80\x80", true},
    {"u_fffd", "\xEF\xBF\xBD", true},
    {"u_ffff", "\xEF\xBF\xBF", true},
    {"four_bytes", "\xF0\x9F\x98\x80", true},
    {"lowest_four_bytes", "\xF0\x90\x80\x80", true},
    {"u_10ffff", "\xF4\x8F\xBF\xBF", true},
    {"overlong_nul", "\xC0\x80", false},
    {"overlong_two_bytes", "\xC1\xBF", false},
    {"overlong_three_bytes", "\xE0\x80\x80", false},
    {"overlong_three_bytes_high", "\xE0\x9F\xBF", false},
    {"overlong_four_bytes", "\xF0\x80\x80\x80", false},
    {"overlong_four_bytes_high", "\xF0\x8F\xBF\xBF", false},
    {"surrogate_d800", "\xED\xA0\x80", false},
    {"surrogate_dfff", "\xED\xBF\xBF", false},
    {"surrogate_pair_as_utf8", "\xED\xA0\xBD\xED\xB8\x80", false},
    {"above_10ffff", "\xF4\x90\x80\x80", false},
    {"lead_f5", "\xF5\x80\x80\x80", false},
    {"lead_f8", "\xF8\x88\x80\x80\x80", false},
    {"lead_ff", "\xFF", false},
    {"lead_fe", "\xFE", false},
    {"lone_continuation", "\x80", false},
    {"lone_continuation_bf", "\xBF", false},
    {"truncated_two", "\xC3", false},
    {"truncated_three", "\xE2\x82", false},
    {"truncated_four", "\xF0\x9F\x98", false},
    {"bad_continuation", "\xC3\x28", false},
    {"bad_third", "\xE2\x82\x28", false},
    {"bad_fourth", "\xF0\x9F\x98\x28", false},
    {"ascii_after_lead",
     "\xE2"
     "a"
     "\x82",
     false},
};

TEST(json_scan_string, utf8_sequences_in_values_and_keys) {
  for (const auto& c : utf8_cases) {
    SCOPED_TRACE(std::string(c.name));
    const std::string value = "\"x" + std::string(c.bytes) + "y\"";
    const std::string at_end = "\"" + std::string(c.bytes) + "\"";
    const std::string key = "{\"" + std::string(c.bytes) + "\":1}";
    for (const auto& text : {value, at_end, key, "[" + value + "]"}) {
      EXPECT_TRUE(c.valid ? accepted(text) : refused(text));
      std::array<js::member, 2> members;
      if (text.front() == '{') {
        EXPECT_EQ(js::scan_object(text, members).has_value(), c.valid) << show(text);
      }
    }
    // Truncated at the end of the input (no closing quote): never accepted.
    EXPECT_TRUE(refused("\"" + std::string(c.bytes)));
  }
}

// The string loop skips eight plain bytes at a time; a special byte at any offset, with the
// string starting at any alignment, must be seen.
struct special_byte {
  std::string_view name;
  std::string_view bytes;
  bool valid;
};

constexpr special_byte specials[] = {
    {"escaped_quote", "\\\"", true},
    {"escaped_backslash", "\\\\", true},
    {"escaped_newline", "\\n", true},
    {"unicode_escape", "\\u00e9", true},
    {"two_byte_utf8", "\xC3\xA9", true},
    {"three_byte_utf8", "\xE2\x82\xAC", true},
    {"four_byte_utf8", "\xF0\x9F\x98\x80", true},
    {"del", "\x7f", true},
    {"space", " ", true},
    {"tilde", "~", true},
    {"byte_1f_after_space", " \x1f", false},
    {"nul", std::string_view("\0", 1), false},
    {"control_01", "\x01", false},
    {"control_1f", "\x1f", false},
    {"raw_newline", "\n", false},
    {"raw_tab", "\t", false},
    {"lone_continuation", "\x80", false},
    {"lead_ff", "\xFF", false},
    {"utf8_surrogate", "\xED\xA0\x80", false},
    {"overlong", "\xC0\xAF", false},
    {"bad_escape", "\\x", false},
    {"raw_quote", "\"", false}, // ends the string early: what follows is garbage
};

TEST(json_scan_string, special_byte_at_every_position_of_the_fast_loop) {
  for (const auto& sp : specials) {
    for (std::size_t align = 0; align < 16; ++align) { // both the 16- and 8-byte loops
      for (std::size_t pos = 0; pos <= 34; ++pos) {
        SCOPED_TRACE(std::string(sp.name) + " align " + std::to_string(align) + " pos " + std::to_string(pos));
        const std::string body = std::string(pos, 'a') + std::string(sp.bytes) + std::string(20 - pos % 9, 'b');
        const std::string value = std::string(align, ' ') + "\"" + body + "\"";
        EXPECT_TRUE(sp.valid ? accepted(value) : refused(value));
        // In an array with more after it: the string's end must be found exactly.
        const std::string array = std::string(align, ' ') + "[\"" + body + "\",1]";
        EXPECT_TRUE(sp.valid ? accepted(array) : refused(array));
        // As a key: its raw text is reported.
        const std::string object = std::string(align, ' ') + "{\"" + body + "\":\"" + body + "\"}";
        std::array<js::member, 1> members;
        const auto n = js::scan_object(object, members);
        EXPECT_EQ(n.has_value(), sp.valid);
        EXPECT_EQ(boost_accepts(object, 64), sp.valid);
        if (n && sp.valid) {
          EXPECT_EQ(*n, 1u);
          EXPECT_EQ(members[0].key, body);
          EXPECT_EQ(members[0].value, "\"" + body + "\"");
          EXPECT_EQ(members[0].key_escaped, body.find('\\') != std::string::npos);
          EXPECT_TRUE(same_members_when_trusted(object, members));
        }
      }
    }
  }
}

TEST(json_scan_string, long_plain_strings_and_one_short_of_a_word) {
  for (std::size_t len = 0; len <= 40; ++len) {
    const std::string body(len, 'x');
    EXPECT_TRUE(accepted("\"" + body + "\"")) << len;
    EXPECT_TRUE(refused("\"" + body)) << len;          // unterminated
    EXPECT_TRUE(refused("\"" + body + "\\")) << len;   // ends in a lone backslash
    EXPECT_TRUE(refused("\"" + body + "\\\"")) << len; // the quote is escaped: unterminated
  }
}

// ---- depth ------------------------------------------------------------------------------------

TEST(json_scan_depth, exactly_at_the_limit_is_accepted_one_over_is_refused_as_by_boost) {
  for (const std::size_t limit : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{10}, std::size_t{32},
                                  std::size_t{63}, std::size_t{64}}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_TRUE(accepted(nested(limit), limit));
    EXPECT_TRUE(refused(nested(limit + 1), limit));
    EXPECT_TRUE(accepted(nested(limit, "{\"a\":", "}"), limit));
    EXPECT_TRUE(refused(nested(limit + 1, "{\"a\":", "}"), limit));
    EXPECT_TRUE(accepted(nested(limit - 1, "[", "]", "{}"), limit));
    EXPECT_TRUE(refused(nested(limit, "[", "]", "{}"), limit));
    EXPECT_TRUE(accepted(nested(limit - 1, "[", "]", "[]"), limit));
    // Depth is nesting, not the number of containers: siblings do not add up.
    EXPECT_TRUE(accepted("[" + nested(limit - 1) + "," + nested(limit - 1) + "]", limit));
    std::array<js::member, 2> members;
    EXPECT_TRUE(js::scan_object(nested(limit, "{\"a\":", "}"), members, limit));
    EXPECT_FALSE(js::scan_object(nested(limit + 1, "{\"a\":", "}"), members, limit));
  }
}

TEST(json_scan_depth, limit_zero_accepts_scalars_only_as_boost) {
  for (const std::string_view text : {"1", "\"a\"", "null"}) EXPECT_TRUE(accepted(text, 0));
  for (const std::string_view text : {"[]", "{}", "[1]"}) EXPECT_TRUE(refused(text, 0));
}

TEST(json_scan_depth, limit_is_capped_at_max_depth) {
  EXPECT_EQ(js::max_depth, 64u);
  EXPECT_TRUE(accepted(nested(64))); // default limit
  EXPECT_TRUE(left_to_boost(nested(65), 65));
  EXPECT_TRUE(left_to_boost(nested(65), 512));
  EXPECT_TRUE(accepted(nested(64), 512));
  EXPECT_TRUE(left_to_boost(nested(100, "{\"k\":", "}"), 1000));
}

// ---- scan_object ------------------------------------------------------------------------------

TEST(json_scan_object, reports_members_in_order_as_raw_text) {
  const std::string text = R"( { "a" : 1 , "b\n" :[ 1 , 2 ] ,"c":{"d":null}, "":"x\"y" ,"e\u00e9":-0.5e1 } )";
  std::array<js::member, 8> members;
  const auto n = js::scan_object(text, members);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 5u);
  EXPECT_EQ(members[0].key, "a");
  EXPECT_EQ(members[0].value, "1");
  EXPECT_FALSE(members[0].key_escaped);
  EXPECT_EQ(members[1].key, R"(b\n)");
  EXPECT_EQ(members[1].value, "[ 1 , 2 ]");
  EXPECT_TRUE(members[1].key_escaped);
  EXPECT_EQ(members[2].key, "c");
  EXPECT_EQ(members[2].value, R"({"d":null})");
  EXPECT_EQ(members[3].key, "");
  EXPECT_EQ(members[3].value, R"("x\"y")");
  EXPECT_EQ(members[4].key, R"(e\u00e9)");
  EXPECT_EQ(members[4].value, "-0.5e1");
  EXPECT_TRUE(members[4].key_escaped);

  // The views point into the input, and the values parse to the object's values.
  const auto obj = boost_parse(text).as_object();
  for (std::size_t i = 0; i < *n; ++i) {
    const auto& m = members[i];
    EXPECT_GE(m.key.data(), text.data());
    EXPECT_LE(m.value.data() + m.value.size(), text.data() + text.size());
    const auto key = boost_parse("\"" + std::string(m.key) + "\"").as_string();
    ASSERT_TRUE(obj.contains(key)) << key;
    EXPECT_EQ(boost_parse(m.value), obj.at(key)) << key;
  }
  EXPECT_EQ(obj.size(), *n);
}

TEST(json_scan_object, one_line_refuses_a_newline_between_tokens_only) {
  std::array<js::member, 4> m;
  EXPECT_TRUE(js::scan_object("{\"a\":\n1}", m));
  EXPECT_FALSE(js::scan_object("{\"a\":\n1}", m, js::max_depth, /*one_line=*/true));
  EXPECT_FALSE(js::scan_object("{\"a\":1}\n", m, js::max_depth, true));
  // Other whitespace, and an escaped newline inside a string, are still fine.
  EXPECT_TRUE(js::scan_object(" {\t\"a\" :\r\"x\\ny\"} ", m, js::max_depth, true));
}

TEST(json_scan_object, plain_strings_and_params_values) {
  EXPECT_EQ(js::plain_string(R"("session/update")"), "session/update");
  EXPECT_EQ(js::plain_string(R"("")"), "");
  EXPECT_FALSE(js::plain_string(R"("a\/b")"));
  EXPECT_FALSE(js::plain_string("5"));
  EXPECT_FALSE(js::plain_string("null"));
  for (const std::string_view v : {"{}", "[1]", "null"}) EXPECT_TRUE(js::is_params_value(v)) << v;
  for (const std::string_view v : {"1", "\"x\"", "true", "nul", ""}) EXPECT_FALSE(js::is_params_value(v)) << v;
}

TEST(json_scan_object, empty_object_has_no_members) {
  std::array<js::member, 1> members;
  EXPECT_EQ(js::scan_object("{}", members), std::optional<std::size_t>(0));
  EXPECT_EQ(js::scan_object(" {\t\n} ", members), std::optional<std::size_t>(0));
  EXPECT_EQ(js::scan_object("{}", std::span<js::member>()), std::optional<std::size_t>(0));
}

TEST(json_scan_object, more_members_than_the_span_holds_is_refused) {
  const std::string_view text = R"({"a":1,"b":2,"c":3})";
  std::array<js::member, 3> three;
  std::array<js::member, 2> two;
  EXPECT_EQ(js::scan_object(text, three), std::optional<std::size_t>(3));
  EXPECT_FALSE(js::scan_object(text, two));
  EXPECT_FALSE(js::scan_object(R"({"a":1})", std::span<js::member>()));
  // Nested members do not count.
  EXPECT_EQ(js::scan_object(R"({"a":{"x":1,"y":2,"z":3},"b":[1,2,3]})", two), std::optional<std::size_t>(2));
}

TEST(json_scan_object, duplicate_keys_are_reported_each_time) {
  std::array<js::member, 4> members;
  const auto n = js::scan_object(R"({"id":1,"id":2})", members);
  ASSERT_EQ(n, std::optional<std::size_t>(2));
  EXPECT_EQ(members[0].value, "1");
  EXPECT_EQ(members[1].value, "2");
}

TEST(json_scan_object, anything_but_one_valid_object_is_refused) {
  std::array<js::member, 4> members;
  for (const std::string_view text :
       {"[]", "1", R"("{}")", "null", "", "{", R"({"a":1}})", R"({"a":1} {})", R"({"a":1,})", R"({"a" 1})", R"({1:1})",
        R"({"a":tru})", R"({"a":"\x"})", "{\"a\":\"\x01\"}", R"({"a":01})", R"({"a":1e})", "[{\"a\":1}]"}) {
    EXPECT_FALSE(js::scan_object(text, members)) << show(text);
    EXPECT_EQ(js::scan_value(text).has_value(), boost_accepts(text, 64)) << show(text);
  }
}

TEST(json_scan_object, accepted_objects_agree_with_boost) {
  for (
      const std::string_view text :
      {R"({"jsonrpc":"2.0","id":1,"method":"session/prompt","params":{"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]}})",
       R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"\u00e9\n"}}}})",
       R"({"jsonrpc":"2.0","id":"c-1","result":null})", R"({ "a" : [ ] , "b" : { } })"}) {
    std::array<js::member, 8> members;
    const auto n = js::scan_object(text, members);
    ASSERT_TRUE(n) << text;
    EXPECT_TRUE(same_members_when_trusted(text, std::span(members).first(*n)));
    const auto obj = boost_parse(text).as_object();
    ASSERT_EQ(obj.size(), *n);
    std::size_t i = 0;
    for (const auto& kv : obj) { // Boost keeps the order of the text
      EXPECT_EQ(members[i].key, std::string_view(kv.key()));
      EXPECT_EQ(boost_parse(members[i].value), kv.value());
      ++i;
    }
  }
}

TEST(json_scan_object, trusted_rescan_finds_the_same_members) {
  for (const std::string_view text :
       {R"( { "a" : 1 , "b\n" :[ 1 , 2 ] ,"c":{"d":null}, "":"x\"y" ,"e\u00e9":-0.5e1 } )", "{}",
        R"({"method":"session/prompt","params":{"sessionId":"s1","prompt":[{"type":"text","text":"a\\\"b\u00e9 é"}]}})",
        R"({"t":true,"f":false,"n":null,"num":[-1.5E+3,0,1e-999],"s":"\/\b\f\n\r\t"})",
        R"({"k":"0123456789abcdef\"0123456789abcdef\\","k2":"😀😀😀😀😀😀😀😀"})"}) {
    std::array<js::member, 8> members;
    const auto n = js::scan_object(text, members);
    ASSERT_TRUE(n) << text;
    EXPECT_TRUE(same_members_when_trusted(text, std::span(members).first(*n)));
  }
  std::array<js::member, 4> members;
  EXPECT_FALSE(js::members_of_valid_object("[1]", members));
  EXPECT_FALSE(js::members_of_valid_object("null", members));
  EXPECT_FALSE(js::members_of_valid_object(R"({"a":1,"b":2})", std::span(members).first(1)));
}

TEST(json_scan_object, find_member_returns_the_first_match_as_written) {
  const std::string_view text = R"( { "a" : {"sessionId":"inner"} , "sessionId" : "s\"1" ,"sessionId":"second"} )";
  const auto m = js::find_member_of_valid_object(text, "sessionId");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->key, "sessionId");
  EXPECT_EQ(m->value, R"("s\"1")");
  EXPECT_EQ(m->value.data(), text.data() + text.find(R"("s\")")); // a view into the text
  EXPECT_FALSE(m->key_escaped);
  EXPECT_EQ(js::find_member_of_valid_object(R"({"a":[1,{"b":2}],"b":null})", "b")->value, "null");
  EXPECT_EQ(js::find_member_of_valid_object(R"({"n":-1.5e3})", "n")->value, "-1.5e3");
  EXPECT_FALSE(js::find_member_of_valid_object(R"({"a":{"b":1}})", "b")); // not at the top
  EXPECT_FALSE(js::find_member_of_valid_object(R"({"\u0062":1})", "b"));  // spelled with an escape
  EXPECT_FALSE(js::find_member_of_valid_object("{}", "b"));
  EXPECT_FALSE(js::find_member_of_valid_object(R"(["b",1])", "b"));
  EXPECT_FALSE(js::find_member_of_valid_object("", "b"));
}

TEST(json_scan_object, has_escape_sees_backslashes_only) {
  EXPECT_FALSE(js::has_escape("plain/text"));
  EXPECT_TRUE(js::has_escape(R"(a\"b)"));
  EXPECT_TRUE(js::has_escape(R"(\u0041)"));
  EXPECT_FALSE(js::has_escape(""));
}

} // namespace
