// GCC 12 with -fsanitize reports -Wmaybe-uninitialized inside its own <regex> (std::function in
// the NFA states): a false positive that would fail the sanitizer build with -Werror.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "redact_rules.hpp"

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

// How far past its trigger a builtin regex may look. Tokens are shorter than this; bounding
// the window keeps a miss cheap however large the text is.
constexpr std::size_t trigger_window = 1024;
// The window a user pattern runs in: libstdc++'s regex recurses once per matched character, so
// an unbounded `.*` over a 100 KiB line would overflow the stack. Matches up to half of it are
// always found whole; longer ones may be cut.
constexpr std::size_t user_window = 4096;

struct builtin {
  const char* name;
  std::vector<std::string> triggers;
  bool ignore_case;
  const char* regex;
  int group;
  bool private_key_block;
};

// ECMAScript regexes, run anchored at a trigger with the character before it available, so
// `\b` sees the real boundary. `group` is what gets replaced: the value, not the key name.
const std::vector<builtin>& builtins() {
  static const std::vector<builtin> table = {
      {"aws-access-key-id", {"AKIA", "ASIA"}, false, R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)", 0, false},
      {"aws-secret-access-key",
       {"aws_secret_access_key"},
       true,
       R"(aws_secret_access_key["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=]))",
       1,
       false},
      {"github-token",
       {"ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"},
       false,
       R"(\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b)",
       0,
       false},
      {"slack-token", {"xox"}, false, R"(\bxox[baprs]-[A-Za-z0-9-]{10,})", 0, false},
      // Only the header is a regex; the block runs to its END line (see find_regex).
      {"private-key", {"-----BEGIN "}, false, R"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)", 0, true},
      {"bearer-token", {"bearer"}, true, R"(\bbearer[ \t]+([A-Za-z0-9\-._~+/]{16,}=*))", 1, false},
      // No `\b` before "api": OPENAI_API_KEY=… must match, and `_` is a word character.
      {"api-key",
       {"api_key", "api-key", "apikey"},
       true,
       R"(api[_-]?key["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9_\-./+=]{8,}))",
       1,
       false},
  };
  return table;
}

