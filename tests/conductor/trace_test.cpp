// The trace writer's events: the schema, byte-exact events from text messages (no DOM, no
// re-serialization), DOM messages, and the session id found in params text.
#include "trace_support.hpp"

#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

#include <sys/stat.h>

namespace acp::conductor::test {
namespace {

// The keys of an object, in order.
std::vector<std::string> keys(const json::object& o) {
  std::vector<std::string> k;
  for (const auto& kv : o) k.emplace_back(kv.key());
  return k;
}

jsonrpc::message scanned(std::string_view line) {
  auto m = jsonrpc::message::scan(line);
  if (!m) {
    ADD_FAILURE() << "not a text message: " << line;
    std::abort();
  }
  return std::move(*m);
}

using trace_test = trace_file_test;

TEST(trace_endpoint, spelled_like_the_rust_conductor) {
  EXPECT_EQ(to_string(chain_position::client()), "Client");
  EXPECT_EQ(to_string(chain_position::proxy(0)), "Proxy(0)");
  EXPECT_EQ(to_string(chain_position::proxy(12)), "Proxy(12)");
  EXPECT_EQ(to_string(chain_position::agent()), "Agent");
  EXPECT_EQ(to_string(trace_protocol::acp), "acp");
  EXPECT_EQ(to_string(trace_protocol::mcp), "mcp");
}

TEST_F(trace_test, file_is_created_with_mode_0600) {
  const mode_t old = ::umask(0);
  auto w = open_ok();
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(trace_test, existing_file_is_truncated_and_narrowed_to_0600) {
  {
    std::ofstream out(path_);
    out << "old content\n";
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto w = open_ok();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(contents(), "");
}

TEST_F(trace_test, open_failure_is_an_error_code) {
  auto w = trace_writer::open(dir_ + "/missing-dir/trace.jsons");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), boost::system::errc::no_such_file_or_directory);
}

// ---- text messages: spliced as they arrived --------------------------------------------------

TEST_F(trace_test, text_notification_is_spliced_byte_for_byte) {
  auto w = open_ok();
  const auto m = scanned(R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s1",)"
                         R"("update":{"sessionUpdate":"usage","cost":0.000306,"big":1E2,"t":"a\"b\u00e9"}}})");
  ASSERT_TRUE(m.is_text());
  w.message(chain_position::agent(), chain_position::proxy(0), m);
  EXPECT_TRUE(m.is_text()); // tracing built no DOM
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 1u);
  // 0.000306 as written (a DOM would write 3.06E-4), the escapes as written.
  EXPECT_EQ(without_ts(l[0]), R"j({"type":"notification","ts":T,"protocol":"acp","from":"Agent","to":"Proxy(0)",)j"
                              R"("method":"session/update","session":"s1","params":{"sessionId":"s1",)"
                              R"("update":{"sessionUpdate":"usage","cost":0.000306,"big":1E2,"t":"a\"b\u00e9"}}})");
}

TEST_F(trace_test, text_request_is_spliced_byte_for_byte) {
  auto w = open_ok();
  const auto m = scanned(R"({"jsonrpc":"2.0","id":7,"method":"session/prompt","params":)"
                         R"({"prompt":[{"type":"text","text":"x"}],"sessionId":"s\u0031","n":-0.5e-3}})");
  w.message(chain_position::client(), chain_position::proxy(1), m, trace_protocol::mcp);
  EXPECT_TRUE(m.is_text());
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 1u);
  // The session id's text as written, escape included (the same string).
  EXPECT_EQ(without_ts(l[0]), R"j({"type":"request","ts":T,"protocol":"mcp","from":"Client","to":"Proxy(1)","id":7,)j"
                              R"("method":"session/prompt","session":"s\u0031","params":)"
                              R"({"prompt":[{"type":"text","text":"x"}],"sessionId":"s\u0031","n":-0.5e-3}})");
  EXPECT_EQ(json::parse(l[0]).at("session"), "s1");
}

