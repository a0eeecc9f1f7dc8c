#include "context.hpp"

#include <acp/sdk/log.hpp>

#include <boost/json/parse.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {
namespace json = boost::json;
namespace fs = std::filesystem;

void throw_exception_from_error(const context_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}

namespace {

// Files are inlined whole; past this size a typo (a log, an image) would flood the prompt.
constexpr std::size_t max_file_bytes = 8u << 20;

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

/// The file's text, or why it cannot be used (an errno message or our own reason).
boost::system::result<std::string, std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return {boost::system::in_place_error, std::strerror(errno)};
  struct stat st {};
  std::string text, why;
  if (::fstat(fd, &st) != 0)
    why = std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    why = "not a regular file"; // a FIFO or /dev/zero would never end
  else if (static_cast<std::size_t>(st.st_size) > max_file_bytes)
    why = "larger than 8 MiB";
  char buf[65536];
  while (why.empty()) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      why = std::strerror(errno);
    else
      text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (why.empty() && !valid_utf8(text)) why = "not UTF-8 text"; // JSON strings must be UTF-8
  if (!why.empty()) return {boost::system::in_place_error, std::move(why)};
  return {boost::system::in_place_value, std::move(text)};
}

context_result<std::vector<std::string>> string_array(const json::value& v, const std::string& where) {
  const auto* a = v.if_array();
  std::vector<std::string> out;
  for (std::size_t i = 0; a && i < a->size(); ++i) {
    if (!(*a)[i].is_string())
      a = nullptr;
    else
      out.emplace_back((*a)[i].get_string());
  }
  if (!a) return context_error{where + " must be an array of strings"};
  return out;
}

} // namespace

context_result<context_options> load_context_config(const std::string& path) {
  const std::string where = "config " + path + ": ";
  std::ifstream in(path, std::ios::binary);
  if (!in) return context_error{where + "cannot read: " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const json::value v = json::parse(text.str(), ec);
  if (ec) return context_error{where + "invalid JSON: " + ec.message()};
  if (!v.is_object()) return context_error{where + "expected a JSON object"};

  context_options out;
  const fs::path base = fs::absolute(fs::path(path)).parent_path();
  for (const auto& [key, value] : v.get_object()) {
    if (key == "text") {
      auto texts = string_array(value, where + "\"text\"");
      if (!texts) return texts.error();
      out.texts = std::move(*texts);
    } else if (key == "files") {
      auto files = string_array(value, where + "\"files\"");
      if (!files) return files.error();
      for (auto& f : *files) out.files.push_back((base / f).lexically_normal().string());
    } else if (key == "asResource") {
      if (!value.is_bool()) return context_error{where + "\"asResource\" must be true or false"};
      out.as_resource = value.get_bool();
    } else if (key == "when") {
      const auto* s = value.if_string();
      if (!s || (*s != "first" && *s != "every"))
        return context_error{where + "\"when\" must be \"first\" or \"every\""};
      out.when = *s == "first" ? context_when::first : context_when::every;
    } else {
      return context_error{where + "unknown key \"" + std::string(key) + "\" (known: text, files, asResource, when)"};
    }
  }
  return out;
}

context_result<void> prepare_context_options(context_options& options) {
  for (auto& f : options.files) {
    f = fs::absolute(fs::path(f)).lexically_normal().string();
    auto text = read_file(f);
    if (!text) return context_error{"cannot read context file " + f + ": " + text.error()};
  }
  return {};
}

json::array context_injector::blocks() const {
  json::array out;
  for (const auto& t : options_.texts) out.push_back(json::object{{"type", "text"}, {"text", t}});
  for (const auto& f : options_.files) {
    auto text = read_file(f);
    if (!text) {
      log::warn("context", "cannot read " + f + ": " + text.error());
      out.push_back(json::object{{"type", "text"},
                                 {"text", "[acp-context-proxy: could not read " + f + ": " + text.error() + "]"}});
    } else if (options_.as_resource) {
      json::object resource{{"uri", file_uri(f)}, {"mimeType", guess_mime_type(f)}, {"text", std::move(*text)}};
      out.push_back(json::object{{"type", "resource"}, {"resource", std::move(resource)}});
    } else {
      out.push_back(json::object{{"type", "text"}, {"text", "File " + f + ":\n" + *text}});
    }
  }
  return out;
}

bool context_injector::apply(json::value& params) {
  auto* p = params.if_object();
  auto* prompt = p ? p->if_contains("prompt") : nullptr;
  if (!prompt || !prompt->is_array()) return false; // malformed: the agent will say so
  if (options_.when == context_when::first) {
    const auto* sid = p->if_contains("sessionId");
    const std::string session = sid && sid->is_string() ? std::string(sid->get_string()) : std::string();
    if (!seen_sessions_.insert(session).second) return false;
  }
  auto& blocks_out = prompt->get_array();
  auto context = blocks();
  blocks_out.insert(blocks_out.begin(), context.begin(), context.end());
  return true;
}

proxy_builder make_context_proxy(context_options options) {
  proxy_builder proxy;
  auto injector = std::make_shared<context_injector>(std::move(options));
  // Raw handler: edit the prompt in place and return `no`, so the default forwarding sends the
  // edited message on and relays the agent's response to the client.
  proxy.on_receive_request_from(acp::client, "session/prompt", [injector](jsonrpc::message& msg, responder&, context&) {
    if (auto* params = msg.params()) injector->apply(*params);
    return handled::no;
  });
  return proxy;
}

std::string_view guess_mime_type(std::string_view path) noexcept {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".md", "text/markdown"},
      {".markdown", "text/markdown"},
      {".txt", "text/plain"},
      {".json", "application/json"},
      {".yaml", "application/yaml"},
      {".yml", "application/yaml"},
      {".toml", "application/toml"},
      {".xml", "application/xml"},
      {".html", "text/html"},
      {".css", "text/css"},
      {".csv", "text/csv"},
      {".js", "text/javascript"},
      {".ts", "text/x-typescript"},
      {".py", "text/x-python"},
      {".c", "text/x-c"},
      {".h", "text/x-c"},
      {".cpp", "text/x-c++"},
      {".cc", "text/x-c++"},
      {".hpp", "text/x-c++"},
      {".rs", "text/x-rust"},
      {".go", "text/x-go"},
      {".java", "text/x-java"},
      {".sh", "application/x-sh"},
      {".cmake", "text/x-cmake"},
  };
  const auto slash = path.rfind('/');
  const auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "text/plain";
  const auto ext = name.substr(dot);
  for (const auto& [e, type] : types)
    if (ext.size() == e.size() && std::equal(ext.begin(), ext.end(), e.begin(), [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
        }))
      return type;
  return "text/plain";
}

std::string file_uri(std::string_view absolute_path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (const char ch : absolute_path) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '/') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

} // namespace acp::examples
