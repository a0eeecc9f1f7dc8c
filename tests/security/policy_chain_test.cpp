// acp-policy-proxy in a real chain: acp-conductor, the policy program, and acp-test-agent as the
// hostile agent (its `write PATH TEXT` and `read PATH` prompts send the requests chosen here),
// with a naive editor that does what it is asked the way real editors' fs handlers do.
#include "harness.hpp"
#include "policy.hpp"
#include "support.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace acp::security_test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::scripted_peer;

const std::string policy_bin = ACP_POLICY_PROXY_BIN;

/// The editor's side of one prompt turn. fs/write_text_file: `mkdir -p` of the parent, then a
/// write that follows links; fs/read_text_file: reads; anything else: an empty result. Returns
/// the methods the editor was asked, and the agent's reply text.
struct turn_result {
  std::vector<std::string> asked;
  std::string reply;
};

turn_result naive_turn(scripted_peer& editor, const std::string& session, const std::string& text) {
  static int next_id = 100;
  const json::value id = ++next_id;
  editor.send(test::request(
      id, "session/prompt",
      json::object{{"sessionId", session}, {"prompt", json::array{json::object{{"type", "text"}, {"text", text}}}}}));
  turn_result out;
  std::vector<json::value> updates;
  for (;;) {
    auto m = editor.read(30s);
    if (!m) {
      ADD_FAILURE() << "no answer to the prompt; stderr:\n" << editor.stderr_text();
      return out;
    }
    const auto& o = m->as_object();
    if (!o.contains("method") && o.contains("id") && o.at("id") == id) break;
    if (!o.contains("method")) continue;
    const std::string method(o.at("method").as_string());
    if (!o.contains("id")) {
      updates.push_back(*m);
      continue;
    }
    out.asked.push_back(method);
    json::object result;
    const auto& params = o.at("params").as_object();
    if (method == "fs/write_text_file") {
      const fs::path path(std::string(params.at("path").as_string()));
      std::error_code ec;
      fs::create_directories(path.parent_path(), ec);
      std::ofstream(path, std::ios::binary) << params.at("content").as_string().c_str();
    } else if (method == "fs/read_text_file") {
      result["content"] = read_all(std::string(params.at("path").as_string()));
    }
    editor.send(json::object{{"jsonrpc", "2.0"}, {"id", o.at("id")}, {"result", std::move(result)}});
  }
  out.reply = test::chunk_text(updates);
  return out;
}

bool asked(const turn_result& r, const std::string& method) {
  return std::find(r.asked.begin(), r.asked.end(), method) != r.asked.end();
}

TEST(policy_chain, a_hostile_write_through_a_new_directory_and_a_link_creates_nothing_outside) {
  temp_tree root, outside;
  root.link("dlink", outside.path());
  root.link("flink", outside.file("secret", "outside secret"));
  const auto config = root.file(".policy.json", R"({"roots":[")" + root.path() + R"("]})");
  scripted_peer editor({test::conductor_path(), "agent", test::component(policy_bin, {"--config", config}),
                        test::component(test::test_agent_path())});
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty()) << editor.stderr_text();

  // The escape: allowed before the fix, and this editor then wrote outside/pwned.txt.
  auto r = naive_turn(editor, session, "write " + root.at("newdir/../dlink/pwned.txt") + " owned");
  EXPECT_FALSE(asked(r, "fs/write_text_file"));
  EXPECT_EQ(r.reply.rfind("error: policy: fs/write_text_file", 0), 0u) << r.reply;
  EXPECT_FALSE(fs::exists(outside.at("pwned.txt")));

  r = naive_turn(editor, session, "read " + root.at("nonexistent/../flink"));
  EXPECT_FALSE(asked(r, "fs/read_text_file"));
  EXPECT_EQ(r.reply.find("outside secret"), std::string::npos) << r.reply;

  // An allowed write through a new directory reaches the editor and lands inside.
  r = naive_turn(editor, session, "write " + root.at("newdir/ok.txt") + " hello");
  EXPECT_TRUE(asked(r, "fs/write_text_file")) << r.reply;
  EXPECT_EQ(read_all(root.at("newdir/ok.txt")), "hello");

  // The directory now exists; the same escape through it is still denied.
  r = naive_turn(editor, session, "write " + root.at("newdir/../dlink/pwned.txt") + " owned");
  EXPECT_FALSE(asked(r, "fs/write_text_file"));
  EXPECT_FALSE(fs::exists(outside.at("pwned.txt")));
  EXPECT_EQ(read_all(outside.at("secret")), "outside secret");

  editor.close_stdin();
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << editor.stderr_text();
  EXPECT_NE(editor.stderr_text().find("policy: deny fs/write_text_file \"" + root.at("newdir/../dlink/pwned.txt") +
                                      "\" (resolves to " + outside.at("pwned.txt")),
            std::string::npos)
      << editor.stderr_text();
}

} // namespace
} // namespace acp::security_test
