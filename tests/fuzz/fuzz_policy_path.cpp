// fuzz_policy_path: acp-policy-proxy's path decision (confinement_error) against a real directory
// tree with symlinks of every kind, built once in a temporary directory.
//
// Input: each byte picks one path component from an alphabet of the tree's names, `..`, `.`, a
// new name, and an empty component (a doubled '/'); the path is ROOT followed by them.
// Checks: whenever the policy allows a path, doing what a naive editor does — `mkdir` of every
// prefix of the path as written (`mkdir -p`), then open with O_CREAT (following links) — creates
// nothing outside ROOT, and the path then resolves (realpath) inside ROOT, to what resolve_path
// predicted; the same for the path normalised textually first (as Node's path.resolve does).
// Everything created is removed again, so every input sees the same tree; the tree goes at exit
// (after a failed check it stays, for a look).
#include "fuzz_check.hpp"
#include "policy.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

struct tree {
  std::string base, root, outside;

  tree() {
    std::string pattern = "/tmp/acp-fuzz-policy-XXXXXX";
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
    std::array<char, PATH_MAX> real{};
    FUZZ_CHECK(::realpath(pattern.c_str(), real.data()) != nullptr, "realpath of the base");
    base = real.data();
    root = base + "/root";
    outside = base + "/out";
    for (const auto& d : {root, outside, outside + "/sub", root + "/src", root + "/src/deep"})
      FUZZ_CHECK(::mkdir(d.c_str(), 0700) == 0, d);
    file(root + "/src/a.txt");
    file(outside + "/secret");
    link(outside, root + "/dlink");             // absolute, to a directory outside
    link(outside + "/secret", root + "/flink"); // absolute, to a file outside
    link("../out", root + "/rel");              // relative, outside
    link(outside + "/new.txt", root + "/dangling");
    link("../out/newdir", root + "/ddir");      // dangling, to a directory to be
    link("../..", root + "/src/up");            // to ROOT's parent
    link(root + "/src/deep", root + "/inlink"); // inside
    link("../../dlink", root + "/src/deep/back");
    link(".", root + "/dot");
    link(root + "/loop2", root + "/loop1");
    link(root + "/loop1", root + "/loop2");
  }
  ~tree() {
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
  }
  tree(const tree&) = delete;
  tree& operator=(const tree&) = delete;

  static void file(const std::string& p) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT, 0600);
    FUZZ_CHECK(fd >= 0, p);
    ::close(fd);
  }
  static void link(const std::string& target, const std::string& at) {
    FUZZ_CHECK(::symlink(target.c_str(), at.c_str()) == 0, at);
  }
  bool inside(const std::string& p) const { return p == root || p.rfind(root + "/", 0) == 0; }
};

const tree& the_tree() {
  static const tree t;
  return t;
}

constexpr std::array<std::string_view, 20> alphabet = {"src",  "deep", "a.txt",  "dlink", "flink", "rel",   "dangling",
                                                       "ddir", "up",   "inlink", "back",  "dot",   "loop1", "new",
                                                       "x",    "sub",  "secret", "..",    "..",    "."};

std::optional<std::string> real(const std::string& p) {
  std::array<char, PATH_MAX> out{};
  if (::realpath(p.c_str(), out.data()) == nullptr) return std::nullopt;
  return std::string(out.data());
}

/// The naive editor on `path`; undoes what it created. Aborts when anything lands outside.
void naive_editor(const tree& t, const std::string& path, const std::string& original) {
  std::vector<std::string> made;
  for (std::size_t slash = t.root.size() + 1; (slash = path.find('/', slash)) != std::string::npos; ++slash) {
    const auto prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0) continue;
    made.push_back(prefix);
    const auto r = real(prefix);
    FUZZ_CHECK(r && t.inside(*r), "mkdir -p of " + original + " created " + r.value_or(prefix));
  }
  const bool existed = real(path).has_value();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  if (const auto r = real(path)) {
    FUZZ_CHECK(t.inside(*r), "allowed " + original + " resolves to " + *r);
    const auto predicted = acp::examples::resolve_path(path);
    FUZZ_CHECK(predicted == *r, "resolve_path(" + path + ") = " + predicted.value_or("nullopt") + ", kernel: " + *r);
    if (!existed) ::unlink(r->c_str());
  }
  for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& t = the_tree();
  if (size > 24) return 0;
  std::string path = t.root;
  for (std::size_t i = 0; i < size; ++i) {
    const auto b = data[i];
    path += b >= 240 ? "/" : "/" + std::string(alphabet[b % alphabet.size()]); // >= 240: "//"
  }
  const std::vector<std::string> roots{t.root};
  if (acp::examples::confinement_error(roots, path)) return 0;
  naive_editor(t, path, path);
  naive_editor(t, acp::examples::lexically_normal_path(path), path);
  return 0;
}
