// acp-test-agent's MCP client driven over its stdio, with the client half written here: the
// advertised mcpCapabilities, the options, and `mcp list` / `mcp call` on an `acp` server
// answered by this test (mcp/connect, mcp/message, mcp/disconnect), with its errors and
// deadlines. test_agent_mcp_transports_test.cpp has HTTP and stdio servers that need no MCP SDK;
// tests/mcp/agent_mcp_sdk_test.cpp has the official MCP SDK's servers.
#include "agent_mcp_fixture.hpp"

namespace acp::e2e {
namespace {

TEST_F(agent_mcp, initialize_advertises_http_by_default) {
  start();
  const auto caps = initialize().at("result").at("agentCapabilities").at("mcpCapabilities");
  EXPECT_EQ(caps, (json::value{{"http", true}, {"sse", false}, {"acp", false}}));
}

TEST_F(agent_mcp, mcp_capabilities_option_chooses_what_is_advertised) {
  start({"--mcp-capabilities", "acp,sse"});
  EXPECT_EQ(initialize().at("result").at("agentCapabilities").at("mcpCapabilities"),
            (json::value{{"http", false}, {"sse", true}, {"acp", true}}));
}

TEST_F(agent_mcp, mcp_capabilities_none_advertises_nothing) {
  start({"--mcp-capabilities", "none"});
  EXPECT_EQ(initialize().at("result").at("agentCapabilities").at("mcpCapabilities"),
            (json::value{{"http", false}, {"sse", false}, {"acp", false}}));
}

TEST(agent_mcp_cli, unknown_mcp_capability_is_a_usage_error) {
  const auto r = run({mcp_agent_bin, "--mcp-capabilities", "http,stdio"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown MCP transport 'stdio'"), std::string::npos) << r.err;
}

TEST(agent_mcp_cli, help_lists_the_mcp_commands_and_options) {
  const auto r = run({mcp_agent_bin, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* word : {"mcp list", "mcp call SERVER TOOL", "mcp bench SERVER TOOL N", "--mcp-capabilities",
                           "--mcp-connect-timeout-ms", "--mcp-request-timeout-ms"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
}

TEST_F(agent_mcp, list_over_acp_connects_lists_and_disconnects) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp list");
  auto list = accept_connection("mcp-server:1", "conn-1");
  EXPECT_EQ(list.at("params").at("method"), "tools/list");
  // Server-initiated traffic on the way: a notification is ignored, a request refused.
  send(json::object{
      {"jsonrpc", "2.0"},
      {"method", "mcp/message"},
      {"params", json::object{{"connectionId", "conn-1"}, {"method", "notifications/tools/list_changed"}}}});
  send(request(77, "mcp/message",
               json::object{{"connectionId", "conn-1"}, {"method", "sampling/createMessage"}, {"params", {}}}));
  auto refused = next();
  EXPECT_EQ(refused.at("id"), 77);
  EXPECT_EQ(refused.at("error").at("code"), -32601);
  json::array tools{json::object{{"name", "read_file"}, {"inputSchema", json::object{{"type", "object"}}}},
                    json::object{{"name", "search"}, {"inputSchema", json::object{{"type", "object"}}}}};
  send(answer(list.at("id"), json::object{{"tools", std::move(tools)}}));
  expect_disconnect("conn-1");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"tools: read_file, search"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, list_follows_next_cursor) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp list");
  auto page1 = accept_connection("mcp-server:1", "c");
  send(answer(page1.at("id"), json::object{{"tools", json::array{json::object{{"name", "a"}}}}, {"nextCursor", "p2"}}));
  auto page2 = expect_request("mcp/message");
  EXPECT_EQ(page2.at("params").at("params").at("cursor"), "p2");
  send(answer(page2.at("id"), json::object{{"tools", json::array{json::object{{"name", "b"}}}}}));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"tools: a, b"}));
}

TEST_F(agent_mcp, call_over_acp_streams_the_text_content) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:7")});
  prompt(10, s, R"(mcp call tools echo {"text": "hi there"})");
  auto call = accept_connection("mcp-server:7", "conn-9");
  EXPECT_EQ(call.at("params").at("method"), "tools/call");
  EXPECT_EQ(call.at("params").at("params"),
            (json::value{{"name", "echo"}, {"arguments", json::object{{"text", "hi there"}}}}));
  json::object result{{"content", json::array{json::object{{"type", "text"}, {"text", "hi there"}},
                                              json::object{{"type", "text"}, {"text", "(done)"}}}}};
  send(answer(call.at("id"), std::move(result)));
  expect_disconnect("conn-9");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"hi there", "(done)"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, tool_error_result_is_an_mcp_error_chunk) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools explode");
  auto call = accept_connection("mcp-server:1", "c");
  EXPECT_EQ(call.at("params").at("params").at("arguments"), json::object());
  send(answer(call.at("id"), tool_result("it blew up", true)));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp error: it blew up"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, jsonrpc_error_is_an_mcp_error_chunk) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools nope {}");
  auto call = accept_connection("mcp-server:1", "c");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", call.at("id")},
                    {"error", json::object{{"code", -32602}, {"message", "Unknown tool: nope"}}}});
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp error: Unknown tool: nope"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, refused_mcp_connect_is_an_error_and_nothing_else_is_sent) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:gone")});
  prompt(10, s, "mcp call tools x");
  auto connect = expect_request("mcp/connect");
  send(json::object{{"jsonrpc", "2.0"},
                    {"id", connect.at("id")},
                    {"error", json::object{{"code", -32602}, {"message", "unknown server"}}}});
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp error: mcp/connect: unknown server"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, unadvertised_transport_is_used_and_said) {
  start(); // advertises http only
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools t");
  auto call = accept_connection("mcp-server:1", "c");
  send(answer(call.at("id"), tool_result("ok")));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp: tools uses transport acp, which this agent does not advertise", "ok"}));
}

