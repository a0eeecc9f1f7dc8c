#pragma once
// Tool calls (ToolCall, ToolCallUpdate) and their content, locations, kinds and statuses.

#include <acp/protocol/types/content.hpp>

namespace acp {

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
  std::optional<tool_kind> kind;
  std::optional<tool_call_status> status;
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
  std::optional<tool_kind> kind;
  std::optional<tool_call_status> status;
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
