// acp-context-proxy's library in-process: config parsing (exact messages), start-up checks,
// per-session first-prompt tracking, the blocks it builds and the in-place edit.
#include "context.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace acp::examples {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

/// A fresh directory under the test's temp dir, removed at the end.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "acp-context-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~temp_dir() { fs::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name, const std::string& content) const {
    const auto p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

private:
  fs::path path_;
};

std::string load_error(const std::string& path) {
  auto r = load_context_config(path);
  return r ? std::string("<no error>") : r.error().message;
}

json::value prompt(const std::string& session, const std::string& text) {
  return json::parse(R"({"sessionId":")" + session + R"(","prompt":[{"type":"text","text":")" + text +
                     R"("}],"_meta":{"keep":[1,{"x":null}]},"x-unknown":true})");
}

TEST(context_config, reads_every_key_and_resolves_files_against_the_config_directory) {
  temp_dir dir;
  const auto config = dir.file("ctx.json", R"({"text":["a","b"],"files":["notes.md","/abs/x.txt"],
                                              "asResource":true,"when":"every"})");
  auto r = load_context_config(config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->files, (std::vector<std::string>{dir.path() + "/notes.md", "/abs/x.txt"}));
  EXPECT_TRUE(r->as_resource);
  EXPECT_EQ(r->when, context_when::every);
}

TEST(context_config, every_key_is_optional) {
  temp_dir dir;
  auto r = load_context_config(dir.file("c.json", "{}"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->texts.empty());
  EXPECT_FALSE(r->as_resource);
  EXPECT_EQ(r->when, context_when::first);
}

TEST(context_config, errors_are_one_line_naming_file_and_key) {
  temp_dir dir;
  EXPECT_EQ(load_error(dir.path() + "/missing.json"),
            "config " + dir.path() + "/missing.json: cannot read: No such file or directory");
  const auto bad = dir.file("bad.json", "{\"text\": [");
  EXPECT_EQ(load_error(bad).rfind("config " + bad + ": invalid JSON: ", 0), 0u) << load_error(bad);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1]", "expected a JSON object"},
      {R"({"txt":["a"]})", R"(unknown key "txt" (known: text, files, asResource, when))"},
      {R"({"text":"a"})", R"("text" must be an array of strings)"},
      {R"({"text":["a",1]})", R"("text" must be an array of strings)"},
      {R"({"files":{}})", R"("files" must be an array of strings)"},
      {R"({"asResource":"yes"})", R"("asResource" must be true or false)"},
      {R"({"when":"always"})", R"("when" must be "first" or "every")"},
      {R"({"when":1})", R"("when" must be "first" or "every")"},
  };
  for (const auto& [text, message] : cases) {
    const auto f = dir.file("c.json", text);
    EXPECT_EQ(load_error(f), "config " + f + ": " + message) << text;
  }
}

