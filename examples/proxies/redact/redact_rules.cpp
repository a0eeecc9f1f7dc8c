#include "redact_rules.hpp"

#include "redact_scan.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace acp::examples {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct builtin {
  const char* name;
  redactor::scanner::kind how;
  const char* regex; // RE2 syntax; none for the rules written in code
  int group;
  const char* not_followed_by; // RE2 has no lookahead: what may not follow the match, checked in code
};

// `group` is what gets replaced: the value, not the key name. The rules written in code (key
// bodies, high-entropy runs) come last among the builtins, so a named rule wins a tie.
const std::vector<builtin>& builtins() {
  using k = redactor::scanner::kind;
  static const std::vector<builtin> table = {
      {"aws-access-key-id", k::regex, R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)", 0, ""},
      {"aws-secret-access-key", k::regex, R"((?i)aws_secret_access_key["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+=]{40}))",
       1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+="},
      {"github-token", k::regex, R"(\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b)", 0, ""},
      {"slack-token", k::regex, R"(\bxox[baprs]-[A-Za-z0-9-]{10,})", 0, ""},
      // Only the header is a regex; the block runs to its END line (see redact_scan.cpp).
      {"private-key", k::private_key_block, R"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)", 0, ""},
      {"bearer-token", k::regex, R"((?i)\bbearer[ \t]+([A-Za-z0-9\-._~+/]{16,}=*))", 1, ""},
      // No `\b` before "api": OPENAI_API_KEY=… must match, and `_` is a word character.
      {"api-key", k::regex, R"((?i)api[_-]?key["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9_\-./+=]{8,}))", 1, ""},
      {"private-key-body", k::private_key_body, nullptr, 0, ""},
      {"high-entropy-token", k::entropy, nullptr, 0, ""},
  };
  return table;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = path + ": is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  out = std::move(buf).str();
  return true;
}

std::string with_name(std::string_view replacement, std::string_view name) {
  std::string out(replacement);
  for (auto pos = out.find("{name}"); pos != std::string::npos; pos = out.find("{name}", pos + name.size()))
    out.replace(pos, 6, name);
  return out;
}

// The config file's settings, merged into a copy of the options.
bool merge_config(redact_options& o, std::string& replacement, std::string& error) {
  std::string text;
  if (!read_file(o.config_file, text, error)) {
    error = "--config " + error;
    return false;
  }
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  const std::string where = "--config " + o.config_file + ": ";
  if (ec) {
    error = where + "invalid JSON: " + ec.message();
    return false;
  }
  if (!v.is_object()) {
    error = where + "expected a JSON object";
    return false;
  }
  // Relative env file paths are relative to the config file, not to the working directory.
  const fs::path base = fs::path(o.config_file).parent_path();
  auto strings = [&](const json::value& x, const char* key, std::vector<std::string>& out, bool is_path) {
    if (!x.is_array()) {
      error = where + "\"" + key + "\" must be an array of strings";
      return false;
    }
    for (const auto& e : x.get_array()) {
      if (!e.is_string()) {
        error = where + "\"" + key + "\" must be an array of strings";
        return false;
      }
      const std::string s(e.get_string());
      out.push_back(is_path && fs::path(s).is_relative() ? (base / s).string() : s);
    }
    return true;
  };
  for (const auto& [key, x] : v.get_object()) {
    if (key == "envFiles") {
      if (!strings(x, "envFiles", o.env_files, true)) return false;
    } else if (key == "patterns") {
      if (!strings(x, "patterns", o.patterns, false)) return false;
    } else if (key == "builtins") {
      if (!x.is_bool()) {
        error = where + "\"builtins\" must be true or false";
        return false;
      }
      o.builtins = o.builtins && x.get_bool(); // off when either the config or --no-builtins says so
    } else if (key == "replacement") {
      if (!x.is_string()) {
        error = where + "\"replacement\" must be a string";
        return false;
      }
      replacement = x.get_string();
    } else {
      error = where + "unknown key \"" + std::string(key) + "\" (expected envFiles, patterns, builtins, replacement)";
      return false;
    }
  }
  return true;
}

} // namespace

std::size_t tally::total() const noexcept {
  std::size_t n = 0;
  for (auto c : per_rule) n += c;
  return n;
}

void tally::add(const tally& other) {
  if (per_rule.size() < other.per_rule.size()) per_rule.resize(other.per_rule.size());
  for (std::size_t i = 0; i < other.per_rule.size(); ++i) per_rule[i] += other.per_rule[i];
}

const std::vector<std::string>& builtin_rule_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& b : builtins()) out.emplace_back(b.name);
    return out;
  }();
  return names;
}

std::vector<std::string> parse_env_values(std::string_view text) {
  std::vector<std::string> values;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = trim(line.substr(eq + 1));
    if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      const auto close = value.find(value.front(), 1);
      value = close == std::string_view::npos ? value.substr(1) : value.substr(1, close - 1);
    } else if (const auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = trim(value.substr(0, hash)); // an inline comment after an unquoted value
    }
    if (!value.empty()) values.emplace_back(value);
  }
  return values;
}

