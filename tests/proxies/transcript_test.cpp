// acp-transcript-proxy's library in-process: file names, the directory check, the Markdown of
// a scripted turn (chunks, thoughts, tool calls, permission choice, plan, stop reason), one block
// per agent message, the agent's fs/* and terminal/* requests, excerpts, file mode, session/load
// appending, and that every message passes through unchanged.
#include "markdown.hpp"
#include "transcript.hpp"

#include <acp/sdk/connection.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class scratch_dir {
public:
  scratch_dir() {
    std::string tmpl = (fs::temp_directory_path() / "acp-transcript-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(transcript_file_name, safe_ids_are_kept) {
  EXPECT_EQ(transcript_file_name("sess-1"), "sess-1.md");
  EXPECT_EQ(transcript_file_name("a_B.9"), "a_B.9.md");
}

TEST(transcript_file_name, unsafe_ids_are_sanitized_and_stay_distinct) {
  const auto traversal = transcript_file_name("../../etc/passwd");
  EXPECT_EQ(traversal.find('/'), std::string::npos) << traversal;
  EXPECT_NE(traversal.front(), '.') << traversal;
  EXPECT_EQ(traversal, "%2E.%2F..%2Fetc%2Fpasswd.md") << "percent-encoded, a leading dot too";
  EXPECT_TRUE(traversal.ends_with(".md"));
  for (const char* id : {"", ".", "..", ".hidden", "a b", "a/b", "a\\b", "\xc3\xa9t\xc3\xa9", "x\ny", "nul\0byte"}) {
    const auto name = transcript_file_name(id);
    EXPECT_EQ(name.find_first_of("/\\\n \0"), std::string::npos) << id;
    EXPECT_NE(name.front(), '.') << id;
    EXPECT_NE(name, ".md");
  }
  const std::set<std::string> names = {transcript_file_name("a/b"), transcript_file_name("a_b"),
                                       transcript_file_name("a b"), transcript_file_name("a\\b")};
  EXPECT_EQ(names.size(), 4u) << "different ids never share a file";
  EXPECT_EQ(transcript_file_name(std::string(5000, 'x')).size(), long_name_prefix + 2 + 32 + 3);
  EXPECT_EQ(transcript_file_name(std::string(max_plain_name, 'x')), std::string(max_plain_name, 'x') + ".md");
  EXPECT_NE(transcript_file_name(std::string(200, 'x')), transcript_file_name(std::string(201, 'x')));
}

TEST(transcript_dir, is_created_with_parents_and_private_mode) {
  scratch_dir d;
  const auto dir = d.path() / "a" / "b";
  EXPECT_EQ(prepare_transcript_dir(dir.string()), "");
  EXPECT_TRUE(fs::is_directory(dir));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(prepare_transcript_dir(dir.string()), "") << "an existing directory is fine";
}

TEST(transcript_dir, unusable_paths_give_one_line) {
  scratch_dir d;
  const auto file = d.path() / "file";
  std::ofstream(file) << "x";
  const auto under_file = prepare_transcript_dir((file / "sub").string());
  EXPECT_EQ(under_file.rfind("--dir " + (file / "sub").string() + ": cannot create directory: ", 0), 0u) << under_file;
  EXPECT_EQ(prepare_transcript_dir(file.string()), "--dir " + file.string() + ": not a directory");
  EXPECT_EQ(prepare_transcript_dir(""), "--dir: empty path");
  if (::geteuid() != 0) { // root writes anywhere
    const auto ro = d.path() / "ro";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_EQ(prepare_transcript_dir(ro.string()).rfind("--dir " + ro.string() + ": not writable", 0), 0u);
  }
}

TEST(transcript_markdown, prompt_blocks_render_as_text_links_and_fences) {
  auto request = json::parse(R"({"sessionId":"s","prompt":[
    {"type":"text","text":"Fix the bug"},
    {"type":"resource_link","uri":"file:///p/a.cpp","name":"a.cpp"},
    {"type":"resource","resource":{"uri":"file:///p/b.md","text":"has ``` inside"}},
    {"type":"image","data":"AA==","mimeType":"image/png"}]})");
  auto decoded = decode<prompt_request>(request);
  ASSERT_TRUE(decoded.has_value());
  const auto md = render_prompt(3, decoded->prompt, std::chrono::system_clock::from_time_t(0));
  EXPECT_EQ(md, "## Turn 3 \u2014 1970-01-01 00:00:00 UTC\n\n**User**\n\n```\nFix the bug\n```\n\n"
                "Link: [a.cpp](<file:///p/a.cpp>)\n\n"
                "Attached `file:///p/b.md`:\n\n````\nhas ``` inside\n````\n\n"
                "_(image, image/png)_\n\n");
}

