// acp::mcp::server provided by a proxy (MCP over ACP), driven by a scripted conductor: the
// declaration in every session set-up request, mcp/connect, the MCP methods over mcp/message,
// async tools, cancellation, several connections, disconnect, the older _mcp/* forms, and ids
// that belong to someone else passing on.
#include "test_support.hpp"

#include <acp/sdk/mcp_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace acp::test {
namespace {

json::value request(json::value id, std::string_view method, json::value params = json::object{}) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
/// From the agent: a message inside `_proxy/successor`.
json::value from_agent(std::optional<json::value> id, std::string_view method, json::value params) {
  json::value inner{{"method", method}, {"params", std::move(params)}};
  if (id) return request(std::move(*id), "_proxy/successor", std::move(inner));
  return {{"jsonrpc", "2.0"}, {"method", "_proxy/successor"}, {"params", std::move(inner)}};
}
json::value result(json::value id, json::value r) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(r)}};
}

mcp::tool tool_named(std::string name) {
  return {.name = std::move(name),
          .description = "a test tool",
          .input_schema = J(R"({"type":"object","properties":{"text":{"type":"string"}}})").as_object()};
}

class mcp_server_test : public sdk_test {
protected:
  mcp_server_test() {
    srv.add_tool(tool_named("echo"), [this](const json::object& args, mcp::call_context& call) {
      seen_session = call.session_id();
      seen_tool = call.tool_name();
      (void)call.progress(1, 2, "half");
      return mcp::tool_result::text(args.contains("text") ? std::string(args.at("text").as_string()) : "");
    });
    srv.add_tool(tool_named("fail"),
                 [](const json::object&, mcp::call_context&) { return mcp::tool_result::error("it failed"); });
    srv.add_tool(tool_named("throws"),
                 [](const json::object&, mcp::call_context&) -> mcp::tool_result { throw std::runtime_error("boom"); });
    srv.add_tool(tool_named("update"), [](const json::object&, mcp::call_context& call) {
      const bool sent = call.send_session_update(
          {{"sessionUpdate", "agent_message_chunk"}, {"content", {{"type", "text"}, {"text", "from the tool"}}}});
      return mcp::tool_result::json({{"sent", sent}});
    });
    srv.add_tool(
        tool_named("slow"), [this](json::object args, mcp::call_context call) -> asio::awaitable<mcp::tool_result> {
          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(args.at("ms").as_int64()));
          auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          if (ec) ++aborted;
          co_return mcp::tool_result::text("slept, session " + call.session_id().value_or("?"));
        });
  }

  static acp::request_permission_request permission_request(std::string session_id) {
    acp::request_permission_request req;
    req.session_id = std::move(session_id);
    req.tool_call.tool_call_id = "t1";
    req.tool_call.title = "run it";
    req.options.push_back({.option_id = "yes", .name = "Yes", .kind = acp::permission_option_kind::allow_once});
    return req;
  }
  /// An async tool that asks the client for permission in its session and says what was chosen.
  void add_permission_tool() {
    srv.add_tool(tool_named("ask"), [](json::object, mcp::call_context call) -> asio::awaitable<mcp::tool_result> {
      const auto session = call.session_id();
      if (!session) co_return mcp::tool_result::error("no session");
      auto request = permission_request(*session);
      auto answer = co_await call.acp_context().send_request_to(acp::client, request).response();
      if (!answer) co_return mcp::tool_result::error(answer.error().message);
      const auto* selected = std::get_if<acp::selected_permission_outcome>(&answer->outcome);
      co_return mcp::tool_result::text(selected ? "chose " + selected->option_id : "cancelled");
    });
  }

  void start() {
    proxy_builder b;
    b.provide_mcp_server(srv);
    auto w = wire(b);
    c = w.peer;
  }
  bool wait_messages(std::size_t n) {
    return run_until([&] { return c->messages.size() >= n; });
  }
  /// Sends a session set-up request from the client; returns the forwarded (wrapped) request.
  json::object setup(std::string_view method, json::value params, json::value id) {
    const auto n = c->messages.size();
    c->send(request(std::move(id), method, std::move(params)));
    EXPECT_TRUE(wait_messages(n + 1));
    return c->messages.at(n).as_object();
  }
  /// session/new answered with `session_id`; returns the injected server id.
  std::string new_session(std::string session_id = "s1") {
    auto fwd = setup("session/new", J(R"({"cwd":"/w","mcpServers":[]})"), json::value("new-" + session_id));
    c->send(result(fwd.at("id"), {{"sessionId", session_id}}));
    EXPECT_TRUE(run_until([&] { return c->response_to(json::value("new-" + session_id)) != nullptr; }));
    return std::string(fwd.at("params").at("params").at("mcpServers").as_array().back().at("serverId").as_string());
  }
  /// A request from the agent; waits for its answer.
  json::object ask(std::string_view method, json::value params) {
    const json::value id("a" + std::to_string(++next_id));
    c->send(from_agent(id, method, std::move(params)));
    EXPECT_TRUE(run_until([&] { return c->response_to(id) != nullptr; })) << method;
    const auto* r = c->response_to(id);
    return r ? *r : json::object{};
  }
  std::string connect(const std::string& server_id) {
    auto r = ask("mcp/connect", {{"serverId", server_id}});
    return r.contains("result") ? std::string(r.at("result").at("connectionId").as_string()) : "";
  }
  json::object mcp(const std::string& connection, std::string_view method, json::value params = json::object{}) {
    return ask("mcp/message", {{"connectionId", connection}, {"method", method}, {"params", std::move(params)}});
  }

  /// `mcp/message` notifications the proxy sent toward the agent.
  std::vector<json::value> mcp_to_agent() const {
    return c->select([](const json::object& o) {
      const auto* m = o.if_contains("method");
      return m && *m == "_proxy/successor" && !o.contains("id") && o.at("params").at("method") == "mcp/message";
    });
  }

  mcp::server srv{"tools", "1.2.3"};
  std::shared_ptr<line_peer> c;
  int next_id = 0;
  int aborted = 0;
  std::optional<std::string> seen_session;
  std::string seen_tool;
};

