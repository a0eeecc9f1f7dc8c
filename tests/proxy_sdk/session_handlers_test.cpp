// Per-session handlers: added at run time (here when session/new's result reveals the id),
// consulted first for that session only, falling through, and removable.

#include "test_support.hpp"

namespace acp::test {
namespace {

json::value req(json::value id, std::string_view method, json::value params) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}
json::value env_note(std::string_view method, json::value params) {
  return {{"jsonrpc", "2.0"},
          {"method", "_proxy/successor"},
          {"params", {{"method", method}, {"params", std::move(params)}}}};
}
json::value res(json::value id, json::value r) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(r)}};
}

class session_handlers_test : public sdk_test {};

TEST_F(session_handlers_test, a_handler_added_for_one_session_sees_only_that_sessions_updates) {
  proxy_builder proxy;
  int seen_for_watched = 0;
  proxy.on_receive_request_from(acp::client, "session/new", [&](jsonrpc::message& msg, responder& r, context& cx) {
    auto sent = cx.send_request_to(acp::agent, msg.method(), *msg.params());
    std::move(sent).on_receiving_result([&, r = std::move(r), cx](rpc_result outcome) mutable {
      const std::string id(outcome->at("sessionId").as_string());
      if (id == "watched") {
        auto ctx = cx;
        ctx.on_session_notification(id, acp::agent, "session/update", [&](jsonrpc::message& m, context&) {
          ++seen_for_watched;
          m.params()->as_object()["tagged"] = true; // edit, then let the default forward it
          return handled::no;
        });
      }
      r.respond_with(std::move(outcome));
    });
    return handled::yes;
  });
  auto w = wire(proxy);
  auto& c = w.peer;
  c->send(req(1, "session/new", {{"cwd", "/"}, {"mcpServers", json::array()}}));
  ASSERT_TRUE(run_until([&] { return c->messages.size() >= 1; }));
  const auto wire_id = c->messages[0].at("id");
  c->send(res(wire_id, {{"sessionId", "watched"}}));
  ASSERT_TRUE(run_until([&] { return c->messages.size() >= 2; }));
  EXPECT_EQ(c->messages[1], res(1, {{"sessionId", "watched"}}));

  c->send(env_note("session/update", {{"sessionId", "other"}, {"n", 1}}));
  c->send(env_note("session/update", {{"sessionId", "watched"}, {"n", 2}}));
  ASSERT_TRUE(run_until([&] { return c->messages.size() >= 4; }));
  EXPECT_EQ(seen_for_watched, 1);
  EXPECT_FALSE(c->messages[2].at("params").as_object().contains("tagged"));
  EXPECT_EQ(c->messages[3].at("params").at("tagged"), true);
  EXPECT_EQ(c->messages[3].at("method"), "session/update");
}

TEST_F(session_handlers_test, forget_session_removes_its_handlers_and_requests_can_be_answered_per_session) {
  proxy_builder proxy;
  std::optional<context> saved;
  proxy.on_receive_notification_from(acp::client, "test/register", [&](jsonrpc::message&, context& cx) {
    saved = cx;
    cx.on_session_request("s1", acp::agent, "fs/read_text_file", [](jsonrpc::message&, responder& r, context&) {
      r.respond(json::object{{"content", "from the proxy"}});
      return handled::yes;
    });
    return handled::yes;
  });
  auto w = wire(proxy);
  auto& c = w.peer;
  c->send(json::value{{"jsonrpc", "2.0"}, {"method", "test/register"}});
  json::value read_s1{{"jsonrpc", "2.0"},
                      {"id", "r1"},
                      {"method", "_proxy/successor"},
                      {"params", {{"method", "fs/read_text_file"}, {"params", {{"sessionId", "s1"}, {"path", "/a"}}}}}};
  c->send(read_s1);
  ASSERT_TRUE(run_until([&] { return c->messages.size() >= 1; }));
  EXPECT_EQ(c->messages[0], res("r1", {{"content", "from the proxy"}}));

  // Another session falls through to the default: forwarded to the client.
  json::value read_s2 = read_s1;
  read_s2.as_object()["id"] = "r2";
  read_s2.at("params").at("params").as_object()["sessionId"] = "s2";
  c->send(read_s2);
  ASSERT_TRUE(run_until([&] { return c->messages.size() >= 2; }));
  EXPECT_EQ(c->messages[1].at("method"), "fs/read_text_file");

  ASSERT_TRUE(saved);
  saved->forget_session("s1");
  read_s1.as_object()["id"] = "r3";
  c->send(read_s1);
  ASSERT_TRUE(run_until([&] { return c->messages.size() >= 3; }));
  EXPECT_EQ(c->messages[2].at("method"), "fs/read_text_file") << "after forget_session the default applies";
}

} // namespace
} // namespace acp::test
