// --debug-dir: a real chain writes one private file per link, every line with its direction and
// time, and a directory it cannot make stops the conductor before anything runs.
#include "harness.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::test {
namespace {
namespace fs = std::filesystem;

/// A fresh directory under /tmp, removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "acp-debug-dir-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

/// The files in `dir`, by the label in their name (`C`, `0`, `1`, ...), checked on the way: one
/// header each, and every line after it `LABEL ARROW +Nms TEXT`.
std::map<std::string, std::string> debug_files(const fs::path& dir, std::size_t expected) {
  std::map<std::string, std::string> out;
  const std::regex name(R"(\d{8}-\d{6}-([C0-9]+)-.*\.log)");
  const std::regex line(R"(([C0-9]+) (→|←|!) \+\d+ms .*)");
  std::size_t count = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++count;
    std::smatch m;
    const auto file = e.path().filename().string();
    if (!std::regex_match(file, m, name)) {
      ADD_FAILURE() << "unexpected file " << file;
      continue;
    }
    EXPECT_EQ(mode_of(e.path()), 0600u) << file;
    const auto label = m[1].str();
    const auto text = read_file(e.path());
    const auto end = text.find("========================\n");
    EXPECT_EQ(text.rfind("=== acp-conductor debug log: ", 0), 0u) << file;
    EXPECT_NE(end, std::string::npos) << file;
    std::istringstream body(text.substr(end == std::string::npos ? 0 : end + 25));
    for (std::string l; std::getline(body, l);) {
      std::smatch lm;
      EXPECT_TRUE(std::regex_match(l, lm, line)) << file << ": " << l;
      if (!lm.empty()) {
        EXPECT_EQ(lm[1].str(), label) << file << ": " << l;
      }
    }
    out[label] = text;
  }
  EXPECT_EQ(count, expected) << "files in " << dir;
  return out;
}

bool has_line(const std::string& text, const std::string& prefix, const std::string& part) {
  std::istringstream s(text);
  for (std::string l; std::getline(s, l);)
    if (l.rfind(prefix, 0) == 0 && l.find(part) != std::string::npos) return true;
  return false;
}

void end_cleanly(scripted_peer& editor) {
  const auto tree = editor.descendants();
  editor.close_stdin();
  const auto code = editor.wait_exit(15s);
  ASSERT_TRUE(code.has_value()) << "conductor did not exit";
  EXPECT_EQ(*code, 0) << editor.stderr_text();
  EXPECT_TRUE(all_gone(tree)) << "components outlived the conductor";
}

TEST(debug_dir, each_link_gets_a_private_file_with_every_line_it_carried) {
  temp_dir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto dir = tmp.path / "made" / "logs"; // missing: created 0700, parents too
  {
    scripted_peer editor(
        chain({component(arrow_path()), component(component_path(), {"stream-agent"})}, {"--debug-dir", dir.string()}));
    auto init = editor.initialize();
    ASSERT_TRUE(init && init->as_object().contains("result")) << editor.stderr_text();
    EXPECT_FALSE(editor.new_session().empty()) << editor.stderr_text();
    end_cleanly(editor);
    EXPECT_NE(editor.stderr_text().find("debug logs in " + dir.string()), std::string::npos) << editor.stderr_text();
  }
  EXPECT_EQ(mode_of(tmp.path / "made"), 0700u);
  EXPECT_EQ(mode_of(dir), 0700u);
  auto files = debug_files(dir, 3);
  ASSERT_EQ(files.count("C") + files.count("0") + files.count("1"), 3u);
  // The editor's link: what it sent (→) and what it was answered (←).
  EXPECT_TRUE(has_line(files["C"], "C → ", R"("method":"initialize")")) << files["C"];
  EXPECT_TRUE(has_line(files["C"], "C ← ", R"("id":0,"result")")) << files["C"];
  EXPECT_TRUE(has_line(files["C"], "C → ", R"("method":"session/new")")) << files["C"];
  // The proxy: the conductor's `_proxy/initialize` to it, its `_proxy/successor` back.
  EXPECT_NE(files["0"].find("Component 0: " + arrow_path()), std::string::npos) << files["0"];
  EXPECT_TRUE(has_line(files["0"], "0 → ", R"("method":"_proxy/initialize")")) << files["0"];
  EXPECT_TRUE(has_line(files["0"], "0 ← ", R"("method":"_proxy/successor")")) << files["0"];
  // The agent: plain `initialize` in, its answer out, and its stderr at EOF.
  EXPECT_TRUE(has_line(files["1"], "1 → ", R"("method":"initialize")")) << files["1"];
  EXPECT_TRUE(has_line(files["1"], "1 ← ", R"("result")")) << files["1"];
  EXPECT_TRUE(has_line(files["1"], "1 → ", R"("method":"session/new")")) << files["1"];
  EXPECT_TRUE(has_line(files["1"], "1 ! ", "received EOF")) << files["1"];
}

TEST(debug_dir, runs_in_one_directory_never_share_a_file) {
  temp_dir tmp;
  ASSERT_FALSE(tmp.path.empty());
  for (int run = 0; run < 2; ++run) {
    // Two components of one name: the labels keep their files apart.
    scripted_peer editor(
        chain({component(component_path(), {"pass-proxy"}), component(component_path(), {"pass-proxy"}),
               component(component_path(), {"echo-agent"})},
              {"--debug", "--debug-dir", tmp.path.string()}));
    auto init = editor.initialize();
    ASSERT_TRUE(init && init->as_object().contains("result")) << editor.stderr_text();
    end_cleanly(editor);
  }
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    ++files;
    const auto text = read_file(e.path());
    std::size_t headers = 0;
    for (auto p = text.find("=== acp-conductor debug log"); p != std::string::npos;
         p = text.find("=== acp-conductor debug log", p + 1))
      ++headers;
    EXPECT_EQ(headers, 1u) << e.path() << " was written by two runs";
  }
  EXPECT_EQ(files, 8u); // (C + 3 components) x 2 runs
}

TEST(debug_dir, a_directory_that_cannot_be_made_stops_the_conductor) {
  temp_dir tmp;
  ASSERT_FALSE(tmp.path.empty());
  std::ofstream(tmp.path / "file") << "x";
  scripted_peer editor(
      chain({component(component_path(), {"echo-agent"})}, {"--debug-dir", (tmp.path / "file" / "logs").string()}));
  const auto code = editor.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "conductor did not exit";
  EXPECT_EQ(*code, 2);
  const auto err = editor.stderr_text();
  EXPECT_NE(err.find("cannot create debug directory"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_TRUE(editor.descendants().empty());
}

} // namespace
} // namespace acp::test