TEST_F(mcp_server_test, declaration_is_injected_into_every_session_setup_request_keeping_the_rest) {
  start();
  std::set<std::string> ids;
  const std::pair<const char*, const char*> cases[] = {
      {"session/new", R"({"cwd":"/w","mcpServers":[{"name":"fs","command":"/bin/x","args":[],"env":[]}],"u":1.5})"},
      {"session/load", R"({"sessionId":"s1","cwd":"/w","mcpServers":[],"_meta":{"k":[1]}})"},
      {"session/resume", R"({"sessionId":"s1","cwd":"/w"})"},
      {"session/fork", R"({"sessionId":"s1","cwd":"/w","mcpServers":[]})"}};
  int id = 0;
  for (const auto& [method, text] : cases) {
    SCOPED_TRACE(method);
    const auto original = J(text).as_object();
    auto fwd = setup(method, original, ++id);
    ASSERT_EQ(fwd.at("method"), "_proxy/successor");
    EXPECT_EQ(fwd.at("params").at("method"), method);
    auto params = fwd.at("params").at("params").as_object();
    auto servers = params.at("mcpServers").as_array();
    ASSERT_FALSE(servers.empty());
    const auto decl = servers.back().as_object();
    EXPECT_EQ(decl.size(), 3u);
    EXPECT_EQ(decl.at("type"), "acp");
    EXPECT_EQ(decl.at("name"), "tools");
    const std::string server_id(decl.at("serverId").as_string());
    EXPECT_TRUE(server_id.starts_with("mcp-server:")) << server_id;
    EXPECT_EQ(server_id.size(), std::string_view("mcp-server:").size() + 36); // a UUID
    EXPECT_TRUE(ids.insert(server_id).second) << "a fresh id per request";
    // Everything else as it was.
    servers.pop_back();
    params["mcpServers"] = servers;
    auto expected = original;
    if (!expected.contains("mcpServers")) expected["mcpServers"] = json::array{};
    EXPECT_EQ(params, expected);
  }
}

