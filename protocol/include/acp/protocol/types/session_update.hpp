#pragma once
// `session/update` notifications (SessionNotification) and every SessionUpdate variant.

#include <acp/protocol/types/session_config.hpp>
#include <acp/protocol/types/tool_call.hpp>

namespace acp {

/// A streamed piece of a message (ContentChunk). The three chunk updates have this shape, each
/// as its own struct (no base class, so `acp::agent_message_chunk{.content = ...}` works).
struct content_chunk {
  content_block content;
  std::optional<std::string> message_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"user_message_chunk"}`
struct user_message_chunk {
  content_block content;
  std::optional<std::string> message_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"agent_message_chunk"}`
struct agent_message_chunk {
  content_block content;
  std::optional<std::string> message_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"agent_thought_chunk"}`
struct agent_thought_chunk {
  content_block content;
  std::optional<std::string> message_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct plan_entry {
  std::string content;
  plan_entry_priority priority;
  plan_entry_status status;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"plan"}`: the complete plan, replacing the previous one.
struct plan {
  std::vector<plan_entry> entries;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct unstructured_command_input {
  std::string hint;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Untagged: an object with `hint` is unstructured input; anything else is kept as unknown.
using available_command_input = std::variant<unstructured_command_input, unknown_variant>;

struct available_command {
  std::string name;
  std::string description;
  std::optional<available_command_input> input;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"available_commands_update"}`
struct available_commands_update {
  std::vector<available_command> available_commands;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"current_mode_update"}`
struct current_mode_update {
  std::string current_mode_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"config_option_update"}`
struct config_option_update {
  std::vector<session_config_option> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"session_info_update"}`
struct session_info_update {
  std::optional<std::string> title;
  std::optional<std::string> updated_at;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct cost {
  double amount = 0;
  std::string currency;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"sessionUpdate":"usage_update"}`
struct usage_update {
  std::uint64_t used = 0;
  std::uint64_t size = 0;
  std::optional<acp::cost> cost;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Tagged by `sessionUpdate`; tool_call and tool_call_update use the plain ToolCall /
/// ToolCallUpdate structs. Unknown kinds are kept as `unknown_variant`.
using session_update = std::variant<user_message_chunk, agent_message_chunk, agent_thought_chunk, tool_call,
                                    tool_call_update, plan, available_commands_update, current_mode_update,
                                    config_option_update, session_info_update, usage_update, unknown_variant>;

/// Params of `session/update` (agent -> client notification).
struct session_notification {
  std::string session_id;
  session_update update;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// A line of text to the user in one expression (an agent_message_chunk of one text block):
/// `cx.send_notification_to(acp::client, acp::agent_text(session_id, "…"))`.
[[nodiscard]] inline session_notification agent_text(std::string session_id, std::string text) {
  return session_notification{.session_id = std::move(session_id),
                              .update = agent_message_chunk{.content = text_content{.text = std::move(text)}}};
}

ACP_DECLARE_CODEC(content_chunk);
ACP_DECLARE_CODEC(user_message_chunk);
ACP_DECLARE_CODEC(agent_message_chunk);
ACP_DECLARE_CODEC(agent_thought_chunk);
ACP_DECLARE_CODEC(plan_entry);
ACP_DECLARE_CODEC(plan);
ACP_DECLARE_CODEC(unstructured_command_input);
ACP_DECLARE_CODEC(available_command_input);
ACP_DECLARE_CODEC(available_command);
ACP_DECLARE_CODEC(available_commands_update);
ACP_DECLARE_CODEC(current_mode_update);
ACP_DECLARE_CODEC(config_option_update);
ACP_DECLARE_CODEC(session_info_update);
ACP_DECLARE_CODEC(cost);
ACP_DECLARE_CODEC(usage_update);
ACP_DECLARE_CODEC(session_update);
ACP_DECLARE_CODEC(session_notification);

} // namespace acp
