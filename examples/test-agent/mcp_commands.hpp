#pragma once
// The test agent's `mcp` prompt command (see test_agent.hpp): `mcp list`, `mcp call` and
// `mcp bench` (N timed calls, for tests/bench/run_mcp_benchmarks.sh), on the MCP servers a
// session was given. One connection per server per command: connect, use,
// close, so nothing lingers after the turn.

#include "mcp_client.hpp"

#include <functional>
#include <string>

namespace acp::examples::mcp {

/// Transports the agent advertises in `agentCapabilities.mcpCapabilities`; stdio is always
/// supported and never advertised.
struct capability_set {
  bool http = true;
  bool sse = false;
  bool acp = false;
};

struct command_settings {
  capability_set advertised;
  client_options client;
};

/// Sends one agent_message_chunk; false once the turn is cancelled (the command then stops).
using chunk_sink = std::function<boost::asio::awaitable<bool>(std::string text)>;

/// Runs `mcp ARGS` on `servers` (the session's `mcpServers` JSON). Never throws; every failure is
/// a chunk.
[[nodiscard]] boost::asio::awaitable<void> run_command(std::string args, boost::json::value servers, context cx,
                                                       command_settings settings, chunk_sink say);

} // namespace acp::examples::mcp
