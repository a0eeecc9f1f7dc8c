// `acp-conductor serve` and `acp-conductor connect` end to end over loopback: a prompt on every
// scheme (ws with the token from the environment, wss with a generated certificate, tls, unix),
// refused tokens with nothing spawned, the wrong protocol on a port, a client trickling its
// headers, and a 64 MiB message over WebSocket.
#include "remote_support.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

namespace acp::remote_test {
namespace {

namespace json = boost::json;
using acp::net::test::certificates;
using acp::net::test::temp_dir;
using acp::net::test::test_certificates;
using clock = std::chrono::steady_clock;

std::string secret() { return "remote-test-token-" + std::to_string(::getpid()); }

std::string dump(const std::optional<json::value>& v) { return v ? json::serialize(*v) : std::string("(none)"); }

/// One editor turn "echo NAME" through `connect` must come back from the served agent; connect
/// then exits 0 on end of input.
void expect_served_turn(const std::vector<std::string>& connect, const std::vector<std::string>& env,
                        const std::string& name) {
  scripted_peer editor(connect, env);
  const auto t = run_turn(editor, "echo " + name);
  ASSERT_TRUE(t.initialized) << dump(t.init) << "\nconnect: " << editor.stderr_text();
  ASSERT_FALSE(t.session.empty()) << editor.stderr_text();
  EXPECT_EQ(t.text, "echo: " + name);
  EXPECT_EQ(t.stop_reason, "end_turn") << dump(t.answer);
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0) << editor.stderr_text();
}

const test_certificates& certs() {
  std::string error;
  const auto* c = certificates(&error);
  if (c == nullptr) throw std::runtime_error("test certificates: " + error);
  return *c;
}

// ---- the "done when" and every scheme ----

TEST(serve_connect, ws_prompt_served_to_connect_with_the_token_from_the_environment) {
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  EXPECT_EQ(s.url().rfind("ws://127.0.0.1:", 0), 0u) << s.url();
  ASSERT_GT(s.port(), 0);
  expect_served_turn(connect_argv("ws://127.0.0.1:" + std::to_string(s.port())), {"ACP_CONDUCTOR_TOKEN=" + token},
                     "hello");
  // One line per connection; the connection's agent is gone with it.
  EXPECT_TRUE(s.wait_line("connection 1 from 127.0.0.1:", " ended after ")) << s.log();
  EXPECT_TRUE(s.no_descendants()) << "the connection's agent outlived it";
  EXPECT_EQ(s.log().find(token), std::string::npos) << "the token reached the log";
}

TEST(serve_connect, wss_with_a_generated_certificate_and_the_token_from_a_file) {
  const auto& c = certs();
  temp_dir dir;
  const auto tokens = token_file(dir, secret());
  server s(serve_argv("wss://127.0.0.1:0",
                      {"--tls-cert", c.server_cert, "--tls-key", c.server_key, "--token-file", tokens},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  EXPECT_EQ(s.url().rfind("wss://127.0.0.1:", 0), 0u) << s.url();
  const auto port = std::to_string(s.port());
  // By address and by name (the certificate's subjectAltName has both).
  expect_served_turn(connect_argv("wss://127.0.0.1:" + port + "/", {"--ca-file", c.ca_cert, "--token-file", tokens}),
                     {}, "over wss");
  expect_served_turn(connect_argv("wss://localhost:" + port + "/", {"--ca-file", c.ca_cert, "--token-file", tokens}),
                     {}, "by name");
  EXPECT_TRUE(s.no_descendants());
}

TEST(serve_connect, wss_refuses_a_server_the_client_does_not_trust) {
  const auto& c = certs();
  temp_dir dir;
  const auto tokens = token_file(dir, secret());
  server s(serve_argv("wss://127.0.0.1:0",
                      {"--tls-cert", c.server_cert, "--tls-key", c.server_key, "--token-file", tokens},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  scripted_peer editor(connect_argv("wss://127.0.0.1:" + std::to_string(s.port()) + "/",
                                    {"--ca-file", c.other_ca_cert, "--token-file", tokens}));
  const auto init = editor.initialize();
  ASSERT_NE(error_of(init), nullptr) << dump(init);
  EXPECT_EQ(error_reason(init), "connect_failed") << dump(init);
  EXPECT_EQ(editor.wait_exit(10s), 1) << editor.stderr_text();
  EXPECT_TRUE(s.no_descendants(1s)) << "a chain was started for an untrusted handshake";
}

TEST(serve_connect, tls_round_trip) {
  const auto& c = certs();
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("tls://127.0.0.1:0",
                      {"--tls-cert", c.server_cert, "--tls-key", c.server_key, "--token-file", token_file(dir, token)},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  EXPECT_EQ(s.url().rfind("tls://127.0.0.1:", 0), 0u) << s.url();
  expect_served_turn(connect_argv("tls://127.0.0.1:" + std::to_string(s.port()), {"--ca-file", c.ca_cert}),
                     {"ACP_CONDUCTOR_TOKEN=" + token}, "over tls");
  EXPECT_TRUE(s.no_descendants());
}

TEST(serve_connect, tcp_round_trip_without_a_token) {
  server s(serve_argv("tcp://127.0.0.1:0", {}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  expect_served_turn(connect_argv(s.url()), {}, "over tcp");
  EXPECT_TRUE(s.no_descendants());
}

TEST(serve_connect, unix_round_trip) {
  temp_dir dir;
  const auto token = secret();
  const auto path = dir.file("chain.sock");
  server s(serve_argv("unix:" + path, {"--token-file", token_file(dir, token)}, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  EXPECT_EQ(s.url(), "unix:" + path);
  expect_served_turn(connect_argv("unix:" + path), {"ACP_CONDUCTOR_TOKEN=" + token}, "over unix");
  expect_served_turn(connect_argv("unix:" + path), {"ACP_CONDUCTOR_TOKEN=" + token}, "again");
  EXPECT_TRUE(s.wait_log("connection 2 from ")) << s.log();
  EXPECT_TRUE(s.no_descendants());
}

// ---- refused: no token, a wrong token ----

struct refusal_case {
  const char* name;
  const char* scheme;
  const char* token;  ///< nullptr: none
  const char* reason; ///< what the initialize error's message must say
};

void PrintTo(const refusal_case& c, std::ostream* os) { *os << c.name; }

class refused_token : public ::testing::TestWithParam<refusal_case> {};

TEST_P(refused_token, initialize_gets_an_error_connect_exits_non_zero_and_nothing_is_spawned) {
  const auto& p = GetParam();
  temp_dir dir;
  server s(serve_argv(std::string(p.scheme) + "://127.0.0.1:0", {"--token-file", token_file(dir, secret())},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  std::vector<std::string> env;
  if (p.token) env.push_back(std::string("ACP_CONDUCTOR_TOKEN=") + p.token);
  const auto started = clock::now();
  scripted_peer editor(connect_argv(std::string(p.scheme) + "://127.0.0.1:" + std::to_string(s.port())), env);
  // Watch the server's children while the client tries: none may appear.
  std::atomic<bool> done{false};
  std::atomic<bool> spawned{false};
  std::thread watch([&] {
    while (!done) {
      if (!s.descendants().empty()) spawned = true;
      std::this_thread::sleep_for(5ms);
    }
  });
  const auto init = editor.initialize();
  const auto code = editor.wait_exit(10s);
  done = true;
  watch.join();
  ASSERT_NE(error_of(init), nullptr) << "initialize: " << dump(init);
  // The editor learns why (a WebSocket status; the NDJSON refusal line's message).
  EXPECT_NE(json::serialize(error_of(init)->at("message")).find(p.reason), std::string::npos)
      << "expected \"" << p.reason << "\" in " << dump(init);
  EXPECT_NE(code.value_or(0), 0) << "connect: " << editor.stderr_text();
  EXPECT_LT(ms_since(started), 8000);
  EXPECT_FALSE(spawned) << "the server started a component for a refused connection";
  EXPECT_TRUE(s.descendants().empty());
  EXPECT_EQ(s.log().find(" ended after "), std::string::npos) << "a chain ran: " << s.log();
  EXPECT_TRUE(s.wait_log("refused 127.0.0.1:")) << s.log();
  // The server keeps serving.
  expect_served_turn(connect_argv(std::string(p.scheme) + "://127.0.0.1:" + std::to_string(s.port())),
                     {"ACP_CONDUCTOR_TOKEN=" + secret()}, "after a refusal");
}

INSTANTIATE_TEST_SUITE_P(remote, refused_token,
                         ::testing::Values(refusal_case{"ws_missing", "ws", nullptr, "401"},
                                           refusal_case{"ws_wrong", "ws", "not-the-token", "403"},
                                           refusal_case{"tcp_missing", "tcp", nullptr, "unauthorized: missing token"},
                                           refusal_case{"tcp_wrong", "tcp", "not-the-token",
                                                        "unauthorized: wrong token"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- the wrong protocol on a port ----

struct mismatch_case {
  const char* name;
  const char* served;         ///< the scheme of serve
  const char* dialed;         ///< the scheme of connect
  const char* says = "";      ///< the initialize error must contain this
  const char* never = "\x01"; ///< and not this
};

void PrintTo(const mismatch_case& c, std::ostream* os) { *os << c.name; }

class protocol_mismatch : public ::testing::TestWithParam<mismatch_case> {};

TEST_P(protocol_mismatch, fails_quickly_with_an_error_and_spawns_nothing) {
  const auto& p = GetParam();
  const auto& c = certs();
  const std::string served = p.served;
  std::vector<std::string> tls;
  if (served == "tls" || served == "wss") tls = {"--tls-cert", c.server_cert, "--tls-key", c.server_key};
  temp_dir dir;
  tls.push_back("--token-file");
  tls.push_back(token_file(dir, secret()));
  server s(serve_argv(served + "://127.0.0.1:0", tls, {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const auto started = clock::now();
  const std::string dialed = p.dialed;
  scripted_peer editor(
      connect_argv(dialed + "://127.0.0.1:" + std::to_string(s.port()) + "/", {"--ca-file", c.ca_cert}),
      {"ACP_CONDUCTOR_TOKEN=" + secret()});
  const auto init = editor.initialize();
  const auto code = editor.wait_exit(10s);
  const auto took = ms_since(started);
  ASSERT_NE(error_of(init), nullptr) << "initialize: " << dump(init);
  EXPECT_EQ(code, 1) << editor.stderr_text();
  // Well before either side's 10 s deadline: the mismatch is seen, not timed out.
  EXPECT_LT(took, 5000) << dump(init);
  EXPECT_NE(dump(init).find(p.says), std::string::npos) << "expected \"" << p.says << "\" in " << dump(init);
  EXPECT_EQ(dump(init).find(p.never), std::string::npos) << "unexpected \"" << p.never << "\" in " << dump(init);
  EXPECT_TRUE(s.no_descendants(1s));
  EXPECT_EQ(s.log().find(" ended after "), std::string::npos) << s.log();
}

INSTANTIATE_TEST_SUITE_P(remote, protocol_mismatch,
                         ::testing::Values(mismatch_case{"plain_tcp_to_tls", "tls", "tcp"},
                                           mismatch_case{"tls_to_plain_tcp", "tcp", "tls", "TLS handshake"},
                                           // A TLS server answers no HTTP status: none may be reported.
                                           mismatch_case{"ws_to_wss", "wss", "ws", "ws://", "refused the upgrade"},
                                           mismatch_case{"wss_to_ws", "ws", "wss", "TLS handshake"},
                                           // The NDJSON listener answers an HTTP request 400.
                                           mismatch_case{"ws_to_ndjson", "tcp", "ws", "refused the upgrade: 400"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- a client trickling its headers ----

TEST(serve_connect, headers_trickled_byte_by_byte_are_cut_at_the_handshake_deadline_while_others_are_served) {
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token), "--handshake-timeout", "1s"},
                      {test_agent()}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  const int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  const auto opened = clock::now();
  const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port()) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                              "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
                              token + "\r\n\r\n";
  std::atomic<long long> cut_ms{-1};
  std::atomic<std::size_t> sent{0};
  std::thread trickle([&] {
    for (char byte : request) {
      if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1) break;
      ++sent;
      if (wait_closed(fd, 200ms)) break;
    }
    cut_ms = ms_since(opened);
  });
  // Meanwhile a normal client gets its whole turn.
  scripted_peer editor(connect_argv("ws://127.0.0.1:" + std::to_string(s.port())), {"ACP_CONDUCTOR_TOKEN=" + token});
  const auto t = run_turn(editor, "echo meanwhile");
  const auto served_ms = ms_since(opened);
  trickle.join();
  ::close(fd);
  EXPECT_TRUE(t.initialized) << dump(t.init) << editor.stderr_text();
  EXPECT_EQ(t.text, "echo: meanwhile");
  EXPECT_EQ(t.stop_reason, "end_turn");
  EXPECT_GE(cut_ms.load(), 900) << "cut before the deadline";
  EXPECT_LE(cut_ms.load(), 3000) << "the slow client held its connection past the 1 s deadline";
  EXPECT_LT(sent.load(), request.size()) << "the whole request went out";
  EXPECT_LT(served_ms, cut_ms.load()) << "the normal client was served only after the slow one was cut";
  EXPECT_TRUE(s.wait_log("handshake timed out")) << s.log();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_TRUE(s.no_descendants());
}

// ---- a 64 MiB message ----

TEST(serve_connect, a_64_mib_prompt_and_its_echo_over_websocket) {
  temp_dir dir;
  const auto token = secret();
  server s(serve_argv("ws://127.0.0.1:0", {"--token-file", token_file(dir, token)}, {test_agent()},
                      {"--max-message-size", "80MiB"}));
  ASSERT_FALSE(s.url().empty()) << s.log();
  scripted_peer editor(connect_argv("ws://127.0.0.1:" + std::to_string(s.port()), {"--max-message-size", "80MiB"}),
                       {"ACP_CONDUCTOR_TOKEN=" + token});
  ASSERT_TRUE(editor.initialize());
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty()) << editor.stderr_text();
  // The test agent reads lines of up to 64 MiB (its default): the prompt's text is 64 MiB less
  // 4 KiB, so that its line and the echo's line both fit it; the WebSocket frames each way are
  // ~64 MiB.
  const std::string payload((std::size_t{64} << 20) - 4096, 'x');
  editor.send(acp::test::prompt_request("big", session, "echo " + payload));
  std::vector<json::value> seen;
  const auto answer = editor.read_response("big", &seen, 120s);
  ASSERT_TRUE(answer) << "no answer; connect: " << editor.stderr_text().substr(0, 2000)
                      << "\nserve: " << s.log().substr(0, 2000);
  ASSERT_EQ(error_of(answer), nullptr) << dump(answer).substr(0, 2000);
  const auto text = acp::test::chunk_text(seen);
  EXPECT_EQ(text.size(), payload.size() + 6);
  EXPECT_TRUE(text == "echo: " + payload) << "the echo differs from the prompt";
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(20s), 0);
}

} // namespace
} // namespace acp::remote_test