TEST_F(trace_test, text_request_without_params_and_with_a_string_id) {
  auto w = open_ok();
  const auto m = scanned(R"({"jsonrpc":"2.0","id":"c-1","method":"initialize"})");
  w.message(chain_position::proxy(1), chain_position::agent(), m);
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(without_ts(l[0]), R"j({"type":"request","ts":T,"protocol":"acp","from":"Proxy(1)","to":"Agent",)j"
                              R"("id":"c-1","method":"initialize","params":null})");
}

TEST_F(trace_test, text_response_is_spliced_with_the_id_of_its_link) {
  auto w = open_ok();
  const auto m = scanned(R"({"jsonrpc":"2.0","id":"wire-3","result":{"stopReason":"end_turn","cost":0.000306}})");
  w.response(chain_position::proxy(0), chain_position::client(), json::value(42), m);
  w.message(chain_position::agent(), chain_position::proxy(0), m); // the message's own id
  EXPECT_TRUE(m.is_text());
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(without_ts(l[0]), R"j({"type":"response","ts":T,"from":"Proxy(0)","to":"Client","id":42,)j"
                              R"("is_error":false,"payload":{"stopReason":"end_turn","cost":0.000306}})");
  EXPECT_EQ(without_ts(l[1]), R"j({"type":"response","ts":T,"from":"Agent","to":"Proxy(0)","id":"wire-3",)j"
                              R"("is_error":false,"payload":{"stopReason":"end_turn","cost":0.000306}})");
}

TEST_F(trace_test, text_payload_whitespace_is_kept_and_a_newline_becomes_a_space) {
  auto w = open_ok();
  const auto m = jsonrpc::message::from_text(jsonrpc::message_kind::notification, nullptr, "n",
                                             "{ \"a\" :\n[1,\n 2],\r\n\t\"sessionId\":\"s\" }");
  w.message(chain_position::client(), chain_position::agent(), m);
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 1u); // still one line
  EXPECT_EQ(without_ts(l[0]), "{\"type\":\"notification\",\"ts\":T,\"protocol\":\"acp\",\"from\":\"Client\","
                              "\"to\":\"Agent\",\"method\":\"n\",\"session\":\"s\",\"params\":"
                              "{ \"a\" : [1,  2],\r \t\"sessionId\":\"s\" }}");
}

TEST_F(trace_test, methods_ids_and_sessions_of_any_size_and_spelling_are_valid_json) {
  auto w = open_ok();
  const std::string long_name(5000, 'm');
  const json::value params = {{"sessionId", std::string(3000, 's') + "\"\n"}};
  w.request(chain_position::proxy(123456789), chain_position::agent(), json::value("id \"1\"\n"), "we\"ird\tname",
            &params);
  w.request(chain_position::client(), chain_position::proxy(0), json::value(std::uint64_t{18446744073709551615u}),
            long_name, nullptr);
  w.request(chain_position::client(), chain_position::proxy(0), json::value(nullptr), "m", nullptr);
  w.response(chain_position::agent(), chain_position::client(), json::value(-9007199254740993), false,
             json::value(1.5));
  const auto ev = events(w);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].at("from"), "Proxy(123456789)");
  EXPECT_EQ(ev[0].at("id"), "id \"1\"\n");
  EXPECT_EQ(ev[0].at("method"), "we\"ird\tname");
  EXPECT_EQ(ev[0].at("session"), params.at("sessionId"));
  EXPECT_EQ(ev[1].at("id"), json::value(std::uint64_t{18446744073709551615u}));
  EXPECT_EQ(ev[1].at("method"), json::value(long_name));
  EXPECT_TRUE(ev[2].at("id").is_null());
  EXPECT_EQ(ev[3].at("id"), -9007199254740993);
  EXPECT_EQ(ev[3].at("payload"), 1.5);
}

// ---- session: params.sessionId when a string, found in the text ---------------------------

