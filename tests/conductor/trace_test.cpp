#include <acp/conductor/trace.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace acp::conductor {
namespace {

namespace json = boost::json;

class trace_test : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-trace-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/trace.jsons";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  trace_writer open_ok() {
    auto w = trace_writer::open(path_);
    if (!w) {
      ADD_FAILURE() << "open failed: " << w.error().message();
      std::abort();
    }
    return std::move(*w);
  }

  std::string contents() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::vector<json::object> events() const {
    std::vector<json::object> out;
    std::istringstream in(contents());
    for (std::string line; std::getline(in, line);) {
      json::value v = json::parse(line);
      EXPECT_TRUE(v.is_object()) << line;
      out.push_back(v.as_object());
    }
    return out;
  }

  std::string dir_;
  std::string path_;
};

// The keys of an object, in order.
std::vector<std::string> keys(const json::object& o) {
  std::vector<std::string> k;
  for (const auto& kv : o)
    k.emplace_back(kv.key());
  return k;
}

TEST(trace_endpoint, spelled_like_the_rust_conductor) {
  EXPECT_EQ(to_string(endpoint::client()), "Client");
  EXPECT_EQ(to_string(endpoint::proxy(0)), "Proxy(0)");
  EXPECT_EQ(to_string(endpoint::proxy(12)), "Proxy(12)");
  EXPECT_EQ(to_string(endpoint::agent()), "Agent");
  EXPECT_EQ(to_string(trace_protocol::acp), "acp");
  EXPECT_EQ(to_string(trace_protocol::mcp), "mcp");
}

TEST_F(trace_test, file_is_created_with_mode_0600) {
  const mode_t old = ::umask(0);
  auto w = open_ok();
  ::umask(old);
  struct stat st{};
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
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(contents(), "");
}

TEST_F(trace_test, open_failure_is_an_error_code) {
  auto w = trace_writer::open(dir_ + "/missing-dir/trace.jsons");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), boost::system::errc::no_such_file_or_directory);
}

TEST_F(trace_test, request_event_fields) {
  auto w = open_ok();
  json::value params = json::parse(R"({"sessionId":"s1","prompt":[{"type":"text","text":"hi"}]})");
  w.request(endpoint::client(), endpoint::proxy(0), json::value(7), "session/prompt", &params);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& e = ev[0];
  EXPECT_EQ(keys(e), (std::vector<std::string>{"type", "ts", "protocol", "from", "to", "id",
                                               "method", "session", "params"}));
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
  w.request(endpoint::proxy(1), endpoint::agent(), json::value("c-1"), "initialize", nullptr,
            trace_protocol::acp);
  json::value params = json::parse(R"({"sessionId": 5})");
  w.request(endpoint::proxy(1), endpoint::agent(), json::value("c-2"), "x", &params,
            trace_protocol::mcp);
  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_FALSE(ev[0].contains("session"));
  EXPECT_TRUE(ev[0].at("params").is_null());
  EXPECT_EQ(ev[0].at("id"), "c-1");
  EXPECT_FALSE(ev[1].contains("session")); // not a string: not a session id
  EXPECT_EQ(ev[1].at("protocol"), "mcp");
}

TEST_F(trace_test, response_event_fields) {
  auto w = open_ok();
  w.response(endpoint::proxy(0), endpoint::client(), json::value(7), false,
             json::parse(R"({"stopReason":"end_turn"})"));
  w.response(endpoint::agent(), endpoint::proxy(0), json::value("x"), true,
             json::parse(R"({"code":-32603,"message":"boom"})"));
  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(keys(ev[0]),
            (std::vector<std::string>{"type", "ts", "from", "to", "id", "is_error", "payload"}));
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
  w.notification(endpoint::agent(), endpoint::proxy(2), "session/update", &params);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(keys(ev[0]), (std::vector<std::string>{"type", "ts", "protocol", "from", "to",
                                                   "method", "session", "params"}));
  EXPECT_EQ(ev[0].at("type"), "notification");
  EXPECT_EQ(ev[0].at("from"), "Agent");
  EXPECT_EQ(ev[0].at("to"), "Proxy(2)");
  EXPECT_EQ(ev[0].at("session"), "s9");
}

TEST_F(trace_test, one_line_per_event_visible_without_closing) {
  auto w = open_ok();
  json::value multi = json::parse(R"({"text":"line1\nline2"})");
  for (int i = 0; i < 5; ++i) {
    w.notification(endpoint::client(), endpoint::agent(), "n", &multi);
    // Flushed after each event: the file already holds i+1 complete lines.
    const std::string c = contents();
    EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), i + 1);
    EXPECT_EQ(c.back(), '\n');
  }
  auto ev = events();
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_LE(ev[0].at("ts").as_double(), ev[4].at("ts").as_double());
  EXPECT_FALSE(w.last_error());
}

TEST_F(trace_test, message_overload_dispatches_on_kind) {
  auto w = open_ok();
  w.message(endpoint::client(), endpoint::agent(),
            jsonrpc::message::request(json::value(1), "session/new", json::parse(R"({"cwd":"/"})")));
  w.message(endpoint::agent(), endpoint::client(),
            jsonrpc::message::response(json::value(1), json::parse(R"({"sessionId":"s"})")));
  w.message(endpoint::agent(), endpoint::client(),
            jsonrpc::message::error_response(json::value(2), rpc_error{-32601, "nope", {}}));
  w.message(endpoint::client(), endpoint::agent(), jsonrpc::message::notification("session/cancel"));
  auto ev = events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].at("type"), "request");
  EXPECT_EQ(ev[0].at("params").at("cwd"), "/");
  EXPECT_EQ(ev[1].at("type"), "response");
  EXPECT_EQ(ev[1].at("is_error"), false);
  EXPECT_EQ(ev[1].at("payload").at("sessionId"), "s");
  EXPECT_EQ(ev[2].at("is_error"), true);
  EXPECT_EQ(ev[2].at("payload").at("code"), -32601);
  EXPECT_EQ(ev[3].at("type"), "notification");
  EXPECT_TRUE(ev[3].at("params").is_null());
}

TEST_F(trace_test, moved_writer_keeps_writing) {
  auto w = open_ok();
  trace_writer moved = std::move(w);
  moved.notification(endpoint::client(), endpoint::agent(), "n", nullptr);
  EXPECT_EQ(events().size(), 1u);
}

} // namespace
} // namespace acp::conductor