TEST_F(mcp_server_test, connect_initialize_list_call_and_errors) {
  start();
  const auto server_id = new_session("s1");
  const auto conn = connect(server_id);
  ASSERT_TRUE(conn.starts_with("mcp-connection:")) << conn;

  auto init = mcp(conn, "initialize", {{"protocolVersion", "2025-03-26"}, {"capabilities", json::object{}}});
  EXPECT_EQ(init.at("result").at("protocolVersion"), "2025-03-26");
  EXPECT_EQ(init.at("result").at("serverInfo"), J(R"({"name":"tools","version":"1.2.3"})"));
  EXPECT_EQ(init.at("result").at("capabilities"), J(R"({"tools":{"listChanged":false}})"));
  EXPECT_EQ(mcp(conn, "initialize", {{"protocolVersion", "1999-01-01"}}).at("result").at("protocolVersion"),
            "2025-06-18");
  c->send(from_agent(std::nullopt, "mcp/message", {{"connectionId", conn}, {"method", "notifications/initialized"}}));
  EXPECT_EQ(mcp(conn, "ping").at("result"), json::object{});

  const auto tools = mcp(conn, "tools/list").at("result").at("tools").as_array();
  ASSERT_EQ(tools.size(), 5u);
  EXPECT_EQ(tools[0], J(R"({"name":"echo","description":"a test tool",
                            "inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}})"));

  EXPECT_EQ(mcp(conn, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "hi"}}}}).at("result"),
            J(R"({"content":[{"type":"text","text":"hi"}]})"));
  EXPECT_EQ(seen_tool, "echo");
  EXPECT_EQ(seen_session, "s1");
  EXPECT_TRUE(mcp_to_agent().empty()) << "no progress without a progressToken";
  EXPECT_EQ(mcp(conn, "tools/call", {{"name", "fail"}}).at("result"),
            J(R"({"content":[{"type":"text","text":"it failed"}],"isError":true})"));
  auto thrown = mcp(conn, "tools/call", {{"name", "throws"}}).at("result");
  EXPECT_EQ(thrown.at("isError"), true);
  EXPECT_NE(json::serialize(thrown).find("boom"), std::string::npos);
  auto unknown = mcp(conn, "tools/call", {{"name", "nope"}});
  EXPECT_EQ(error_code_of(&unknown), -32602);
  EXPECT_NE(json::serialize(unknown).find("unknown tool: nope"), std::string::npos);
  auto bad_args = mcp(conn, "tools/call", {{"name", "echo"}, {"arguments", 3}});
  EXPECT_EQ(error_code_of(&bad_args), -32602);
  auto unknown_method = mcp(conn, "resources/list");
  EXPECT_EQ(error_code_of(&unknown_method), -32601);

  EXPECT_EQ(ask("mcp/disconnect", {{"connectionId", conn}}).at("result"), json::object{});
  auto after = mcp(conn, "ping");
  EXPECT_EQ(error_code_of(&after), -32602);
  EXPECT_EQ(after.at("error").at("data").at("reason"), "connection_closed");
  auto again = ask("mcp/disconnect", {{"connectionId", conn}});
  EXPECT_EQ(error_code_of(&again), -32602);
}

TEST_F(mcp_server_test, ids_of_someone_else_pass_on_toward_the_client_untouched) {
  start();
  (void)new_session();
  const auto before = c->messages.size();
  c->send(from_agent(json::value("x1"), "mcp/connect", {{"serverId", "mcp-server:not-ours"}}));
  c->send(from_agent(json::value("x2"), "mcp/message",
                     {{"connectionId", "mcp-connection:not-ours"}, {"method", "ping"}, {"u", 1}}));
  c->send(from_agent(json::value("x3"), "mcp/disconnect", {{"connectionId", "mcp-connection:not-ours"}}));
  ASSERT_TRUE(wait_messages(before + 3));
  EXPECT_EQ(c->messages[before].at("method"), "mcp/connect");
  EXPECT_EQ(c->messages[before].at("params"), J(R"({"serverId":"mcp-server:not-ours"})"));
  EXPECT_EQ(c->messages[before + 1].at("method"), "mcp/message");
  EXPECT_EQ(c->messages[before + 1].at("params"),
            J(R"({"connectionId":"mcp-connection:not-ours","method":"ping","u":1})"));
  EXPECT_EQ(c->messages[before + 2].at("method"), "mcp/disconnect");
  EXPECT_EQ(c->response_to(json::value("x1")), nullptr); // not answered by the proxy
}

TEST_F(mcp_server_test, two_connections_at_once_and_closing_one_leaves_the_other) {
  start();
  const auto a = connect(new_session("s1"));
  const auto b = connect(new_session("s2"));
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_NE(a, b);
  EXPECT_EQ(mcp(a, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "A"}}}}).at("result").at("content"),
            J(R"([{"type":"text","text":"A"}])"));
  EXPECT_EQ(seen_session, "s1");
  EXPECT_EQ(mcp(b, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "B"}}}}).at("result").at("content"),
            J(R"([{"type":"text","text":"B"}])"));
  EXPECT_EQ(seen_session, "s2");
  (void)ask("mcp/disconnect", {{"connectionId", a}});
  auto closed = mcp(a, "ping");
  EXPECT_EQ(error_code_of(&closed), -32602);
  EXPECT_EQ(mcp(b, "ping").at("result"), json::object{});
}