std::string session_of(const std::vector<std::string>& l, std::size_t i) {
  const auto v = json::parse(l.at(i));
  const auto* s = v.as_object().if_contains("session");
  return s ? json::serialize(*s) : std::string("absent");
}

TEST_F(trace_test, session_is_found_in_params_text_only_as_a_top_level_string) {
  auto w = open_ok();
  auto trace = [&](std::string_view params) {
    const auto m = jsonrpc::message::from_text(jsonrpc::message_kind::notification, nullptr, "n", params);
    w.message(chain_position::client(), chain_position::agent(), m);
  };
  trace(R"({"sessionId":5})");                          // not a string
  trace(R"({"update":{"sessionId":"inner"}})");         // not at the top
  trace(R"(["sessionId","s"])");                        // not an object
  trace(R"({"session\u0049d":"escaped-key"})");         // a key spelled with escapes: not seen
  trace(R"({"sessionId":"first","sessionId":"last"})"); // the first counts (the scan stops there)
  std::string many = "{";
  for (int i = 0; i < 100; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  many += R"("sessionId":"after-100"})";
  trace(many); // after many members
  trace("");   // no params
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 7u);
  EXPECT_EQ(session_of(l, 0), "absent");
  EXPECT_EQ(session_of(l, 1), "absent");
  EXPECT_EQ(session_of(l, 2), "absent");
  EXPECT_EQ(session_of(l, 3), "absent");
  EXPECT_EQ(session_of(l, 4), R"("first")");
  EXPECT_EQ(session_of(l, 5), R"("after-100")");
  EXPECT_EQ(session_of(l, 6), "absent");
  EXPECT_EQ(json::parse(l[5]).at("params"), json::parse(many));
}

// ---- DOM messages and the DOM forms: serialized ---------------------------------------------

TEST_F(trace_test, dom_message_is_serialized) {
  auto w = open_ok();
  const json::value params = json::parse(R"({"sessionId":"s\"q","cost":0.000306})");
  const auto m = jsonrpc::message::request(json::value(3), "session/prompt", params);
  ASSERT_FALSE(m.is_text());
  w.message(chain_position::client(), chain_position::proxy(0), m);
  const auto l = lines(w);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(without_ts(l[0]),
            R"j({"type":"request","ts":T,"protocol":"acp","from":"Client","to":"Proxy(0)","id":3,)j"
            R"("method":"session/prompt","session":"s\"q","params":{"sessionId":"s\"q","cost":0.000306}})");
  // Plain decimals, as the agent wrote them (Boost.JSON itself would write 3.06E-4).
}

TEST_F(trace_test, message_overload_dispatches_on_kind) {
  auto w = open_ok();
  w.message(chain_position::client(), chain_position::agent(),
            jsonrpc::message::request(json::value(1), "session/new", json::parse(R"({"cwd":"/"})")));
  w.message(chain_position::agent(), chain_position::client(),
            jsonrpc::message::response(json::value(1), json::parse(R"({"sessionId":"s"})")));
  w.message(chain_position::agent(), chain_position::client(),
            jsonrpc::message::error_response(json::value(2), rpc_error{-32601, "nope", {}}));
  w.message(chain_position::client(), chain_position::agent(), jsonrpc::message::notification("session/cancel"));
  w.response(chain_position::agent(), chain_position::proxy(0), json::value("on-link"),
             jsonrpc::message::error_response(json::value(9), rpc_error{-32603, "boom", {}}));
  auto ev = events(w);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].at("type"), "request");
  EXPECT_EQ(ev[0].at("params").at("cwd"), "/");
  EXPECT_EQ(ev[1].at("type"), "response");
  EXPECT_EQ(ev[1].at("is_error"), false);
  EXPECT_EQ(ev[1].at("payload").at("sessionId"), "s");
  EXPECT_EQ(ev[2].at("is_error"), true);
  EXPECT_EQ(ev[2].at("payload").at("code"), -32601);
  EXPECT_EQ(ev[3].at("type"), "notification");
  EXPECT_TRUE(ev[3].at("params").is_null());
  EXPECT_EQ(ev[4].at("id"), "on-link");
  EXPECT_EQ(ev[4].at("payload").at("message"), "boom");
}

