#pragma once
// The two roles of the `acp-mcp-bridge` program, as library functions (main only parses options).
//
//   proxy  an SDK proxy that forwards `initialize` to the agent; when the agent's result lacks
//          `mcpCapabilities.acp` it adds `acp: true` to the result it passes up and rewrites each
//          session set-up request (session/new, load, resume, fork) on its way to the agent with
//          a `bridge`. When the agent advertises `acp`, everything passes untouched.
//   shim   the stdio MCP server an agent starts for a rewritten stdio declaration: connects to
//          the bridge's Unix socket (ACP_MCP_BRIDGE_SOCKET), presents ACP_MCP_BRIDGE_TOKEN and
//          ACP_MCP_BRIDGE_SERVER, then relays newline-delimited JSON-RPC between its stdin/stdout
//          and the socket.

#include <acp/mcp_bridge/bridge.hpp>

#include <acp/sdk/endpoint.hpp>

#include <iosfwd>
#include <optional>

namespace acp::mcp_bridge {

struct proxy_options {
  /// nullopt: `choose_mode` on the agent's initialize result.
  std::optional<mode> forced_mode;
  /// Everything else of the bridge (its `kind` is set from the mode).
  options bridge;
};

/// Adds the proxy's handlers to `p`. The bridge is created when the agent's initialize result
/// arrives (and only when it lacks `acp`); it lives as long as the endpoint's handlers.
void configure_proxy(acp::proxy_builder& p, proxy_options o);

/// The shim: relays until either side closes. Returns 0 when stdin or the bridge closed after a
/// successful hello, 1 (with one line on `err`) when the environment is incomplete, the socket
/// is refused or the bridge rejects the hello.
int run_shim(std::ostream& err);

} // namespace acp::mcp_bridge