// ---- the proxy on an in-memory link -------------------------------------------------------

class transcript_proxy_link : public ::testing::Test {
protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    start();
  }
  void TearDown() override { stop(); }

  void start() {
    io_.restart(); // run_for stops the context when it runs out of work
    auto [ours, theirs] = make_memory_duplex(io_.get_executor()).value();
    proxy_.emplace(
        make_transcript_proxy({.dir = dir_.path().string()}).connect_to(io_.get_executor(), std::move(theirs)));
    conductor_ = connection::create(io_.get_executor(), std::move(ours), connection_options{});
    conductor_->on_message([this](jsonrpc::message m) { received_.push_back(std::move(m)); });
    conductor_->start();
  }
  // Closes the link and lets the proxy end (it writes unfinished turns as it goes).
  void stop() {
    if (!conductor_) return;
    conductor_->close();
    run_until([&] { return proxy_->done(); });
    proxy_.reset();
    conductor_.reset();
    io_.run_for(20ms);
  }

  template <class Pred> bool run_until(Pred done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(5ms);
    return done();
  }

  static json::object wrap(const json::object& inner) {
    json::object params{{"method", inner.at("method")}};
    if (inner.contains("params")) params["params"] = inner.at("params");
    json::object env{{"jsonrpc", "2.0"}, {"method", "_proxy/successor"}, {"params", std::move(params)}};
    if (inner.contains("id")) env["id"] = inner.at("id");
    return env;
  }

  /// Sends a request (from the agent: enveloped); the proxy's answer lands in `answer`.
  void request(bool from_agent, std::string_view method, json::value params, std::optional<jsonrpc::message>& answer) {
    json::object msg{{"jsonrpc", "2.0"}, {"id", 0}, {"method", method}, {"params", std::move(params)}};
    auto checked = jsonrpc::check(json::value(from_agent ? wrap(msg) : msg));
    ASSERT_TRUE(std::holds_alternative<jsonrpc::message>(checked));
    (void)conductor_->send_request(std::get<jsonrpc::message>(std::move(checked)),
                                   [&answer](jsonrpc::message m) { answer = std::move(m); });
  }
  void update_from_agent(const char* update_json) {
    conductor_->send(
        wrap(json::object{{"jsonrpc", "2.0"},
                          {"method", "session/update"},
                          {"params", json::object{{"sessionId", "sess-1"}, {"update", json::parse(update_json)}}}}));
  }
  /// The next message the proxy sent (bounded wait).
  const jsonrpc::message& next() {
    const auto want = ++consumed_;
    EXPECT_TRUE(run_until([&] { return received_.size() >= want; })) << "nothing more from the proxy";
    if (received_.size() < want) throw std::runtime_error("no message");
    return received_[want - 1];
  }
  /// Runs a request through the proxy: it must come out unchanged on the other side, answered
  /// there with `result`, and the answer must come back unchanged.
  json::value round_trip(bool from_agent, std::string_view method, const json::value& params,
                         const json::value& result) {
    std::optional<jsonrpc::message> answer;
    request(from_agent, method, params, answer);
    const auto& out = next();
    // A proxy is initialized with `_proxy/initialize` and forwards a plain `initialize`.
    EXPECT_EQ(from_agent ? std::string(out.method()) : std::string(out.json().at("params").at("method").as_string()),
              method == "_proxy/initialize" ? "initialize" : method);
    EXPECT_EQ(from_agent ? *out.params() : out.json().at("params").at("params"), params) << "passed on unchanged";
    conductor_->send_result(out.id(), result);
    EXPECT_TRUE(run_until([&] { return answer.has_value(); }));
    if (!answer || !answer->result()) return nullptr;
    EXPECT_EQ(*answer->result(), result) << "answered unchanged";
    return *answer->result();
  }

  /// Runs a request of the agent through the proxy and answers it with `error` on the editor's
  /// side; the error must come back unchanged.
  void error_round_trip(std::string_view method, const json::value& params, const rpc_error& error) {
    std::optional<jsonrpc::message> answer;
    request(true, method, params, answer);
    const auto& out = next();
    EXPECT_EQ(out.method(), method);
    EXPECT_EQ(*out.params(), params) << "passed on unchanged";
    conductor_->send_error(out.id(), error);
    ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
    ASSERT_TRUE(answer->is_error());
    EXPECT_EQ(answer->json().at("error").at("code"), error.code);
    EXPECT_EQ(answer->json().at("error").at("message"), json::value(error.message));
  }
  /// Sends a prompt; returns the request as the agent got it (answer it to end the turn).
  jsonrpc::message start_turn(std::optional<jsonrpc::message>& answer) {
    request(false, "session/prompt", json::parse(R"({"sessionId":"sess-1","prompt":[{"type":"text","text":"go"}]})"),
            answer);
    return next();
  }
  void end_turn(const jsonrpc::message& prompt_out, std::optional<jsonrpc::message>& answer) {
    conductor_->send_result(prompt_out.id(), json::parse(R"({"stopReason":"end_turn"})"));
    ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  }
  /// The agent's side of the last turn in the file.
  [[nodiscard]] std::string last_reply() const {
    const auto md = read_text(file());
    const auto at = md.rfind("**Agent**");
    return at == std::string::npos ? md : md.substr(at);
  }

  void initialize_and_new_session() {
    (void)round_trip(
        false, "_proxy/initialize",
        json::parse(R"({"protocolVersion":1,"clientInfo":{"name":"zed","version":"0.200.1"}})"),
        json::parse(
            R"({"protocolVersion":1,"agentInfo":{"name":"test-agent","version":"1.2.3","title":"Test Agent"}})"));
    (void)round_trip(false, "session/new", json::parse(R"({"cwd":"/home/me/project","mcpServers":[]})"),
                     json::parse(R"({"sessionId":"sess-1"})"));
  }

  [[nodiscard]] fs::path file() const { return dir_.path() / "sess-1.md"; }

  scratch_dir dir_;
  boost::asio::io_context io_;
  std::shared_ptr<connection> conductor_;
  std::optional<endpoint> proxy_;
  std::vector<jsonrpc::message> received_;
  std::size_t consumed_ = 0;
};

