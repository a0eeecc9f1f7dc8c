// End-to-end chains through acp-conductor (the reference conductor's scenarios, and more).
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <csignal>

namespace acp::test {
namespace {
namespace json = boost::json;

json::value prompt_params(const std::string& session, const std::string& text) {
  json::object block;
  block["type"] = "text";
  block["text"] = text;
  json::object p;
  p["sessionId"] = session;
  p["prompt"] = json::array{block};
  return p;
}

// Runs one prompt; returns the response and collects the messages seen before it.
std::optional<json::value> prompt(scripted_peer& editor, const std::string& session, const std::string& text,
                                  std::vector<json::value>& seen, const json::value& id = 7) {
  editor.send(request(id, "session/prompt", prompt_params(session, text)));
  return editor.read_response(id, &seen, 30s);
}

std::string stop_reason(const std::optional<json::value>& response) {
  if (!response) return "<no response>";
  const auto* result = response->as_object().if_contains("result");
  if (!result) return "<error> " + json::serialize(*response);
  return std::string(result->at("stopReason").as_string());
}

/// Ends the conversation and checks the conductor's exit code and that no process is left.
void expect_clean_exit(scripted_peer& editor, int expected_code = 0) {
  const auto tree = editor.descendants();
  editor.close_stdin();
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "conductor did not exit";
  EXPECT_EQ(*code, expected_code) << editor.stderr_text();
  EXPECT_TRUE(all_gone(tree)) << "components outlived the conductor";
}

class chain_with_proxies : public ::testing::TestWithParam<int> {};

TEST_P(chain_with_proxies, initialization_and_prompt_through_n_arrow_proxies) {
  const int n = GetParam();
  std::vector<std::string> comps;
  for (int i = 0; i < n; ++i) comps.push_back(component(arrow_path()));
  comps.push_back(component(test_agent_path()));
  scripted_peer editor(chain(comps));
  auto init = editor.initialize();
  ASSERT_TRUE(init) << editor.stderr_text();
  ASSERT_TRUE(init->as_object().contains("result")) << json::serialize(*init);
  EXPECT_EQ(init->at("result").at("protocolVersion"), 1);
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  std::vector<json::value> seen;
  auto r = prompt(editor, session, "echo hello", seen);
  EXPECT_EQ(stop_reason(r), "end_turn");
  EXPECT_EQ(chunk_text(seen), std::string(static_cast<std::size_t>(n), '>') + "echo: hello");
  expect_clean_exit(editor);
}
INSTANTIATE_TEST_SUITE_P(proxies, chain_with_proxies, ::testing::Values(0, 1, 2, 3));

TEST(chain, nested_conductor_in_proxy_mode_applies_its_proxies_in_order) {
  const std::string inner = component(conductor_path(), {"proxy", component(arrow_path()), component(arrow_path())});
  scripted_peer editor(chain({inner, component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  EXPECT_EQ(stop_reason(prompt(editor, session, "echo nested", seen)), "end_turn");
  EXPECT_EQ(chunk_text(seen), ">>echo: nested");
  expect_clean_exit(editor);
}

TEST(chain, empty_proxy_mode_conductor_is_a_pass_through) {
  scripted_peer editor(chain({component(conductor_path(), {"proxy"}), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  EXPECT_EQ(stop_reason(prompt(editor, session, "echo plain", seen)), "end_turn");
  EXPECT_EQ(chunk_text(seen), "echo: plain");
  expect_clean_exit(editor);
}

TEST(chain, meta_and_unknown_fields_and_methods_survive_both_ways) {
  scripted_peer editor(chain({component(arrow_path()), component(component_path(), {"pass-proxy"}),
                              component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize());
  const json::value params = json::parse(
      R"({"sessionId":"s","x-unknown":{"deep":[1,"2",null,{"k":true}]},"_meta":{"traceparent":"00-abc-01","n":9007199254740993}})");
  editor.send(request("u-1", "vendor/custom_method", params));
  auto r = editor.read_response("u-1", nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("result").at("method"), "vendor/custom_method");
  EXPECT_EQ(r->at("result").at("params"), params);

  // Agent -> client: an unknown request with _meta arrives at the editor unchanged.
  const json::value ask = json::parse(R"({"method":"vendor/ask","params":{"q":1,"_meta":{"m":"x"}}})");
  editor.send(request(99, "test/ask-client", ask));
  auto incoming = editor.read(10s);
  ASSERT_TRUE(incoming);
  EXPECT_EQ(incoming->at("method"), "vendor/ask");
  EXPECT_EQ(incoming->at("params"), ask.at("params"));
  // The editor answers; the agent relays the answer back as its result.
  json::object answer;
  answer["jsonrpc"] = "2.0";
  answer["id"] = incoming->at("id");
  answer["result"] = json::parse(R"({"ok":true,"_meta":{"z":[]}})");
  editor.send(answer);
  auto relayed = editor.read_response(99, nullptr);
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->at("result"), answer["result"]);

  // Notifications both ways, with _meta.
  json::object note;
  note["jsonrpc"] = "2.0";
  note["method"] = "vendor/note";
  note["params"] = json::parse(R"({"_meta":{"a":1},"v":"w"})");
  editor.send(note);
  auto echoed = editor.read(10s);
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->at("method"), "test/echoed");
  EXPECT_EQ(echoed->at("params").at("params"), note["params"]);
  expect_clean_exit(editor);
}

TEST(chain, ids_are_echoed_with_type_and_value) {
  scripted_peer editor(chain({component(arrow_path()), component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize());
  for (const char* raw : {"0", "-1", "9007199254740993", "\"1\"", "\"\"", "\"x y\""}) {
    const auto id = json::parse(raw);
    editor.send(request(id, "vendor/id", json::object()));
    auto r = editor.read_response(id, nullptr);
    ASSERT_TRUE(r) << raw;
    EXPECT_EQ(json::serialize(r->at("id")), raw);
  }
  expect_clean_exit(editor);
}

TEST(chain, ten_thousand_updates_arrive_in_order_before_the_response) {
  scripted_peer editor(chain({component(arrow_path()), component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  std::vector<json::value> seen;
  EXPECT_EQ(stop_reason(prompt(editor, session, "stream 10000", seen)), "end_turn");
  std::size_t chunks = 0;
  for (auto& m : seen) {
    if (m.as_object().contains("method") && m.at("method") == "session/update") {
      ++chunks;
      ASSERT_EQ(m.at("params").at("update").at("content").at("text"), json::value(">>chunk " + std::to_string(chunks)));
    }
  }
  EXPECT_EQ(chunks, 10000u);
  expect_clean_exit(editor);
}

TEST(chain, agent_requests_reach_the_editor_through_two_proxies) {
  scripted_peer editor(chain({component(arrow_path()), component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(request(5, "session/prompt", prompt_params(session, "permission")));
  std::optional<json::value> ask;
  for (int i = 0; i < 10 && !ask; ++i) {
    auto m = editor.read(10s);
    ASSERT_TRUE(m);
    if (m->as_object().contains("method") && m->at("method") == "session/request_permission") ask = m;
  }
  ASSERT_TRUE(ask);
  const auto& options = ask->at("params").at("options").as_array();
  ASSERT_FALSE(options.empty());
  json::object answer;
  answer["jsonrpc"] = "2.0";
  answer["id"] = ask->at("id");
  answer["result"] = json::parse(R"({"outcome":{"outcome":"selected","optionId":)" +
                                 json::serialize(options[0].at("optionId")) + "}}");
  editor.send(answer);
  std::vector<json::value> seen;
  auto r = editor.read_response(5, &seen);
  EXPECT_EQ(stop_reason(r), "end_turn");
  EXPECT_NE(chunk_text(seen).find(">>permission: selected"), std::string::npos) << chunk_text(seen);
  expect_clean_exit(editor);
}

// Answers the first agent->client request whose method is `method` with `result`.
bool answer_request(scripted_peer& editor, const std::string& method, const json::value& result,
                    json::value* request_seen = nullptr) {
  for (int i = 0; i < 20; ++i) {
    auto m = editor.read(10s);
    if (!m) return false;
    if (!m->as_object().contains("method") || m->at("method") != method.c_str()) continue;
    if (request_seen) *request_seen = *m;
    json::object answer{{"jsonrpc", "2.0"}, {"id", m->at("id")}, {"result", result}};
    editor.send(answer);
    return true;
  }
  return false;
}

TEST(chain, fs_read_and_terminal_requests_reach_the_editor_through_two_proxies) {
  scripted_peer editor(chain({component(arrow_path()), component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();

  editor.send(request(11, "session/prompt", prompt_params(session, "read /project/notes.txt")));
  json::value seen_request;
  ASSERT_TRUE(answer_request(editor, "fs/read_text_file", json::object{{"content", "file body"}}, &seen_request));
  EXPECT_EQ(seen_request.at("params").at("path"), "/project/notes.txt");
  EXPECT_EQ(seen_request.at("params").at("sessionId"), json::value(session));
  std::vector<json::value> seen;
  EXPECT_EQ(stop_reason(editor.read_response(11, &seen)), "end_turn");
  EXPECT_NE(chunk_text(seen).find("file body"), std::string::npos) << chunk_text(seen);

  editor.send(request(12, "session/prompt", prompt_params(session, "terminal ls -l")));
  ASSERT_TRUE(answer_request(editor, "terminal/create", json::object{{"terminalId", "t-1"}}, &seen_request));
  EXPECT_EQ(seen_request.at("params").at("command"), "ls");
  ASSERT_TRUE(answer_request(editor, "terminal/wait_for_exit", json::object{{"exitCode", 0}}));
  ASSERT_TRUE(answer_request(editor, "terminal/output", json::object{{"output", "total 0"}, {"truncated", false}}));
  ASSERT_TRUE(answer_request(editor, "terminal/release", json::object()));
  seen.clear();
  EXPECT_EQ(stop_reason(editor.read_response(12, &seen)), "end_turn");
  EXPECT_NE(chunk_text(seen).find("total 0"), std::string::npos) << chunk_text(seen);
  expect_clean_exit(editor);
}

TEST(chain, cancel_request_is_translated_hop_by_hop) {
  scripted_peer editor(chain({component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(request("p", "session/prompt", prompt_params(session, "wait-for-cancel")));
  EXPECT_FALSE(editor.read(300ms)) << "the prompt must wait";
  editor.send(json::parse(R"({"jsonrpc":"2.0","method":"$/cancel_request","params":{"requestId":"p"}})"));
  auto r = editor.read_response("p", nullptr);
  ASSERT_TRUE(r);
  const auto& o = r->as_object();
  const bool cancelled = (o.contains("result") && o.at("result").at("stopReason") == "cancelled") ||
                         (o.contains("error") && o.at("error").at("code") == -32800);
  EXPECT_TRUE(cancelled) << json::serialize(*r);
  EXPECT_FALSE(editor.read(300ms)) << "exactly one response";
  expect_clean_exit(editor);
}

TEST(chain, session_cancel_notification_ends_the_turn) {
  scripted_peer editor(chain({component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  editor.send(request("p", "session/prompt", prompt_params(session, "wait-for-cancel")));
  json::object cancel;
  cancel["jsonrpc"] = "2.0";
  cancel["method"] = "session/cancel";
  cancel["params"] = json::object{{"sessionId", session}};
  editor.send(cancel);
  EXPECT_EQ(stop_reason(editor.read_response("p", nullptr)), "cancelled");
  expect_clean_exit(editor);
}

TEST(chain, a_proxy_forwarding_proxy_initialize_gets_the_older_handshake_and_is_named_when_it_fails_it) {
  // Forwarding `_proxy/initialize` marks an older-generation proxy: the conductor answers the
  // forward -32601 and tries the older `initialize`, which this SDK proxy refuses (-32600).
  scripted_peer editor(chain({component(component_path(), {"forward-proxy-init"}), component(test_agent_path())}));
  auto init = editor.initialize();
  ASSERT_TRUE(init);
  ASSERT_TRUE(init->as_object().contains("error")) << json::serialize(*init);
  EXPECT_EQ(init->at("error").at("code"), -32603);
  EXPECT_EQ(init->at("error").at("data").at("reason"), "not_a_proxy");
  expect_clean_exit(editor);
}

TEST(chain, an_agent_in_a_proxy_position_is_named_in_the_error) {
  scripted_peer editor(chain({component(test_agent_path()), component(test_agent_path())}));
  auto init = editor.initialize();
  ASSERT_TRUE(init);
  ASSERT_TRUE(init->as_object().contains("error")) << json::serialize(*init);
  EXPECT_EQ(init->at("error").at("code"), -32603);
  EXPECT_EQ(init->at("error").at("data").at("reason"), "not_a_proxy");
  EXPECT_NE(json::serialize(init->at("error").at("message")).find("acp-test-agent"), std::string::npos);
  expect_clean_exit(editor);
}

TEST(chain, the_first_message_must_be_initialize) {
  scripted_peer editor(chain({component(test_agent_path())}));
  editor.send(request(1, "session/new", json::object()));
  auto r = editor.read_response(1, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("error").at("code"), -32600);
  EXPECT_TRUE(editor.descendants().empty()) << "components start lazily on initialize";
  expect_clean_exit(editor);
}

TEST(chain, a_missing_command_answers_initialize_with_the_reason) {
  scripted_peer editor(chain({component(arrow_path()), "no-such-agent-command --flag"}));
  auto init = editor.initialize();
  ASSERT_TRUE(init);
  EXPECT_EQ(init->at("error").at("code"), -32603);
  EXPECT_EQ(init->at("error").at("data").at("component"), "no-such-agent-command");
  EXPECT_NE(json::serialize(init->at("error").at("message")).find("no such command"), std::string::npos);
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
}

} // namespace
} // namespace acp::test
