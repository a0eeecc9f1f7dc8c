#include <acp/conductor/component.hpp>

#include <acp/net/url.hpp>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>

namespace acp::conductor {
namespace {

using boost::system::in_place_error;

template <typename T> boost::system::result<T, std::string> fail(std::string message) {
  return {in_place_error, std::move(message)};
}

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_name_start(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) noexcept { return is_name_start(c) || (c >= '0' && c <= '9'); }

// A word plus the offset of its first quoted or escaped character: an assignment needs its
// NAME= part unquoted, as in a shell (`'A=b' cmd` runs the command `A=b`).
struct word {
  std::string text;
  std::size_t first_quoted = std::string::npos;
};

std::string position(std::size_t offset) { return "position " + std::to_string(offset + 1); }

boost::system::result<std::vector<word>, std::string> split(std::string_view s) {
  std::vector<word> words;
  std::optional<word> cur;
  auto mark_quoted = [&] {
    if (!cur) cur.emplace();
    if (cur->first_quoted == std::string::npos) cur->first_quoted = cur->text.size();
  };
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_blank(c)) {
      if (cur) {
        words.push_back(std::move(*cur));
        cur.reset();
      }
      ++i;
      continue;
    }
    if (c == '\'') {
      const std::size_t close = s.find('\'', i + 1);
      if (close == std::string_view::npos)
        return fail<std::vector<word>>("unterminated single quote (opened at " + position(i) + ")");
      mark_quoted();
      cur->text.append(s.substr(i + 1, close - i - 1));
      i = close + 1;
      continue;
    }
    if (c == '"') {
      const std::size_t open = i;
      mark_quoted();
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size()) {
          const char e = s[i + 1];
          if (e == '\\' || e == '"' || e == '$' || e == '`') {
            cur->text.push_back(e);
            i += 2;
            continue;
          }
          if (e == '\n') { // line continuation
            i += 2;
            continue;
          }
        }
        cur->text.push_back(d);
        ++i;
      }
      if (!closed) return fail<std::vector<word>>("unterminated double quote (opened at " + position(open) + ")");
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return fail<std::vector<word>>("dangling backslash at end of input (" + position(i) + ")");
      if (s[i + 1] == '\n') { // line continuation
        i += 2;
        continue;
      }
      mark_quoted();
      cur->text.push_back(s[i + 1]);
      i += 2;
      continue;
    }
    if (!cur) cur.emplace();
    cur->text.push_back(c);
    ++i;
  }
  if (cur) words.push_back(std::move(*cur));
  return words;
}

// NAME=value with NAME unquoted and well formed.
std::optional<std::pair<std::string, std::string>> as_assignment(const word& w) {
  const std::size_t eq = w.text.find('=');
  if (eq == std::string::npos || eq == 0 || eq >= w.first_quoted) return std::nullopt;
  if (!is_name_start(w.text[0])) return std::nullopt;
  for (std::size_t k = 1; k < eq; ++k)
    if (!is_name_char(w.text[k])) return std::nullopt;
  return std::pair{w.text.substr(0, eq), w.text.substr(eq + 1)};
}

bool is_env_name(std::string_view n) {
  if (n.empty() || !is_name_start(n[0])) return false;
  for (char c : n)
    if (!is_name_char(c)) return false;
  return true;
}

/// A key as it may appear in a one-line error: plain when it is printable ASCII, else as a
/// JSON string (so newlines and terminal escapes in a key cannot break the line).
std::string printable_key(std::string_view key) {
  const bool plain = std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"'; });
  return plain ? std::string(key) : boost::json::serialize(boost::json::value(boost::json::string(key)));
}

/// The older form's `env`: [{"name": "NAME", "value": "..."}, ...], appended in order.
boost::system::result<void, std::string> parse_env_array(const boost::json::array& entries, component_spec& spec) {
  std::size_t idx = 0;
  for (const auto& entry : entries) {
    const std::string at = "env[" + std::to_string(idx++) + "]";
    const auto* obj = entry.if_object();
    if (!obj) return {in_place_error, at + ": expected object {\"name\", \"value\"}"};
    const boost::json::string* name = nullptr;
    const boost::json::string* value = nullptr;
    for (const auto& [key, field] : *obj) {
      if (key == "name" || key == "value") {
        if (!field.is_string()) return {in_place_error, at + "." + std::string(key) + ": expected string"};
        (key == "name" ? name : value) = &field.get_string();
      } else {
        return {in_place_error, at + "." + printable_key(key) + ": unknown key (expected name, value)"};
      }
    }
    if (!name) return {in_place_error, at + ".name: missing"};
    if (!value) return {in_place_error, at + ".value: missing"};
    if (!is_env_name(*name))
      return {in_place_error, at + ".name: " + printable_key(*name) + " is not a valid environment variable name"};
    spec.env.emplace_back(std::string(*name), std::string(*value));
  }
  return {};
}

