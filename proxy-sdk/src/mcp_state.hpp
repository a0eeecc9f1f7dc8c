#pragma once
// The state behind <acp/sdk/mcp_server.hpp>: a server's tools, one provider per
// `provide_mcp_server` (its server ids, connections and running calls), one call's state.

#include <acp/sdk/mcp_server.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace acp::mcp::detail {

struct tool_entry {
  tool info;
  sync_tool_handler sync;
  async_tool_handler async;
};

struct server_state {
  std::string name;
  std::string version;
  std::string instructions;
  std::vector<tool_entry> tools;

  [[nodiscard]] const tool_entry* find(std::string_view name) const;
};

struct provider;

struct call_state {
  std::shared_ptr<provider> prov;
  std::string server_id;
  std::string connection_id;
  std::string tool;
  bool legacy = false; ///< server-initiated messages go out as `_mcp/message`
  std::optional<boost::json::value> progress_token;
  acp::context cx;
  bool cancelled = false;
  std::function<void()> cancel_hook; ///< set while an async handler runs: ends its coroutine

  void cancel();
};

/// One MCP-over-ACP connection.
struct connection_state {
  std::string server_id;
  bool legacy = false;
  /// Running calls by the JSON text of their `mcp/message` request id.
  std::map<std::string, std::shared_ptr<call_state>> calls;
};

/// What one `provide_mcp_server` keeps.
struct provider : std::enable_shared_from_this<provider> {
  std::shared_ptr<server_state> srv;
  /// Server ids injected, with the ACP session each belongs to once known.
  std::unordered_map<std::string, std::optional<std::string>> servers;
  std::unordered_map<std::string, connection_state> connections;
  std::set<std::string> closed;

  [[nodiscard]] std::optional<std::string> session_of(const std::string& server_id) const;
};

/// A fresh random UUID in its text form.
[[nodiscard]] std::string new_uuid();

/// Serves one MCP request of connection `connection_id` (which exists), answering `r` now or
/// later. `request_id` is the `mcp/message` request's JSON-RPC id (for notifications/cancelled).
void serve_request(const std::shared_ptr<provider>& prov, const std::string& connection_id, std::string_view method,
                   const boost::json::object& params, const boost::json::value& request_id, responder r,
                   acp::context& cx);
/// Serves one MCP notification of connection `connection_id` (which exists).
void serve_notification(provider& prov, const std::string& connection_id, std::string_view method,
                        const boost::json::object& params);

} // namespace acp::mcp::detail
