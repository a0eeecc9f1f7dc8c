// `session/update` and its variants.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

#define ACP_CONTENT_CHUNK_FIELDS ACP_F("content", content), ACP_F("messageId", message_id), ACP_META
ACP_STRUCT(content_chunk, ACP_CONTENT_CHUNK_FIELDS)
ACP_STRUCT(user_message_chunk, ACP_CONTENT_CHUNK_FIELDS)
ACP_STRUCT(agent_message_chunk, ACP_CONTENT_CHUNK_FIELDS)
ACP_STRUCT(agent_thought_chunk, ACP_CONTENT_CHUNK_FIELDS)
#undef ACP_CONTENT_CHUNK_FIELDS
ACP_STRUCT(plan_entry, ACP_F("content", content), ACP_F("priority", priority), ACP_F("status", status), ACP_META)
ACP_STRUCT(plan, ACP_F("entries", entries), ACP_META)
ACP_STRUCT(unstructured_command_input, ACP_F("hint", hint), ACP_META)
ACP_STRUCT(available_command, ACP_F("name", name), ACP_F("description", description), ACP_F("input", input), ACP_META)
ACP_STRUCT(available_commands_update, ACP_F("availableCommands", available_commands), ACP_META)
ACP_STRUCT(current_mode_update, ACP_F("currentModeId", current_mode_id), ACP_META)
ACP_STRUCT(config_option_update, ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(session_info_update, ACP_F("title", title), ACP_F("updatedAt", updated_at), ACP_META)
ACP_STRUCT(cost, ACP_F("amount", amount), ACP_F("currency", currency), ACP_META)
ACP_STRUCT(usage_update, ACP_F("used", used), ACP_F("size", size), ACP_F("cost", cost), ACP_META)
ACP_TAGGED_UNION(session_update, "sessionUpdate", "user_message_chunk", "agent_message_chunk", "agent_thought_chunk",
                 "tool_call", "tool_call_update", "plan", "available_commands_update", "current_mode_update",
                 "config_option_update", "session_info_update", "usage_update")
ACP_STRUCT(session_notification, ACP_F("sessionId", session_id), ACP_F("update", update), ACP_META)

bool decode_value(const boost::json::value& v, available_command_input& out, decode_error& err) {
  const auto* o = v.if_object();
  if (o == nullptr) return detail::fail(err, "expected object");
  if (o->contains("hint")) return detail::read(v, out.emplace<unstructured_command_input>(), err);
  out.emplace<unknown_variant>(unknown_variant{*o});
  return true;
}

void encode_value(const available_command_input& in, boost::json::value& out) {
  if (const auto* u = std::get_if<unknown_variant>(&in)) {
    out = u->json;
  } else {
    detail::write(std::get<unstructured_command_input>(in), out);
  }
}

} // namespace acp
