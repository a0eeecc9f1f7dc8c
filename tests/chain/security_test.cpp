// Security properties of a running chain: no listening sockets, no environment values in the
// trace, and no shell between the conductor and its components.
#include "harness.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace acp::test {
namespace {
namespace json = boost::json;

std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    char target[256];
    const auto n = ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string t(target, static_cast<std::size_t>(n));
    if (t.rfind("socket:[", 0) == 0) out.insert(t.substr(8, t.size() - 9));
  }
  ::closedir(d);
  return out;
}

/// Inodes of listening TCP/UDP sockets on this machine (state 0A for TCP, any bound UDP).
std::set<std::string> listening_inodes() {
  std::set<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream f(table);
    std::string line;
    std::getline(f, line); // header
    const bool udp = std::string(table).find("udp") != std::string::npos;
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string sl, local, remote, state, queues, tr, retr, uid, timeout, inode;
      in >> sl >> local >> remote >> state >> queues >> tr >> retr >> uid >> timeout >> inode;
      if (udp || state == "0A") out.insert(inode);
    }
  }
  return out;
}

TEST(security, no_process_of_the_chain_listens_on_a_network_port) {
  scripted_peer editor({conductor_path(), "agent", component(arrow_path()), component(test_agent_path())});
  ASSERT_TRUE(editor.initialize());
  auto pids = editor.descendants();
  pids.push_back(editor.pid());
  const auto listening = listening_inodes();
  for (auto pid : pids)
    for (const auto& inode : socket_inodes(pid))
      EXPECT_FALSE(listening.contains(inode)) << "pid " << pid << " has a listening socket (inode " << inode << ")";
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
}

TEST(security, environment_values_given_to_components_stay_out_of_the_trace) {
  const auto path = std::filesystem::temp_directory_path() / ("acp-sec-trace-" + std::to_string(::getpid()));
  {
    scripted_peer editor({conductor_path(), "--trace", path.string(), "agent",
                          "API_TOKEN=hunter2-secret-value " + component(test_agent_path())});
    ASSERT_TRUE(editor.initialize());
    EXPECT_FALSE(editor.new_session().empty());
    editor.close_stdin();
    ASSERT_EQ(editor.wait_exit(10s), 0);
  }
  std::ifstream f(path);
  std::stringstream all;
  all << f.rdbuf();
  std::filesystem::remove(path);
  EXPECT_FALSE(all.str().empty());
  EXPECT_EQ(all.str().find("hunter2-secret-value"), std::string::npos);
}

TEST(security, components_are_started_without_a_shell) {
  // A component string with shell syntax is not interpreted: `;` is an argument, not a separator.
  scripted_peer editor(
      {conductor_path(), "agent", component(test_agent_path()) + " ; touch /tmp/acp-should-not-exist"});
  editor.initialize();
  editor.close_stdin();
  editor.wait_exit(10s);
  EXPECT_FALSE(std::filesystem::exists("/tmp/acp-should-not-exist"));
}

} // namespace
} // namespace acp::test
