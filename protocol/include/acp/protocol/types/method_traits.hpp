#pragma once
// Compile-time method facts for every params type: `method_traits<prompt_request>::method` is
// "session/prompt", `::response` is prompt_response (void for notifications), `::receiver` is
// the peer that handles it (none for `$/cancel_request`, which either peer receives).

#include <acp/protocol/methods.hpp>
#include <acp/protocol/types/elicitation.hpp>
#include <acp/protocol/types/fs_terminal.hpp>
#include <acp/protocol/types/initialize.hpp>
#include <acp/protocol/types/mcp.hpp>
#include <acp/protocol/types/permission.hpp>
#include <acp/protocol/types/session.hpp>
#include <acp/protocol/types/session_update.hpp>

#include <type_traits>

namespace acp {

/// Specialised for each params type only; using another type is a compile error.
template <class Params> struct method_traits;

#define ACP_METHOD(params, name, result, receiver_)                                                                    \
  template <> struct method_traits<params> {                                                                           \
    static constexpr std::string_view method = name;                                                                   \
    using response = result;                                                                                           \
    static constexpr bool is_request = !std::is_void_v<result>;                                                        \
    static constexpr std::optional<peer> receiver = receiver_;                                                         \
  }

// client -> agent
ACP_METHOD(initialize_request, "initialize", initialize_response, peer::agent);
ACP_METHOD(authenticate_request, "authenticate", authenticate_response, peer::agent);
ACP_METHOD(logout_request, "logout", logout_response, peer::agent);
ACP_METHOD(new_session_request, "session/new", new_session_response, peer::agent);
ACP_METHOD(load_session_request, "session/load", load_session_response, peer::agent);
ACP_METHOD(list_sessions_request, "session/list", list_sessions_response, peer::agent);
ACP_METHOD(delete_session_request, "session/delete", delete_session_response, peer::agent);
ACP_METHOD(resume_session_request, "session/resume", resume_session_response, peer::agent);
ACP_METHOD(close_session_request, "session/close", close_session_response, peer::agent);
ACP_METHOD(set_session_mode_request, "session/set_mode", set_session_mode_response, peer::agent);
ACP_METHOD(set_session_config_option_request, "session/set_config_option", set_session_config_option_response,
           peer::agent);
ACP_METHOD(prompt_request, "session/prompt", prompt_response, peer::agent);
ACP_METHOD(cancel_notification, "session/cancel", void, peer::agent);
// agent -> client
ACP_METHOD(request_permission_request, "session/request_permission", request_permission_response, peer::client);
ACP_METHOD(session_notification, "session/update", void, peer::client);
ACP_METHOD(read_text_file_request, "fs/read_text_file", read_text_file_response, peer::client);
ACP_METHOD(write_text_file_request, "fs/write_text_file", write_text_file_response, peer::client);
ACP_METHOD(create_terminal_request, "terminal/create", create_terminal_response, peer::client);
ACP_METHOD(terminal_output_request, "terminal/output", terminal_output_response, peer::client);
ACP_METHOD(release_terminal_request, "terminal/release", release_terminal_response, peer::client);
ACP_METHOD(wait_for_terminal_exit_request, "terminal/wait_for_exit", wait_for_terminal_exit_response, peer::client);
ACP_METHOD(kill_terminal_request, "terminal/kill", kill_terminal_response, peer::client);
ACP_METHOD(create_elicitation_request, "elicitation/create", create_elicitation_response, peer::client);
ACP_METHOD(complete_elicitation_notification, "elicitation/complete", void, peer::client);
// either peer
ACP_METHOD(cancel_request_notification, "$/cancel_request", void, std::nullopt);
// unstable (unstable_methods()): session/fork and MCP over ACP. mcp/connect and mcp/disconnect go
// from the agent side toward the client (the component that provides the server answers);
// mcp/message goes either way (server-initiated MCP traffic travels toward the agent).
ACP_METHOD(fork_session_request, "session/fork", fork_session_response, peer::agent);
ACP_METHOD(connect_mcp_request, "mcp/connect", connect_mcp_response, peer::client);
ACP_METHOD(message_mcp_request, "mcp/message", message_mcp_response, std::nullopt);
ACP_METHOD(message_mcp_notification, "mcp/message", void, std::nullopt);
ACP_METHOD(disconnect_mcp_request, "mcp/disconnect", disconnect_mcp_response, peer::client);
// the older extension methods of the same (not in the schema)
ACP_METHOD(legacy_connect_mcp_request, "_mcp/connect", legacy_connect_mcp_response, peer::client);
ACP_METHOD(legacy_message_mcp_request, "_mcp/message", message_mcp_response, std::nullopt);
ACP_METHOD(legacy_message_mcp_notification, "_mcp/message", void, std::nullopt);
ACP_METHOD(legacy_disconnect_mcp_notification, "_mcp/disconnect", void, peer::client);

#undef ACP_METHOD

/// Whether `T` is the params type of a method of the table (stable, unstable or the older _mcp/*).
template <class T>
concept method_params = requires {
  method_traits<T>::method;
};

} // namespace acp
