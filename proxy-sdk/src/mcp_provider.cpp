// proxy_builder::provide_mcp_server: the declaration injected into session set-up requests and
// the ACP side of MCP over ACP (mcp/connect, mcp/message, mcp/disconnect and the older _mcp/*).
#include "mcp_state.hpp"

#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/log.hpp>

namespace acp {

namespace json = boost::json;
using mcp::detail::provider;

namespace {

constexpr std::string_view server_prefix = "mcp-server:";
constexpr std::string_view legacy_url_prefix = "acp:";

const json::object* params_object(const jsonrpc::message& msg) {
  const auto* p = msg.params();
  return p != nullptr ? p->if_object() : nullptr;
}

const json::string* string_member(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const auto* v = o->if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

rpc_error closed_connection(std::string_view connection_id) {
  return rpc_error::invalid_params("MCP connection " + std::string(connection_id) + " is closed",
                                   json::object{{"reason", "connection_closed"}, {"connectionId", connection_id}});
}

/// session/new, load, resume, fork toward the agent: appends our declaration to `mcpServers`
/// and learns the session from the answer.
handled inject_declaration(const std::shared_ptr<provider>& prov, jsonrpc::message& msg, responder& r) {
  auto* p = msg.params();
  if (p == nullptr || !p->is_object()) return handled::no; // the agent answers the bad request
  auto& o = p->get_object();
  auto& servers = o["mcpServers"];
  if (servers.is_null()) servers.emplace_array();
  if (!servers.is_array()) return handled::no;
  std::string server_id = std::string(server_prefix) + mcp::detail::new_uuid();
  servers.get_array().push_back(json::object{{"type", "acp"}, {"name", prov->srv->name}, {"serverId", server_id}});
  prov->servers.emplace(server_id, std::nullopt);

  const bool id_in_result = msg.method() == "session/new" || msg.method() == "session/fork";
  std::optional<std::string> requested;
  if (const auto* s = string_member(&o, "sessionId")) requested = std::string(*s);
  r.on_answer([prov, server_id, id_in_result, requested](const jsonrpc::message& answer) {
    if (answer.is_error()) {
      prov->servers.erase(server_id);
      return;
    }
    std::optional<std::string> session = requested;
    if (id_in_result) {
      const auto* result = answer.result();
      const auto* s =
          result != nullptr && result->is_object() ? string_member(&result->get_object(), "sessionId") : nullptr;
      session = s != nullptr ? std::optional<std::string>(std::string(*s)) : std::nullopt;
    }
    if (auto it = prov->servers.find(server_id); it != prov->servers.end()) it->second = std::move(session);
  });
  return handled::no;
}

/// mcp/connect {serverId} / _mcp/connect {acp_url}: a connection to one of our servers.
handled connect(const std::shared_ptr<provider>& prov, jsonrpc::message& msg, responder& r, bool legacy) {
  const auto* arg = string_member(params_object(msg), legacy ? "acp_url" : "serverId");
  if (arg == nullptr) return handled::no;
  std::string server_id(*arg);
  if (legacy) {
    if (!server_id.starts_with(legacy_url_prefix)) return handled::no;
    server_id = std::string(server_prefix) + server_id.substr(legacy_url_prefix.size());
  }
  if (!prov->servers.contains(server_id)) return handled::no; // another provider's
  std::string connection_id = "mcp-connection:" + mcp::detail::new_uuid();
  prov->connections.emplace(connection_id, mcp::detail::connection_state{server_id, legacy, {}});
  r.respond(json::object{{legacy ? "connection_id" : "connectionId", connection_id}});
  return handled::yes;
}

/// The connection a message names: ours (found), closed by us, or someone else's.
enum class whose { ours, closed, other };
whose owner(const provider& prov, const json::string* connection_id) {
  if (connection_id == nullptr) return whose::other;
  const std::string id(*connection_id);
  if (prov.connections.contains(id)) return whose::ours;
  return prov.closed.contains(id) ? whose::closed : whose::other;
}

handled message_request(const std::shared_ptr<provider>& prov, jsonrpc::message& msg, responder& r, context& cx) {
  const auto* params = params_object(msg);
  const auto* connection_id = string_member(params, "connectionId");
  switch (owner(*prov, connection_id)) {
  case whose::other:
    return handled::no;
  case whose::closed:
    r.respond_error(closed_connection(*connection_id));
    return handled::yes;
  case whose::ours:
    break;
  }
  const auto* method = string_member(params, "method");
  if (method == nullptr) {
    r.respond_error(rpc_error::invalid_params(std::string(msg.method()) + ": params.method: expected string"));
    return handled::yes;
  }
  json::object inner;
  if (const auto* ip = params->if_contains("params"); ip && !ip->is_null()) {
    if (!ip->is_object()) {
      r.respond_error(rpc_error::invalid_params(std::string(msg.method()) + ": params.params: expected object"));
      return handled::yes;
    }
    inner = ip->get_object();
  }
  mcp::detail::serve_request(prov, std::string(*connection_id), *method, inner, msg.id(), std::move(r), cx);
  return handled::yes;
}

handled message_notification(const std::shared_ptr<provider>& prov, jsonrpc::message& msg) {
  const auto* params = params_object(msg);
  const auto* connection_id = string_member(params, "connectionId");
  switch (owner(*prov, connection_id)) {
  case whose::other:
    return handled::no;
  case whose::closed:
    log::debug("mcp", "notification on the closed MCP connection " + std::string(*connection_id) + " dropped");
    return handled::yes;
  case whose::ours:
    break;
  }
  const auto* method = string_member(params, "method");
  if (method == nullptr) {
    log::warn("mcp", std::string(msg.method()) + " notification without a method dropped");
    return handled::yes;
  }
  const auto* ip = params->if_contains("params");
  const json::object inner = ip != nullptr && ip->is_object() ? ip->get_object() : json::object{};
  mcp::detail::serve_notification(*prov, std::string(*connection_id), *method, inner);
  return handled::yes;
}

/// Closes one of our connections: its running calls are cancelled.
void close_connection(provider& prov, const std::string& connection_id) {
  auto it = prov.connections.find(connection_id);
  if (it == prov.connections.end()) return;
  auto calls = std::move(it->second.calls);
  prov.connections.erase(it);
  prov.closed.insert(connection_id);
  for (auto& [key, call] : calls) call->cancel();
}

} // namespace

proxy_builder& proxy_builder::provide_mcp_server(const mcp::server& server) {
  auto prov = std::make_shared<provider>();
  prov->srv = server.state();
  for (const char* method : {"session/new", "session/load", "session/resume", "session/fork"}) {
    on_receive_request_from(acp::client, method, [prov](jsonrpc::message& msg, responder& r, context&) {
      return inject_declaration(prov, msg, r);
    });
  }
  on_receive_request_from(acp::agent, "mcp/connect", [prov](jsonrpc::message& msg, responder& r, context&) {
    return connect(prov, msg, r, false);
  });
  on_receive_request_from(acp::agent, "_mcp/connect", [prov](jsonrpc::message& msg, responder& r, context&) {
    return connect(prov, msg, r, true);
  });
  for (const char* method : {"mcp/message", "_mcp/message"}) {
    on_receive_request_from(acp::agent, method, [prov](jsonrpc::message& msg, responder& r, context& cx) {
      return message_request(prov, msg, r, cx);
    });
    on_receive_notification_from(acp::agent, method,
                                 [prov](jsonrpc::message& msg, context&) { return message_notification(prov, msg); });
  }
  on_receive_request_from(acp::agent, "mcp/disconnect", [prov](jsonrpc::message& msg, responder& r, context&) {
    const auto* connection_id = string_member(params_object(msg), "connectionId");
    switch (owner(*prov, connection_id)) {
    case whose::other:
      return handled::no;
    case whose::closed:
      r.respond_error(closed_connection(*connection_id));
      return handled::yes;
    case whose::ours:
      break;
    }
    close_connection(*prov, std::string(*connection_id));
    r.respond(json::object{});
    return handled::yes;
  });
  on_receive_notification_from(acp::agent, "_mcp/disconnect", [prov](jsonrpc::message& msg, context&) {
    const auto* connection_id = string_member(params_object(msg), "connection_id");
    if (owner(*prov, connection_id) == whose::other) return handled::no;
    close_connection(*prov, std::string(*connection_id));
    return handled::yes;
  });
  return *this;
}

} // namespace acp
