#pragma once
// The redaction rules of acp-redact-proxy: what counts as a secret, and how it is replaced.
//
// Three sources, in this order of rule ids:
//   builtins    AWS access key ids, AWS secret access keys, GitHub tokens, Slack tokens, private
//               key blocks and key bodies without their header, `Bearer` tokens, `api_key = …`
//               values, and high-entropy token bodies (see `builtin_rule_names`);
//   env files   every value of length >= 8 in a `.env` file is a literal secret, wherever it
//               appears (rule name `env:<file name>`);
//   patterns    user regexes in RE2 syntax (no lookaround, no backreferences), rule names
//               `pattern-1`, … . A user pattern runs on each line alone: it never matches across
//               a line break, and `^`/`$` are the line's start and end.
// Every match is replaced by `replacement` with `{name}` substituted by the rule name. Matches
// of different rules that overlap are resolved by keeping the one that starts first (then the
// longest, then the lower rule id), so no secret is half-replaced. A text with `%XX` escapes is
// also scanned percent-decoded, and what is found there is replaced in the encoded text.
//
// Time: every rule is linear in the text (RE2 has no backtracking; the key block search looks
// for its END line once). A search for the successive matches of one user pattern can still
// cost more on adversarial input, so callers pass a deadline and fail closed when it passes.

#include <boost/json/string.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
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
  std::chrono::milliseconds budget{250}; ///< per message (the proxy's `--budget-ms`)
};

/// How many secrets each rule removed; indexed by rule id (`redactor::rule_names()`).
struct tally {
  std::vector<std::size_t> per_rule;

  [[nodiscard]] std::size_t total() const noexcept;
  void add(const tally& other);
};

/// When a redaction gives up; `no_deadline` never passes.
using redact_deadline = std::chrono::steady_clock::time_point;
inline constexpr redact_deadline no_deadline = redact_deadline::max();

class redactor {
public:
  redactor();
  ~redactor();
  redactor(redactor&&) noexcept;
  redactor& operator=(redactor&&) noexcept;
  redactor(const redactor&) = delete;
  redactor& operator=(const redactor&) = delete;

  /// One secret found in a text: bytes [begin, end) belong to rule `rule`.
  struct hit {
    std::size_t begin = 0, end = 0, rule = 0;
  };

  /// Replaces every secret in `text` in place; returns what was removed.
  tally redact(std::string& text) const;
  tally redact(boost::json::string& text) const;
  /// The same with a deadline and extra hits to replace (found by the caller, e.g. across the
  /// join of two blocks). nullopt: the deadline passed and `text` is unchanged.
  [[nodiscard]] std::optional<tally> redact(boost::json::string& text, redact_deadline deadline,
                                            const std::vector<hit>& extra = {}) const;
  /// For base64 payloads (`blob`, `data`): every rule but the high-entropy one, which every
  /// base64 text would match.
  [[nodiscard]] std::optional<tally> redact_encoded(boost::json::string& text, redact_deadline deadline) const;

  /// Rule names by rule id.
  [[nodiscard]] const std::vector<std::string>& rule_names() const noexcept { return names_; }
  /// "github-token×1, env:.env×2" for the non-zero counts, in rule order.
  [[nodiscard]] std::string describe(const tally& t) const;
  /// The per-message time budget the rules were loaded with.
  [[nodiscard]] std::chrono::milliseconds budget() const noexcept { return budget_; }

  /// Every secret in `text`, sorted and without overlaps.
  [[nodiscard]] std::vector<hit> find(std::string_view text) const;
  /// The same; nullopt when `deadline` passed first. `entropy` false leaves out the
  /// high-entropy rule.
  [[nodiscard]] std::optional<std::vector<hit>> find(std::string_view text, redact_deadline deadline,
                                                     bool entropy = true) const;

  struct scanner; ///< the compiled rules (redact_scan.hpp), kept out of this header

private:
  friend boost::system::result<redactor, std::string> load_redactor(const redact_options& options);

  std::string rewrite(std::string_view text, const std::vector<hit>& hits, tally& t) const;
  template <class String>
  std::optional<tally> redact_string(String& text, redact_deadline deadline, const std::vector<hit>& extra,
                                     bool entropy) const;

  std::vector<std::string> names_;
  std::vector<std::string> replacements_; ///< by rule id
  std::unique_ptr<scanner> scanner_;
  std::chrono::milliseconds budget_{250};
};

/// The builtin rule names, in rule-id order.
[[nodiscard]] const std::vector<std::string>& builtin_rule_names();

/// Reads the config file and the env files and compiles the patterns. The error is one line
/// naming the file or pattern ("--pattern 'a(': invalid regex: missing ): a(").
[[nodiscard]] boost::system::result<redactor, std::string> load_redactor(const redact_options& options);

/// The values of a `.env` file's text: `KEY=VALUE` lines, `export ` prefixes, `#` comments,
/// single- or double-quoted values. (Exposed for tests.)
[[nodiscard]] std::vector<std::string> parse_env_values(std::string_view text);

/// Whether a run of token characters looks like a random secret rather than a word, identifier or
/// hex hash: the test behind the `high-entropy-token` rule. (Exposed for tests.)
[[nodiscard]] bool looks_random(std::string_view run);

} // namespace acp::examples
