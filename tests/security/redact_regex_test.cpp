// acp-redact-proxy against inputs chosen to stall it: floods of rule triggers, user patterns
// that backtrack, and messages too big for the per-message budget. The time bounds are
// regression guards with a wide margin for a loaded 2-core machine (the figures are in
// docs/PERFORMANCE.md), not performance measurements.
#include "process_helpers.hpp"
#include "redact.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace acp::examples {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

redactor load(const redact_options& o = {}) {
  auto r = load_redactor(o);
  EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error());
  return r.has_value() ? std::move(*r) : redactor{};
}

std::string repeat(std::string_view unit, std::size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out += unit;
  return out;
}

// Redacts `text`, failing the test past `bound`; returns the redacted text.
std::string redact_within(const redactor& r, std::string text, std::chrono::milliseconds bound = 2000ms) {
  const auto start = std::chrono::steady_clock::now();
  (void)r.redact(text);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, bound) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  return text;
}

constexpr std::size_t mib = 1u << 20;

// Was 24.9 s: each header searched forward for an END line that never comes.
TEST(redact_regex, a_flood_of_key_headers_without_end_is_linear_and_redacted_whole) {
  const auto out = redact_within(load(), "x\n" + repeat("-----BEGIN RSA PRIVATE KEY-----\n", mib));
  EXPECT_EQ(out, "x\n[REDACTED:private-key]") << "one block from the first header to the end";
}

TEST(redact_regex, headers_with_one_end_line_far_away_cost_one_search) {
  const auto text = repeat("-----BEGIN EC PRIVATE KEY-----\n", mib) + "-----END EC PRIVATE KEY-----\ntail";
  EXPECT_EQ(redact_within(load(), text), "[REDACTED:private-key]\ntail");
}

// Was 6.9 s per MiB.
TEST(redact_regex, a_flood_of_slack_prefixes_is_linear) {
  EXPECT_EQ(redact_within(load(), repeat("xoxb-", mib)), "[REDACTED:slack-token]");
  const auto misses = redact_within(load(), repeat("xoxb-!", mib)); // every trigger fails
  EXPECT_EQ(misses.find("REDACTED"), std::string::npos);
}

// Was 4.1 s per MiB.
TEST(redact_regex, a_flood_of_api_key_names_is_linear) {
  const auto out = redact_within(load(), repeat("api_key=", mib));
  EXPECT_EQ(out.rfind("api_key=[REDACTED:api-key]", 0), 0u);
  (void)redact_within(load(), repeat("api_key= ", mib));
  (void)redact_within(load(), repeat("Bearer ", mib));
  (void)redact_within(load(), repeat("aws_secret_access_key=", mib));
  (void)redact_within(load(), repeat("ghp_", mib));
  (void)redact_within(load(), repeat("AKIA", mib));
}

// Was 37 s for one 256 KiB line.
TEST(redact_regex, a_user_pattern_starting_with_a_repetition_is_linear_on_a_long_line) {
  const auto r = load({.patterns = {"[a-z]+="}, .builtins = false});
  EXPECT_EQ(redact_within(r, std::string(256 * 1024, 'a')), std::string(256 * 1024, 'a'));
  EXPECT_EQ(redact_within(r, std::string(mib, 'a') + "="), "[REDACTED:pattern-1]");
}

// Was 3.5 s for 26 characters: std::regex backtracks exponentially on `(a+)+b`.
TEST(redact_regex, nested_repetition_does_not_backtrack) {
  const auto r = load({.patterns = {"(a+)+b"}, .builtins = false});
  EXPECT_EQ(redact_within(r, std::string(26, 'a'), 100ms), std::string(26, 'a'));
  EXPECT_EQ(redact_within(r, std::string(mib, 'a')), std::string(mib, 'a'));
  EXPECT_EQ(redact_within(r, std::string(1000, 'a') + "b"), "[REDACTED:pattern-1]");
}

TEST(redact_regex, plain_text_and_many_short_lines_are_fast) {
  const auto r = load({.patterns = {"[a-z]+=", "corp-[0-9]{6}"}});
  (void)redact_within(r, repeat("The quick brown fox jumps over the lazy dog. ", mib));
  (void)redact_within(r, repeat("a\n", mib));
  (void)redact_within(r, repeat("\n", mib));
}

TEST(redact_regex, patterns_re2_cannot_take_are_refused_naming_the_pattern) {
  for (const char* p : {"secret(?!x)", "(?<=k)v", "(a)\\1"}) {
    auto r = load_redactor({.patterns = {"ok", p}});
    ASSERT_FALSE(r.has_value()) << p;
    const std::string& e = r.error();
    EXPECT_EQ(e.rfind("--pattern '" + std::string(p) + "': invalid regex: ", 0), 0u) << e;
    EXPECT_NE(e.find("RE2 syntax: no lookahead, lookbehind or backreferences"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos);
  }
}

TEST(redact_regex, the_program_exits_2_on_a_pattern_re2_cannot_take) {
  const auto r = e2e::run({ACP_REDACT_PROXY_BIN, "--pattern", "tok(?=en)"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("acp-redact-proxy: --pattern 'tok(?=en)': invalid regex: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(redact_regex, budget_ms_is_checked) {
  const auto bad = e2e::run({ACP_REDACT_PROXY_BIN, "--budget-ms", "-1"});
  EXPECT_EQ(bad.exit_code, 2);
  const auto help = e2e::run({ACP_REDACT_PROXY_BIN, "--help"});
  EXPECT_NE(help.out.find("--budget-ms"), std::string::npos);
}

// A message that takes longer than the budget is never passed on half-redacted.
TEST(redact_regex, past_the_deadline_nothing_is_returned_as_redacted) {
  const auto r = load();
  const auto past = std::chrono::steady_clock::now() - 1ms;
  json::value params =
      json::object{{"sessionId", "s"}, {"prompt", json::array{json::object{{"type", "text"}, {"text", "x"}}}}};
  EXPECT_FALSE(redact_prompt(r, params, past).has_value());
  json::value result = json::object{{"content", "AKIAIOSFODNN7EXAMPLE"}};
  EXPECT_FALSE(redact_result(r, "fs/read_text_file", result, past).has_value());
  json::string s("AKIAIOSFODNN7EXAMPLE");
  EXPECT_FALSE(r.redact(s, past).has_value());
  EXPECT_EQ(s, "AKIAIOSFODNN7EXAMPLE") << "unchanged: the caller must not send it";
  EXPECT_TRUE(redact_prompt(r, params).has_value()) << "no deadline: always an answer";
}

} // namespace
} // namespace acp::examples