TEST_F(transcript_proxy_link, a_scripted_turn_is_recorded_and_everything_passes_unchanged) {
  initialize_and_new_session();
  ASSERT_TRUE(fs::exists(file()));
  struct stat st {};
  ASSERT_EQ(::stat(file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::optional<jsonrpc::message> prompt_answer;
  request(false, "session/prompt",
          json::parse(R"({"sessionId":"sess-1","prompt":[{"type":"text","text":"Please fix `main`"}]})"),
          prompt_answer);
  const auto prompt_out = next();
  EXPECT_NE(read_text(file()).find("**User**\n\n```\nPlease fix `main`\n```\n"), std::string::npos)
      << "written when sent";

  const char* updates[] = {
      R"({"sessionUpdate":"agent_thought_chunk","content":{"type":"text","text":"Look at main."}})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"I will "}})",
      R"({"sessionUpdate":"plan","entries":[{"content":"Read main.cpp","priority":"high","status":"completed"},
                                             {"content":"Fix it","priority":"medium","status":"in_progress"}]})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"fix it."},"_meta":{"seq":2}})",
      R"({"sessionUpdate":"tool_call","toolCallId":"call-1","title":"Edit main.cpp","kind":"edit","status":"pending",
          "locations":[{"path":"/home/me/project/main.cpp","line":12}]})",
  };
  for (const char* u : updates) {
    update_from_agent(u);
    const auto& out = next();
    EXPECT_EQ(out.method(), "session/update");
    EXPECT_EQ(out.json().at("params").at("update"), json::parse(u)) << "forwarded unchanged";
  }

  const auto permission = json::parse(R"({"sessionId":"sess-1","toolCall":{"toolCallId":"call-1"},
    "options":[{"optionId":"allow","name":"Allow","kind":"allow_once"},{"optionId":"reject","name":"Reject","kind":"reject_once"}]})");
  (void)round_trip(true, "session/request_permission", permission,
                   json::parse(R"({"outcome":{"outcome":"selected","optionId":"allow"},"_meta":{"why":"user"}})"));

  update_from_agent(R"({"sessionUpdate":"tool_call_update","toolCallId":"call-1","status":"completed"})");
  (void)next();
  conductor_->send_result(prompt_out.id(), json::parse(R"({"stopReason":"end_turn"})"));
  ASSERT_TRUE(run_until([&] { return prompt_answer.has_value(); }));
  EXPECT_EQ(*prompt_answer->result(), json::parse(R"({"stopReason":"end_turn"})"));

  const auto md = read_text(file());
  const auto header_end = md.find("## Turn 1");
  ASSERT_NE(header_end, std::string::npos) << md;
  const auto header = md.substr(0, header_end);
  EXPECT_EQ(header.rfind("# Session `sess-1`\n\n- Date: ", 0), 0u) << header;
  EXPECT_NE(header.find("- Working directory: `/home/me/project`\n"), std::string::npos) << header;
  EXPECT_NE(header.find("- Agent: test-agent 1.2.3 (Test Agent)\n"), std::string::npos) << header;
  EXPECT_NE(header.find("- Editor: zed 0.200.1\n"), std::string::npos) << header;
  const auto agent = md.substr(md.find("**Agent**"));
  EXPECT_EQ(agent, "**Agent**\n\n"
                   "<details><summary>Thoughts</summary>\n\n```\nLook at main.\n```\n\n</details>\n\n"
                   "```\nI will fix it.\n```\n\n"
                   "- Edit main.cpp (`call-1`, edit): pending \u2192 completed\n"
                   "  - `/home/me/project/main.cpp:12`\n\n"
                   "Permission requested: Edit main.cpp \u2014 options: Allow (allow_once), Reject (reject_once) "
                   "\u2192 **Allow**\n\n"
                   "Plan:\n\n"
                   "- [x] Read main.cpp _(high)_\n"
                   "- [ ] Fix it _(in progress)_ _(medium)_\n\n"
                   "_Stop reason: end_turn_\n\n");
}

