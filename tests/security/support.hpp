#pragma once
// Shared by the adversarial suite: a private temporary directory tree with files, directories and
// symlinks of every kind, removed with everything in it when the test ends.
#include <string>

namespace acp::security_test {

class temp_tree {
public:
  temp_tree();
  ~temp_tree();
  temp_tree(const temp_tree&) = delete;
  temp_tree& operator=(const temp_tree&) = delete;

  /// The tree's absolute, symlink-free path.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// `path()/relative`.
  [[nodiscard]] std::string at(const std::string& relative) const;
  /// Creates `relative` (and its parent directories) holding `content`; returns its path.
  std::string file(const std::string& relative, const std::string& content = "") const;
  /// Creates the directory `relative` and its parents; returns its path.
  std::string dir(const std::string& relative) const;
  /// Creates the symlink `relative` pointing at `target` (taken as written: absolute or relative).
  std::string link(const std::string& relative, const std::string& target) const;

private:
  std::string path_;
};

/// The whole content of `path`, or "" when it cannot be read.
[[nodiscard]] std::string read_all(const std::string& path);

} // namespace acp::security_test
