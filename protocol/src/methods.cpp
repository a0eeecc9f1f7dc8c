#include <acp/protocol/methods.hpp>

#include <array>

namespace acp {

namespace {

constexpr std::array<method_info, 25> methods{{
    // client -> agent
    {"initialize", peer::agent, true, "InitializeRequest", "InitializeResponse"},
    {"authenticate", peer::agent, true, "AuthenticateRequest", "AuthenticateResponse"},
    {"logout", peer::agent, true, "LogoutRequest", "LogoutResponse"},
    {"session/new", peer::agent, true, "NewSessionRequest", "NewSessionResponse"},
    {"session/load", peer::agent, true, "LoadSessionRequest", "LoadSessionResponse"},
    {"session/list", peer::agent, true, "ListSessionsRequest", "ListSessionsResponse"},
    {"session/delete", peer::agent, true, "DeleteSessionRequest", "DeleteSessionResponse"},
    {"session/resume", peer::agent, true, "ResumeSessionRequest", "ResumeSessionResponse"},
    {"session/close", peer::agent, true, "CloseSessionRequest", "CloseSessionResponse"},
    {"session/set_mode", peer::agent, true, "SetSessionModeRequest", "SetSessionModeResponse"},
    {"session/set_config_option", peer::agent, true, "SetSessionConfigOptionRequest", "SetSessionConfigOptionResponse"},
    {"session/prompt", peer::agent, true, "PromptRequest", "PromptResponse"},
    {"session/cancel", peer::agent, false, "CancelNotification", ""},
    // agent -> client
    {"session/request_permission", peer::client, true, "RequestPermissionRequest", "RequestPermissionResponse"},
    {"session/update", peer::client, false, "SessionNotification", ""},
    {"fs/read_text_file", peer::client, true, "ReadTextFileRequest", "ReadTextFileResponse"},
    {"fs/write_text_file", peer::client, true, "WriteTextFileRequest", "WriteTextFileResponse"},
    {"terminal/create", peer::client, true, "CreateTerminalRequest", "CreateTerminalResponse"},
    {"terminal/output", peer::client, true, "TerminalOutputRequest", "TerminalOutputResponse"},
    {"terminal/release", peer::client, true, "ReleaseTerminalRequest", "ReleaseTerminalResponse"},
    {"terminal/wait_for_exit", peer::client, true, "WaitForTerminalExitRequest", "WaitForTerminalExitResponse"},
    {"terminal/kill", peer::client, true, "KillTerminalRequest", "KillTerminalResponse"},
    {"elicitation/create", peer::client, true, "CreateElicitationRequest", "CreateElicitationResponse"},
    {"elicitation/complete", peer::client, false, "CompleteElicitationNotification", ""},
    // either peer
    {"$/cancel_request", std::nullopt, false, "CancelRequestNotification", ""},
}};

constexpr std::array<method_info, 4> unstable{{
    {"session/fork", peer::agent, true, "ForkSessionRequest", "ForkSessionResponse"},
    {"mcp/connect", peer::client, true, "ConnectMcpRequest", "ConnectMcpResponse"},
    {"mcp/message", std::nullopt, true, "MessageMcpRequest", "MessageMcpResponse"},
    {"mcp/disconnect", peer::client, true, "DisconnectMcpRequest", "DisconnectMcpResponse"},
}};

} // namespace

std::span<const method_info> stable_methods() noexcept { return methods; }

const method_info* find_method(std::string_view name) noexcept {
  for (const auto& m : methods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::span<const method_info> unstable_methods() noexcept { return unstable; }

const method_info* find_unstable_method(std::string_view name) noexcept {
  for (const auto& m : unstable) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

} // namespace acp
