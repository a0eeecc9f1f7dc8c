// `acp-conductor trace view`: errors (one line on stderr, exit 1, no output left behind) and the
// page's embedding of untrusted events. The page's behaviour in a browser: tests/viewer/.
#include "../../conductor/src/viewer_page.hpp"

#include <acp/conductor/trace_tools.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace acp::conductor {
namespace {

namespace fs = std::filesystem;

class trace_view_test : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-trace-view-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  /// Runs the command; its stderr goes to `err`.
  static int view(const std::string& file, const std::string& output, std::string& err) {
    trace_command c;
    c.action = trace_command::action::view;
    c.file = file;
    c.output = output;
    ::testing::internal::CaptureStderr();
    const int code = run_trace_view(c);
    err = ::testing::internal::GetCapturedStderr();
    return code;
  }
  /// The embedded data block's text.
  static std::string data_block(const std::string& page) {
    const std::string open = "<script type=\"application/json\" id=\"acp-trace\">";
    const auto b = page.find(open);
    EXPECT_NE(b, std::string::npos);
    const auto e = page.find("</script>", b);
    EXPECT_NE(e, std::string::npos);
    return page.substr(b + open.size(), e - b - open.size());
  }

  std::string dir_;
};

const std::string request_line =
    R"({"type":"request","ts":0.001,"protocol":"acp","from":"Client","to":"Agent","id":1,"method":"initialize","params":{"protocolVersion":1}})";
const std::string response_line =
    R"({"type":"response","ts":0.002,"from":"Agent","to":"Client","id":1,"is_error":false,"payload":{"protocolVersion":1}})";

::testing::AssertionResult one_error_line(const std::string& err, const std::string& expected) {
  if (err.empty() || err.back() != '\n' || err.find('\n') != err.size() - 1)
    return ::testing::AssertionFailure() << "not exactly one line: [" << err << "]";
  if (err.rfind("acp-conductor: trace view: ", 0) != 0 || err.find(expected) == std::string::npos)
    return ::testing::AssertionFailure() << "unexpected message: " << err;
  return ::testing::AssertionSuccess();
}

TEST_F(trace_view_test, missing_file_is_one_line_error) {
  std::string err;
  EXPECT_EQ(view(dir_ + "/absent.jsons", dir_ + "/out.html", err), 1);
  EXPECT_TRUE(one_error_line(err, "cannot read " + dir_ + "/absent.jsons: No such file or directory"));
  EXPECT_FALSE(fs::exists(dir_ + "/out.html"));
}

TEST_F(trace_view_test, directory_is_refused) {
  std::string err;
  EXPECT_EQ(view(dir_, dir_ + "/out.html", err), 1);
  EXPECT_TRUE(one_error_line(err, "Is a directory"));
  EXPECT_FALSE(fs::exists(dir_ + "/out.html"));
}

TEST_F(trace_view_test, unwritable_output_is_one_line_error) {
  const auto trace = write("t.jsons", request_line + "\n");
  const auto not_a_dir = write("plain", "x");
  std::string err;
  EXPECT_EQ(view(trace, not_a_dir + "/out.html", err), 1);
  EXPECT_TRUE(one_error_line(err, "cannot write " + not_a_dir + "/out.html: Not a directory"));
}

TEST_F(trace_view_test, empty_trace_is_refused_without_output) {
  const auto trace = write("empty.jsons", "");
  std::string err;
  EXPECT_EQ(view(trace, dir_ + "/out.html", err), 1);
  EXPECT_TRUE(one_error_line(err, "has no trace events"));
  EXPECT_FALSE(fs::exists(dir_ + "/out.html"));
}

TEST_F(trace_view_test, garbage_only_trace_says_what_was_skipped) {
  const auto trace = write("garbage.jsons", "not json\n{\"no\":\"type\"}\n");
  std::string err;
  EXPECT_EQ(view(trace, dir_ + "/out.html", err), 1);
  EXPECT_TRUE(
      one_error_line(err, "has no trace events (skipped 2 lines that are not trace events (the first: line 1))"));
  EXPECT_FALSE(fs::exists(dir_ + "/out.html"));
}

TEST_F(trace_view_test, output_over_the_trace_itself_is_refused) {
  const auto trace = write("t.jsons", request_line + "\n");
  std::string err;
  EXPECT_EQ(view(trace, trace, err), 1);
  EXPECT_TRUE(one_error_line(err, "is the trace itself"));
  EXPECT_EQ(read(trace), request_line + "\n");
}