// The literal text every match of a user regex starts with ("corp-" for `corp-[0-9]{6}`), or ""
// when there is none: it starts with a class, group, anchor or escape like `\d`, or has a `|`.
std::string literal_prefix(std::string_view re) {
  if (re.find('|') != std::string_view::npos) return {};
  std::string out;
  for (std::size_t i = 0; i < re.size();) {
    char lit = re[i];
    std::size_t len = 1;
    if (lit == '\\') {
      if (i + 1 >= re.size() || std::isalnum(static_cast<unsigned char>(re[i + 1]))) break;
      lit = re[i + 1]; // an escaped punctuation character is itself
      len = 2;
    } else if (std::strchr(".[]()*+?{}^$", lit)) {
      break;
    }
    const char next = i + len < re.size() ? re[i + len] : '\0';
    if (next == '?' || next == '*' || next == '{') break; // this character may be absent
    out += lit;
    if (next == '+') break; // present, but what follows it is not fixed
    i += len;
  }
  return out;
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
  if (o.builtins) {
    for (const auto& b : builtins()) {
      redactor::rule r;
      r.id = add_name(b.name);
      r.how = b.private_key_block ? redactor::kind::private_key_block : redactor::kind::regex;
      r.triggers = b.triggers;
      r.ignore_case = b.ignore_case;
      r.re = std::regex(b.regex, b.ignore_case ? std::regex::ECMAScript | std::regex::icase : std::regex::ECMAScript);
      r.group = b.group;
      out.rules_.push_back(std::move(r));
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
      if (value.size() >= 8) out.literals_.push_back({id, std::move(value)});
  }
  for (std::size_t i = 0; i < o.patterns.size(); ++i) {
    redactor::rule r;
    try {
      r.re = std::regex(o.patterns[i], std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return "--pattern '" + o.patterns[i] + "': invalid regex: " + e.what();
    }
    r.id = add_name("pattern-" + std::to_string(i + 1));
    r.how = redactor::kind::user_regex;
    // With a literal prefix of 3+ characters the regex only runs where the prefix occurs.
    if (auto prefix = literal_prefix(o.patterns[i]); prefix.size() >= 3) r.triggers.push_back(std::move(prefix));
    out.rules_.push_back(std::move(r));
  }
  return out;
}

namespace {

// Runs `re` on text[first, stop), a window inside the line that ends at `line_end`, telling the
// regex what lies outside the window: `\b` and `^` see the real previous character, `$` only
// matches at the real end of the line.
bool search_window(std::string_view text, std::size_t first, std::size_t stop, std::size_t line_end,
                   const std::regex& re, std::cmatch& m, bool anchored) {
  auto flags = anchored ? std::regex_constants::match_continuous : std::regex_constants::match_default;
  if (first > 0 && text[first - 1] != '\n') flags |= std::regex_constants::match_prev_avail;
  if (stop < line_end) flags |= std::regex_constants::match_not_eol;
  return std::regex_search(text.data() + first, text.data() + stop, m, re, flags);
}

std::size_t end_of_line(std::string_view text, std::size_t pos) { return std::min(text.size(), text.find('\n', pos)); }

} // namespace

void redactor::find_regex(const rule& r, std::string_view text, std::string_view lower, std::vector<hit>& out) const {
  const std::string_view hay = r.ignore_case ? lower : text;
  for (const auto& trigger : r.triggers) {
    std::size_t line_end = 0;           // cached: triggers come in increasing order
    auto next = [&](std::size_t from) { // memmem (glibc's two-way search) is the fastest scan here
      const void* at = ::memmem(hay.data() + from, hay.size() - from, trigger.data(), trigger.size());
      return at ? static_cast<std::size_t>(static_cast<const char*>(at) - hay.data()) : std::string_view::npos;
    };
    for (auto pos = next(0); pos != std::string_view::npos; pos = next(pos + 1)) {
      if (line_end <= pos) line_end = end_of_line(text, pos);
      // Builtins look a fixed window ahead; a user pattern stays within its line.
      const std::size_t stop = r.how == kind::user_regex ? std::min(line_end, pos + user_window)
                                                         : std::min(text.size(), pos + trigger_window);
      std::cmatch m;
      if (!search_window(text, pos, stop, r.how == kind::user_regex ? line_end : text.size(), r.re, m, true)) continue;
      if (r.how == kind::private_key_block) {
        // The block ends after its END line. Without one (a read cut by `limit`), everything
        // after the header is key material: redact to the end of the text.
        std::size_t end = text.size();
        const auto end_line = text.find("-----END ", pos + static_cast<std::size_t>(m.length(0)));
        const auto tail = end_line == std::string_view::npos ? end_line : text.find("PRIVATE KEY-----", end_line);
        if (tail != std::string_view::npos) end = tail + std::strlen("PRIVATE KEY-----");
        out.push_back({pos, end, r.id});
        continue;
      }
      const auto& g = m[r.group];
      if (!g.matched || g.length() == 0) continue;
      out.push_back(
          {static_cast<std::size_t>(g.first - text.data()), static_cast<std::size_t>(g.second - text.data()), r.id});
    }
  }
}

void redactor::find_user_regex(const rule& r, std::string_view text, std::vector<hit>& out) const {
  // Line by line, so `^`/`$` mean line start/end; a long line in windows overlapping by half.
  for (std::size_t line = 0; line < text.size();) {
    const std::size_t line_end = end_of_line(text, line);
    for (std::size_t start = line; start < line_end;) {
      const std::size_t stop = std::min(line_end, start + user_window);
      std::cmatch m;
      if (!search_window(text, start, stop, line_end, r.re, m, false)) {
        if (stop == line_end) break;
        start = stop - user_window / 2; // a match starting here fits in the next window
        continue;
      }
      const auto begin = static_cast<std::size_t>(m[0].first - text.data());
      const auto end = begin + static_cast<std::size_t>(m.length(0));
      if (end > begin) out.push_back({begin, end, r.id});
      start = end > begin ? end : begin + 1;
    }
    line = line_end + 1;
  }
}

std::vector<redactor::hit> redactor::find(std::string_view text) const {
  std::vector<hit> hits;
  std::string lower;
  if (std::any_of(rules_.begin(), rules_.end(), [](const rule& r) { return r.ignore_case; })) {
    lower.assign(text);
    for (auto& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  for (const auto& r : rules_) {
    if (r.how == kind::user_regex && r.triggers.empty())
      find_user_regex(r, text, hits);
    else
      find_regex(r, text, lower, hits);
  }
  for (const auto& l : literals_) {
    for (std::size_t from = 0; from < text.size();) {
      const void* at = ::memmem(text.data() + from, text.size() - from, l.value.data(), l.value.size());
      if (!at) break;
      const auto pos = static_cast<std::size_t>(static_cast<const char*>(at) - text.data());
      hits.push_back({pos, pos + l.value.size(), l.id});
      from = pos + l.value.size();
    }
  }

  // Earliest first, then longest; a hit overlapping an earlier kept one is dropped.
  std::sort(hits.begin(), hits.end(),
            [](const hit& a, const hit& b) { return a.begin != b.begin ? a.begin < b.begin : a.end > b.end; });
  std::vector<hit> kept;
  for (const auto& h : hits)
    if (kept.empty() || h.begin >= kept.back().end) kept.push_back(h);
  return kept;
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

tally redactor::redact(std::string& text) const {
  tally t;
  t.per_rule.resize(names_.size());
  const auto hits = find(text);
  if (!hits.empty()) text = rewrite(text, hits, t);
  return t;
}

tally redactor::redact(json::string& text) const {
  tally t;
  t.per_rule.resize(names_.size());
  const auto hits = find(text);
  if (!hits.empty()) text = rewrite(text, hits, t);
  return t;
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
