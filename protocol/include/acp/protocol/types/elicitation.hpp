#pragma once
// `elicitation/create` (agent -> client request) and `elicitation/complete` (notification):
// a form described by a restricted JSON Schema, or a URL the user visits.

#include <acp/protocol/types/open_enum.hpp>

namespace acp {

struct enum_option {
  std::string const_; ///< `const`
  std::string title;
  std::optional<std::string> description;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"string"}`
struct string_property_schema {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::uint32_t> min_length;
  std::optional<std::uint32_t> max_length;
  std::optional<std::string> pattern;
  std::optional<string_format> format;
  std::optional<std::string> default_;            ///< `default`
  std::optional<std::vector<std::string>> enum_;  ///< `enum`
  std::optional<std::vector<enum_option>> one_of; ///< `oneOf`
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"number"}`
struct number_property_schema {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<double> default_;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"integer"}`
struct integer_property_schema {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::int64_t> minimum;
  std::optional<std::int64_t> maximum;
  std::optional<std::int64_t> default_;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"boolean"}`
struct boolean_property_schema {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<bool> default_;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"string","enum":[...]}` items of a multi-select.
struct string_multi_select_items {
  std::vector<std::string> enum_;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"anyOf":[...]}` items of a multi-select (no `type`).
struct titled_multi_select_items {
  std::vector<enum_option> any_of;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `type` "string" -> string items; no `type` -> titled items; another `type` -> unknown.
using multi_select_items = std::variant<string_multi_select_items, titled_multi_select_items, unknown_variant>;

/// `{"type":"array"}`
struct multi_select_property_schema {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::uint64_t> min_items;
  std::optional<std::uint64_t> max_items;
  multi_select_items items;
  std::optional<std::vector<std::string>> default_;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Tagged by `type`: string, number, integer, boolean, array; others are kept as unknown.
using elicitation_property_schema =
    std::variant<string_property_schema, number_property_schema, integer_property_schema, boolean_property_schema,
                 multi_select_property_schema, unknown_variant>;

struct elicitation_schema {
  std::optional<std::string> type; ///< "object"
  std::optional<std::string> title;
  std::optional<std::map<std::string, elicitation_property_schema>> properties;
  std::optional<std::vector<std::string>> required;
  std::optional<std::string> description;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"mode":"form"}` part of an elicitation request.
struct elicitation_form_mode {
  elicitation_schema requested_schema;
  boost::json::object extra;
};

/// `{"mode":"url"}` part of an elicitation request.
struct elicitation_url_mode {
  std::string elicitation_id;
  std::string url;
  boost::json::object extra;
};

/// The `mode`-tagged part of CreateElicitationRequest (flattened into the same object).
using elicitation_mode = std::variant<elicitation_form_mode, elicitation_url_mode, unknown_variant>;

/// Params of `elicitation/create`. The scope (ElicitationSessionScope: `session_id` and maybe
/// `tool_call_id`, or ElicitationRequestScope: `request_id`) is kept as plain members.
struct create_elicitation_request {
  std::string message;
  elicitation_mode mode;
  std::optional<std::string> session_id;
  std::optional<std::string> tool_call_id;
  std::optional<boost::json::value> request_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// ElicitationContentValue: read by JSON kind (an integer reads as int64, other numbers as
/// double).
using elicitation_content_value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

/// Result of `elicitation/create`. `content` only comes with "accept".
struct create_elicitation_response {
  elicitation_action action;
  std::optional<std::map<std::string, elicitation_content_value>> content;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct complete_elicitation_notification {
  std::string elicitation_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(enum_option);
ACP_DECLARE_CODEC(string_property_schema);
ACP_DECLARE_CODEC(number_property_schema);
ACP_DECLARE_CODEC(integer_property_schema);
ACP_DECLARE_CODEC(boolean_property_schema);
ACP_DECLARE_CODEC(string_multi_select_items);
ACP_DECLARE_CODEC(titled_multi_select_items);
ACP_DECLARE_CODEC(multi_select_items);
ACP_DECLARE_CODEC(multi_select_property_schema);
ACP_DECLARE_CODEC(elicitation_property_schema);
ACP_DECLARE_CODEC(elicitation_schema);
ACP_DECLARE_CODEC(elicitation_form_mode);
ACP_DECLARE_CODEC(elicitation_url_mode);
ACP_DECLARE_CODEC(elicitation_mode);
ACP_DECLARE_CODEC(create_elicitation_request);
ACP_DECLARE_CODEC(elicitation_content_value);
ACP_DECLARE_CODEC(create_elicitation_response);
ACP_DECLARE_CODEC(complete_elicitation_notification);

} // namespace acp
