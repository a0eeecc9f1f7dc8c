#pragma once
// Shared fixture of the trace writer tests: a temporary trace file and readers for it.

#include <acp/conductor/trace.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace acp::conductor::test {

namespace json = boost::json;

class trace_file_test : public ::testing::Test {
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

  trace_writer open_ok(trace_options options = {}) {
    auto w = trace_writer::open(path_, options);
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

  /// The file's lines, after everything traced so far was written.
  std::vector<std::string> lines(trace_writer& w) const {
    EXPECT_TRUE(w.flush());
    std::vector<std::string> out;
    std::istringstream in(contents());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  /// The file's events, after everything traced so far was written.
  std::vector<json::object> events(trace_writer& w) const {
    std::vector<json::object> out;
    for (const auto& line : lines(w)) {
      json::value v = json::parse(line);
      EXPECT_TRUE(v.is_object()) << line;
      out.push_back(v.as_object());
    }
    return out;
  }

  std::string dir_;
  std::string path_;
};

/// `line` with its `"ts":` value replaced by `T` (after checking it has six decimals).
inline std::string without_ts(const std::string& line) {
  static const std::regex ts(R"("ts":[0-9]+\.[0-9]{6}([,}]))");
  EXPECT_TRUE(std::regex_search(line, ts)) << line;
  return std::regex_replace(line, ts, R"("ts":T$1)", std::regex_constants::format_first_only);
}

} // namespace acp::conductor::test