TEST_F(transcript_proxy_link, a_cancelled_permission_and_an_error_turn_are_recorded) {
  initialize_and_new_session();
  std::optional<jsonrpc::message> prompt_answer;
  request(false, "session/prompt", json::parse(R"({"sessionId":"sess-1","prompt":[{"type":"text","text":"go"}]})"),
          prompt_answer);
  const auto prompt_out = next();
  (void)round_trip(true, "session/request_permission",
                   json::parse(R"({"sessionId":"sess-1","toolCall":{"toolCallId":"c","title":"Run rm"},
                     "options":[{"optionId":"y","name":"Yes","kind":"allow_once"}]})"),
                   json::parse(R"({"outcome":{"outcome":"cancelled"}})"));
  conductor_->send_error(prompt_out.id(), rpc_error{-32603, "agent crashed", {}});
  ASSERT_TRUE(run_until([&] { return prompt_answer.has_value(); }));
  EXPECT_TRUE(prompt_answer->is_error());
  EXPECT_EQ(prompt_answer->json().at("error").at("message"), "agent crashed");
  const auto md = read_text(file());
  EXPECT_NE(md.find("Permission requested: Run rm \u2014 options: Yes (allow_once) \u2192 **cancelled**"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("_Stop reason: error: agent crashed_"), std::string::npos) << md;
}

TEST_F(transcript_proxy_link, a_turn_cut_by_the_closing_link_is_written_with_the_reason) {
  initialize_and_new_session();
  std::optional<jsonrpc::message> prompt_answer;
  request(false, "session/prompt", json::parse(R"({"sessionId":"sess-1","prompt":[{"type":"text","text":"go"}]})"),
          prompt_answer);
  (void)next();
  update_from_agent(R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"partial"}})");
  (void)next();
  stop();
  const auto md = read_text(file());
  EXPECT_NE(
      md.find(
          "**Agent**\n\n```\npartial\n```\n\n_Stop reason: error: connection to conductor closed before the response "
          "arrived_\n\n"),
      std::string::npos)
      << md;
}

