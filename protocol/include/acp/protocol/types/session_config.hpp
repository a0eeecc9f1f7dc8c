#pragma once
// Session modes and session configuration options (SessionModeState, SessionConfigOption).

#include <acp/protocol/types/open_enum.hpp>

namespace acp {

struct session_mode {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct session_mode_state {
  std::string current_mode_id;
  std::vector<session_mode> available_modes;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct session_config_select_option {
  std::string value;
  std::string name;
  std::optional<std::string> description;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct session_config_select_group {
  std::string group;
  std::string name;
  std::vector<session_config_select_option> options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Untagged: a list of options, or a list of groups (read as groups when the first element has
/// a `group` member).
using session_config_select_options =
    std::variant<std::vector<session_config_select_option>, std::vector<session_config_select_group>>;

/// `{"type":"select"}` part of a config option.
struct session_config_select {
  std::string current_value;
  session_config_select_options options;
  boost::json::object extra;
};

/// `{"type":"boolean"}` part of a config option.
struct session_config_boolean {
  bool current_value = false;
  boost::json::object extra;
};

/// The `type`-tagged part of a SessionConfigOption (flattened into the same JSON object).
using session_config_option_kind = std::variant<session_config_select, session_config_boolean, unknown_variant>;

struct session_config_option {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::optional<session_config_option_category> category;
  /// Members of the `type` variant, written into the same object. Members unknown to both the
  /// option and its variant end up in the variant's `extra` (or its unknown_variant).
  session_config_option_kind kind;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(session_mode);
ACP_DECLARE_CODEC(session_mode_state);
ACP_DECLARE_CODEC(session_config_select_option);
ACP_DECLARE_CODEC(session_config_select_group);
ACP_DECLARE_CODEC(session_config_select_options);
ACP_DECLARE_CODEC(session_config_select);
ACP_DECLARE_CODEC(session_config_boolean);
ACP_DECLARE_CODEC(session_config_option_kind);
ACP_DECLARE_CODEC(session_config_option);

} // namespace acp