TEST_F(agent_mcp, unadvertised_transport_is_noted_after_the_list_line) {
  start(); // advertises http only
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp list");
  auto list = accept_connection("mcp-server:1", "c");
  send(answer(list.at("id"), json::object{{"tools", json::array{json::object{{"name", "t"}}}}}));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"tools: t (via acp, not advertised)"}));
}

TEST_F(agent_mcp, client_that_never_answers_hits_the_deadline_and_is_cancelled) {
  start({"--mcp-capabilities", "acp", "--mcp-request-timeout-ms", "300"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools slow");
  auto call = accept_connection("mcp-server:1", "c");
  auto cancel = next(); // no answer from us: past the deadline the agent cancels the request
  EXPECT_EQ(cancel.at("method"), "$/cancel_request");
  EXPECT_EQ(cancel.at("params").at("requestId"), call.at("id"));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: mcp/message: no answer from the client within 300 ms"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, cancel_during_a_call_cancels_it_disconnects_and_ends_the_turn_at_once) {
  start({"--mcp-capabilities", "acp", "--mcp-request-timeout-ms", "20000"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools slow");
  auto call = accept_connection("mcp-server:1", "c");
  const auto cancelled_at = clock::now();
  send(json::object{{"jsonrpc", "2.0"}, {"method", "session/cancel"}, {"params", json::object{{"sessionId", s}}}});
  auto cancel = next();
  EXPECT_EQ(cancel.at("method"), "$/cancel_request");
  EXPECT_EQ(cancel.at("params").at("requestId"), call.at("id"));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), std::vector<std::string>{});
  EXPECT_EQ(stop, "cancelled");
  EXPECT_LT(clock::now() - cancelled_at, 5s) << "the 20 s request deadline was waited for";
}

TEST_F(agent_mcp, bench_makes_n_calls_on_one_connection_and_reports_latencies) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, R"(mcp bench tools echo 3 {"text": "x"})");
  auto call = accept_connection("mcp-server:1", "c");
  for (int i = 0; i < 3; ++i) {
    if (i > 0) call = expect_request("mcp/message");
    EXPECT_EQ(call.at("params").at("connectionId"), "c");
    EXPECT_EQ(call.at("params").at("params"), (json::value{{"name", "echo"}, {"arguments", {{"text", "x"}}}}));
    send(answer(call.at("id"), tool_result("x")));
  }
  expect_disconnect("c");
  std::string stop;
  const auto chunks = chunks_until_answer(10, stop);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].rfind("mcp bench tools echo: calls=3 p50_us=", 0), 0u) << chunks[0];
  for (const char* field : {" p90_us=", " p99_us=", " mean_us=", " max_us="})
    EXPECT_NE(chunks[0].find(field), std::string::npos) << field;
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, bench_stops_at_the_first_failed_call) {
  start({"--mcp-capabilities", "acp"});
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp bench tools echo 5");
  auto call = accept_connection("mcp-server:1", "c");
  send(answer(call.at("id"), tool_result("ok")));
  call = expect_request("mcp/message");
  send(answer(call.at("id"), tool_result("no", true)));
  expect_disconnect("c");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: call 2 of 5: the tool reported an error"}));
}