TEST_F(transcript_proxy_link, session_load_appends_and_skips_the_replayed_history) {
  initialize_and_new_session();
  std::optional<jsonrpc::message> answer;
  request(false, "session/prompt", json::parse(R"({"sessionId":"sess-1","prompt":[{"type":"text","text":"first"}]})"),
          answer);
  conductor_->send_result(next().id(), json::parse(R"({"stopReason":"end_turn"})"));
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));
  stop();
  const auto before = read_text(file());

  // A second proxy process (a new editor session) loads the session.
  received_.clear();
  consumed_ = 0;
  start();
  std::optional<jsonrpc::message> load_answer;
  request(false, "session/load", json::parse(R"({"sessionId":"sess-1","cwd":"/home/me/project","mcpServers":[]})"),
          load_answer);
  const auto load_out = next();
  update_from_agent(R"j({"sessionUpdate":"user_message_chunk","content":{"type":"text","text":"first (replayed)"}})j");
  (void)next();
  update_from_agent(
      R"j({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"old reply (replayed)"}})j");
  (void)next();
  conductor_->send_result(load_out.id(), json::object{});
  ASSERT_TRUE(run_until([&] { return load_answer.has_value(); }));
  answer.reset();
  request(false, "session/prompt", json::parse(R"({"sessionId":"sess-1","prompt":[{"type":"text","text":"second"}]})"),
          answer);
  conductor_->send_result(next().id(), json::parse(R"({"stopReason":"max_tokens"})"));
  ASSERT_TRUE(run_until([&] { return answer.has_value(); }));

  const auto md = read_text(file());
  ASSERT_EQ(md.rfind(before, 0), 0u) << "appended, never rewritten";
  const auto added = md.substr(before.size());
  EXPECT_EQ(added.rfind("\n# Session `sess-1` loaded again\n\n- Date: ", 0), 0u) << added;
  EXPECT_EQ(added.find("replayed"), std::string::npos) << added;
  EXPECT_NE(added.find("## Turn 2 "), std::string::npos) << "numbering continues:\n" << added;
  EXPECT_NE(added.find("_Stop reason: max_tokens_"), std::string::npos) << added;
}

TEST_F(transcript_proxy_link, an_unsafe_session_id_gets_a_safe_file_in_the_directory) {
  (void)round_trip(false, "session/new", json::parse(R"({"cwd":"/p","mcpServers":[]})"),
                   json::parse(R"({"sessionId":"../escape"})"));
  EXPECT_FALSE(fs::exists(dir_.path().parent_path() / "escape.md"));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_.path())) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string(), transcript_file_name("../escape"));
  EXPECT_NE(read_text(files[0]).find("# Session `../escape`"), std::string::npos);
}

TEST_F(transcript_proxy_link, unobserved_messages_take_the_default_forwarding) {
  const auto params = json::parse(R"({"sessionId":"s","x":{"deep":[1,null]},"_meta":{"m":1}})");
  (void)round_trip(false, "vendor/custom", params, json::parse(R"({"ok":true})"));
  (void)round_trip(true, "fs/read_text_file", json::parse(R"({"sessionId":"s","path":"/a"})"),
                   json::parse(R"({"content":"x"})"));
  EXPECT_TRUE(fs::is_empty(dir_.path())) << "no session seen, no file";
}

