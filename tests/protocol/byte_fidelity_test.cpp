// Byte fidelity (issue 17 item 1): a message a proxy only reads leaves as the bytes it arrived
// as; a message it edits keeps the numbers it did not touch as people write them (json_write.hpp).
#include <acp/protocol/envelope.hpp>
#include <acp/protocol/framing.hpp>
#include <acp/protocol/json_write.hpp>
#include <acp/protocol/jsonrpc.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace {

namespace json = boost::json;
using acp::jsonrpc::line_parser;
using acp::jsonrpc::message;

// What Claude Agent sends (numbers as JavaScript writes them), with escapes and raw unicode.
constexpr std::string_view usage_line =
    R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s1","update":{"sessionUpdate":"usage_update","used":12,"size":200000,"cost":{"amount":0.000306,"currency":"USD"},"ratio":1.50,"big":1E2,"neg":-0.0,"note":"caf\u00e9 \u2028 “q” 😀"}}})";

message parse(std::string_view line) {
  line_parser p;
  auto parsed = p.parse(line);
  EXPECT_EQ(parsed.items.size(), 1u);
  return std::get<message>(std::move(parsed.items.front()));
}

std::string wire(const message& m) {
  std::string out;
  acp::framing::append_line(out, m);
  return out;
}

TEST(byte_fidelity, a_message_read_through_a_mutable_accessor_is_written_as_it_arrived) {
  auto m = parse(usage_line);
  ASSERT_TRUE(m.is_text());
  auto* params = m.params(); // mutable: the DOM becomes the message
  ASSERT_NE(params, nullptr);
  EXPECT_EQ(params->at("update").at("cost").at("amount").as_double(), 0.000306);
  EXPECT_FALSE(m.is_text());
  EXPECT_EQ(wire(m), std::string(usage_line) + "\n");
  // So does the whole `json()`, and a copy.
  (void)m.json();
  const message copy = m;
  EXPECT_EQ(wire(copy), std::string(usage_line) + "\n");
}

TEST(byte_fidelity, replacing_the_id_or_the_method_keeps_the_params_bytes) {
  auto m = parse(R"({"jsonrpc":"2.0","id":7,"method":"x/y","params":{"amount":0.000306,"r":1.50}})");
  (void)m.params();
  m.set_id(json::value(42));
  m.set_method("x/z");
  EXPECT_EQ(wire(m),
            "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"x/z\",\"params\":{\"amount\":0.000306,\"r\":1.50}}\n");
}

TEST(byte_fidelity, an_edited_message_keeps_untouched_numbers_as_people_write_them) {
  auto m = parse(usage_line);
  auto& update = m.params()->as_object()["update"].as_object();
  update["used"] = 13;
  const auto out = wire(m);
  EXPECT_NE(out.find(R"("used":13)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("amount":0.000306)"), std::string::npos) << out;
  EXPECT_EQ(out.find("E-"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("big":100.0)"), std::string::npos) << out;
  // The same values, whatever the spelling.
  auto expected = json::parse(std::string(usage_line));
  expected.as_object()["params"].as_object()["update"].as_object()["used"] = 13;
  EXPECT_EQ(json::parse(out), expected);
  // Edited after it was first written: the edit is what is written next.
  auto n = parse(usage_line);
  auto* p = n.params();
  EXPECT_EQ(wire(n), std::string(usage_line) + "\n");
  p->as_object()["sessionId"] = "s2";
  EXPECT_NE(wire(n).find(R"("sessionId":"s2")"), std::string::npos);
}

TEST(byte_fidelity, an_added_member_is_an_edit) {
  auto m = parse(R"({"jsonrpc":"2.0","method":"n","params":{"a":1.50}})");
  m.json()["extra"] = true;
  const auto out = wire(m);
  EXPECT_NE(out.find(R"("extra":true)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("a":1.5)"), std::string::npos) << out;
}

TEST(byte_fidelity, an_envelope_of_a_read_message_carries_its_params_bytes) {
  auto m = parse(usage_line);
  (void)m.params();
  const auto wrapped = acp::proxy_protocol::wrap_message(m, std::nullopt, acp::proxy_protocol::generation::current);
  const auto out = wire(wrapped);
  const auto params = std::string(usage_line).substr(std::string(usage_line).find("\"params\":") + 9);
  EXPECT_NE(out.find(params.substr(0, params.size() - 1)), std::string::npos) << out;
}

TEST(json_write, doubles_are_written_as_plain_decimals_where_that_is_shortest) {
  const auto text = [](double d) {
    std::string out;
    acp::json_write::append_double(out, d);
    return out;
  };
  EXPECT_EQ(text(0.000306), "0.000306");
  EXPECT_EQ(text(6.654515E-3), "0.006654515");
  EXPECT_EQ(text(121.215581), "121.215581");
  EXPECT_EQ(text(1.0), "1.0");
  EXPECT_EQ(text(-0.0), "-0.0");
  EXPECT_EQ(text(1e21), "1e+21");
  EXPECT_EQ(text(1.5e-10), "1.5e-10");
  EXPECT_EQ(text(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(text(std::nan("")), "null");
}

TEST(json_write, every_double_reads_back_as_itself) {
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<std::uint64_t> bits;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto b = bits(rng);
    double d;
    std::memcpy(&d, &b, sizeof d);
    if (!std::isfinite(d)) continue;
    std::string out;
    acp::json_write::append_double(out, d);
    // Read back exactly (Boost.JSON 1.81's parser is off by an ulp for some long numbers).
    double back = 0;
    const auto r = std::from_chars(out.data(), out.data() + out.size(), back);
    ASSERT_EQ(r.ptr, out.data() + out.size()) << out;
    ASSERT_EQ(back, d) << out;
    ++checked;
  }
  EXPECT_GT(checked, 19000);
}

TEST(json_write, values_match_what_boost_reads_back_and_strings_are_escaped) {
  const auto v = json::parse(
      R"({"s":"a\"b\\c\n\u0001\u2028é","i":-5,"u":18446744073709551615,"d":2.5,"t":true,"n":null,"a":[1,[2,{}],[]]})");
  const auto out = acp::json_write::to_string(v);
  EXPECT_EQ(json::parse(out), v);
  EXPECT_NE(out.find(R"(\u0001)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(\")"), std::string::npos) << out;
  EXPECT_NE(out.find("18446744073709551615"), std::string::npos) << out;
}

} // namespace
