// acp-fanout as a component of acp-conductor chains, driven by acp-prompt: the issue's command,
// and the fan-out behind two proxies.
#include "fanout_driver.hpp"

#include <gtest/gtest.h>

namespace {
using namespace acp::fanout_test;
namespace e2e = acp::e2e;

/// `acp-fanout AGENT 'AGENT --delay-ms 50'` as one component string.
std::string fanout_component(std::string_view extra = "") {
  return quoted(ACP_FANOUT_BIN) + " " + std::string(extra) + quoted(ACP_TEST_AGENT_BIN) + " \"" +
         quoted(ACP_TEST_AGENT_BIN) + " --delay-ms 50\"";
}

TEST(fanout_chain, acp_prompt_shows_both_answers_labelled) {
  auto r = e2e::run({ACP_PROMPT_BIN, "echo hello", "--", ACP_CONDUCTOR_BIN, "agent", fanout_component()});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[acp-test-agent]\necho: hello"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[acp-test-agent#2]\necho: hello"), std::string::npos) << r.out;
}

TEST(fanout_chain, behind_two_proxies_streams_and_asks_permission_per_agent) {
  const std::string arrow = quoted(ACP_ARROW_PROXY_BIN), timing = quoted(ACP_TIMING_PROXY_BIN);
  auto r = e2e::run({ACP_PROMPT_BIN, "stream 3", "--", ACP_CONDUCTOR_BIN, "agent", arrow, timing, fanout_component()});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto* name : {"[acp-test-agent]", "[acp-test-agent#2]"})
    EXPECT_NE(r.out.find(name), std::string::npos) << r.out;
  // Each agent's three chunks, in its order (the arrow proxy marks the agent's text).
  std::size_t chunk3 = 0;
  for (std::size_t pos = 0; (pos = r.out.find("chunk 3", pos)) != std::string::npos; ++pos) ++chunk3;
  EXPECT_EQ(chunk3, 2u) << r.out;
  EXPECT_NE(r.out.find('>'), std::string::npos) << r.out;

  auto p = e2e::run({ACP_PROMPT_BIN, "--deny", "permission", "--", ACP_CONDUCTOR_BIN, "agent", arrow, timing,
                     fanout_component("--mode all ")});
  ASSERT_FALSE(p.timed_out);
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.err.find("[permission] [acp-test-agent] Write file: reject"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("[permission] [acp-test-agent#2] Write file: reject"), std::string::npos) << p.err;
  std::size_t rejected = 0;
  for (std::size_t pos = 0; (pos = p.out.find("permission: selected reject", pos)) != std::string::npos; ++pos)
    ++rejected;
  EXPECT_EQ(rejected, 2u) << p.out;
}

// The issue's command, `acp-conductor agent acp-policy-proxy "acp-fanout A B"`, with a small
// policy written here: both agents' edit permissions are allowed by the rule (the editor is never
// asked) and a read outside the roots is refused to both, each told by the proxy.
TEST(fanout_chain, behind_acp_policy_proxy_with_a_config_file) {
  e2e::temp_dir dir;
  ASSERT_FALSE(dir.path().empty());
  const auto config = dir.path() / "policy.json";
  e2e::write_whole(config,
                   R"({"roots":[")" + dir.path().string() + R"("],"permissions":[{"kind":"edit","action":"allow"}]})");
  const auto log = dir.path() / "decisions.jsonl";
  const std::string policy = acp::fanout_test::quoted(ACP_POLICY_PROXY_BIN) + " --config " +
                             acp::fanout_test::quoted(config.string()) + " --decision-log " +
                             acp::fanout_test::quoted(log.string());
  auto p = e2e::run({ACP_PROMPT_BIN, "--deny", "permission", "--", ACP_CONDUCTOR_BIN, "agent", policy,
                     fanout_component("--mode all ")});
  ASSERT_FALSE(p.timed_out);
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.err.find("[permission]"), std::string::npos) << p.err; // the editor was never asked
  std::size_t allowed = 0;
  for (std::size_t pos = 0; (pos = p.out.find("permission: selected allow", pos)) != std::string::npos; ++pos)
    ++allowed;
  EXPECT_EQ(allowed, 2u) << p.out;
  const auto decisions = e2e::read_whole(log);
  EXPECT_NE(decisions.find("[acp-test-agent] Write file"), std::string::npos) << decisions;
  EXPECT_NE(decisions.find("[acp-test-agent#2] Write file"), std::string::npos) << decisions;

  auto r = e2e::run(
      {ACP_PROMPT_BIN, "read /etc/passwd", "--", ACP_CONDUCTOR_BIN, "agent", policy, fanout_component("--mode all ")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::size_t refused = 0;
  for (std::size_t pos = 0; (pos = r.out.find("outside the allowed roots", pos)) != std::string::npos; ++pos) ++refused;
  EXPECT_EQ(refused, 2u) << r.out;
  EXPECT_EQ(r.out.find("root:"), std::string::npos) << r.out; // nothing of /etc/passwd
}

} // namespace
