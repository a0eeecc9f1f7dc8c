#include <acp/protocol/methods.hpp>

#include <array>

namespace acp {

std::string_view to_string(side s) noexcept {
  switch (s) {
  case side::agent:
    return "agent";
  case side::client:
    return "client";
  case side::protocol:
    return "protocol";
  }
  return "unknown";
}

namespace {

constexpr std::array<method_info, 25> methods{{
    // client -> agent
    {"initialize", side::agent, true, "InitializeRequest", "InitializeResponse"},
    {"authenticate", side::agent, true, "AuthenticateRequest", "AuthenticateResponse"},
    {"logout", side::agent, true, "LogoutRequest", "LogoutResponse"},
    {"session/new", side::agent, true, "NewSessionRequest", "NewSessionResponse"},
    {"session/load", side::agent, true, "LoadSessionRequest", "LoadSessionResponse"},
    {"session/list", side::agent, true, "ListSessionsRequest", "ListSessionsResponse"},
    {"session/delete", side::agent, true, "DeleteSessionRequest", "DeleteSessionResponse"},
    {"session/resume", side::agent, true, "ResumeSessionRequest", "ResumeSessionResponse"},
    {"session/close", side::agent, true, "CloseSessionRequest", "CloseSessionResponse"},
    {"session/set_mode", side::agent, true, "SetSessionModeRequest", "SetSessionModeResponse"},
    {"session/set_config_option", side::agent, true, "SetSessionConfigOptionRequest", "SetSessionConfigOptionResponse"},
    {"session/prompt", side::agent, true, "PromptRequest", "PromptResponse"},
    {"session/cancel", side::agent, false, "CancelNotification", ""},
    // agent -> client
    {"session/request_permission", side::client, true, "RequestPermissionRequest", "RequestPermissionResponse"},
    {"session/update", side::client, false, "SessionNotification", ""},
    {"fs/read_text_file", side::client, true, "ReadTextFileRequest", "ReadTextFileResponse"},
    {"fs/write_text_file", side::client, true, "WriteTextFileRequest", "WriteTextFileResponse"},
    {"terminal/create", side::client, true, "CreateTerminalRequest", "CreateTerminalResponse"},
    {"terminal/output", side::client, true, "TerminalOutputRequest", "TerminalOutputResponse"},
    {"terminal/release", side::client, true, "ReleaseTerminalRequest", "ReleaseTerminalResponse"},
    {"terminal/wait_for_exit", side::client, true, "WaitForTerminalExitRequest", "WaitForTerminalExitResponse"},
    {"terminal/kill", side::client, true, "KillTerminalRequest", "KillTerminalResponse"},
    {"elicitation/create", side::client, true, "CreateElicitationRequest", "CreateElicitationResponse"},
    {"elicitation/complete", side::client, false, "CompleteElicitationNotification", ""},
    // either peer
    {"$/cancel_request", side::protocol, false, "CancelRequestNotification", ""},
}};

} // namespace

std::span<const method_info> stable_methods() noexcept { return methods; }

const method_info* find_method(std::string_view name) noexcept {
  for (const auto& m : methods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

} // namespace acp
