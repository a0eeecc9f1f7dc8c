// acp-tools-proxy: the config, argv templates (never a shell), and calls through the proxy's MCP
// server (output, exit status, timeout, output cap, working directory), in-process with a
// scripted conductor and through the real executable.
#include "../proxy_sdk/test_support.hpp"

#include "tools_proxy.hpp"

#include <cstdio>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace acp::test {
namespace {

using examples::fill_argv;
using examples::parse_tools_config;
using examples::tool_command;

json::value request(json::value id, std::string_view method, json::value params = json::object{}) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
json::value from_agent(json::value id, std::string_view method, json::value params) {
  return request(std::move(id), "_proxy/successor", {{"method", method}, {"params", std::move(params)}});
}

tool_command command(const char* config_tool) {
  auto c = parse_tools_config(std::string(R"({"tools":[)") + config_tool + "]}", "t.json");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? c->tools.at(0) : tool_command{};
}

constexpr const char* greet = R"({"name":"greet","description":"d",
  "inputSchema":{"type":"object","properties":{"who":{"type":"string"},"n":{"type":"integer"},
                 "loud":{"type":"boolean"},"tag":{"type":"string"}},"required":["who"]},
  "argv":["printf","%s|","{who}","--count={n}","{loud}","x{{{tag}}}"]})";

TEST(tools_proxy_argv, placeholders_are_filled_each_word_stays_one_word) {
  const auto t = command(greet);
  auto argv = fill_argv(t, J(R"({"who":"; rm -rf x","n":3,"loud":true,"tag":"`id`$HOME"})").as_object());
  ASSERT_TRUE(argv) << argv.error();
  EXPECT_EQ(*argv, (std::vector<std::string>{"printf", "%s|", "; rm -rf x", "--count=3", "true", "x{`id`$HOME}"}));
  // Optional arguments left out drop their words.
  argv = fill_argv(t, J(R"({"who":"a b"})").as_object());
  ASSERT_TRUE(argv) << argv.error();
  EXPECT_EQ(*argv, (std::vector<std::string>{"printf", "%s|", "a b"}));
}

TEST(tools_proxy_argv, missing_wrong_type_and_unknown_arguments_are_named) {
  const auto t = command(greet);
  EXPECT_EQ(fill_argv(t, json::object{}).error(), "missing required argument: who");
  EXPECT_EQ(fill_argv(t, J(R"({"who":null})").as_object()).error(), "missing required argument: who");
  EXPECT_EQ(fill_argv(t, J(R"({"who":5})").as_object()).error(), "argument who: expected string, got integer");
  EXPECT_EQ(fill_argv(t, J(R"({"who":"a","n":"3"})").as_object()).error(), "argument n: expected integer, got string");
  EXPECT_EQ(fill_argv(t, J(R"({"who":"a","n":1.5})").as_object()).error(), "argument n: expected integer, got number");
  EXPECT_EQ(fill_argv(t, J(R"({"who":"a","rm":1})").as_object()).error(), "unknown argument: rm");
}

TEST(tools_proxy_config, malformed_configs_are_one_line_errors) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "t.json: not JSON: "},
      {"[]", "t.json: expected a JSON object"},
      {R"({"tools":[]})", "t.json: tools: expected a non-empty array of tools"},
      {R"({"tools":[{"description":"d","argv":["ls"]}]})", "t.json: tools[0].name: missing"},
      {R"({"tools":[{"name":"a","description":"d","argv":[]}]})",
       "t.json: tools[0].argv: expected a non-empty array of strings"},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls","{p}"]}]})",
       "t.json: tools[0].argv[1]: {p} is not a property of inputSchema"},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls","{p"]}]})",
       "t.json: tools[0].argv[1]: unclosed '{' (write '{{' for a brace)"},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls"],"cwd":"/nonexistent/dir"}]})",
       "t.json: tools[0].cwd: not a directory: /nonexistent/dir"},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls"],"timeoutMs":0}]})",
       "t.json: tools[0].timeoutMs: expected a positive integer"},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls"],"shell":true}]})",
       "t.json: tools[0].shell: unknown member"},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls"],
                     "inputSchema":{"type":"object","properties":{"p":{"type":"array"}}}}]})",
       "t.json: tools[0].inputSchema.properties.p.type: expected \"string\", \"integer\", \"number\" or \"boolean\""},
      {R"({"tools":[{"name":"a","description":"d","argv":["ls"]},{"name":"a","description":"d","argv":["ls"]}]})",
       "t.json: tools[1].name: \"a\" is used twice"},
  };
  for (const auto& [text, expected] : cases) {
    auto c = parse_tools_config(text, "t.json");
    ASSERT_FALSE(c) << text;
    EXPECT_TRUE(c.error().message.starts_with(expected)) << c.error().message;
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos);
  }
  EXPECT_EQ(examples::load_tools_config("/nonexistent/tools.json").error().message,
            "cannot read /nonexistent/tools.json");
}

