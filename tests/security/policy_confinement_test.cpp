// acp-policy-proxy's path confinement against a hostile agent, in-process: every path the policy
// allows must land inside a root when a naive editor acts on it (creates the missing directories,
// then opens the path, following links), and the escapes found in review stay closed.
#include "policy.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <climits>
#include <cstdlib>

namespace acp::security_test {
namespace {

namespace fs = std::filesystem;
using examples::confinement_error;
using examples::resolve_path;

/// A root with links of every kind, and an outside directory they point into.
struct hostile_tree {
  temp_tree root, outside;
  std::vector<std::string> roots{root.path()};

  hostile_tree() {
    root.dir("src/deep");
    root.file("src/a.txt", "inside");
    outside.file("secret", "outside secret");
    outside.dir("sub");
    root.link("dlink", outside.path());                                     // a directory link out (absolute)
    root.link("flink", outside.at("secret"));                               // a file link out
    root.link("rel", "../" + fs::path(outside.path()).filename().string()); // relative, out
    root.link("dangling", outside.at("new.txt"));                           // dangling, out
    root.link("src/up", "../..");                                           // relative, to the root's parent
    root.link("inlink", root.at("src/deep"));                               // inside, and fine
    root.link("loop1", root.at("loop2"));
    root.link("loop2", root.at("loop1"));
  }

