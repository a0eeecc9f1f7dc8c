#pragma once
// The proxy SDK in one include: typed ACP messages, the connection runtime, child processes,
// the proxy, agent and client builders, and a small command-line parser (acp/sdk/cli.hpp). See
// acp/sdk/endpoint.hpp for the ordering and deadlock rules.

#include <acp/protocol/types.hpp>
#include <acp/sdk/channel.hpp>
#include <acp/sdk/cli.hpp>
#include <acp/sdk/connection.hpp>
#include <acp/sdk/detail/typed.hpp>
#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/log.hpp>
#include <acp/sdk/mcp_server.hpp>
#include <acp/sdk/peer.hpp>
#include <acp/sdk/process.hpp>
#include <acp/sdk/transport.hpp>
