// acp-redact-proxy on a live link (a scripted conductor on an in-memory link). The per-message budget: a message that
// takes longer to redact than `--budget-ms` is refused (the prompt answered with an error, the read's result replaced
// by one), never passed on half-redacted, and each refusal is one line on stderr.
#include "redact_link.hpp"

#include <acp/sdk/connection.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <sstream>

namespace acp::examples {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

class redact_budget : public redact_proxy_link {
protected:
  // Text that takes far longer than 1 ms to redact: 4 MiB of short key=value lines and tokens.
  static std::string slow_text() {
    std::string s;
    while (s.size() < (4u << 20)) s += "name=value api_key=abcdefgh12 Xq7Lm2Pz9Rt4Vw8Ky3Nb6Hc1Jd5Fg0Sa2Ue7\n";
    return s + "ghp_" + std::string(36, 'a');
  }
};

TEST_F(redact_budget, a_prompt_over_budget_is_answered_with_an_error_and_not_sent) {
  start({.patterns = {"[a-z]+="}, .budget = 1ms});
  std::optional<jsonrpc::message> answer;
  request(
      false, "session/prompt",
      json::object{{"sessionId", "s1"}, {"prompt", json::array{json::object{{"type", "text"}, {"text", slow_text()}}}}},
      answer);
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  ASSERT_TRUE(answer->is_error());
  EXPECT_EQ(answer->json().at("error").at("code"), -32603);
  EXPECT_EQ(answer->json().at("error").at("message"),
            "acp-redact-proxy: redaction of session/prompt took longer than its budget of 1 ms; the prompt was not "
            "sent to the agent");
  io_.run_for(20ms);
  EXPECT_TRUE(received_.empty()) << "nothing went toward the agent";
  EXPECT_EQ(log_.str(), "redact: redaction of session/prompt took longer than its budget of 1 ms; the prompt was not "
                        "sent to the agent\n");
  EXPECT_EQ(summary_line(*rules_, *totals_), "redact: no secrets found; 1 message(s) refused over budget");
}

TEST_F(redact_budget, a_read_result_over_budget_reaches_the_agent_as_an_error) {
  start({.patterns = {"[a-z]+="}, .budget = 1ms});
  std::optional<jsonrpc::message> answer;
  request(true, "fs/read_text_file", json::object{{"sessionId", "s1"}, {"path", "/big"}}, answer);
  ASSERT_TRUE(run_until([&] { return received_.size() == 1; }));
  conductor_->send_result(received_[0].id(), json::object{{"content", slow_text()}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  ASSERT_TRUE(answer->is_error()) << "the content is not passed on";
  EXPECT_NE(std::string(answer->json().at("error").at("message").as_string()).find("budget of 1 ms"),
            std::string::npos);
}

TEST_F(redact_budget, within_budget_the_prompt_goes_on_redacted) {
  start({.budget = 250ms});
  std::optional<jsonrpc::message> answer;
  request(false, "session/prompt",
          json::object{{"sessionId", "s1"},
                       {"prompt", json::array{json::object{{"type", "text"}, {"text", "AKIAIOSFODNN7EXAMPLE"}}}}},
          answer);
  ASSERT_TRUE(run_until([&] { return !received_.empty(); }));
  EXPECT_EQ(received_[0].json().at("params").at("params").at("prompt").at(0).at("text"),
            "[REDACTED:aws-access-key-id]");
  conductor_->send_result(received_[0].id(), json::object{{"stopReason", "end_turn"}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); })); // `answer` must outlive the request
}

// fs/read_text_file with `line=2` of a key file: the body comes back without its BEGIN line.
TEST_F(redact_budget, a_key_body_read_without_its_header_reaches_the_agent_redacted) {
  start({});
  std::optional<jsonrpc::message> answer;
  request(true, "fs/read_text_file", json::object{{"sessionId", "s1"}, {"path", "/home/u/.ssh/id_rsa"}, {"line", 2}},
          answer);
  ASSERT_TRUE(run_until([&] { return received_.size() == 1; }));
  const std::string body = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM4OiXk9Q1JpYqcVzH8sLz0d2f3nTq\n"
                           "Wb5Xh7kLmN2pQrS9tUvW1xYz3AbC4dEf6GhI8jKl0MnOpQrStUvWxYz1a2B3c4D5\n"
                           "x9Y0z1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r9S0t1U2v3W4==\n"
                           "-----END RSA PRIVATE KEY-----\n";
  conductor_->send_result(received_[0].id(), json::object{{"content", body}});
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  ASSERT_NE(answer->result(), nullptr);
  EXPECT_EQ(answer->result()->at("content"), "[REDACTED:private-key-body]\n");
  EXPECT_EQ(log_.str(), "redact: 1 secret(s) removed from fs/read_text_file result (private-key-body\u00d71)\n");
}

} // namespace
} // namespace acp::examples