TEST_F(transcript_proxy_link, separate_agent_messages_get_one_block_each) {
  initialize_and_new_session();
  std::optional<jsonrpc::message> answer;
  const auto prompt_out = start_turn(answer);
  const char* updates[] = {
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Let me read "}})",
      R"({"sessionUpdate":"usage_update","used":10,"size":100})", // not recorded: the message goes on
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"the file."}})",
      R"({"sessionUpdate":"tool_call","toolCallId":"call-1","title":"Read a.txt","kind":"read","status":"in_progress"})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"It says hi. "}})",
      R"({"sessionUpdate":"tool_call_update","toolCallId":"call-1","status":"completed"})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Let me use Bash."}})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"One "},"messageId":"m-1"})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"message."},"messageId":"m-1"})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Another."},"messageId":"m-2"})",
      R"({"sessionUpdate":"agent_thought_chunk","content":{"type":"text","text":"Done?"},"messageId":"m-2"})",
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Done."},"messageId":"m-2"})",
  };
  for (const char* u : updates) {
    update_from_agent(u);
    EXPECT_EQ(next().json().at("params").at("update"), json::parse(u)) << "forwarded unchanged";
  }
  end_turn(prompt_out, answer);
  EXPECT_EQ(last_reply(), "**Agent**\n\n"
                          "```\nLet me read the file.\n```\n\n"
                          "- Read a.txt (`call-1`, read): in_progress \u2192 completed\n\n"
                          "```\nIt says hi. \n```\n\n"
                          "```\nLet me use Bash.\n```\n\n"
                          "```\nOne message.\n```\n\n"
                          "```\nAnother.\n```\n\n"
                          "<details><summary>Thoughts</summary>\n\n```\nDone?\n```\n\n</details>\n\n"
                          "```\nDone.\n```\n\n"
                          "_Stop reason: end_turn_\n\n");
}

TEST_F(transcript_proxy_link, the_agents_file_and_terminal_requests_are_recorded_and_pass_unchanged) {
  initialize_and_new_session();
  std::optional<jsonrpc::message> answer;
  const auto prompt_out = start_turn(answer);
  update_from_agent(R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"Checking."}})");
  (void)next();
  (void)round_trip(true, "fs/read_text_file",
                   json::parse(R"({"sessionId":"sess-1","path":"/p/a.txt","line":10,"limit":20})"),
                   json::parse(R"({"content":"one\ntwo\n"})"));
  error_round_trip("fs/read_text_file", json::parse(R"({"sessionId":"sess-1","path":"/p/missing"})"),
                   rpc_error{-32002, "Resource not found: /p/missing", {}});
  (void)round_trip(true, "fs/write_text_file",
                   json::parse(R"({"sessionId":"sess-1","path":"/p/b.md","content":"# Title\n```\ncode\n```\n"})"),
                   json::object{});
  error_round_trip("fs/write_text_file", json::parse(R"({"sessionId":"sess-1","path":"/etc/x","content":"x"})"),
                   rpc_error{-32603, "permission denied", {}});
  (void)round_trip(true, "terminal/create",
                   json::parse(R"({"sessionId":"sess-1","command":"make","args":["test","-j2"],"cwd":"/p"})"),
                   json::parse(R"({"terminalId":"term-1"})"));
  (void)round_trip(true, "terminal/output", json::parse(R"({"sessionId":"sess-1","terminalId":"term-1"})"),
                   json::parse(R"({"output":"building\n","truncated":false})"));
  (void)round_trip(
      true, "terminal/output", json::parse(R"({"sessionId":"sess-1","terminalId":"term-1"})"),
      json::parse(R"({"output":"building\nPASS 3 tests\n","truncated":false,"exitStatus":{"exitCode":0}})"));
  (void)round_trip(true, "terminal/release", json::parse(R"({"sessionId":"sess-1","terminalId":"term-1"})"),
                   json::object{});
  error_round_trip("terminal/create", json::parse(R"({"sessionId":"sess-1","command":"rm"})"),
                   rpc_error{-32603, "refused", {}});
  update_from_agent(R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"All pass."}})");
  (void)next();
  end_turn(prompt_out, answer);
  EXPECT_EQ(last_reply(), "**Agent**\n\n"
                          "```\nChecking.\n```\n\n"
                          "- Editor read `/p/a.txt` (from line 10, at most 20 lines) \u2192 8 bytes, 2 lines\n"
                          "- Editor read `/p/missing` \u2192 error: Resource not found: /p/missing\n"
                          "- Editor write `/p/b.md` (21 bytes, 4 lines) \u2192 written\n\n"
                          "````\n# Title\n```\ncode\n```\n````\n\n"
                          "- Editor write `/etc/x` (1 byte, 1 line) \u2192 error: permission denied\n\n"
                          "```\nx\n```\n\n"
                          "- Editor terminal `term-1`: `make` `test` `-j2` in `/p` \u2192 exit code 0\n\n"
                          "```\nbuilding\nPASS 3 tests\n```\n\n"
                          "- Editor terminal: `rm` \u2192 error: refused\n\n"
                          "```\nAll pass.\n```\n\n"
                          "_Stop reason: end_turn_\n\n");
}

