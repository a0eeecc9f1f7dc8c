#pragma once
// `initialize`, `authenticate`, `logout`: capabilities, implementation info, auth methods.

#include <acp/protocol/types/common.hpp>

namespace acp {

/// ProtocolVersion of this library.
inline constexpr std::uint16_t protocol_version_v1 = 1;

struct implementation {
  std::string name;
  std::optional<std::string> title;
  std::string version;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Capability objects whose presence is the whole message (`{}` or with `_meta`). One type per
/// schema definition so each keeps its own unknown members.
#define ACP_EMPTY_CAPABILITY(name)                                                                                     \
  struct name {                                                                                                        \
    std::optional<boost::json::value> meta;                                                                            \
    boost::json::object extra;                                                                                         \
  };                                                                                                                   \
  ACP_DECLARE_CODEC(name)

ACP_EMPTY_CAPABILITY(boolean_config_option_capabilities);
ACP_EMPTY_CAPABILITY(elicitation_form_capabilities);
ACP_EMPTY_CAPABILITY(elicitation_url_capabilities);
ACP_EMPTY_CAPABILITY(session_list_capabilities);
ACP_EMPTY_CAPABILITY(session_delete_capabilities);
ACP_EMPTY_CAPABILITY(session_additional_directories_capabilities);
ACP_EMPTY_CAPABILITY(session_resume_capabilities);
ACP_EMPTY_CAPABILITY(session_close_capabilities);
ACP_EMPTY_CAPABILITY(logout_capabilities);
#undef ACP_EMPTY_CAPABILITY

struct file_system_capabilities {
  std::optional<bool> read_text_file;
  std::optional<bool> write_text_file;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct session_config_options_capabilities {
  std::optional<boolean_config_option_capabilities> boolean;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct client_session_capabilities {
  std::optional<session_config_options_capabilities> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct auth_capabilities {
  std::optional<bool> terminal;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct elicitation_capabilities {
  std::optional<elicitation_form_capabilities> form;
  std::optional<elicitation_url_capabilities> url;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct client_capabilities {
  std::optional<file_system_capabilities> fs;
  std::optional<bool> terminal;
  std::optional<client_session_capabilities> session;
  std::optional<auth_capabilities> auth;
  std::optional<elicitation_capabilities> elicitation;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct prompt_capabilities {
  std::optional<bool> image;
  std::optional<bool> audio;
  std::optional<bool> embedded_context;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct mcp_capabilities {
  std::optional<bool> http;
  std::optional<bool> sse;
  std::optional<bool> acp; ///< unstable: `{"type":"acp"}` servers (MCP over the ACP connection)
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct session_capabilities {
  std::optional<session_list_capabilities> list;
  std::optional<session_delete_capabilities> delete_; ///< `delete`
  std::optional<session_additional_directories_capabilities> additional_directories;
  std::optional<session_resume_capabilities> resume;
  std::optional<session_close_capabilities> close;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct agent_auth_capabilities {
  std::optional<logout_capabilities> logout;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct agent_capabilities {
  std::optional<bool> load_session;
  std::optional<acp::prompt_capabilities> prompt_capabilities;
  std::optional<acp::mcp_capabilities> mcp_capabilities;
  std::optional<acp::session_capabilities> session_capabilities;
  std::optional<agent_auth_capabilities> auth;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"terminal"}` auth method.
struct auth_method_terminal {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> args;
  std::optional<std::map<std::string, std::string>> env;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Auth method without `type` (the agent handles it).
struct auth_method_agent {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `type` "terminal" -> terminal; no `type` -> agent; another `type` -> unknown_variant.
using auth_method = std::variant<auth_method_terminal, auth_method_agent, unknown_variant>;

struct initialize_request {
  std::uint16_t protocol_version = protocol_version_v1;
  std::optional<acp::client_capabilities> client_capabilities;
  std::optional<implementation> client_info;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct initialize_response {
  std::uint16_t protocol_version = protocol_version_v1;
  std::optional<acp::agent_capabilities> agent_capabilities;
  std::optional<std::vector<auth_method>> auth_methods;
  std::optional<implementation> agent_info;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct authenticate_request {
  std::string method_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct authenticate_response {
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct logout_request {
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct logout_response {
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(implementation);
ACP_DECLARE_CODEC(file_system_capabilities);
ACP_DECLARE_CODEC(session_config_options_capabilities);
ACP_DECLARE_CODEC(client_session_capabilities);
ACP_DECLARE_CODEC(auth_capabilities);
ACP_DECLARE_CODEC(elicitation_capabilities);
ACP_DECLARE_CODEC(client_capabilities);
ACP_DECLARE_CODEC(prompt_capabilities);
ACP_DECLARE_CODEC(mcp_capabilities);
ACP_DECLARE_CODEC(session_capabilities);
ACP_DECLARE_CODEC(agent_auth_capabilities);
ACP_DECLARE_CODEC(agent_capabilities);
ACP_DECLARE_CODEC(auth_method_terminal);
ACP_DECLARE_CODEC(auth_method_agent);
ACP_DECLARE_CODEC(auth_method);
ACP_DECLARE_CODEC(initialize_request);
ACP_DECLARE_CODEC(initialize_response);
ACP_DECLARE_CODEC(authenticate_request);
ACP_DECLARE_CODEC(authenticate_response);
ACP_DECLARE_CODEC(logout_request);
ACP_DECLARE_CODEC(logout_response);

} // namespace acp