TEST_F(mcp_server_test, an_async_tool_does_not_block_other_calls_and_sees_its_session) {
  start();
  const auto conn = connect(new_session("sess-42"));
  c->send(from_agent(json::value("slow"), "mcp/message",
                     {{"connectionId", conn},
                      {"method", "tools/call"},
                      {"params", {{"name", "slow"}, {"arguments", {{"ms", 100}}}}}}));
  // A sync call sent after the slow one is answered first.
  EXPECT_EQ(mcp(conn, "ping").at("result"), json::object{});
  EXPECT_EQ(c->response_to(json::value("slow")), nullptr);
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("slow")) != nullptr; }));
  EXPECT_EQ(c->response_to(json::value("slow"))->at("result"),
            J(R"({"content":[{"type":"text","text":"slept, session sess-42"}]})"));
  EXPECT_EQ(aborted, 0);
}

TEST_F(mcp_server_test, notifications_cancelled_cancels_the_running_call) {
  start();
  const auto conn = connect(new_session());
  c->send(from_agent(json::value(77), "mcp/message",
                     {{"connectionId", conn},
                      {"method", "tools/call"},
                      {"params", {{"name", "slow"}, {"arguments", {{"ms", 60000}}}}}}));
  run_for(std::chrono::milliseconds(20));
  c->send(from_agent(std::nullopt, "mcp/message",
                     {{"connectionId", conn}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 77}}}}));
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value(77)) != nullptr; }, std::chrono::seconds(2)));
  EXPECT_EQ(error_code_of(c->response_to(json::value(77))), -32800);
  EXPECT_EQ(aborted, 1) << "the tool's pending wait ends with operation_aborted";
}

TEST_F(mcp_server_test, cancel_request_and_disconnect_cancel_running_calls) {
  start();
  const auto conn = connect(new_session());
  const json::value slow_params = {{"name", "slow"}, {"arguments", {{"ms", 60000}}}};
  c->send(from_agent(json::value("c1"), "mcp/message",
                     {{"connectionId", conn}, {"method", "tools/call"}, {"params", slow_params}}));
  c->send(from_agent(json::value("c2"), "mcp/message",
                     {{"connectionId", conn}, {"method", "tools/call"}, {"params", slow_params}}));
  run_for(std::chrono::milliseconds(20));
  c->send(from_agent(std::nullopt, "$/cancel_request", {{"requestId", "c1"}}));
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("c1")) != nullptr; }, std::chrono::seconds(2)));
  EXPECT_EQ(error_code_of(c->response_to(json::value("c1"))), -32800);
  EXPECT_EQ(c->response_to(json::value("c2")), nullptr);
  (void)ask("mcp/disconnect", {{"connectionId", conn}});
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("c2")) != nullptr; }, std::chrono::seconds(2)));
  EXPECT_EQ(error_code_of(c->response_to(json::value("c2"))), -32800);
  EXPECT_EQ(aborted, 2);
}

TEST_F(mcp_server_test, progress_goes_to_the_agent_when_the_call_has_a_progress_token) {
  start();
  const auto conn = connect(new_session());
  (void)mcp(conn, "tools/call",
            {{"name", "echo"}, {"arguments", json::object{}}, {"_meta", {{"progressToken", "tok"}}}});
  auto progress = mcp_to_agent();
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_FALSE(progress[0].as_object().contains("id"));
  EXPECT_EQ(progress[0].at("params").at("params"),
            (json::value{{"connectionId", conn},
                         {"method", "notifications/progress"},
                         {"params", {{"progressToken", "tok"}, {"progress", 1}, {"total", 2}, {"message", "half"}}}}));
}

TEST_F(mcp_server_test, session_id_of_load_and_fork_and_a_session_update_from_a_tool) {
  start();
  auto load = setup("session/load", J(R"({"sessionId":"old-1","cwd":"/w","mcpServers":[]})"), "L");
  c->send(result(load.at("id"), json::object{}));
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("L")) != nullptr; }));
  const std::string load_server(load.at("params").at("params").at("mcpServers").at(0).at("serverId").as_string());
  auto fork = setup("session/fork", J(R"({"sessionId":"old-1","cwd":"/w"})"), "F");
  c->send(result(fork.at("id"), {{"sessionId", "forked-2"}}));
  const std::string fork_server(fork.at("params").at("params").at("mcpServers").at(0).at("serverId").as_string());
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("F")) != nullptr; }));

  (void)mcp(connect(load_server), "tools/call", {{"name", "echo"}});
  EXPECT_EQ(seen_session, "old-1");
  const auto fork_conn = connect(fork_server);
  (void)mcp(fork_conn, "tools/call", {{"name", "echo"}});
  EXPECT_EQ(seen_session, "forked-2");

  EXPECT_EQ(mcp(fork_conn, "tools/call", {{"name", "update"}}).at("result").at("structuredContent"),
            J(R"({"sent":true})"));
  auto updates = c->with_method("session/update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].at("params").at("sessionId"), "forked-2");
  EXPECT_EQ(updates[0].at("params").at("update").at("content").at("text"), "from the tool");
}

