// The policy proxy's globs and path confinement (see policy.hpp).
#include "policy.hpp"

#include <array>
#include <bitset>
#include <cerrno>
#include <climits>
#include <deque>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {

// ---- globs --------------------------------------------------------------------------------------

namespace {

/// A glob compiled to tokens and run as a set of states over the text, one character at a time:
/// O(tokens × text) time, O(tokens) memory, whatever the pattern (no backtracking, no memo).
class glob_program {
public:
  glob_program(std::string_view p, bool path_mode) : path_(path_mode) {
    for (std::size_t i = 0; i < p.size();) {
      token t;
      const char c = p[i];
      if (c == '*') {
        if (path_mode && i + 1 < p.size() && p[i + 1] == '*') {
          t.kind = op::globstar;
          i += 2;
          t.then_slash = i < p.size() && p[i] == '/'; // "/**/" also matches a single '/'
        } else {
          t.kind = op::star;
          ++i;
        }
      } else if (c == '?') {
        t.kind = op::one;
        ++i;
      } else if (c == '[' && parse_class(p, i, t)) {
        t.kind = op::set;
      } else {
        if (c == '\\' && i + 1 < p.size()) ++i;
        t.kind = op::set;
        t.chars.set(static_cast<unsigned char>(p[i]));
        t.literal_slash = p[i] == '/';
        ++i;
      }
      tokens_.push_back(t);
    }
  }

  bool match(std::string_view text) const {
    const std::size_t n = tokens_.size();
    std::vector<char> now(n + 1, 0), next(n + 1, 0);
    now[0] = 1;
    close(now);
    for (const char ch : text) {
      std::fill(next.begin(), next.end(), 0);
      const bool sep = path_ && ch == '/';
      bool any = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (!now[i]) continue;
        const auto& t = tokens_[i];
        bool stay = false, advance = false;
        switch (t.kind) {
        case op::star:
          stay = !sep;
          break;
        case op::globstar:
          stay = true;
          break;
        case op::one:
          advance = !sep;
          break;
        case op::set:
          advance = t.chars.test(static_cast<unsigned char>(ch)) && (!sep || t.literal_slash);
          break;
        }
        if (stay) next[i] = 1;
        if (advance) next[i + 1] = 1;
        any = any || stay || advance;
      }
      if (!any) return false;
      close(next);
      now.swap(next);
    }
    return now[n] != 0;
  }

private:
  enum class op { star, globstar, one, set };
  struct token {
    op kind = op::set;
    std::bitset<256> chars;     // for `set`
    bool literal_slash = false; // a literal '/' (a class never matches '/' in path mode)
    bool then_slash = false;    // a globstar followed by '/'
  };

  /// Stars match the empty text: their states also hold the next one (and "**/" the one after).
  void close(std::vector<char>& states) const {
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (!states[i]) continue;
      const auto& t = tokens_[i];
      if (t.kind == op::star || t.kind == op::globstar) states[i + 1] = 1;
      if (t.kind == op::globstar && t.then_slash) states[i + 2] = 1;
    }
  }

  /// `[abc]`, `[!a-z]`, `[]x]`: true with `t.chars` set and `i` past the ']'; false when the
  /// class has no closing ']' (then '[' is a literal).
  static bool parse_class(std::string_view p, std::size_t& i, token& t) {
    std::size_t j = i + 1;
    const bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
    if (negate) ++j;
    std::bitset<256> set;
    for (bool first = true; j < p.size(); first = false) {
      if (p[j] == ']' && !first) {
        t.chars = negate ? ~set : set; // never a separator in path mode (see match)
        i = j + 1;
        return true;
      }
      const auto lo = static_cast<unsigned char>(p[j]);
      if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
        for (unsigned c = lo; c <= static_cast<unsigned char>(p[j + 2]); ++c) set.set(c);
        j += 3;
      } else {
        set.set(lo);
        ++j;
      }
    }
    return false;
  }

  std::vector<token> tokens_;
  bool path_;
};

} // namespace

bool glob_match(std::string_view pattern, std::string_view text, bool path_mode) {
  return glob_program(pattern, path_mode).match(text);
}

// ---- paths --------------------------------------------------------------------------------------

namespace {

std::vector<std::string> components(std::string_view p) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < p.size();) {
    const auto j = std::min(p.find('/', i), p.size());
    if (j > i) parts.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool inside(const std::string& root, const std::string& path) {
  return root == "/" || path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

} // namespace

std::string lexically_normal_path(std::string_view path) {
  std::vector<std::string> out;
  for (auto& part : components(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(part));
  }
  std::string s;
  for (const auto& part : out) s += "/" + part;
  return s.empty() ? "/" : s;
}

std::optional<std::string> resolve_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos) return std::nullopt;
  std::deque<std::string> todo;
  auto push_front = [&todo](std::string_view p) {
    auto parts = components(p);
    todo.insert(todo.begin(), parts.begin(), parts.end());
  };
  push_front(path);
  std::string current;     // "" is "/"; every component up to the missing ones is resolved
  std::size_t missing = 0; // trailing components of `current` that do not exist (yet)
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      // A resolved directory's parent is its lexical parent, and so is a missing one's (mkdir -p
      // would create it as a plain directory): after enough `..`, resolution resumes.
      current.erase(current.rfind('/') == std::string::npos ? 0 : current.rfind('/'));
      if (missing > 0) --missing;
      continue;
    }
    std::string candidate = current + "/" + part;
    if (missing > 0) {
      ++missing;
      current = std::move(candidate);
      continue;
    }
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) {
      if (errno != ENOENT) return std::nullopt; // not a directory, no permission, too long: unprovable
      missing = 1;
      current = std::move(candidate);
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      current = std::move(candidate);
      continue;
    }
    if (++links > 40) return std::nullopt; // ELOOP, as the kernel would say
    std::array<char, PATH_MAX> target{};
    const auto n = ::readlink(candidate.c_str(), target.data(), target.size());
    if (n <= 0 || static_cast<std::size_t>(n) >= target.size()) return std::nullopt;
    const std::string_view t(target.data(), static_cast<std::size_t>(n));
    if (t.front() == '/') current.clear();
    push_front(t);
  }
  return current.empty() ? std::string("/") : current;
}

std::vector<std::string> path_forms(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos) return {};
  auto written = lexically_normal_path(path);
  auto resolved = resolve_path(path);
  auto resolved_written = resolve_path(written);
  if (!resolved || !resolved_written) return {};
  std::vector<std::string> forms{std::move(written)};
  for (auto* f : {&*resolved, &*resolved_written})
    if (std::find(forms.begin(), forms.end(), *f) == forms.end()) forms.push_back(std::move(*f));
  return forms;
}

std::optional<std::string> confinement_error(const std::vector<std::string>& roots, std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return "contains a NUL character";
  if (path.empty() || path.front() != '/') return "not an absolute path";
  if (path.size() >= PATH_MAX) return "longer than " + std::to_string(PATH_MAX - 1) + " bytes";
  const auto forms = path_forms(path);
  if (forms.empty()) return "cannot resolve the path (symlink loop, not a directory, or no permission)";
  for (const auto& form : forms) {
    bool ok = false;
    for (const auto& root : roots) ok = ok || inside(root, form);
    if (!ok)
      return form == forms.front() ? std::string("outside the allowed roots")
                                   : "resolves to " + form + ", outside the allowed roots";
  }
  return std::nullopt;
}

} // namespace acp::examples
