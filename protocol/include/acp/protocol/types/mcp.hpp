#pragma once
// MCP over ACP (unstable; docs/PROTOCOL.md §5): the agent side opens a connection to an MCP
// server declared as `{"type":"acp","serverId"}` (types/session.hpp, mcp_server_acp) with
// `mcp/connect`, carries MCP messages in `mcp/message` and closes it with `mcp/disconnect`.
// The older extension methods `_mcp/connect`, `_mcp/message`, `_mcp/disconnect` are here too.
//
// `mcp/message` goes either way. As a request its params carry an MCP request and the ACP
// result (or error) IS the MCP result (or error): message_mcp_response is any JSON value.

#include <acp/protocol/types/common.hpp>

namespace acp {

/// `mcp/connect` params.
struct connect_mcp_request {
  std::string server_id; ///< "serverId" of a declared `{"type":"acp"}` server
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `mcp/connect` result.
struct connect_mcp_response {
  std::string connection_id; ///< "connectionId"
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `mcp/message` params, request form: `method` and `params` are the inner MCP request's.
struct message_mcp_request {
  std::string connection_id;
  std::string method;
  std::optional<boost::json::value> params; ///< an object, or absent (a `null` reads as absent)
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `mcp/message` params, notification form (no JSON-RPC id): an inner MCP notification.
struct message_mcp_notification {
  std::string connection_id;
  std::string method;
  std::optional<boost::json::value> params;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `mcp/message` result: the inner MCP result, whatever JSON value it is (kept whole).
struct message_mcp_response {
  boost::json::value result;
};

/// `mcp/disconnect` params.
struct disconnect_mcp_request {
  std::string connection_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_EMPTY_MESSAGE(disconnect_mcp_response);

/// `_mcp/connect` params (older form): `{"acp_url":"acp:<uuid>"}`, the url of an older
/// `{"type":"http","url":"acp:<uuid>"}` declaration.
struct legacy_connect_mcp_request {
  std::string acp_url;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `_mcp/connect` result: `{"connection_id"}`.
struct legacy_connect_mcp_response {
  std::string connection_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `_mcp/message` params, request form (members as in `mcp/message`: "connectionId").
struct legacy_message_mcp_request {
  std::string connection_id;
  std::string method;
  std::optional<boost::json::value> params;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `_mcp/message` params, notification form.
struct legacy_message_mcp_notification {
  std::string connection_id;
  std::string method;
  std::optional<boost::json::value> params;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `_mcp/disconnect` params, a NOTIFICATION: `{"connection_id"}`.
struct legacy_disconnect_mcp_notification {
  std::string connection_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(connect_mcp_request);
ACP_DECLARE_CODEC(connect_mcp_response);
ACP_DECLARE_CODEC(message_mcp_request);
ACP_DECLARE_CODEC(message_mcp_notification);
ACP_DECLARE_CODEC(message_mcp_response);
ACP_DECLARE_CODEC(disconnect_mcp_request);
ACP_DECLARE_CODEC(legacy_connect_mcp_request);
ACP_DECLARE_CODEC(legacy_connect_mcp_response);
ACP_DECLARE_CODEC(legacy_message_mcp_request);
ACP_DECLARE_CODEC(legacy_message_mcp_notification);
ACP_DECLARE_CODEC(legacy_disconnect_mcp_notification);

} // namespace acp
