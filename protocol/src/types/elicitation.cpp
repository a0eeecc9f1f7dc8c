// elicitation/create and elicitation/complete.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(enum_option, ACP_F("const", const_), ACP_F("title", title), ACP_F("description", description), ACP_META)
ACP_STRUCT(string_property_schema, ACP_F("title", title), ACP_F("description", description),
           ACP_F("minLength", min_length), ACP_F("maxLength", max_length), ACP_F("pattern", pattern),
           ACP_F("format", format), ACP_F("default", default_), ACP_F("enum", enum_), ACP_F("oneOf", one_of), ACP_META)
ACP_STRUCT(number_property_schema, ACP_F("title", title), ACP_F("description", description), ACP_F("minimum", minimum),
           ACP_F("maximum", maximum), ACP_F("default", default_), ACP_META)
ACP_STRUCT(integer_property_schema, ACP_F("title", title), ACP_F("description", description), ACP_F("minimum", minimum),
           ACP_F("maximum", maximum), ACP_F("default", default_), ACP_META)
ACP_STRUCT(boolean_property_schema, ACP_F("title", title), ACP_F("description", description),
           ACP_F("default", default_), ACP_META)
ACP_STRUCT(string_multi_select_items, ACP_F("enum", enum_), ACP_META)
ACP_STRUCT(titled_multi_select_items, ACP_F("anyOf", any_of), ACP_META)
ACP_TAGGED_UNION(multi_select_items, "type", "string", "")
ACP_STRUCT(multi_select_property_schema, ACP_F("title", title), ACP_F("description", description),
           ACP_F("minItems", min_items), ACP_F("maxItems", max_items), ACP_F("items", items),
           ACP_F("default", default_), ACP_META)
ACP_TAGGED_UNION(elicitation_property_schema, "type", "string", "number", "integer", "boolean", "array")
ACP_STRUCT(elicitation_schema, ACP_F("type", type), ACP_F("title", title), ACP_F("properties", properties),
           ACP_F("required", required), ACP_F("description", description), ACP_META)
ACP_STRUCT(elicitation_form_mode, ACP_F("requestedSchema", requested_schema))
ACP_STRUCT(elicitation_url_mode, ACP_F("elicitationId", elicitation_id), ACP_F("url", url))
ACP_TAGGED_UNION(elicitation_mode, "mode", "form", "url")
ACP_STRUCT(create_elicitation_request, ACP_F("message", message), ACP_FLATTEN(mode), ACP_F("sessionId", session_id),
           ACP_F("toolCallId", tool_call_id), ACP_F("requestId", request_id), ACP_META)
ACP_STRUCT(create_elicitation_response, ACP_F("action", action), ACP_F("content", content), ACP_META)
ACP_STRUCT(complete_elicitation_notification, ACP_F("elicitationId", elicitation_id), ACP_META)

bool decode_value(const boost::json::value& v, elicitation_content_value& out, decode_error& err) {
  if (const auto* s = v.if_string()) {
    out = std::string(*s);
  } else if (const auto* b = v.if_bool()) {
    out = *b;
  } else if (v.is_int64() || v.is_uint64()) {
    std::int64_t i = 0;
    if (detail::read(v, i, err)) {
      out = i;
    } else {
      out = static_cast<double>(v.get_uint64()); // beyond int64: keep the magnitude
    }
  } else if (const auto* d = v.if_double()) {
    out = *d;
  } else if (v.is_array()) {
    return detail::read(v, out.emplace<std::vector<std::string>>(), err);
  } else {
    return detail::fail(err, "expected string, number, boolean or array of strings");
  }
  return true;
}

void encode_value(const elicitation_content_value& in, boost::json::value& out) {
  std::visit([&](const auto& x) { detail::write(x, out); }, in);
}

} // namespace acp
