// initialize, authenticate, logout and capabilities.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(implementation, ACP_F("name", name), ACP_F("title", title), ACP_F("version", version), ACP_META)
ACP_STRUCT(boolean_config_option_capabilities, ACP_META)
ACP_STRUCT(elicitation_form_capabilities, ACP_META)
ACP_STRUCT(elicitation_url_capabilities, ACP_META)
ACP_STRUCT(session_list_capabilities, ACP_META)
ACP_STRUCT(session_delete_capabilities, ACP_META)
ACP_STRUCT(session_additional_directories_capabilities, ACP_META)
ACP_STRUCT(session_resume_capabilities, ACP_META)
ACP_STRUCT(session_close_capabilities, ACP_META)
ACP_STRUCT(logout_capabilities, ACP_META)
ACP_STRUCT(file_system_capabilities, ACP_F("readTextFile", read_text_file), ACP_F("writeTextFile", write_text_file),
           ACP_META)
ACP_STRUCT(session_config_options_capabilities, ACP_F("boolean", boolean), ACP_META)
ACP_STRUCT(client_session_capabilities, ACP_F("configOptions", config_options), ACP_META)
ACP_STRUCT(auth_capabilities, ACP_F("terminal", terminal), ACP_META)
ACP_STRUCT(elicitation_capabilities, ACP_F("form", form), ACP_F("url", url), ACP_META)
ACP_STRUCT(client_capabilities, ACP_F("fs", fs), ACP_F("terminal", terminal), ACP_F("session", session),
           ACP_F("auth", auth), ACP_F("elicitation", elicitation), ACP_META)
ACP_STRUCT(prompt_capabilities, ACP_F("image", image), ACP_F("audio", audio),
           ACP_F("embeddedContext", embedded_context), ACP_META)
ACP_STRUCT(mcp_capabilities, ACP_F("http", http), ACP_F("sse", sse), ACP_F("acp", acp), ACP_META)
ACP_STRUCT(session_capabilities, ACP_F("list", list), ACP_F("delete", delete_),
           ACP_F("additionalDirectories", additional_directories), ACP_F("resume", resume), ACP_F("close", close),
           ACP_META)
ACP_STRUCT(agent_auth_capabilities, ACP_F("logout", logout), ACP_META)
ACP_STRUCT(agent_capabilities, ACP_F("loadSession", load_session), ACP_F("promptCapabilities", prompt_capabilities),
           ACP_F("mcpCapabilities", mcp_capabilities), ACP_F("sessionCapabilities", session_capabilities),
           ACP_F("auth", auth), ACP_META)
ACP_STRUCT(auth_method_terminal, ACP_F("id", id), ACP_F("name", name), ACP_F("description", description),
           ACP_F("args", args), ACP_F("env", env), ACP_META)
ACP_STRUCT(auth_method_agent, ACP_F("id", id), ACP_F("name", name), ACP_F("description", description), ACP_META)
ACP_TAGGED_UNION(auth_method, "type", "terminal", "")
ACP_STRUCT(initialize_request, ACP_F("protocolVersion", protocol_version),
           ACP_F("clientCapabilities", client_capabilities), ACP_F("clientInfo", client_info), ACP_META)
ACP_STRUCT(initialize_response, ACP_F("protocolVersion", protocol_version),
           ACP_F("agentCapabilities", agent_capabilities), ACP_F("authMethods", auth_methods),
           ACP_F("agentInfo", agent_info), ACP_META)
ACP_STRUCT(authenticate_request, ACP_F("methodId", method_id), ACP_META)
ACP_STRUCT(authenticate_response, ACP_META)
ACP_STRUCT(logout_request, ACP_META)
ACP_STRUCT(logout_response, ACP_META)

} // namespace acp
