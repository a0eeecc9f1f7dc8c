// MCP over ACP for an agent without it (docs/PROTOCOL.md §5). When the agent's `initialize`
// result lacks `mcpCapabilities.acp`, the conductor stands in for it: an in-process bridge
// (<acp/mcp_bridge/bridge.hpp>, the library `acp-mcp-bridge` is built on) serves each `acp`
// declaration to the agent over HTTP or stdio, and speaks `mcp/connect` / `mcp/message` /
// `mcp/disconnect` up the chain for it. The bridge is an SDK endpoint on a link of its own: its
// messages travel toward the client from the agent's place in the chain, and the `mcp/message`
// traffic the providers send toward the agent goes to it instead. No process, no extra hop for
// anything else.

#include "router_impl.hpp"

#include <acp/mcp_bridge/bridge.hpp>
#include <acp/sdk/log.hpp>
#include <acp/sdk/transport.hpp>

#include <filesystem>
#include <system_error>

namespace acp::conductor {
namespace json = boost::json;
using jsonrpc::message;

namespace {
bool is_mcp_message(std::string_view method) noexcept { return method == "mcp/message" || method == "_mcp/message"; }

bool is_session_setup(std::string_view method) noexcept {
  return method == "session/new" || method == "session/load" || method == "session/resume" || method == "session/fork";
}

/// `acp-mcp-bridge` next to this executable, else the bare name (the agent's PATH finds it).
std::string default_shim() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto sibling = self.parent_path() / "acp-mcp-bridge";
    if (std::filesystem::exists(sibling, ec)) return sibling.string();
  }
  return "acp-mcp-bridge";
}
} // namespace

void router::maybe_bridge_mcp(json::value& result) {
  using mb = enum conductor_options::mcp_bridge;
  // Only a proxy can provide a server over ACP, so a chain without one has nothing to bridge.
  if (opts_.mcp_bridge == mb::off || bridge_ || chain_.size() < 2 || !result.is_object()) return;
  if (mcp_bridge::agent_speaks_acp(result)) return;
  mcp_bridge::options o;
  o.kind = opts_.mcp_bridge == mb::http    ? mcp_bridge::mode::http
           : opts_.mcp_bridge == mb::stdio ? mcp_bridge::mode::stdio
                                           : mcp_bridge::choose_mode(result);
  o.shim_program = opts_.mcp_shim.empty() ? default_shim() : opts_.mcp_shim;
  o.max_body_bytes = opts_.max_message_size;
  auto ends = make_memory_duplex(ex_);
  if (!ends) {
    log::warn("", "cannot start the MCP bridge (" + ends.error().message() +
                      "); the agent gets MCP servers declared over ACP unchanged");
    return;
  }
  auto b = mcp_bridge::bridge::create(ex_, o);
  agent_builder side; // its one peer, the client, is the chain in front of the agent
  b->install(side, acp::peer::client);

  link l;
  l.id = static_cast<link_id>(links_.size());
  l.name = "mcp-bridge";
  l.position = at(chain_.back()).position; // speaks from the agent's place
  l.proxy = false;
  l.conn = connection::create(ex_, std::move(ends->first), link_options(l.name));
  bridge_link_ = l.id;
  links_.push_back(std::move(l));
  attach(bridge_link_);
  bridge_endpoint_.emplace(side.connect_to(ex_, std::move(ends->second)));
  b->start(bridge_endpoint_->cx());
  bridge_ = std::move(b);

  mcp_bridge::advertise_acp(result);
  log::debug("", std::string("the agent does not take MCP servers over ACP; the conductor bridges them over ") +
                     (o.kind == mcp_bridge::mode::http ? "HTTP" : "stdio (" + o.shim_program + " --shim)"));
}

std::optional<hop> router::bridge_hop(const hop& via, const message& msg) const {
  if (!is_agent_link(via.to) || !is_mcp_message(msg.method())) return std::nullopt;
  return hop{bridge_link_, false};
}

void router::bridge_declarations(hop via, toward dir, message& msg) {
  if (dir != toward::agent || !is_agent_link(via.to) || !msg.is_request() || !is_session_setup(msg.method())) return;
  auto* params = msg.params();
  if (!params) return;
  if (const auto n = bridge_->rewrite_declarations(*params))
    log::debug("", std::string(msg.method()) + ": " + std::to_string(n) + " MCP server(s) over ACP bridged");
}

void router::trace_call(chain_position from, chain_position to, const message& msg, const json::value* wire_id) {
  if (is_mcp_message(msg.method())) {
    // Recorded as the MCP message it carries: its method and params, marked "protocol":"mcp".
    const auto* params = msg.params();
    const auto* obj = params ? params->if_object() : nullptr;
    const auto* inner = obj ? obj->if_contains("method") : nullptr;
    if (inner && inner->is_string()) {
      const auto* inner_params = obj->if_contains("params");
      if (msg.is_request())
        trace_->request(from, to, wire_id ? *wire_id : msg.id(), inner->get_string(), inner_params,
                        trace_protocol::mcp);
      else
        trace_->notification(from, to, inner->get_string(), inner_params, trace_protocol::mcp);
      return;
    }
  }
  if (msg.is_request() && wire_id)
    trace_->request(from, to, *wire_id, msg);
  else
    trace_->message(from, to, msg);
}

void router::stop_bridge(const rpc_error& e) {
  if (!bridge_) return;
  bridge_->close();
  bridge_endpoint_->shutdown();
  auto& l = at(bridge_link_);
  l.conn->fail_pending(e);
  l.conn->close();
}

} // namespace acp::conductor