constexpr const char* test_config = R"({"server":"shelf","tools":[
  {"name":"say","description":"prints its words",
   "inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]},
   "argv":["printf","%s|","{text}"]},
  {"name":"where","description":"pwd","argv":["pwd"],"cwd":"/tmp"},
  {"name":"fails","description":"exit 3 with stderr","argv":["sh","-c","echo oops >&2; exit 3"]},
  {"name":"sleepy","description":"sleeps","argv":["sleep","30"],"timeoutMs":200},
  {"name":"flood","description":"much output","argv":["head","-c","100000","/dev/zero"],"maxOutputBytes":1000},
  {"name":"missing","description":"no such program","argv":["/nonexistent/tool"]},
  {"name":"family","description":"a grandchild","argv":["sh","-c","sleep 30 & echo $!; wait"],"timeoutMs":300}]})";

class tools_proxy_test : public sdk_test {
protected:
  void start() {
    auto config = parse_tools_config(test_config, "test");
    ASSERT_TRUE(config) << config.error().message;
    auto proxy = examples::make_tools_proxy(
        {.config = std::move(*config), .call_log = [this](std::string_view line) { log.emplace_back(line); }});
    c = wire(proxy).peer;
    connect_session();
  }
  void connect_session() {
    c->send(request("n", "session/new", J(R"({"cwd":"/","mcpServers":[]})")));
    ASSERT_TRUE(run_until([&] { return !c->messages.empty(); }));
    const auto fwd = c->messages.at(0).as_object();
    const auto decl = fwd.at("params").at("params").at("mcpServers").at(0);
    EXPECT_EQ(decl.at("name"), "shelf");
    c->send(json::value{{"jsonrpc", "2.0"}, {"id", fwd.at("id")}, {"result", {{"sessionId", "s"}}}});
    auto r = ask("mcp/connect", {{"serverId", decl.at("serverId")}});
    connection = r.at("result").at("connectionId").as_string();
  }
  json::object ask(std::string_view method, json::value params, std::chrono::milliseconds timeout = 10s) {
    const json::value id("q" + std::to_string(++next_id));
    c->send(from_agent(id, method, std::move(params)));
    EXPECT_TRUE(run_until([&] { return c->response_to(id) != nullptr; }, timeout)) << method;
    const auto* r = c->response_to(id);
    return r ? *r : json::object{};
  }
  json::value call(std::string_view tool, json::value args = json::object{}) {
    auto r = ask("mcp/message", {{"connectionId", connection},
                                 {"method", "tools/call"},
                                 {"params", {{"name", tool}, {"arguments", std::move(args)}}}});
    return r.contains("result") ? r.at("result") : json::value(r);
  }
  static std::string text_of(const json::value& result) {
    return std::string(result.at("content").at(0).at("text").as_string());
  }

  std::shared_ptr<line_peer> c;
  std::string connection;
  int next_id = 0;
  std::vector<std::string> log;
};

TEST_F(tools_proxy_test, tools_list_shows_every_configured_tool) {
  start();
  auto r = ask("mcp/message", {{"connectionId", connection}, {"method", "tools/list"}});
  const auto& tools = r.at("result").at("tools").as_array();
  ASSERT_EQ(tools.size(), 7u);
  EXPECT_EQ(tools[0], J(R"({"name":"say","description":"prints its words",
    "inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}})"));
  EXPECT_EQ(tools[1].at("inputSchema"), J(R"({"type":"object","properties":{}})"));
}

TEST_F(tools_proxy_test, a_call_returns_the_output_and_an_argument_is_one_argv_word) {
  start();
  const auto r = call("say", {{"text", "; rm -rf x && echo pwned"}});
  EXPECT_EQ(r, J(R"({"content":[{"type":"text","text":"; rm -rf x && echo pwned|"}]})"));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].starts_with("say: exited with status 0 in ")) << log[0];
}

