#include "support.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <cstdlib>

namespace acp::security_test {
namespace fs = std::filesystem;

temp_tree::temp_tree() {
  std::string pattern = (fs::temp_directory_path() / "acp-security-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = fs::canonical(pattern).string();
}

temp_tree::~temp_tree() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string temp_tree::at(const std::string& relative) const { return path_ + "/" + relative; }

std::string temp_tree::file(const std::string& relative, const std::string& content) const {
  const auto p = fs::path(at(relative));
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

std::string temp_tree::dir(const std::string& relative) const {
  fs::create_directories(at(relative));
  return at(relative);
}

std::string temp_tree::link(const std::string& relative, const std::string& target) const {
  const auto p = fs::path(at(relative));
  fs::create_directories(p.parent_path());
  fs::create_symlink(target, p);
  return p.string();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace acp::security_test
