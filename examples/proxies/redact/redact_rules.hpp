#pragma once
// The redaction rules of acp-redact-proxy: what counts as a secret, and how it is replaced.
//
// Three sources, in this order of rule ids:
//   builtins    AWS access key ids, AWS secret access keys, GitHub tokens, Slack tokens, private
//               key blocks, `Bearer` tokens, `api_key = …` values (see `builtin_rule_names`);
//   env files   every value of length >= 8 in a `.env` file is a literal secret, wherever it
//               appears (rule name `env:<file name>`);
//   patterns    user regexes (ECMAScript syntax, std::regex), rule names `pattern-1`, … .
// Every match is replaced by `replacement` with `{name}` substituted by the rule name. Matches
// of different rules that overlap are resolved by keeping the one that starts first (then the
// longest), so no secret is half-replaced.
//
// Speed: std::regex is slow (libstdc++: ~25 ms per MiB for a simple regex), so a regex only runs,
// anchored, where its literal trigger occurs: "AKIA", "ghp_", "-----BEGIN ", … for builtins;
// for a user pattern, the literal text it starts with (`corp-` of `corp-[0-9]{6}`) when that is
// 3+ characters. A user pattern without one runs on every line, the expensive case (figures in
// the man page). A user pattern never matches across a line break, and runs in 4 KiB windows
// (libstdc++'s regex recursion would overflow the stack on a long `.*` match).

#include <boost/json/string.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

/// Everything that configures the rules. `config_file` is read by `load_redactor` and merged:
/// its env files and patterns come after those given here.
struct redact_options {
  std::vector<std::string> env_files;
  std::vector<std::string> patterns;
  std::string config_file; ///< empty: none
  bool builtins = true;
  std::string replacement = "[REDACTED:{name}]";
};

/// How many secrets each rule removed; indexed by rule id (`redactor::rule_names()`).
struct tally {
  std::vector<std::size_t> per_rule;

  [[nodiscard]] std::size_t total() const noexcept;
  void add(const tally& other);
};

class redactor {
public:
  /// Replaces every secret in `text` in place; returns what was removed.
  tally redact(std::string& text) const;
  tally redact(boost::json::string& text) const;

  /// Rule names by rule id.
  [[nodiscard]] const std::vector<std::string>& rule_names() const noexcept { return names_; }
  /// "github-token×1, env:.env×2" for the non-zero counts, in rule order.
  [[nodiscard]] std::string describe(const tally& t) const;

  /// One secret found in a text: bytes [begin, end) belong to rule `rule`.
  struct hit {
    std::size_t begin = 0, end = 0, rule = 0;
  };
  /// Every secret in `text`, sorted and without overlaps.
  [[nodiscard]] std::vector<hit> find(std::string_view text) const;

private:
  friend boost::system::result<redactor, std::string> load_redactor(const redact_options& options);

  enum class kind { regex, private_key_block, user_regex };
  struct rule {
    std::size_t id = 0;
    kind how = kind::regex;
    std::vector<std::string> triggers; ///< literal prefixes where the regex may start (none: everywhere)
    bool ignore_case = false;          ///< triggers match case-insensitively
    std::regex re;
    int group = 0; ///< the submatch that is replaced (0: the whole match)
  };
  struct literal {
    std::size_t id = 0;
    std::string value;
  };

  void find_regex(const rule& r, std::string_view text, std::string_view lower, std::vector<hit>& out) const;
  void find_user_regex(const rule& r, std::string_view text, std::vector<hit>& out) const;
  std::string rewrite(std::string_view text, const std::vector<hit>& hits, tally& t) const;

  std::vector<std::string> names_;
  std::vector<std::string> replacements_; ///< by rule id
  std::vector<rule> rules_;
  std::vector<literal> literals_;
};

/// The builtin rule names, in rule-id order.
[[nodiscard]] const std::vector<std::string>& builtin_rule_names();

/// Reads the config file and the env files and compiles the patterns. The error is one line
/// naming the file or pattern ("--pattern 'a(': Parenthesis is not closed.").
[[nodiscard]] boost::system::result<redactor, std::string> load_redactor(const redact_options& options);

/// The values of a `.env` file's text: `KEY=VALUE` lines, `export ` prefixes, `#` comments,
/// single- or double-quoted values. (Exposed for tests.)
[[nodiscard]] std::vector<std::string> parse_env_values(std::string_view text);

} // namespace acp::examples