TEST(context_prepare, makes_files_absolute_and_rejects_unreadable_ones) {
  temp_dir dir;
  const auto f = dir.file("a.md", "hello");
  context_options ok;
  ok.files = {fs::relative(f).string()};
  ASSERT_TRUE(prepare_context_options(ok));
  EXPECT_EQ(ok.files, (std::vector<std::string>{f}));

  context_options missing;
  missing.files = {dir.path() + "/nope.md"};
  auto r = prepare_context_options(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot read context file " + dir.path() + "/nope.md: No such file or directory");

  context_options directory;
  directory.files = {dir.path()};
  r = prepare_context_options(directory);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot read context file " + dir.path() + ": not a regular file");

  context_options binary;
  binary.files = {dir.file("b.bin", std::string("\xff\xfe\x00", 3))};
  r = prepare_context_options(binary);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot read context file " + binary.files[0] + ": not UTF-8 text");
}

TEST(context_injector, first_prompt_of_each_session_only_by_default) {
  context_injector inject({{"CTX"}, {}, false, context_when::first});
  auto p1 = prompt("s1", "one");
  EXPECT_TRUE(inject.apply(p1));
  EXPECT_EQ(p1.at("prompt"), json::parse(R"([{"type":"text","text":"CTX"},{"type":"text","text":"one"}])"));
  auto p2 = prompt("s1", "two");
  const auto before = p2;
  EXPECT_FALSE(inject.apply(p2));
  EXPECT_EQ(p2, before);
  auto other = prompt("s2", "three");
  EXPECT_TRUE(inject.apply(other)) << "a second session gets its own first prompt";
  auto again = prompt("s2", "four");
  EXPECT_FALSE(inject.apply(again));
}

TEST(context_injector, every_prompt_with_when_every) {
  context_injector inject({{"CTX"}, {}, false, context_when::every});
  for (int i = 0; i < 3; ++i) {
    auto p = prompt("s1", "x");
    EXPECT_TRUE(inject.apply(p));
    EXPECT_EQ(p.at("prompt").as_array().size(), 2u);
  }
}

TEST(context_injector, edits_in_place_and_keeps_every_other_member) {
  context_injector inject({{"CTX"}, {}, false, context_when::first});
  auto p = prompt("s1", "hi");
  auto expected = p;
  inject.apply(p);
  expected.as_object()["prompt"].as_array().insert(expected.as_object()["prompt"].as_array().begin(),
                                                   json::object{{"type", "text"}, {"text", "CTX"}});
  EXPECT_EQ(p, expected);
}

TEST(context_injector, malformed_params_are_left_alone) {
  context_injector inject({{"CTX"}, {}, false, context_when::every});
  for (const char* text : {"null", "[]", R"({"sessionId":"s"})", R"({"sessionId":"s","prompt":"hi"})"}) {
    auto v = json::parse(text);
    const auto before = v;
    EXPECT_FALSE(inject.apply(v)) << text;
    EXPECT_EQ(v, before) << text;
  }
}

TEST(context_injector, texts_then_files_in_order_and_files_are_read_at_each_prompt) {
  temp_dir dir;
  const auto a = dir.file("a.txt", "first version");
  const auto b = dir.file("b.md", "B");
  context_injector inject({{"T1", "T2"}, {a, b}, false, context_when::every});
  auto blocks = inject.blocks();
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].at("text"), "T1");
  EXPECT_EQ(blocks[1].at("text"), "T2");
  EXPECT_EQ(blocks[2].at("text").as_string(), "File " + a + ":\nfirst version");
  EXPECT_EQ(blocks[3].at("text").as_string(), "File " + b + ":\nB");
  (void)dir.file("a.txt", "edited");
  EXPECT_EQ(inject.blocks()[2].at("text").as_string(), "File " + a + ":\nedited");
}

TEST(context_injector, a_file_gone_at_prompt_time_becomes_a_note_and_the_prompt_still_goes) {
  temp_dir dir;
  const auto a = dir.file("a.txt", "x");
  context_injector inject({{}, {a}, false, context_when::every});
  fs::remove(a);
  auto p = prompt("s1", "hi");
  EXPECT_TRUE(inject.apply(p));
  ASSERT_EQ(p.at("prompt").as_array().size(), 2u);
  EXPECT_EQ(p.at("prompt").at(0).at("text").as_string(),
            "[acp-context-proxy: could not read " + a + ": No such file or directory]");
  EXPECT_EQ(p.at("prompt").at(1).at("text"), "hi");
}

TEST(context_injector, as_resource_gives_embedded_resource_blocks) {
  temp_dir dir;
  const auto a = dir.file("My Notes.md", "# notes\n");
  context_injector inject({{}, {a}, true, context_when::every});
  auto blocks = inject.blocks();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0],
            (json::object{{"type", "resource"},
                          {"resource",
                           json::object{{"uri", file_uri(a)}, {"mimeType", "text/markdown"}, {"text", "# notes\n"}}}}));
  EXPECT_NE(file_uri(a).find("My%20Notes.md"), std::string::npos);
}

TEST(context_mime, guesses_by_extension) {
  EXPECT_EQ(guess_mime_type("/a/README.md"), "text/markdown");
  EXPECT_EQ(guess_mime_type("/a/x.JSON"), "application/json");
  EXPECT_EQ(guess_mime_type("/a/main.cpp"), "text/x-c++");
  EXPECT_EQ(guess_mime_type("/a/Makefile"), "text/plain");
  EXPECT_EQ(guess_mime_type("/a/.bashrc"), "text/plain");
  EXPECT_EQ(guess_mime_type("/a.d/file"), "text/plain");
  EXPECT_EQ(guess_mime_type("/a/x.unknown"), "text/plain");
}

TEST(context_uri, percent_encodes_outside_the_unreserved_set) {
  EXPECT_EQ(file_uri("/srv/project/a-b_c.~d/e.txt"), "file:///srv/project/a-b_c.~d/e.txt");
  EXPECT_EQ(file_uri("/a b/c#d?e%"), "file:///a%20b/c%23d%3Fe%25");
  EXPECT_EQ(file_uri("/\xc3\xa9"), "file:///%C3%A9");
}

} // namespace
} // namespace acp::examples
