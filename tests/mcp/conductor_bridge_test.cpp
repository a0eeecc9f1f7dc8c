// The conductor's own MCP bridge (docs/PROTOCOL.md §5.1, `--mcp-bridge`): acp-tools-proxy provides
// a tool over ACP, acp-test-agent (which, like the real agents, advertises `mcpCapabilities.http`
// and not `acp` unless told) calls it, and the conductor bridges the two — over HTTP, over stdio
// through `acp-mcp-bridge --shim`, or not at all. Real programs, driven by the scripted editor.
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace acp::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::string tools_proxy_bin = ACP_TOOLS_PROXY_BIN;
const std::string shim_bin = ACP_MCP_BRIDGE_PROGRAM;
const std::string scratchpad_bin = ACP_SCRATCHPAD_PROXY_BIN;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class conductor_bridge : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acp-bridge-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    notes_ = (dir_ / "notes.txt").string();
    std::ofstream(notes_) << "one\ntwo\nthree\n";
    // `die` ends the tools proxy itself (its parent) in the middle of a call.
    std::ofstream(dir_ / "tools.json") << R"({"tools": [
      {"name": "count_lines", "description": "Count the lines of a file",
       "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
       "argv": ["wc", "-l", "{path}"], "timeoutMs": 5000},
      {"name": "die", "description": "Kills the tools proxy mid-call",
       "inputSchema": {"type": "object", "properties": {}},
       "argv": ["sh", "-c", "kill -9 $PPID; sleep 5"], "timeoutMs": 8000}]})";
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] std::string tools_proxy() const {
    return component(tools_proxy_bin, {"--config", (dir_ / "tools.json").string()});
  }
  [[nodiscard]] std::vector<std::string> argv(std::vector<std::string> options,
                                              std::vector<std::string> agent_args = {}) const {
    options.insert(options.end(), {"--trace", trace_file(), "--mcp-shim", shim_bin});
    return chain({tools_proxy(), component(test_agent_path(), agent_args)}, options);
  }
  [[nodiscard]] std::string trace_file() const { return (dir_ / "trace.jsonl").string(); }

  /// One prompt; the text the agent streamed, and the stop reason ("" on an error answer).
  std::pair<std::string, std::string> turn(scripted_peer& editor, const std::string& session, const std::string& text,
                                           int id) {
    editor.send(prompt_request(id, session, text));
    std::vector<json::value> seen;
    auto resp = editor.read_response(id, &seen, 20s);
    std::string stop;
    if (resp && resp->as_object().contains("result"))
      stop = json::value_to<std::string>(resp->at("result").at("stopReason"));
    last_response_ = resp;
    return {chunk_text(seen), stop};
  }

  static std::string count_call(const std::string& path) {
    return "mcp call tools count_lines {\"path\":\"" + path + "\"}";
  }

  fs::path dir_;
  std::string notes_;
  std::optional<json::value> last_response_;
};

bool advertises_acp(const std::optional<json::value>& init) {
  if (!init) return false;
  const auto* caps = init->at("result").at("agentCapabilities").as_object().if_contains("mcpCapabilities");
  const auto* acp = caps && caps->is_object() ? caps->as_object().if_contains("acp") : nullptr;
  return acp && acp->is_bool() && acp->get_bool();
}

TEST_F(conductor_bridge, http_by_default_for_an_agent_that_advertises_http) {
  scripted_peer editor(argv({}));
  const auto init = editor.initialize();
  ASSERT_TRUE(init) << editor.stderr_text();
  EXPECT_TRUE(advertises_acp(init)) << json::serialize(*init); // the conductor stands in for the agent
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty()) << editor.stderr_text();
  // The agent was given an http server (no "not advertised" note), and the call went through.
  const auto [list, list_stop] = turn(editor, session, "mcp list", 1);
  EXPECT_EQ(list, "tools: count_lines, die") << editor.stderr_text();
  const auto [text, stop] = turn(editor, session, count_call(notes_), 2);
  EXPECT_EQ(stop, "end_turn");
  EXPECT_EQ(text, "3 " + notes_ + "\n") << editor.stderr_text();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();

  // The trace shows the MCP traffic as MCP, and never the bridge's token.
  const auto trace = slurp(trace_file());
  EXPECT_NE(trace.find(R"x("protocol":"mcp","from":"Agent","to":"Proxy(0)","id":)x"), std::string::npos) << trace;
  EXPECT_NE(trace.find(R"("method":"tools/call","params":{"name":"count_lines")"), std::string::npos) << trace;
  EXPECT_EQ(trace.find("Bearer"), std::string::npos);
  EXPECT_EQ(trace.find("127.0.0.1"), std::string::npos);
  EXPECT_NE(trace.find(R"("type":"acp","name":"tools","serverId":"mcp-server:)"), std::string::npos);
}