TEST_F(mcp_server_test, an_async_tool_asks_the_client_for_permission_in_its_session) {
  add_permission_tool();
  start();
  const auto conn = connect(new_session("perm-1"));
  c->send(from_agent(json::value("p"), "mcp/message",
                     {{"connectionId", conn}, {"method", "tools/call"}, {"params", {{"name", "ask"}}}}));
  ASSERT_TRUE(run_until([&] { return !c->with_method("session/request_permission").empty(); }));
  const auto asked = c->with_method("session/request_permission").at(0).as_object();
  EXPECT_EQ(asked.at("params").at("sessionId"), "perm-1");
  EXPECT_EQ(asked.at("params").at("toolCall").at("title"), "run it");
  c->send(result(asked.at("id"), {{"outcome", {{"outcome", "selected"}, {"optionId", "yes"}}}}));
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("p")) != nullptr; }));
  EXPECT_EQ(c->response_to(json::value("p"))->at("result"), J(R"({"content":[{"type":"text","text":"chose yes"}]})"));
}

TEST_F(mcp_server_test, a_connection_before_the_session_answer_learns_the_session_later) {
  start();
  auto fwd = setup("session/new", J(R"({"cwd":"/w","mcpServers":[]})"), "N");
  const std::string server_id(fwd.at("params").at("params").at("mcpServers").at(0).at("serverId").as_string());
  const auto conn = connect(server_id); // agents connect while they set the session up
  (void)mcp(conn, "tools/call", {{"name", "echo"}});
  EXPECT_EQ(seen_session, std::nullopt);
  c->send(result(fwd.at("id"), {{"sessionId", "late"}}));
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("N")) != nullptr; }));
  (void)mcp(conn, "tools/call", {{"name", "echo"}});
  EXPECT_EQ(seen_session, "late");
}

TEST_F(mcp_server_test, older_underscore_mcp_methods) {
  start();
  const auto server_id = new_session();
  const auto uuid = server_id.substr(std::string_view("mcp-server:").size());
  auto connected = ask("_mcp/connect", {{"acp_url", "acp:" + uuid}});
  ASSERT_TRUE(connected.contains("result")) << json::serialize(connected);
  const std::string conn(connected.at("result").at("connection_id").as_string());
  EXPECT_EQ(ask("_mcp/message", {{"connectionId", conn},
                                 {"method", "tools/call"},
                                 {"params", {{"name", "echo"}, {"arguments", {{"text", "old"}}}}}})
                .at("result")
                .at("content")
                .at(0)
                .at("text"),
            "old");
  c->send(from_agent(std::nullopt, "_mcp/disconnect", {{"connection_id", conn}}));
  auto after = ask("_mcp/message", {{"connectionId", conn}, {"method", "ping"}});
  EXPECT_EQ(error_code_of(&after), -32602);
  EXPECT_EQ(after.at("error").at("data").at("reason"), "connection_closed");
  // An acp_url that is not ours passes on.
  const auto before = c->messages.size();
  c->send(from_agent(json::value("o"), "_mcp/connect", {{"acp_url", "acp:someone-else"}}));
  ASSERT_TRUE(wait_messages(before + 1));
  EXPECT_EQ(c->messages[before].at("method"), "_mcp/connect");
}

TEST_F(mcp_server_test, an_error_answer_to_session_new_forgets_the_server) {
  start();
  auto fwd = setup("session/new", J(R"({"cwd":"/w","mcpServers":[]})"), "E");
  const std::string server_id(fwd.at("params").at("params").at("mcpServers").at(0).at("serverId").as_string());
  c->send(json::value{{"jsonrpc", "2.0"}, {"id", fwd.at("id")}, {"error", {{"code", -32000}, {"message", "no"}}}});
  ASSERT_TRUE(run_until([&] { return c->response_to(json::value("E")) != nullptr; }));
  const auto before = c->messages.size();
  c->send(from_agent(json::value("late"), "mcp/connect", {{"serverId", server_id}}));
  ASSERT_TRUE(wait_messages(before + 1));
  EXPECT_EQ(c->messages[before].at("method"), "mcp/connect"); // no longer ours: passed on
}

} // namespace
} // namespace acp::test