TEST_F(agent_mcp, bench_needs_a_count) {
  start();
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  for (std::string_view bad : {"mcp bench tools echo", "mcp bench tools echo 0", "mcp bench tools echo 2x {}",
                               "mcp bench tools echo 1000001"}) {
    prompt(10, s, bad);
    std::string stop;
    EXPECT_EQ(chunks_until_answer(10, stop),
              (std::vector<std::string>{"mcp bench: expected SERVER TOOL N {json arguments} (N from 1 to 1000000)"}))
        << bad;
  }
}

TEST_F(agent_mcp, mcp_without_a_subcommand_says_how_to_use_it) {
  start();
  const auto s = open_session({});
  prompt(10, s, "mcp");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp: expected 'mcp list', 'mcp call SERVER TOOL {json arguments}' or "
                                      "'mcp bench SERVER TOOL N {json arguments}'"}));
}

TEST_F(agent_mcp, unknown_server_name_lists_the_known_ones) {
  start();
  const auto s = open_session(
      {acp_server("tools", "mcp-server:1"),
       json::object{{"type", "http"}, {"name", "web"}, {"url", "http://127.0.0.1:1/"}, {"headers", json::array()}}});
  prompt(10, s, "mcp call nosuch tool {}");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp: no MCP server named \"nosuch\" (known: tools, web)"}));
  EXPECT_EQ(stop, "end_turn");
}

TEST_F(agent_mcp, list_without_servers_says_so) {
  start();
  const auto s = open_session({});
  prompt(10, s, "mcp list");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp: this session has no MCP servers"}));
}

TEST_F(agent_mcp, bad_arguments_are_refused_before_connecting) {
  start();
  const auto s = open_session({acp_server("tools", "mcp-server:1")});
  prompt(10, s, "mcp call tools t [1,2]");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop),
            (std::vector<std::string>{"mcp error: the arguments are not a JSON object: [1,2]"}));
}
TEST_F(agent_mcp, session_load_replaces_the_servers) {
  start();
  const auto s = open_session({acp_server("old", "mcp-server:1")});
  send(request(3, "session/load",
               json::object{{"sessionId", s}, {"cwd", "/tmp"}, {"mcpServers", json::array{acp_server("new", "x")}}}));
  const auto replay = next(); // the test agent's one-chunk replay of the loaded session
  EXPECT_EQ(replay.at("method"), "session/update");
  EXPECT_EQ(replay.at("params").at("update").at("content").at("text"), json::value("loaded " + s));
  EXPECT_TRUE(next().as_object().contains("result"));
  prompt(10, s, "mcp call old t");
  std::string stop;
  EXPECT_EQ(chunks_until_answer(10, stop), (std::vector<std::string>{"mcp: no MCP server named \"old\" (known: new)"}));
  send(request(4, "session/load", json::object{{"sessionId", "nope"}, {"cwd", "/"}, {"mcpServers", json::array()}}));
  EXPECT_EQ(next().at("error").at("code"), -32002);
}

} // namespace
} // namespace acp::e2e