boost::system::result<redactor, std::string> load_redactor(const redact_options& given) {
  redact_options o = given;
  std::string replacement = o.replacement;
  std::string error;
  if (!o.config_file.empty()) {
    // The command line's replacement wins over the config file's.
    std::string from_config = replacement;
    if (!merge_config(o, from_config, error)) return error;
    if (given.replacement == redact_options{}.replacement) replacement = from_config;
  }

  redactor out;
  auto add_name = [&](const std::string& name) {
    out.names_.push_back(name);
    out.replacements_.push_back(with_name(replacement, name));
    return out.names_.size() - 1;
  };
  out.scanner_ = std::make_unique<redactor::scanner>();
  auto& rules = out.scanner_->rules;
  if (o.builtins) {
    for (const auto& b : builtins()) {
      redactor::scanner::rule r;
      r.id = add_name(b.name);
      r.how = b.how;
      if (b.regex) r.re = std::make_unique<RE2>(b.regex, rule_options());
      r.group = b.group;
      r.not_followed_by = b.not_followed_by;
      rules.push_back(std::move(r));
    }
  }
  for (const auto& path : o.env_files) {
    std::string text;
    if (!read_file(path, text, error)) return "--env-file " + error;
    const std::string name = "env:" + fs::path(path).filename().string();
    // Two files with the same name share one rule name (and count).
    const auto found = std::find(out.names_.begin(), out.names_.end(), name);
    const std::size_t id =
        found != out.names_.end() ? static_cast<std::size_t>(found - out.names_.begin()) : add_name(name);
    for (auto& value : parse_env_values(text))
      if (value.size() >= 8) out.scanner_->literals.push_back({id, std::move(value)});
  }
  for (std::size_t i = 0; i < o.patterns.size(); ++i) {
    redactor::scanner::rule r;
    r.re = std::make_unique<RE2>(o.patterns[i], rule_options());
    if (!r.re->ok()) {
      std::string why = "--pattern '" + o.patterns[i] + "': invalid regex: " + r.re->error();
      const auto code = r.re->error_code();
      if (code == RE2::ErrorBadPerlOp || code == RE2::ErrorBadEscape || code == RE2::ErrorRepeatArgument)
        why += " (RE2 syntax: no lookahead, lookbehind or backreferences)";
      return why;
    }
    r.id = add_name("pattern-" + std::to_string(i + 1));
    r.how = redactor::scanner::kind::user_regex;
    rules.push_back(std::move(r));
  }
  out.budget_ = o.budget;
  return out;
}

redactor::redactor() = default;
redactor::~redactor() = default;
redactor::redactor(redactor&&) noexcept = default;
redactor& redactor::operator=(redactor&&) noexcept = default;

std::optional<std::vector<redactor::hit>> redactor::find(std::string_view text, redact_deadline deadline,
                                                         bool entropy) const {
  std::vector<hit> hits;
  if (scanner_ && !scanner_->find(text, deadline, entropy, hits)) return std::nullopt;
  // Earliest first, then longest, then the lower rule id; a hit overlapping a kept one is dropped.
  std::sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.rule < b.rule;
  });
  std::vector<hit> kept;
  for (const auto& h : hits)
    if (kept.empty() || h.begin >= kept.back().end) kept.push_back(h);
  return kept;
}

std::vector<redactor::hit> redactor::find(std::string_view text) const {
  return *find(text, no_deadline); // never nullopt without a deadline
}

std::string redactor::rewrite(std::string_view text, const std::vector<hit>& hits, tally& t) const {
  std::string out;
  out.reserve(text.size());
  std::size_t done = 0;
  for (const auto& h : hits) {
    out.append(text.substr(done, h.begin - done));
    out += replacements_[h.rule];
    done = h.end;
    ++t.per_rule[h.rule];
  }
  out.append(text.substr(done));
  return out;
}

template <class String>
std::optional<tally> redactor::redact_string(String& text, redact_deadline deadline, const std::vector<hit>& extra,
                                             bool entropy) const {
  tally t;
  t.per_rule.resize(names_.size());
  const std::string_view view(text.data(), text.size());
  auto hits = find(view, deadline, entropy);
  if (!hits) return std::nullopt;
  if (!extra.empty()) {
    // Merge the caller's hits in, with the same overlap rule.
    hits->insert(hits->end(), extra.begin(), extra.end());
    std::sort(hits->begin(), hits->end(),
              [](const hit& a, const hit& b) { return a.begin != b.begin ? a.begin < b.begin : a.end > b.end; });
    std::vector<hit> kept;
    for (const auto& h : *hits)
      if (h.end <= view.size() && (kept.empty() || h.begin >= kept.back().end)) kept.push_back(h);
    *hits = std::move(kept);
  }
  if (!hits->empty()) text = rewrite(view, *hits, t);
  return t;
}

tally redactor::redact(std::string& text) const { return *redact_string(text, no_deadline, {}, true); }

tally redactor::redact(json::string& text) const { return *redact_string(text, no_deadline, {}, true); }

std::optional<tally> redactor::redact(json::string& text, redact_deadline deadline,
                                      const std::vector<hit>& extra) const {
  return redact_string(text, deadline, extra, true);
}

std::optional<tally> redactor::redact_encoded(json::string& text, redact_deadline deadline) const {
  return redact_string(text, deadline, {}, false);
}

std::string redactor::describe(const tally& t) const {
  std::string out;
  for (std::size_t i = 0; i < t.per_rule.size() && i < names_.size(); ++i) {
    if (t.per_rule[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += names_[i] + "\u00d7" + std::to_string(t.per_rule[i]);
  }
  return out;
}

} // namespace acp::examples
