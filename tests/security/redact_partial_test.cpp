// acp-redact-proxy against secrets that are not whole and well formed: a key body read without
// its BEGIN line, a token whose prefix was cut off, a secret split across two prompt blocks,
// percent-encoded or base64-encoded secrets, secrets in `_meta`, links and unknown members. And
// what must stay: hashes, identifiers, prose, certificates.
#include "redact.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <string>

namespace acp::examples {
namespace {
namespace json = boost::json;

const redactor& builtins() {
  static const redactor r = [] {
    auto loaded = load_redactor({});
    EXPECT_TRUE(loaded.has_value());
    return std::move(*loaded);
  }();
  return r;
}

std::string redacted(std::string text) {
  (void)builtins().redact(text);
  return text;
}

// 64-column base64 lines as in a PEM body (fixed, so the test is deterministic).
const std::string body = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM4OiXk9Q1JpYqcVzH8sLz0d2f3nTq\n"
                         "Wb5Xh7kLmN2pQrS9tUvW1xYz3AbC4dEf6GhI8jKl0MnOpQrStUvWxYz1a2B3c4D5\n"
                         "e6F7g8H9i0J1k2L3m4N5o6P7q8R9s0T1u2V3w4X5y6Z7a8B9c0D1e2F3g4H5i6J7\n"
                         "kL8mN9oP0qR1sT2uV3wX4yZ5aB6cD7eF8gH9iJ0kL1mN2oP3qR4sT5uV6wX7yZ8a\n"
                         "x9Y0z1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r9S0t1U2v3W4==\n";

// A 36-character random token body (the part after `ghp_`).
const std::string token_body = "Xq7Lm2Pz9Rt4Vw8Ky3Nb6Hc1Jd5Fg0Sa2Ue7";

TEST(redact_partial, a_key_body_read_from_line_two_is_redacted_with_its_end_line) {
  // fs/read_text_file with line=2: the BEGIN line is not in the result.
  EXPECT_EQ(redacted(body + "-----END RSA PRIVATE KEY-----\nafter\n"), "[REDACTED:private-key-body]\nafter\n");
  EXPECT_EQ(redacted("  " + body.substr(0, 65) + "  -----END OPENSSH PRIVATE KEY-----"),
            "  [REDACTED:private-key-body]")
      << "indented, as in YAML";
}

TEST(redact_partial, a_key_body_cut_at_both_ends_is_redacted) {
  const auto out = redacted("config:\n" + body + "more config\n");
  EXPECT_EQ(out, "config:\n[REDACTED:private-key-body]\nmore config\n");
}

TEST(redact_partial, a_key_body_with_crlf_lines_is_redacted) {
  std::string crlf;
  for (char c : body) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(redacted(crlf + "-----END PRIVATE KEY-----\r\n"), "[REDACTED:private-key-body]\r\n");
}

TEST(redact_partial, certificate_and_public_key_bodies_stay) {
  const std::string cert = "-----BEGIN CERTIFICATE-----\n" + body + "-----END CERTIFICATE-----\n";
  EXPECT_EQ(redacted(cert), cert);
  const std::string cut = body + "-----END PUBLIC KEY-----\n"; // a public key read from line 2
  EXPECT_EQ(redacted(cut), cut);
  const std::string rules = std::string(64, '=') + "\n" + std::string(64, '=') + "\n" + std::string(64, '=') + "\n";
  EXPECT_EQ(redacted(rules), rules) << "lines of one character are not key material";
}

TEST(redact_partial, a_token_whose_prefix_was_cut_off_is_redacted_by_its_randomness) {
  // terminal/output with outputByteLimit cut `ghp_` (or `gh`) off the front.
  EXPECT_EQ(redacted(token_body + "\n$ "), "[REDACTED:high-entropy-token]\n$ ");
  EXPECT_EQ(redacted("p_" + token_body), "[REDACTED:high-entropy-token]");
  EXPECT_EQ(redacted("sk_live_51HqLyjWDarjtT1zdp7dcXvtkJ1"), "[REDACTED:high-entropy-token]");
  EXPECT_EQ(redacted("export TOKEN=" + token_body), "export TOKEN=[REDACTED:high-entropy-token]");
}

TEST(redact_partial, a_whole_token_keeps_its_own_rule_name) {
  EXPECT_EQ(redacted("ghp_" + token_body), "[REDACTED:github-token]");
}

TEST(redact_partial, hashes_identifiers_and_prose_stay) {
  for (const std::string s : {
           "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",                         // git SHA
           "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // digest
           "id 550e8400-e29b-41d4-a716-446655440000",                                 // UUID
           "class AbstractSingletonProxyFactoryBean2 {}",                             // camelCase
           "TEST(redact_partial, hashes_identifiers_and_prose_stay_unchanged_42)",
           "HTTP2ServerConnectionFactoryBuilderImpl x;",
           "AWS_REGION_US_EAST_1_ENDPOINT_OVERRIDE_V2=1",
           "x86_64-linux-gnu-gcc-12-ForTargetAArch64",
           "The quick brown fox jumps over the lazy dog, 1234567890 times a day.",
           "https://example.com/docs/getting-started/installation-guide-v2.html",
       })
    EXPECT_EQ(redacted(s), s);
}

TEST(redact_partial, looks_random_is_the_documented_test) {
  EXPECT_TRUE(looks_random(token_body));
  EXPECT_FALSE(looks_random(token_body.substr(0, 31))) << "shorter than 32";
  EXPECT_FALSE(looks_random("9fceb02d0ae598e95dc970b74767f19372d61af8")) << "hex only";
  EXPECT_FALSE(looks_random("abcdefghijklmnopqrstuvwxyzabcdefghij")) << "one class";
  EXPECT_FALSE(looks_random("snake_case_name_with_many_words_in_it_2"));
}

TEST(redact_partial, percent_encoded_secrets_are_found_in_the_decoded_text) {
  const std::string token = "ghp_" + std::string(36, 'a'); // not random: only the decoding finds it
  EXPECT_EQ(redacted("https://h/?t=ghp%5F" + std::string(36, 'a') + "&x=1"),
            "https://h/?t=[REDACTED:github-token]&x=1");
  EXPECT_EQ(redacted("q=api%5Fkey%3Dsecretvalue123&y"), "q=api%5Fkey%3D[REDACTED:api-key]&y");
  EXPECT_EQ(redacted("100%25 done, 50%"), "100%25 done, 50%");
}

json::value prompt(const std::vector<json::value>& blocks) {
  json::array a;
  for (const auto& b : blocks) a.push_back(b);
  return json::object{{"sessionId", "sess-1"}, {"prompt", std::move(a)}};
}
json::value text_block(std::string_view t) { return json::object{{"type", "text"}, {"text", t}}; }

TEST(redact_partial, a_token_split_across_two_prompt_blocks_is_redacted_in_both) {
  const std::string token = "ghp_" + std::string(36, 'b');
  auto params = prompt({text_block("my token is " + token.substr(0, 20)), text_block(token.substr(20) + " ok")});
  const auto t = redact_prompt(builtins(), params);
  ASSERT_TRUE(t);
  EXPECT_EQ(params.at("prompt").at(0).at("text"), "my token is [REDACTED:github-token]");
  EXPECT_EQ(params.at("prompt").at(1).at("text"), "[REDACTED:github-token] ok");
}

TEST(redact_partial, a_random_token_split_across_blocks_is_redacted_in_both) {
  auto params = prompt({text_block("a " + token_body.substr(0, 18)), text_block(token_body.substr(18) + " b")});
  ASSERT_TRUE(redact_prompt(builtins(), params));
  EXPECT_EQ(params.at("prompt").at(0).at("text"), "a [REDACTED:high-entropy-token]");
  EXPECT_EQ(params.at("prompt").at(1).at("text"), "[REDACTED:high-entropy-token] b");
}

TEST(redact_partial, a_whole_secret_at_the_end_of_a_block_does_not_spill_into_the_next) {
  auto params = prompt({text_block("key AKIAIOSFODNN7EXAMPLE"), text_block("Kept as is")});
  ASSERT_TRUE(redact_prompt(builtins(), params));
  EXPECT_EQ(params.at("prompt").at(0).at("text"), "key [REDACTED:aws-access-key-id]");
  EXPECT_EQ(params.at("prompt").at(1).at("text"), "Kept as is");
}

TEST(redact_partial, meta_links_and_unknown_members_are_redacted_routing_members_are_not) {
  const std::string token = "ghp_" + std::string(36, 'c');
  auto params = json::parse(R"({"sessionId":"sess-1","_meta":{"note":")" + token + R"("},"prompt":[
    {"type":"resource_link","uri":"https://h/x?access_token=)" +
                            token + R"(","name":"n"},
    {"type":"text","text":"t","_meta":{"deep":[")" +
                            token + R"("]}}],"future":")" + token + R"("})");
  const auto t = redact_prompt(builtins(), params);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->total(), 4u);
  EXPECT_EQ(json::serialize(params).find("ghp_"), std::string::npos) << json::serialize(params);
  EXPECT_EQ(params.at("sessionId"), "sess-1");
  EXPECT_EQ(params.at("prompt").at(0).at("uri"), "https://h/x?access_token=[REDACTED:github-token]");
}

