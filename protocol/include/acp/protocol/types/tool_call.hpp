#pragma once
// Tool calls (ToolCall, ToolCallUpdate) and their content, locations, kinds and statuses.

#include <acp/protocol/types/content.hpp>

namespace acp {

/// ToolKind values.
namespace tool_kind {
inline constexpr std::string_view read = "read";
inline constexpr std::string_view edit = "edit";
inline constexpr std::string_view delete_ = "delete";
inline constexpr std::string_view move = "move";
inline constexpr std::string_view search = "search";
inline constexpr std::string_view execute = "execute";
inline constexpr std::string_view think = "think";
inline constexpr std::string_view fetch = "fetch";
inline constexpr std::string_view switch_mode = "switch_mode";
inline constexpr std::string_view other = "other";
} // namespace tool_kind

/// ToolCallStatus values.
namespace tool_call_status {
inline constexpr std::string_view pending = "pending";
inline constexpr std::string_view in_progress = "in_progress";
inline constexpr std::string_view completed = "completed";
inline constexpr std::string_view failed = "failed";
} // namespace tool_call_status

/// `{"type":"content"}`: a content block produced by the tool.
struct content {
  content_block content;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"diff"}`
struct diff {
  std::string path;
  std::optional<std::string> old_text;
  std::string new_text;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"terminal"}`
struct terminal {
  std::string terminal_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Tagged by `type`: content, diff, terminal; anything else is kept as `unknown_variant`.
using tool_call_content = std::variant<content, diff, terminal, unknown_variant>;

struct tool_call_location {
  std::string path;
  std::optional<std::uint32_t> line;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct tool_call {
  std::string tool_call_id;
  std::string title;
  std::optional<std::string> kind;   ///< tool_kind values
  std::optional<std::string> status; ///< tool_call_status values
  std::optional<std::vector<tool_call_content>> content;
  std::optional<std::vector<tool_call_location>> locations;
  std::optional<boost::json::value> raw_input;
  std::optional<boost::json::value> raw_output;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Only `tool_call_id` is required; the other members replace the call's current values.
struct tool_call_update {
  std::string tool_call_id;
  std::optional<std::string> kind;
  std::optional<std::string> status;
  std::optional<std::string> title;
  std::optional<std::vector<tool_call_content>> content;
  std::optional<std::vector<tool_call_location>> locations;
  std::optional<boost::json::value> raw_input;
  std::optional<boost::json::value> raw_output;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(content);
ACP_DECLARE_CODEC(diff);
ACP_DECLARE_CODEC(terminal);
ACP_DECLARE_CODEC(tool_call_content);
ACP_DECLARE_CODEC(tool_call_location);
ACP_DECLARE_CODEC(tool_call);
ACP_DECLARE_CODEC(tool_call_update);

} // namespace acp
