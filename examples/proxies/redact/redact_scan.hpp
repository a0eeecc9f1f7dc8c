#pragma once
// The compiled rules behind `redactor` (private to acp-redact-proxy's library, so that RE2 stays
// out of redact_rules.hpp). Every search here is linear in the text.

#include "redact_rules.hpp"

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

struct redactor::scanner {
  enum class kind {
    regex,             ///< `re`, replacing submatch `group`
    private_key_block, ///< `re` is the BEGIN line; the block runs to its END line or the text's end
    private_key_body,  ///< base64 lines without their BEGIN line (no regex)
    entropy,           ///< runs of token characters that `looks_random` (no regex)
    user_regex,        ///< `re` on each line alone
  };
  struct rule {
    std::size_t id = 0;
    kind how = kind::regex;
    std::unique_ptr<RE2> re;
    int group = 0;                      ///< the submatch that is replaced (0: the whole match)
    std::string_view not_followed_by{}; ///< the replaced text must not be followed by one of these
  };
  struct literal {
    std::size_t id = 0;
    std::string value;
  };

  std::vector<rule> rules;
  std::vector<literal> literals;

  /// Appends every hit in `text` (overlapping, unsorted), also those found in its
  /// percent-decoded form. false: `deadline` passed first.
  bool find(std::string_view text, redact_deadline deadline, bool entropy, std::vector<hit>& out) const;

private:
  bool scan(std::string_view text, redact_deadline deadline, bool entropy, std::vector<hit>& out) const;
};

/// RE2 options for the rules: errors as values, never logged.
[[nodiscard]] RE2::Options rule_options();

} // namespace acp::examples