TEST(redact_partial, read_results_are_redacted_in_meta_too) {
  const std::string token = "xoxb-123456789012-abcdefABCDEF";
  json::value result = json::object{{"content", "ok"}, {"_meta", json::object{{"raw", token}}}};
  ASSERT_TRUE(redact_result(builtins(), "fs/read_text_file", result));
  EXPECT_EQ(result.at("_meta").at("raw"), "[REDACTED:slack-token]");
}

TEST(redact_partial, a_resource_blob_is_decoded_redacted_and_encoded_again) {
  // base64 of "token=ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
  const std::string blob = "dG9rZW49Z2hwX2FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQo=";
  auto params =
      prompt({json::object{{"type", "resource"}, {"resource", json::object{{"uri", "file:///x"}, {"blob", blob}}}}});
  ASSERT_TRUE(redact_prompt(builtins(), params));
  // base64 of "token=[REDACTED:github-token]\n"
  EXPECT_EQ(params.at("prompt").at(0).at("resource").at("blob"), "dG9rZW49W1JFREFDVEVEOmdpdGh1Yi10b2tlbl0K");
  // An image whose bytes hold no secret is left byte for byte, however random its base64 is.
  const std::string image =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  auto img = prompt({json::object{{"type", "image"}, {"mimeType", "image/png"}, {"data", image}}});
  ASSERT_TRUE(redact_prompt(builtins(), img));
  EXPECT_EQ(img.at("prompt").at(0).at("data"), json::value(image));
}

} // namespace
} // namespace acp::examples
