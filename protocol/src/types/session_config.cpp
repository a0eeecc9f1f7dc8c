// Session modes and config options.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(session_mode, ACP_F("id", id), ACP_F("name", name), ACP_F("description", description), ACP_META)
ACP_STRUCT(session_mode_state, ACP_F("currentModeId", current_mode_id), ACP_F("availableModes", available_modes),
           ACP_META)
ACP_STRUCT(session_config_select_option, ACP_F("value", value), ACP_F("name", name), ACP_F("description", description),
           ACP_META)
ACP_STRUCT(session_config_select_group, ACP_F("group", group), ACP_F("name", name), ACP_F("options", options), ACP_META)
ACP_STRUCT(session_config_select, ACP_F("currentValue", current_value), ACP_F("options", options))
ACP_STRUCT(session_config_boolean, ACP_F("currentValue", current_value))
ACP_TAGGED_UNION(session_config_option_kind, "type", "select", "boolean")
ACP_STRUCT(session_config_option, ACP_F("id", id), ACP_F("name", name), ACP_F("description", description),
           ACP_F("category", category), ACP_FLATTEN(kind), ACP_META)

bool decode_value(const boost::json::value& v, session_config_select_options& out, decode_error& err) {
  const auto* a = v.if_array();
  if (a == nullptr) return detail::fail(err, "expected array");
  const bool grouped = !a->empty() && (*a)[0].is_object() && (*a)[0].get_object().contains("group");
  if (grouped) return detail::read(v, out.emplace<1>(), err);
  return detail::read(v, out.emplace<0>(), err);
}

void encode_value(const session_config_select_options& in, boost::json::value& out) {
  std::visit([&](const auto& list) { detail::write(list, out); }, in);
}

} // namespace acp
