#pragma once
// A validating JSON scanner that builds nothing: it checks that text is JSON and reports where
// an object's members are, so a message can be routed and forwarded without a DOM.
//
// Contract: whenever a function here succeeds, `boost::json::parse` with `max_depth` of at least
// `json_scan::max_depth` accepts the same text (tests/fuzz/fuzz_json_scan.cpp checks this
// against Boost.JSON). The scanner may refuse valid JSON that it leaves to the full parser:
// nesting deeper than `max_depth`, `\u` escapes of surrogates, exponents of more than three
// digits, numbers of 10^300 or more. A refusal says nothing about validity; callers fall back to
// Boost.JSON.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace acp::json_scan {

inline constexpr std::size_t max_depth = 64;

/// One member of a scanned object, as text: `key` is what stands between the quotes (escapes
/// not decoded; `key_escaped` says whether there are any), `value` the value's exact text.
struct member {
  std::string_view key;
  std::string_view value;
  bool key_escaped = false;
};

/// Validates `text` as exactly one JSON value, whitespace around it allowed. Returns the value's
/// text without that whitespace.
/// `depth_limit` (at most `max_depth`) is the deepest nesting accepted, counted as Boost.JSON's
/// `parse_options::max_depth` counts it.
[[nodiscard]] std::optional<std::string_view> scan_value(std::string_view text,
                                                         std::size_t depth_limit = max_depth) noexcept;

/// Validates `text` as exactly one JSON object and stores its members in order. nullopt when the
/// text is not an object the scanner accepts or has more members than `out` holds.
/// `one_line`: also refuse a newline (JSON whitespace between tokens), so that the text stays
/// one line wherever it is copied.
[[nodiscard]] std::optional<std::size_t> scan_object(std::string_view text, std::span<member> out,
                                                     std::size_t depth_limit = max_depth,
                                                     bool one_line = false) noexcept;

/// The members of one top-level member's object value, recorded by the same validating pass
/// (no second scan of that value). `recorded` is false when the member is missing, not an
/// object, or has more members than `out` holds (the scan itself goes on).
struct nested_members {
  std::string_view key;
  std::span<member> out;
  std::size_t count = 0;
  bool recorded = false;
};

/// `scan_object`, also recording the members of the object value of `nested.key`.
[[nodiscard]] std::optional<std::size_t> scan_object(std::string_view text, std::span<member> out,
                                                     std::size_t depth_limit, bool one_line,
                                                     nested_members& nested) noexcept;

/// `scan_object` for text known to be one valid JSON object (scanned before): follows the
/// structure only, without validating. Undefined for anything else.
[[nodiscard]] std::optional<std::size_t> members_of_valid_object(std::string_view text, std::span<member> out) noexcept;

/// For text known to be one valid JSON object (as for `members_of_valid_object`): the first member
/// whose key, as written, is `key` (a key spelled with escapes never matches). The scan stops at
/// that member, so what follows it costs nothing. nullopt when there is none.
[[nodiscard]] std::optional<member> find_member_of_valid_object(std::string_view text, std::string_view key) noexcept;

/// Whether a string's text (between the quotes, as scanned) contains a backslash escape.
[[nodiscard]] inline bool has_escape(std::string_view string_text) noexcept {
  return string_text.find('\\') != std::string_view::npos;
}

/// A scanned value that is a string without escapes: its text, which is also its value.
[[nodiscard]] inline std::optional<std::string_view> plain_string(std::string_view value) noexcept {
  if (value.size() < 2 || value.front() != '"') return std::nullopt;
  const auto body = value.substr(1, value.size() - 2);
  if (has_escape(body)) return std::nullopt;
  return body;
}

/// Whether a scanned value may be JSON-RPC params: an object, an array or null.
[[nodiscard]] inline bool is_params_value(std::string_view value) noexcept {
  return !value.empty() && (value.front() == '{' || value.front() == '[' || value == "null");
}

} // namespace acp::json_scan