TEST_F(trace_view_test, default_output_is_the_trace_name_with_html_and_private) {
  const auto trace = write("run.jsons", request_line + "\n" + response_line + "\n");
  std::string err;
  ASSERT_EQ(view(trace, "", err), 0) << err;
  EXPECT_EQ(err, "");
  const std::string out = dir_ + "/run.html";
  ASSERT_TRUE(fs::exists(out));
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u); // the page holds what the trace holds
  const auto data = boost::json::parse(data_block(read(out))).as_object();
  EXPECT_EQ(data.at("file").as_string(), "run.jsons");
  EXPECT_EQ(data.at("skipped").as_int64(), 0);
  ASSERT_EQ(data.at("events").as_array().size(), 2u);
  EXPECT_EQ(data.at("events").as_array()[0], boost::json::parse(request_line));
  EXPECT_EQ(data.at("events").as_array()[1], boost::json::parse(response_line));
}

TEST_F(trace_view_test, truncated_trace_renders_what_it_can_and_counts_the_rest) {
  const auto trace = write("cut.jsons", request_line + "\n" + response_line + "\n" + R"({"type":"notif)");
  std::string err;
  ASSERT_EQ(view(trace, dir_ + "/cut.html", err), 0);
  EXPECT_TRUE(one_error_line(err, "skipped 1 line that is not trace events (the first: line 3)"));
  const auto data = boost::json::parse(data_block(read(dir_ + "/cut.html"))).as_object();
  EXPECT_EQ(data.at("skipped").as_int64(), 1);
  EXPECT_EQ(data.at("events").as_array().size(), 2u);
}

TEST_F(trace_view_test, hostile_strings_cannot_close_the_data_element) {
  const std::string hostile =
      R"({"type":"request","ts":0.1,"protocol":"acp","from":"Client","to":"Agent","id":"</script><script>window.pwned=1</script>",)"
      R"("method":"</script><script>window.pwned=1</script>","params":{"x":"<img src=x onerror=window.pwned=2>",)"
      "\"y\":\"a\xE2\x80\xA8"
      "b\xE2\x80\xA9"
      "c & d <!-- e\"}}";
  const auto trace = write("evil<b>&.jsons", hostile + "\n");
  std::string err;
  ASSERT_EQ(view(trace, dir_ + "/evil.html", err), 0) << err;
  const std::string page = read(dir_ + "/evil.html");
  const std::string block = data_block(page);
  for (const char* bad : {"<", ">", "&", "\xE2\x80\xA8", "\xE2\x80\xA9"})
    EXPECT_EQ(block.find(bad), std::string::npos) << bad;
  // The block still denotes exactly the event and the file name.
  const auto data = boost::json::parse(block).as_object();
  EXPECT_EQ(data.at("events").as_array()[0], boost::json::parse(hostile));
  EXPECT_EQ(data.at("file").as_string(), "evil<b>&.jsons");
  EXPECT_EQ(page.find("<script>window.pwned"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
}

TEST_F(trace_view_test, standard_output_with_dash) {
  const auto trace = write("t.jsons", request_line + "\n");
  trace_command c;
  c.file = trace;
  c.output = "-";
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_trace_view(c), 0);
  const std::string page = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("initialize"), std::string::npos);
}

TEST(viewer_page, self_contained_with_no_network_reference) {
  const std::string page = render_trace_page("t.jsons", {request_line}, 0);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_NE(page.find("Content-Security-Policy"), std::string::npos);
  // The template's markers were all replaced.
  EXPECT_EQ(page.find("@ACP_"), std::string::npos);
}

TEST(viewer_page, live_page_has_no_events_and_reads_server_sent_events) {
  const std::string page = live_viewer_page();
  EXPECT_NE(page.find("<script type=\"application/json\" id=\"acp-trace\">null</script>"), std::string::npos);
  EXPECT_NE(page.find("new EventSource('events' + location.search)"), std::string::npos);
}

TEST(viewer_page, script_safe_json_escapes_only_the_dangerous_characters) {
  std::string out;
  append_script_safe_json(out, "{\"a\":\"<b>&\xE2\x80\xA8\xE2\x80\xA9\xE2\x82\xAC\"}");
  EXPECT_EQ(out, "{\"a\":\"\\u003cb\\u003e\\u0026\\u2028\\u2029\xE2\x82\xAC\"}");
}

} // namespace
} // namespace acp::conductor