boost::system::result<component_spec, std::string> parse_json_spec(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return fail<component_spec>("invalid JSON component spec: " + ec.message());
  if (!v.is_object()) return fail<component_spec>("JSON component spec: expected object");
  component_spec spec;
  bool have_command = false;
  bool have_type = false;
  for (const auto& [key, val] : v.get_object()) {
    const std::string k(key);
    if (k == "url") {
      if (!val.is_string()) return fail<component_spec>("url: expected string");
      auto u = net::parse_url(val.get_string());
      if (!u) return fail<component_spec>("url: " + u.error());
      spec.address = u->text();
    } else if (k == "command") {
      if (!val.is_string()) return fail<component_spec>("command: expected string");
      spec.command = std::string(val.get_string());
      if (spec.command.empty()) return fail<component_spec>("command: must not be empty");
      have_command = true;
    } else if (k == "args") {
      if (!val.is_array()) return fail<component_spec>("args: expected array of strings");
      std::size_t idx = 0;
      for (const auto& a : val.get_array()) {
        if (!a.is_string()) return fail<component_spec>("args[" + std::to_string(idx) + "]: expected string");
        spec.args.emplace_back(a.get_string());
        ++idx;
      }
    } else if (k == "env") {
      if (val.is_array()) {
        auto r = parse_env_array(val.get_array(), spec);
        if (!r) return fail<component_spec>(std::move(r.error()));
        continue;
      }
      if (!val.is_object())
        return fail<component_spec>("env: expected object of strings (or array of {\"name\", \"value\"})");
      for (const auto& [name, e] : val.get_object()) {
        const std::string n(name);
        if (!is_env_name(n))
          return fail<component_spec>("env." + printable_key(n) + ": not a valid environment variable name");
        if (!e.is_string()) return fail<component_spec>("env." + n + ": expected string");
        spec.env.emplace_back(n, std::string(e.get_string()));
      }
    } else if (k == "type") {
      // The older form (an MCP server's stdio entry): only `stdio` names something we can run.
      if (!val.is_string()) return fail<component_spec>("type: expected string");
      if (val.get_string() != "stdio")
        return fail<component_spec>("type: `" + printable_key(val.get_string()) +
                                    "` is not supported (only \"stdio\" components can be run)");
      have_type = true;
    } else if (k == "name") {
      if (!val.is_string()) return fail<component_spec>("name: expected string");
      spec.name = std::string(val.get_string());
      if (spec.name.empty()) return fail<component_spec>("name: must not be empty");
    } else {
      return fail<component_spec>(printable_key(k) + ": unknown key (expected command, args, env, name, type, url)");
    }
  }
  if (spec.remote()) {
    if (have_command || have_type || !spec.args.empty() || !spec.env.empty())
      return fail<component_spec>("url: a remote component has no command, args, env or type");
    if (spec.name.empty()) spec.name = spec.address;
    return spec;
  }
  if (!have_command) return fail<component_spec>("command: missing (or url, for a remote component)");
  if (spec.name.empty()) spec.name = default_component_name(spec.command);
  return spec;
}

} // namespace

std::string default_component_name(std::string_view command) {
  while (command.size() > 1 && command.back() == '/') command.remove_suffix(1);
  const std::size_t slash = command.rfind('/');
  if (slash != std::string_view::npos && command.size() > 1) command.remove_prefix(slash + 1);
  return std::string(command);
}

boost::system::result<std::vector<std::string>, std::string> split_words(std::string_view text) {
  auto words = split(text);
  if (!words) return fail<std::vector<std::string>>(std::move(words.error()));
  std::vector<std::string> out;
  out.reserve(words->size());
  for (auto& w : *words) out.push_back(std::move(w.text));
  return out;
}

boost::system::result<component_spec, std::string> parse_component(std::string_view text) {
  std::size_t first = 0;
  while (first < text.size() && is_blank(text[first])) ++first;
  if (first == text.size()) return fail<component_spec>("empty component (expected a command)");
  if (text[first] == '{') return parse_json_spec(text);
  if (net::looks_like_url(text.substr(first))) {
    auto end = text.size();
    while (end > first && is_blank(text[end - 1])) --end;
    auto u = net::parse_url(text.substr(first, end - first));
    if (!u) return fail<component_spec>(std::move(u.error()));
    component_spec spec;
    spec.address = u->text();
    spec.name = spec.address;
    return spec;
  }

  auto words = split(text);
  if (!words) return fail<component_spec>(std::move(words.error()));
  component_spec spec;
  std::size_t i = 0;
  for (; i < words->size(); ++i) {
    auto assignment = as_assignment((*words)[i]);
    if (!assignment) break;
    spec.env.push_back(std::move(*assignment));
  }
  if (i == words->size()) return fail<component_spec>("no command after the environment assignments");
  spec.command = std::move((*words)[i].text);
  if (spec.command.empty()) return fail<component_spec>("empty command name");
  for (++i; i < words->size(); ++i) spec.args.push_back(std::move((*words)[i].text));
  spec.name = default_component_name(spec.command);
  return spec;
}

} // namespace acp::conductor
