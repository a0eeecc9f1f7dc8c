#pragma once
// Session lifecycle and prompting (client -> agent): session/new, load, list, delete, resume,
// close, fork (unstable), set_mode, set_config_option, prompt, cancel; MCP server specs;
// `$/cancel_request`.

#include <acp/protocol/types/content.hpp>
#include <acp/protocol/types/session_config.hpp>

namespace acp {

struct env_variable {
  std::string name;
  std::string value;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct http_header {
  std::string name;
  std::string value;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"http"}`
struct mcp_server_http {
  std::string name;
  std::string url;
  std::vector<http_header> headers;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"sse"}`
struct mcp_server_sse {
  std::string name;
  std::string url;
  std::vector<http_header> headers;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"acp"}` (unstable): an MCP server provided by an ACP component and reached over the
/// ACP connection itself (`mcp/connect`, `mcp/message`, `mcp/disconnect`; types/mcp.hpp).
struct mcp_server_acp {
  std::string name;
  std::string server_id; ///< "serverId", opaque, chosen by the provider (e.g. "mcp-server:<uuid>")
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// No `type`: a stdio server.
struct mcp_server_stdio {
  std::string name;
  std::string command;
  std::vector<std::string> args;
  std::vector<env_variable> env;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `type` "http" / "sse" / "acp"; no `type` -> stdio; another `type` -> unknown_variant.
using mcp_server = std::variant<mcp_server_http, mcp_server_sse, mcp_server_stdio, mcp_server_acp, unknown_variant>;

struct new_session_request {
  std::string cwd;
  std::optional<std::vector<std::string>> additional_directories;
  std::vector<mcp_server> mcp_servers;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct new_session_response {
  std::string session_id;
  std::optional<session_mode_state> modes;
  std::optional<std::vector<session_config_option>> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct load_session_request {
  std::vector<mcp_server> mcp_servers;
  std::string cwd;
  std::optional<std::vector<std::string>> additional_directories;
  std::string session_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct load_session_response {
  std::optional<session_mode_state> modes;
  std::optional<std::vector<session_config_option>> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct list_sessions_request {
  std::optional<std::string> cwd;
  std::optional<std::string> cursor;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct session_info {
  std::string session_id;
  std::string cwd;
  std::optional<std::vector<std::string>> additional_directories;
  std::optional<std::string> title;
  std::optional<std::string> updated_at;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct list_sessions_response {
  std::vector<session_info> sessions;
  std::optional<std::string> next_cursor;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct resume_session_request {
  std::string session_id;
  std::string cwd;
  std::optional<std::vector<std::string>> additional_directories;
  std::optional<std::vector<mcp_server>> mcp_servers;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct resume_session_response {
  std::optional<session_mode_state> modes;
  std::optional<std::vector<session_config_option>> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `session/fork` (unstable): a new session from the context of `session_id`.
struct fork_session_request {
  std::string session_id;
  std::string cwd;
  std::optional<std::vector<std::string>> additional_directories;
  std::optional<std::vector<mcp_server>> mcp_servers;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct fork_session_response {
  std::string session_id; ///< the new, forked session
  std::optional<session_mode_state> modes;
  std::optional<std::vector<session_config_option>> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Messages made of a session id (and `_meta`): delete, close, cancel.
#define ACP_SESSION_ID_MESSAGE(name)                                                                                   \
  struct name {                                                                                                        \
    std::string session_id;                                                                                            \
    std::optional<boost::json::value> meta;                                                                            \
    boost::json::object extra;                                                                                         \
  };                                                                                                                   \
  ACP_DECLARE_CODEC(name)

ACP_SESSION_ID_MESSAGE(delete_session_request);
ACP_EMPTY_MESSAGE(delete_session_response);
ACP_SESSION_ID_MESSAGE(close_session_request);
ACP_EMPTY_MESSAGE(close_session_response);
ACP_SESSION_ID_MESSAGE(cancel_notification); ///< `session/cancel`
ACP_EMPTY_MESSAGE(set_session_mode_response);
#undef ACP_SESSION_ID_MESSAGE

struct set_session_mode_request {
  std::string session_id;
  std::string mode_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// A select option's value id (JSON string) or a boolean option's value (JSON boolean).
using session_config_option_value = std::variant<std::string, bool>;

struct set_session_config_option_request {
  std::string session_id;
  std::string config_id;
  /// "boolean" for a boolean value (the schema requires it then); absent for a value id.
  std::optional<std::string> type;
  session_config_option_value value;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct set_session_config_option_response {
  std::vector<session_config_option> config_options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct prompt_request {
  std::string session_id;
  std::vector<content_block> prompt;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct prompt_response {
  acp::stop_reason stop_reason;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `$/cancel_request` (either direction). `request_id` is the JSON-RPC id as sent (integer,
/// string or null), kept as a JSON value so it compares like the id it names.
struct cancel_request_notification {
  boost::json::value request_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(env_variable);
ACP_DECLARE_CODEC(http_header);
ACP_DECLARE_CODEC(mcp_server_http);
ACP_DECLARE_CODEC(mcp_server_sse);
ACP_DECLARE_CODEC(mcp_server_stdio);
ACP_DECLARE_CODEC(mcp_server_acp);
ACP_DECLARE_CODEC(mcp_server);
ACP_DECLARE_CODEC(new_session_request);
ACP_DECLARE_CODEC(new_session_response);
ACP_DECLARE_CODEC(load_session_request);
ACP_DECLARE_CODEC(load_session_response);
ACP_DECLARE_CODEC(list_sessions_request);
ACP_DECLARE_CODEC(session_info);
ACP_DECLARE_CODEC(list_sessions_response);
ACP_DECLARE_CODEC(resume_session_request);
ACP_DECLARE_CODEC(resume_session_response);
ACP_DECLARE_CODEC(fork_session_request);
ACP_DECLARE_CODEC(fork_session_response);
ACP_DECLARE_CODEC(set_session_mode_request);
ACP_DECLARE_CODEC(session_config_option_value);
ACP_DECLARE_CODEC(set_session_config_option_request);
ACP_DECLARE_CODEC(set_session_config_option_response);
ACP_DECLARE_CODEC(prompt_request);
ACP_DECLARE_CODEC(prompt_response);
ACP_DECLARE_CODEC(cancel_request_notification);

} // namespace acp