TEST_F(conductor_bridge, stdio_through_the_shim) {
  scripted_peer editor(argv({"--mcp-bridge", "stdio"}));
  ASSERT_TRUE(advertises_acp(editor.initialize())) << editor.stderr_text();
  const auto session = editor.new_session();
  const auto [text, stop] = turn(editor, session, count_call(notes_), 1);
  EXPECT_EQ(stop, "end_turn");
  EXPECT_EQ(text, "3 " + notes_ + "\n") << editor.stderr_text();
  const auto procs = editor.descendants();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
  EXPECT_TRUE(all_gone(procs)) << "a shim or a tool outlived the chain";
  EXPECT_EQ(slurp(trace_file()).find("ACP_MCP_BRIDGE_TOKEN"), std::string::npos);
}

TEST_F(conductor_bridge, an_agent_that_speaks_acp_is_left_alone) {
  scripted_peer editor(argv({}, {"--mcp-capabilities", "acp,http"}));
  const auto init = editor.initialize();
  ASSERT_TRUE(advertises_acp(init)); // its own
  const auto session = editor.new_session();
  const auto [text, stop] = turn(editor, session, count_call(notes_), 1);
  EXPECT_EQ(stop, "end_turn");
  EXPECT_EQ(text, "3 " + notes_ + "\n") << editor.stderr_text(); // mcp/connect straight to the proxy
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_EQ(slurp(trace_file()).find(R"("type":"http")"), std::string::npos);
}

TEST_F(conductor_bridge, off_passes_the_declaration_on_untouched) {
  scripted_peer editor(argv({"--mcp-bridge", "off"}));
  EXPECT_FALSE(advertises_acp(editor.initialize()));
  const auto session = editor.new_session();
  // The test agent still tries (a real agent would refuse the session): over acp, not advertised.
  const auto [text, stop] = turn(editor, session, count_call(notes_), 1);
  EXPECT_EQ(text, "mcp: tools uses transport acp, which this agent does not advertise3 " + notes_ + "\n");
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
}

TEST(conductor_bridge_plain, nothing_is_bridged_without_a_proxy) {
  scripted_peer editor(chain({component(test_agent_path())}));
  const auto init = editor.initialize();
  ASSERT_TRUE(init);
  EXPECT_FALSE(advertises_acp(init)) << json::serialize(*init);
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
}

TEST_F(conductor_bridge, the_provider_dying_mid_call_answers_everything_and_leaves_nothing) {
  for (const auto* mode : {"http", "stdio"}) {
    SCOPED_TRACE(mode);
    scripted_peer editor(argv({"--mcp-bridge", mode}));
    ASSERT_TRUE(advertises_acp(editor.initialize())) << editor.stderr_text();
    const auto session = editor.new_session();
    const auto procs = editor.descendants();
    editor.send(prompt_request(1, session, "mcp call tools die {}"));
    std::vector<json::value> seen;
    const auto resp = editor.read_response(1, &seen, 20s);
    ASSERT_TRUE(resp) << "the prompt was never answered\n" << editor.stderr_text();
    // The chain is down: the prompt is answered with the component's failure.
    ASSERT_TRUE(resp->as_object().contains("error")) << json::serialize(*resp);
    EXPECT_NE(json::serialize(resp->at("error")).find("acp-tools-proxy"), std::string::npos) << json::serialize(*resp);
    const auto code = editor.wait_exit(15s);
    ASSERT_TRUE(code.has_value()) << "the conductor hung";
    EXPECT_NE(*code, 0);
    EXPECT_TRUE(all_gone(procs)) << "a process outlived the chain";
  }
}

// The one-file example provider: its tools know the ACP session of each call.
TEST_F(conductor_bridge, the_scratchpad_keeps_one_pad_per_session) {
  scripted_peer editor(chain({component(scratchpad_bin), component(test_agent_path())}));
  ASSERT_TRUE(advertises_acp(editor.initialize())) << editor.stderr_text();
  const auto first = editor.new_session();
  const auto second = editor.new_session();
  ASSERT_NE(first, second);
  EXPECT_EQ(turn(editor, first, "mcp call scratchpad notes {}", 1).first, "(no notes yet)");
  EXPECT_EQ(turn(editor, first, R"(mcp call scratchpad note {"text":"buy milk"})", 2).first, "noted");
  EXPECT_EQ(turn(editor, first, R"(mcp call scratchpad note {"text":"call Bob"})", 3).first, "noted");
  EXPECT_EQ(turn(editor, second, R"(mcp call scratchpad note {"text":"other"})", 4).first, "noted");
  EXPECT_EQ(turn(editor, first, "mcp call scratchpad notes {}", 5).first, "buy milk\ncall Bob\n");
  EXPECT_EQ(turn(editor, second, "mcp call scratchpad notes {}", 6).first, "other\n");
  EXPECT_EQ(turn(editor, first, R"(mcp call scratchpad note {"text":7})", 7).first, "mcp error: `text`: a string");
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
}

TEST(conductor_bridge_options, a_bad_mode_is_a_usage_error) {
  scripted_peer editor({conductor_path(), "--mcp-bridge", "sometimes", "agent", test_agent_path()});
  EXPECT_EQ(editor.wait_exit(10s), 2);
  EXPECT_NE(editor.stderr_text().find("--mcp-bridge: invalid mode `sometimes` (expected auto, http, stdio or off)"),
            std::string::npos)
      << editor.stderr_text();
}

} // namespace
} // namespace acp::test
