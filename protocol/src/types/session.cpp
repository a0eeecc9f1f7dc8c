// Session lifecycle, prompting, MCP servers, $/cancel_request.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(env_variable, ACP_F("name", name), ACP_F("value", value), ACP_META)
ACP_STRUCT(http_header, ACP_F("name", name), ACP_F("value", value), ACP_META)
ACP_STRUCT(mcp_server_http, ACP_F("name", name), ACP_F("url", url), ACP_F("headers", headers), ACP_META)
ACP_STRUCT(mcp_server_sse, ACP_F("name", name), ACP_F("url", url), ACP_F("headers", headers), ACP_META)
ACP_STRUCT(mcp_server_stdio, ACP_F("name", name), ACP_F("command", command), ACP_F("args", args), ACP_F("env", env),
           ACP_META)
ACP_STRUCT(mcp_server_acp, ACP_F("name", name), ACP_F("serverId", server_id), ACP_META)
ACP_TAGGED_UNION(mcp_server, "type", "http", "sse", "", "acp")
ACP_STRUCT(new_session_request, ACP_F("cwd", cwd), ACP_F("additionalDirectories", additional_directories),
           ACP_F("mcpServers", mcp_servers), ACP_META)
ACP_STRUCT(new_session_response, ACP_F("sessionId", session_id), ACP_F("modes", modes),
           ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(load_session_request, ACP_F("mcpServers", mcp_servers), ACP_F("cwd", cwd),
           ACP_F("additionalDirectories", additional_directories), ACP_F("sessionId", session_id), ACP_META)
ACP_STRUCT(load_session_response, ACP_F("modes", modes), ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(list_sessions_request, ACP_F("cwd", cwd), ACP_F("cursor", cursor), ACP_META)
ACP_STRUCT(session_info, ACP_F("sessionId", session_id), ACP_F("cwd", cwd),
           ACP_F("additionalDirectories", additional_directories), ACP_F("title", title),
           ACP_F("updatedAt", updated_at), ACP_META)
ACP_STRUCT(list_sessions_response, ACP_F("sessions", sessions), ACP_F("nextCursor", next_cursor), ACP_META)
ACP_STRUCT(delete_session_request, ACP_F("sessionId", session_id), ACP_META)
ACP_STRUCT(delete_session_response, ACP_META)
ACP_STRUCT(resume_session_request, ACP_F("sessionId", session_id), ACP_F("cwd", cwd),
           ACP_F("additionalDirectories", additional_directories), ACP_F("mcpServers", mcp_servers), ACP_META)
ACP_STRUCT(resume_session_response, ACP_F("modes", modes), ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(fork_session_request, ACP_F("sessionId", session_id), ACP_F("cwd", cwd),
           ACP_F("additionalDirectories", additional_directories), ACP_F("mcpServers", mcp_servers), ACP_META)
ACP_STRUCT(fork_session_response, ACP_F("sessionId", session_id), ACP_F("modes", modes),
           ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(close_session_request, ACP_F("sessionId", session_id), ACP_META)
ACP_STRUCT(close_session_response, ACP_META)
ACP_STRUCT(set_session_mode_request, ACP_F("sessionId", session_id), ACP_F("modeId", mode_id), ACP_META)
ACP_STRUCT(set_session_mode_response, ACP_META)
ACP_STRUCT(set_session_config_option_request, ACP_F("sessionId", session_id), ACP_F("configId", config_id),
           ACP_F("type", type), ACP_F("value", value), ACP_META)
ACP_STRUCT(set_session_config_option_response, ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(prompt_request, ACP_F("sessionId", session_id), ACP_F("prompt", prompt), ACP_META)
ACP_STRUCT(prompt_response, ACP_F("stopReason", stop_reason), ACP_META)
ACP_STRUCT(cancel_notification, ACP_F("sessionId", session_id), ACP_META)
ACP_STRUCT(cancel_request_notification, ACP_F("requestId", request_id), ACP_META)

bool decode_value(const boost::json::value& v, session_config_option_value& out, decode_error& err) {
  if (const auto* b = v.if_bool()) {
    out = *b;
    return true;
  }
  if (const auto* s = v.if_string()) {
    out = std::string(*s);
    return true;
  }
  return detail::fail(err, "expected string or boolean");
}

void encode_value(const session_config_option_value& in, boost::json::value& out) {
  std::visit([&](const auto& x) { detail::write(x, out); }, in);
}

} // namespace acp