TEST_F(trace_test, request_event_fields) {
  auto w = open_ok();
  json::value params = json::parse(R"({"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]})");
  w.request(chain_position::client(), chain_position::proxy(0), json::value(7), "session/prompt", &params);
  auto ev = events(w);
  ASSERT_EQ(ev.size(), 1u);
  const auto& e = ev[0];
  EXPECT_EQ(keys(e),
            (std::vector<std::string>{"type", "ts", "protocol", "from", "to", "id", "method", "session", "params"}));
  EXPECT_EQ(e.at("type"), "request");
  EXPECT_TRUE(e.at("ts").is_double());
  EXPECT_GE(e.at("ts").as_double(), 0.0);
  EXPECT_EQ(e.at("protocol"), "acp");
  EXPECT_EQ(e.at("from"), "Client");
  EXPECT_EQ(e.at("to"), "Proxy(0)");
  EXPECT_EQ(e.at("id"), 7);
  EXPECT_EQ(e.at("method"), "session/prompt");
  EXPECT_EQ(e.at("session"), "s1");
  EXPECT_EQ(e.at("params"), params);
}

TEST_F(trace_test, request_without_session_or_params) {
  auto w = open_ok();
  w.request(chain_position::proxy(1), chain_position::agent(), json::value("c-1"), "initialize", nullptr,
            trace_protocol::acp);
  json::value params = json::parse(R"({"sessionId": 5})");
  w.request(chain_position::proxy(1), chain_position::agent(), json::value("c-2"), "x", &params, trace_protocol::mcp);
  auto ev = events(w);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_FALSE(ev[0].contains("session"));
  EXPECT_TRUE(ev[0].at("params").is_null());
  EXPECT_EQ(ev[0].at("id"), "c-1");
  EXPECT_FALSE(ev[1].contains("session")); // not a string: not a session id
  EXPECT_EQ(ev[1].at("protocol"), "mcp");
}

TEST_F(trace_test, response_event_fields) {
  auto w = open_ok();
  w.response(chain_position::proxy(0), chain_position::client(), json::value(7), false,
             json::parse(R"({"stopReason":"end_turn"})"));
  w.response(chain_position::agent(), chain_position::proxy(0), json::value("x"), true,
             json::parse(R"({"code":-32603,"message":"boom"})"));
  auto ev = events(w);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(keys(ev[0]), (std::vector<std::string>{"type", "ts", "from", "to", "id", "is_error", "payload"}));
  EXPECT_EQ(ev[0].at("type"), "response");
  EXPECT_EQ(ev[0].at("from"), "Proxy(0)");
  EXPECT_EQ(ev[0].at("to"), "Client");
  EXPECT_EQ(ev[0].at("is_error"), false);
  EXPECT_EQ(ev[0].at("payload").at("stopReason"), "end_turn");
  EXPECT_EQ(ev[1].at("is_error"), true);
  EXPECT_EQ(ev[1].at("payload").at("code"), -32603);
}

TEST_F(trace_test, notification_event_fields) {
  auto w = open_ok();
  json::value params = json::parse(R"({"sessionId":"s9","update":{"sessionUpdate":"x"}})");
  w.notification(chain_position::agent(), chain_position::proxy(2), "session/update", &params);
  auto ev = events(w);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(keys(ev[0]),
            (std::vector<std::string>{"type", "ts", "protocol", "from", "to", "method", "session", "params"}));
  EXPECT_EQ(ev[0].at("type"), "notification");
  EXPECT_EQ(ev[0].at("from"), "Agent");
  EXPECT_EQ(ev[0].at("to"), "Proxy(2)");
  EXPECT_EQ(ev[0].at("session"), "s9");
}

} // namespace
} // namespace acp::conductor::test
