#pragma once
// `acp::open_enum`: the string enumerations of the schema (stop reasons, tool kinds, ...) as
// value types.
//
// The schema's enumerations are closed today but grow with the protocol: an agent newer than
// this library may send a stop reason it does not know. An open enum stores the wire text, so
// such a value is kept and written back byte-exact, and its named constants make the known
// values typed:
//
//   resp.stop_reason = acp::stop_reason::end_turn;             // assign a named constant
//   if (resp.stop_reason == acp::stop_reason::cancelled) ...   // compare with one
//   std::string_view text = resp.stop_reason.str();            // the wire text, known or not
//   acp::stop_reason future{"paused"};                         // explicit from any text
//
// Each enumeration is a class deriving from `open_enum<Self>` whose named values are
// `static constexpr constant` members. A constant converts implicitly to its own enumeration
// only: `call.kind = acp::stop_reason::end_turn` does not compile. A default-constructed value is
// empty (no text), which is what a required member holds before it is set.

#include <acp/protocol/types/common.hpp>

#include <compare>
#include <string>
#include <string_view>
#include <utility>

namespace acp {

namespace detail {
/// Reads a JSON string into `out` ("expected string" otherwise).
[[nodiscard]] bool read_enum_text(const boost::json::value& v, std::string& out, decode_error& err);
} // namespace detail

template <class Self> class open_enum {
public:
  /// A named value of `Self` (`acp::stop_reason::end_turn`): the wire text, usable in constant
  /// expressions.
  struct constant {
    std::string_view text;

    [[nodiscard]] constexpr std::string_view str() const noexcept { return text; }
    friend constexpr bool operator==(constant, constant) = default;
  };

  open_enum() = default;
  /// A named value (implicit, so constants assign and compare like values of the enumeration).
  open_enum(constant c) : text_(c.text) {} // NOLINT(google-explicit-constructor)
  /// Any wire text, known to this library or not.
  explicit open_enum(std::string text) : text_(std::move(text)) {}
  explicit open_enum(std::string_view text) : text_(text) {}
  explicit open_enum(const char* text) : text_(text) {}

  /// The wire text.
  [[nodiscard]] const std::string& str() const noexcept { return text_; }
  /// Whether no text was set (a default-constructed value).
  [[nodiscard]] bool empty() const noexcept { return text_.empty(); }

  friend bool operator==(const Self& a, const Self& b) noexcept { return a.text_ == b.text_; }
  friend bool operator==(const Self& a, constant b) noexcept { return a.text_ == b.text; }
  friend std::strong_ordering operator<=>(const Self& a, const Self& b) noexcept { return a.text_ <=> b.text_; }

  /// Streams the wire text (gtest and logging).
  template <class Stream> friend auto operator<<(Stream& os, const Self& e) -> decltype(os << std::string_view{}) {
    return os << std::string_view(e.text_);
  }
  template <class Stream> friend auto operator<<(Stream& os, constant c) -> decltype(os << std::string_view{}) {
    return os << c.text;
  }

  // JSON: a string; any string decodes (unknown values included), anything else is an error.
  [[nodiscard]] friend bool decode_value(const boost::json::value& v, Self& out, decode_error& err) {
    return detail::read_enum_text(v, out.text_, err);
  }
  friend void encode_value(const Self& in, boost::json::value& out) { out = in.text_; }
  ACP_DEFINE_JSON_CONVERSIONS(friend, Self)

private:
  std::string text_;
};

/// The wire text of an open enum value, as a new string.
template <class E>
requires std::is_base_of_v<open_enum<E>, E>
[[nodiscard]] std::string to_string(const E& e) { return e.str(); }

/// StopReason: why a prompt turn ended.
class stop_reason : public open_enum<stop_reason> {
public:
  using open_enum::open_enum;
  static constexpr constant end_turn{"end_turn"};
  static constexpr constant max_tokens{"max_tokens"};
  static constexpr constant max_turn_requests{"max_turn_requests"};
  static constexpr constant refusal{"refusal"};
  static constexpr constant cancelled{"cancelled"};
};

/// ToolKind: what a tool call does (chooses an icon, drives policies).
class tool_kind : public open_enum<tool_kind> {
public:
  using open_enum::open_enum;
  static constexpr constant read{"read"};
  static constexpr constant edit{"edit"};
  static constexpr constant delete_{"delete"};
  static constexpr constant move{"move"};
  static constexpr constant search{"search"};
  static constexpr constant execute{"execute"};
  static constexpr constant think{"think"};
  static constexpr constant fetch{"fetch"};
  static constexpr constant switch_mode{"switch_mode"};
  static constexpr constant other{"other"};
};

/// ToolCallStatus.
class tool_call_status : public open_enum<tool_call_status> {
public:
  using open_enum::open_enum;
  static constexpr constant pending{"pending"};
  static constexpr constant in_progress{"in_progress"};
  static constexpr constant completed{"completed"};
  static constexpr constant failed{"failed"};
};

/// PermissionOptionKind.
class permission_option_kind : public open_enum<permission_option_kind> {
public:
  using open_enum::open_enum;
  static constexpr constant allow_once{"allow_once"};
  static constexpr constant allow_always{"allow_always"};
  static constexpr constant reject_once{"reject_once"};
  static constexpr constant reject_always{"reject_always"};
};

/// PlanEntryPriority.
class plan_entry_priority : public open_enum<plan_entry_priority> {
public:
  using open_enum::open_enum;
  static constexpr constant high{"high"};
  static constexpr constant medium{"medium"};
  static constexpr constant low{"low"};
};

/// PlanEntryStatus.
class plan_entry_status : public open_enum<plan_entry_status> {
public:
  using open_enum::open_enum;
  static constexpr constant pending{"pending"};
  static constexpr constant in_progress{"in_progress"};
  static constexpr constant completed{"completed"};
};

/// Role (`annotations::audience`).
class role : public open_enum<role> {
public:
  using open_enum::open_enum;
  static constexpr constant assistant{"assistant"};
  static constexpr constant user{"user"};
};

/// SessionConfigOptionCategory (open in the schema itself: other strings are allowed).
class session_config_option_category : public open_enum<session_config_option_category> {
public:
  using open_enum::open_enum;
  static constexpr constant mode{"mode"};
  static constexpr constant model{"model"};
  static constexpr constant model_config{"model_config"};
  static constexpr constant thought_level{"thought_level"};
};

/// ElicitationAction: the user's answer to an elicitation.
class elicitation_action : public open_enum<elicitation_action> {
public:
  using open_enum::open_enum;
  static constexpr constant accept{"accept"};
  static constexpr constant decline{"decline"};
  static constexpr constant cancel{"cancel"};
};

/// StringFormat: the `format` of an elicitation string property.
class string_format : public open_enum<string_format> {
public:
  using open_enum::open_enum;
  static constexpr constant email{"email"};
  static constexpr constant uri{"uri"};
  static constexpr constant date{"date"};
  static constexpr constant date_time{"date-time"};
};

} // namespace acp
