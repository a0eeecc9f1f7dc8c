// The conductor killed with SIGKILL (no orderly stop can run): the kernel's death signal
// (PR_SET_PDEATHSIG, acp/sdk/process.hpp) ends every component it started, including one that
// ignores the end of its input.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace acp::test {
namespace {

std::vector<pid_t> wait_for_descendants(const scripted_peer& p, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto tree = p.descendants();
  while (tree.size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    tree = p.descendants();
  }
  return tree;
}

TEST(conductor_killed, components_in_a_turn_die_with_it) {
  scripted_peer editor({conductor_path(), "agent", component(arrow_path()), component(test_agent_path())});
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  // The agent now ignores the end of its input (it waits for a signal): only the watchdog ends it.
  boost::json::object block{{"type", "text"}, {"text", "hang"}};
  editor.send(
      request(1, "session/prompt", boost::json::object{{"sessionId", session}, {"prompt", boost::json::array{block}}}));
  (void)editor.read(300ms); // whatever comes first; the turn never ends
  const auto tree = editor.descendants();
  ASSERT_EQ(tree.size(), 2u);
  editor.signal(SIGKILL);
  ASSERT_EQ(editor.wait_exit(5s), 128 + SIGKILL);
  EXPECT_TRUE(all_gone(tree, 2s)) << "a component outlived the conductor by more than 2 s";
}

TEST(conductor_killed, components_that_never_spoke_die_with_it) {
  // Components that do not speak ACP and never read their input (the conductor waits for them).
  scripted_peer editor({conductor_path(), "agent", "/bin/sleep 60", "/bin/sleep 61"});
  editor.send(request(0, "initialize", boost::json::object{{"protocolVersion", 1}})); // never answered
  const auto tree = wait_for_descendants(editor, 2);
  ASSERT_EQ(tree.size(), 2u) << editor.stderr_text();
  editor.signal(SIGKILL);
  ASSERT_EQ(editor.wait_exit(5s), 128 + SIGKILL);
  EXPECT_TRUE(all_gone(tree, 2s)) << "a component outlived the conductor by more than 2 s";
}

} // namespace
} // namespace acp::test
