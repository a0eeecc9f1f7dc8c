// MCP over ACP: mcp/connect, mcp/message, mcp/disconnect and the older _mcp/* forms.
#include <acp/protocol/detail/codec.hpp>
#include <acp/protocol/types/mcp.hpp>

namespace acp {

ACP_STRUCT(connect_mcp_request, ACP_F("serverId", server_id), ACP_META)
ACP_STRUCT(connect_mcp_response, ACP_F("connectionId", connection_id), ACP_META)
ACP_STRUCT(message_mcp_request, ACP_F("connectionId", connection_id), ACP_F("method", method), ACP_F("params", params),
           ACP_META)
ACP_STRUCT(message_mcp_notification, ACP_F("connectionId", connection_id), ACP_F("method", method),
           ACP_F("params", params), ACP_META)
ACP_STRUCT(disconnect_mcp_request, ACP_F("connectionId", connection_id), ACP_META)
ACP_STRUCT(disconnect_mcp_response, ACP_META)
ACP_STRUCT(legacy_connect_mcp_request, ACP_F("acp_url", acp_url), ACP_META)
ACP_STRUCT(legacy_connect_mcp_response, ACP_F("connection_id", connection_id), ACP_META)
ACP_STRUCT(legacy_message_mcp_request, ACP_F("connectionId", connection_id), ACP_F("method", method),
           ACP_F("params", params), ACP_META)
ACP_STRUCT(legacy_message_mcp_notification, ACP_F("connectionId", connection_id), ACP_F("method", method),
           ACP_F("params", params), ACP_META)
ACP_STRUCT(legacy_disconnect_mcp_notification, ACP_F("connection_id", connection_id), ACP_META)

bool decode_value(const boost::json::value& v, message_mcp_response& out, decode_error&) {
  out.result = v;
  return true;
}

void encode_value(const message_mcp_response& in, boost::json::value& out) { out = in.result; }

} // namespace acp