TEST_F(transcript_proxy_link, editor_requests_of_an_unknown_session_are_not_recorded) {
  initialize_and_new_session();
  (void)round_trip(true, "fs/write_text_file", json::parse(R"({"sessionId":"other","path":"/p/x","content":"x"})"),
                   json::object{});
  (void)round_trip(true, "terminal/create", json::parse(R"({"sessionId":"other","command":"ls"})"),
                   json::parse(R"({"terminalId":"t"})"));
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_.path())) files.push_back(e.path().filename().string());
  EXPECT_EQ(files, std::vector<std::string>{"sess-1.md"});
  EXPECT_EQ(read_text(file()).find("- Editor "), std::string::npos) << read_text(file());
}

TEST(transcript_markdown, excerpts_keep_whole_lines_and_whole_characters) {
  EXPECT_EQ(count_lines(""), 0u);
  EXPECT_EQ(count_lines("a"), 1u);
  EXPECT_EQ(count_lines("a\n"), 1u);
  EXPECT_EQ(count_lines("a\nb"), 2u);
  EXPECT_EQ(count_lines("\n\n"), 2u);
  std::string numbered;
  for (int i = 1; i <= 100; ++i) numbered += "line " + std::to_string(i) + "\n";
  const auto head = excerpt_head(numbered);
  EXPECT_EQ(count_lines(head), excerpt_max_lines);
  EXPECT_TRUE(head.starts_with("line 1\n") && head.ends_with("line 40\n")) << head;
  const auto tail = excerpt_tail(numbered);
  EXPECT_EQ(count_lines(tail), excerpt_max_lines);
  EXPECT_TRUE(tail.starts_with("line 61\n") && tail.ends_with("line 100\n")) << tail;
  EXPECT_EQ(excerpt_tail("\nshort"), "\nshort");
  EXPECT_EQ(excerpt_head("short"), "short");

  std::string e_acute; // 3000 two-byte characters on one line
  for (int i = 0; i < 3000; ++i) e_acute += "\xc3\xa9";
  const auto cut_head = excerpt_head("a" + e_acute);
  EXPECT_EQ(cut_head.size(), excerpt_max_bytes - 1) << "not inside a character";
  EXPECT_EQ(cut_head.back(), '\xa9');
  const auto cut_tail = excerpt_tail(e_acute + "a");
  EXPECT_EQ(cut_tail.size(), excerpt_max_bytes - 1);
  EXPECT_EQ(cut_tail.front(), '\xc3');
}

TEST(transcript_markdown, long_writes_and_outputs_say_what_was_left_out) {
  std::string big;
  for (int i = 1; i <= 100; ++i) big += "row " + std::to_string(i) + "\n";
  turn_record turn;
  turn.add(file_record{.write = true,
                       .path = "/p/big.txt",
                       .bytes = big.size(),
                       .lines = count_lines(big),
                       .excerpt = excerpt_head(big),
                       .answer = "ok"});
  turn.add(file_record{.path = "/p/slow.txt"});
  turn.add(terminal_record{.terminal_id = "t-2",
                           .command = "yes",
                           .output = excerpt_tail(big),
                           .output_bytes = big.size(),
                           .truncated = true,
                           .exit = "signal SIGKILL",
                           .killed = true});
  const auto md = render_reply(turn, "Agent", "cancelled");
  const auto first = excerpt_head(big), last = excerpt_tail(big);
  EXPECT_EQ(md, "**Agent**\n\n- Editor write `/p/big.txt` (" + std::to_string(big.size()) +
                    " bytes, 100 lines) \u2192 written\n\n```\n" + first + "```\n_(first " +
                    std::to_string(first.size()) + " of " + std::to_string(big.size()) +
                    " bytes)_\n\n"
                    "- Editor read `/p/slow.txt` \u2192 no answer\n"
                    "- Editor terminal `t-2`: `yes` \u2192 signal SIGKILL, killed\n\n```\n" +
                    last + "```\n_(last " + std::to_string(last.size()) + " of " + std::to_string(big.size()) +
                    " bytes)_\n\n_(the editor truncated the output)_\n\n_Stop reason: cancelled_\n\n");
}

} // namespace
} // namespace acp::examples