TEST_F(tools_proxy_test, working_directory_exit_status_and_stderr) {
  start();
  EXPECT_EQ(text_of(call("where")), "/tmp\n");
  const auto r = call("fails");
  EXPECT_EQ(r.at("isError"), true);
  EXPECT_EQ(text_of(r), "[stderr]\noops\n\n[exited with status 3]");
  EXPECT_TRUE(log.back().starts_with("fails: exited with status 3 in ")) << log.back();
  const auto m = call("missing");
  EXPECT_EQ(m.at("isError"), true);
  EXPECT_EQ(text_of(m), "cannot start /nonexistent/tool: no such command: /nonexistent/tool");
}

TEST_F(tools_proxy_test, a_missing_argument_is_an_error_result_naming_it) {
  start();
  const auto r = call("say");
  EXPECT_EQ(r, J(R"({"content":[{"type":"text","text":"missing required argument: text"}],"isError":true})"));
  EXPECT_EQ(call("say", {{"text", 1}}).at("content").at(0).at("text"), "argument text: expected string, got integer");
}

TEST_F(tools_proxy_test, a_call_past_its_timeout_is_killed) {
  start();
  const auto started = std::chrono::steady_clock::now();
  const auto r = call("sleepy");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(r.at("isError"), true);
  EXPECT_EQ(text_of(r), "[timed out after 200 ms, process group killed]");
  EXPECT_TRUE(log.back().starts_with("sleepy: timed out after 200 ms")) << log.back();
}

/// Whether process `pid` is gone (or a zombie waiting for its reaper).
bool gone(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
}

TEST_F(tools_proxy_test, the_timeout_kills_the_whole_process_group) {
  start();
  const auto text = text_of(call("family"));
  const auto newline = text.find('\n');
  ASSERT_NE(newline, std::string::npos) << text;
  const auto grandchild = text.substr(0, newline);
  EXPECT_EQ(text.substr(newline), "\n\n[timed out after 300 ms, process group killed]");
  EXPECT_TRUE(run_until([&] { return gone(grandchild); }, 3s)) << "sleep " << grandchild << " survived";
}

TEST_F(tools_proxy_test, output_past_the_cap_is_cut_with_a_note) {
  start();
  const auto text = text_of(call("flood"));
  EXPECT_EQ(text, std::string(1000, '\0') + "\n[output truncated: 1000 of 100000 bytes shown]");
}

// ---- the executable ---------------------------------------------------------------------------

#ifdef ACP_TOOLS_PROXY_BIN
struct run_result {
  int exit_code = -1;
  std::string out;
};
run_result run(const std::string& args) {
  run_result r;
  FILE* p = ::popen((std::string(ACP_TOOLS_PROXY_BIN) + " " + args + " 2>&1 </dev/null").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/acp-tools-test-XXXXXX";
  const int fd = ::mkstemp(name);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  return name;
}

TEST(tools_proxy_cli, help_version_and_usage_errors) {
  auto help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--config"), std::string::npos);
  auto version = run("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(version.out.starts_with("acp-tools-proxy ")) << version.out;
  auto none = run("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.out.find("--config is required"), std::string::npos) << none.out;
}

TEST(tools_proxy_cli, a_malformed_config_is_one_line_and_exit_2) {
  const auto path = write_temp(R"({"tools":[{"name":"a","description":"d","argv":["ls","{p}"]}]})");
  auto r = run("--config " + path);
  ::unlink(path.c_str());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "acp-tools-proxy: " + path + ": tools[0].argv[1]: {p} is not a property of inputSchema\n");
  auto missing = run("--config /nonexistent/tools.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.out, "acp-tools-proxy: cannot read /nonexistent/tools.json\n");
}

class tools_proxy_exe_test : public tools_proxy_test {};

TEST_F(tools_proxy_exe_test, the_executable_serves_a_call_end_to_end) {
  const auto path = write_temp(test_config);
  auto child = child_process::spawn(ex(), {.name = "tools", .command = ACP_TOOLS_PROXY_BIN, .args = {"--config", path}},
                                    {.mode = stderr_mode::tail_only});
  ASSERT_TRUE(child) << child.error().message;
  c = make_peer(child->take_transport());
  connect_session();
  EXPECT_EQ(text_of(call("say", {{"text", "a b"}})), "a b|");
  c->shutdown_write();
  ASSERT_TRUE(run_until([&] { return c->eof; }));
  ::unlink(path.c_str());
}
#endif

} // namespace
} // namespace acp::test