  /// Every entry of the outside directory, recursively.
  std::set<std::string> outside_entries() const {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(outside.path())) out.insert(e.path().string());
    return out;
  }
};

/// What many editors' fs/write_text_file handlers do: create the parent directories, then write,
/// following links. With `normalise`, the path is normalised textually first (Node's
/// path.resolve).
void naive_write(std::string path, bool normalise) {
  if (normalise) path = examples::lexically_normal_path(path);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream(path, std::ios::binary) << "pwned";
}

// ---- the escapes of the review (each allowed before the fix) --------------------------------------

TEST(policy_confinement, a_missing_directory_then_dotdot_then_a_link_out_is_denied) {
  hostile_tree t;
  const auto path = t.root.at("newdir/../dlink/pwned.txt");
  EXPECT_EQ(resolve_path(path), t.outside.at("pwned.txt"));
  EXPECT_EQ(confinement_error(t.roots, path),
            "resolves to " + t.outside.at("pwned.txt") + ", outside the allowed roots");
  // What a naive editor would have done with it: the file lands outside.
  naive_write(path, false);
  EXPECT_TRUE(fs::exists(t.outside.at("pwned.txt")));
}

TEST(policy_confinement, a_missing_component_then_dotdot_then_a_file_link_out_is_denied) {
  hostile_tree t;
  EXPECT_NE(confinement_error(t.roots, t.root.at("nonexistent/../flink")), std::nullopt);
  EXPECT_NE(confinement_error(t.roots, t.root.at("a/b/c/../../../flink")), std::nullopt);
  EXPECT_NE(confinement_error(t.roots, t.root.at("nonexistent/../dangling")), std::nullopt);
  EXPECT_NE(confinement_error(t.roots, t.root.at("nonexistent/./../rel/secret")), std::nullopt);
  EXPECT_NE(confinement_error(t.roots, t.root.at("x/../src/up/escape")), std::nullopt);
}

TEST(policy_confinement, a_permission_rule_by_paths_does_not_match_the_escape) {
  hostile_tree t;
  auto o = examples::parse_policy_config(
      R"({"roots":[")" + t.root.path() + R"("],"permissions":[{"paths":["**"],"action":"allow"}]})", "p.json");
  ASSERT_TRUE(o) << o.error().message;
  request_permission_request r;
  r.session_id = "s1";
  r.tool_call.tool_call_id = "c1";
  r.tool_call.title = "Write";
  r.options.push_back({"allow", "Allow", permission_option_kind::allow_once, {}, {}});
  r.tool_call.locations.emplace();
  r.tool_call.locations->push_back({t.root.at("src/a.txt"), {}, {}, {}});
  EXPECT_EQ(examples::decide_permission(*o, r).action, examples::policy_action::allow);
  r.tool_call.locations->push_back({t.root.at("newdir/../dlink/pwned.txt"), {}, {}, {}});
  const auto v = examples::decide_permission(*o, r);
  EXPECT_EQ(v.action, examples::policy_action::ask);
  EXPECT_EQ(v.reason, "no rule");
}

TEST(policy_confinement, the_normalised_form_is_resolved_too) {
  // Kernel resolution of the raw path stays inside (src/deep/../dlink does not exist), but an
  // editor that normalises first opens ROOT/dlink/x: outside.
  hostile_tree t;
  t.root.link("hop", t.root.at("src/deep"));
  const auto path = t.root.at("hop/../dlink/x");
  EXPECT_EQ(resolve_path(path), t.root.at("src/dlink/x"));
  EXPECT_NE(confinement_error(t.roots, path), std::nullopt);
}

TEST(policy_confinement, a_nul_in_the_path_is_denied) {
  hostile_tree t;
  const std::string path = t.root.at("src/a.txt") + std::string(1, '\0') + "/../../../etc/passwd";
  EXPECT_EQ(confinement_error(t.roots, path), "contains a NUL character");
  EXPECT_EQ(confinement_error(t.roots, t.root.at("ok") + std::string(1, '\0')), "contains a NUL character");
  EXPECT_EQ(resolve_path(path), std::nullopt);
}

TEST(policy_confinement, unprovable_paths_are_denied) {
  hostile_tree t;
  // A file used as a directory: the kernel would say ENOTDIR; nothing can be proved.
  EXPECT_EQ(confinement_error(t.roots, t.root.at("src/a.txt/x/../../b")),
            "cannot resolve the path (symlink loop, not a directory, or no permission)");
  EXPECT_NE(confinement_error(t.roots, t.root.at(std::string(PATH_MAX, 'a'))), std::nullopt);
}

// ---- what already held, kept held -----------------------------------------------------------------

TEST(policy_confinement, traversal_and_links_of_every_kind_stay_denied) {
  hostile_tree t;
  for (const std::string rel :
       {"../x", "src/../../x", "src/deep/../../../x", "dlink/secret", "dlink", "flink", "rel/secret", "dangling",
        "src/up/x", "loop1/x", "loop1", "dlink/sub/../../x", "inlink/../../../x"})
    EXPECT_NE(confinement_error(t.roots, t.root.at(rel)), std::nullopt) << rel;
  EXPECT_EQ(confinement_error(t.roots, t.root.at("loop1/x")),
            "cannot resolve the path (symlink loop, not a directory, or no permission)");
  EXPECT_NE(confinement_error(t.roots, t.root.path() + "x/a"), std::nullopt) << "a sibling prefix";
  EXPECT_EQ(confinement_error(t.roots, "relative/a"), "not an absolute path");
  EXPECT_EQ(confinement_error(t.roots, ""), "not an absolute path");
}

TEST(policy_confinement, ordinary_paths_stay_allowed) {
  hostile_tree t;
  for (const std::string rel : {"src/a.txt", "src/./deep/../a.txt", "new/dir/file.txt", "inlink/x", "inlink/../a.txt",
                                "new/../src/a.txt", "", "src/deep/new/../../a.txt"})
    EXPECT_EQ(confinement_error(t.roots, t.root.at(rel)), std::nullopt) << rel;
}

// Every path the policy allows, written by a naive editor (both kinds), creates nothing outside.
TEST(policy_confinement, whatever_is_allowed_lands_inside_when_a_naive_editor_writes_it) {
  const std::vector<std::string> parts{"newdir", "..", ".",      "dlink", "flink", "rel",  "dangling",
                                       "src",    "up", "inlink", "deep",  "x.txt", "loop1"};
  // Every path of up to three parts over the alphabet (2380 paths), each judged and, when allowed,
  // written: the tree grows as the editor creates directories, as it would.
  std::vector<std::string> paths{""};
  for (int depth = 0; depth < 3; ++depth) {
    std::vector<std::string> longer;
    for (const auto& p : paths)
      for (const auto& part : parts) longer.push_back(p + "/" + part);
    paths.insert(paths.end(), longer.begin(), longer.end());
  }
  std::size_t allowed = 0;
  hostile_tree t;
  const auto before = t.outside_entries();
  for (const auto& rel : paths) {
    const auto path = t.root.path() + rel + "/pwned.txt";
    if (confinement_error(t.roots, path)) continue;
    ++allowed;
    naive_write(path, false);
    naive_write(path, true);
    ASSERT_EQ(t.outside_entries(), before) << path;
  }
  EXPECT_GT(allowed, 100u);
}

} // namespace
} // namespace acp::security_test
