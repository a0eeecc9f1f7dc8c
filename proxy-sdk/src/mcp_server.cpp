// The MCP server behind provide_mcp_server: tools, results, call contexts, and the MCP methods
// (initialize, ping, tools/list, tools/call, notifications/initialized, notifications/cancelled).
#include "mcp_state.hpp"

#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <variant>

namespace acp::mcp {

namespace asio = boost::asio;
namespace json = boost::json;

// ---- results ------------------------------------------------------------------------------------

tool_result tool_result::text(std::string text) {
  tool_result r;
  r.add_text(std::move(text));
  return r;
}

tool_result tool_result::error(std::string message) {
  auto r = text(std::move(message));
  r.is_error = true;
  return r;
}

tool_result tool_result::json(const json::value& v) {
  auto r = text(json::serialize(v));
  if (const auto* o = v.if_object()) r.structured_content = *o;
  return r;
}

tool_result& tool_result::add_text(std::string text) {
  content.push_back(json::object{{"type", "text"}, {"text", std::move(text)}});
  return *this;
}

json::object tool_result::to_json() const {
  json::object o{{"content", content}};
  if (structured_content) o["structuredContent"] = *structured_content;
  if (is_error) o["isError"] = true;
  return o;
}

// ---- server -------------------------------------------------------------------------------------

server::server(std::string name, std::string version) : st_(std::make_shared<detail::server_state>()) {
  st_->name = std::move(name);
  st_->version = std::move(version);
}

namespace {
void put_tool(detail::server_state& st, detail::tool_entry e) {
  for (auto& t : st.tools) {
    if (t.info.name == e.info.name) {
      t = std::move(e);
      return;
    }
  }
  st.tools.push_back(std::move(e));
}
} // namespace

server& server::add_sync_tool(tool t, sync_tool_handler f) {
  put_tool(*st_, {std::move(t), std::move(f), {}});
  return *this;
}

server& server::add_async_tool(tool t, async_tool_handler f) {
  put_tool(*st_, {std::move(t), {}, std::move(f)});
  return *this;
}

server& server::instructions(std::string text) {
  st_->instructions = std::move(text);
  return *this;
}

const std::string& server::name() const noexcept { return st_->name; }
const std::string& server::version() const noexcept { return st_->version; }

// ---- call context -------------------------------------------------------------------------------

std::optional<std::string> call_context::session_id() const { return st_->prov->session_of(st_->server_id); }
const std::string& call_context::tool_name() const noexcept { return st_->tool; }
const std::string& call_context::connection_id() const noexcept { return st_->connection_id; }
acp::context& call_context::acp_context() const noexcept { return st_->cx; }
bool call_context::cancelled() const noexcept { return st_->cancelled; }

bool call_context::send_session_update(json::value update) const {
  auto session = session_id();
  if (!session) return false;
  st_->cx.send_notification_to(acp::client, "session/update",
                               json::object{{"sessionId", std::move(*session)}, {"update", std::move(update)}});
  return true;
}

namespace {
/// 1.0 goes out as 1, not 1E0.
json::value number(double d) {
  constexpr double exact_limit = 9007199254740992.0; // 2^53
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= exact_limit) return static_cast<std::int64_t>(d);
  return d;
}
} // namespace

bool call_context::progress(double progress, std::optional<double> total, std::optional<std::string> message) const {
  if (!st_->progress_token) return false;
  json::object p{{"progressToken", *st_->progress_token}, {"progress", number(progress)}};
  if (total) p["total"] = number(*total);
  if (message) p["message"] = std::move(*message);
  st_->cx.send_notification_to(acp::agent, st_->legacy ? "_mcp/message" : "mcp/message",
                               json::object{{"connectionId", st_->connection_id},
                                            {"method", "notifications/progress"},
                                            {"params", std::move(p)}});
  return true;
}

namespace detail {

const tool_entry* server_state::find(std::string_view name) const {
  auto it = std::find_if(tools.begin(), tools.end(), [&](const tool_entry& t) { return t.info.name == name; });
  return it == tools.end() ? nullptr : &*it;
}

void call_state::cancel() {
  if (cancelled) return;
  cancelled = true;
  if (cancel_hook) cancel_hook();
}

std::optional<std::string> provider::session_of(const std::string& server_id) const {
  auto it = servers.find(server_id);
  return it == servers.end() ? std::nullopt : it->second;
}

std::string new_uuid() {
  thread_local boost::uuids::random_generator gen;
  return boost::uuids::to_string(gen());
}

namespace {

json::object initialize_result(const server_state& srv, const json::object& params) {
  std::string_view version = supported_protocol_versions[0];
  if (const auto* v = params.if_contains("protocolVersion"); v && v->is_string()) {
    for (auto s : supported_protocol_versions)
      if (s == v->get_string()) version = s;
  }
  json::object r{{"protocolVersion", version},
                 {"capabilities", {{"tools", {{"listChanged", false}}}}},
                 {"serverInfo", {{"name", srv.name}, {"version", srv.version}}}};
  if (!srv.instructions.empty()) r["instructions"] = srv.instructions;
  return r;
}

json::object tools_list(const server_state& srv) {
  json::array tools;
  for (const auto& t : srv.tools) {
    json::object o{{"name", t.info.name}};
    if (t.info.title) o["title"] = *t.info.title;
    o["description"] = t.info.description;
    o["inputSchema"] = t.info.input_schema.empty() ? json::object{{"type", "object"}} : t.info.input_schema;
    tools.push_back(std::move(o));
  }
  return {{"tools", std::move(tools)}};
}

/// The call ended: forget it on its connection (unless that has closed meanwhile).
void forget_call(provider& prov, const std::string& connection_id, const std::string& key) {
  auto it = prov.connections.find(connection_id);
  if (it != prov.connections.end()) it->second.calls.erase(key);
}

asio::awaitable<void> wait_cancel(asio::steady_timer& timer) {
  (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> run_async(std::shared_ptr<call_state> st, async_tool_handler handler, json::object args,
                                responder r, std::string key) {
  using namespace asio::experimental::awaitable_operators; // NOLINT(google-build-using-namespace): `||`
  asio::steady_timer cancel_timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  st->cancel_hook = [&cancel_timer] { cancel_timer.cancel(); };
  std::variant<tool_result, std::monostate> out = std::monostate{};
  if (!st->cancelled) {
    try {
      out = co_await (handler(std::move(args), call_context(st)) || wait_cancel(cancel_timer));
    } catch (const std::exception& e) {
      log::error("mcp", "tool " + st->tool + " failed: " + e.what());
      out = tool_result::error("tool " + st->tool + " failed: " + e.what());
    }
  }
  st->cancel_hook = nullptr;
  forget_call(*st->prov, st->connection_id, key);
  if (const auto* result = std::get_if<tool_result>(&out)) {
    r.respond(result->to_json());
  } else {
    r.respond_error(rpc_error::request_cancelled());
  }
}

void call_tool(const std::shared_ptr<provider>& prov, const std::string& connection_id, const json::object& params,
               const json::value& request_id, responder r, acp::context& cx) {
  const auto* name = params.if_contains("name");
  if (name == nullptr || !name->is_string()) {
    r.respond_error(rpc_error::invalid_params("tools/call: params.name: expected string"));
    return;
  }
  const auto* entry = prov->srv->find(name->get_string());
  if (entry == nullptr) {
    r.respond_error(
        rpc_error::invalid_params("unknown tool: " + std::string(name->get_string()), json::object{{"tool", *name}}));
    return;
  }
  json::object args;
  if (const auto* a = params.if_contains("arguments"); a && !a->is_null()) {
    if (!a->is_object()) {
      r.respond_error(rpc_error::invalid_params("tools/call: params.arguments: expected object"));
      return;
    }
    args = a->get_object();
  }
  auto& conn = prov->connections.at(connection_id);
  auto st = std::make_shared<call_state>(call_state{.prov = prov,
                                                    .server_id = conn.server_id,
                                                    .connection_id = connection_id,
                                                    .tool = entry->info.name,
                                                    .legacy = conn.legacy,
                                                    .progress_token = std::nullopt,
                                                    .cx = cx,
                                                    .cancelled = false,
                                                    .cancel_hook = {}});
  if (const auto* meta = params.if_contains("_meta"); meta && meta->is_object()) {
    if (const auto* token = meta->get_object().if_contains("progressToken")) st->progress_token = *token;
  }
  if (entry->sync) {
    call_context call(st);
    tool_result result;
    try {
      result = entry->sync(args, call);
    } catch (const std::exception& e) {
      log::error("mcp", "tool " + st->tool + " failed: " + e.what());
      result = tool_result::error("tool " + st->tool + " failed: " + e.what());
    }
    r.respond(result.to_json());
    return;
  }
  std::string key = json::serialize(request_id);
  conn.calls[key] = st;
  r.on_cancel([st] { st->cancel(); }); // `$/cancel_request` for the mcp/message request
  cx.spawn(run_async(st, entry->async, std::move(args), std::move(r), std::move(key)));
}

} // namespace

void serve_request(const std::shared_ptr<provider>& prov, const std::string& connection_id, std::string_view method,
                   const json::object& params, const json::value& request_id, responder r, acp::context& cx) {
  if (method == "initialize") {
    r.respond(initialize_result(*prov->srv, params));
  } else if (method == "ping") {
    r.respond(json::object{});
  } else if (method == "tools/list") {
    r.respond(tools_list(*prov->srv));
  } else if (method == "tools/call") {
    call_tool(prov, connection_id, params, request_id, std::move(r), cx);
  } else {
    r.respond_error(rpc_error::method_not_found(method));
  }
}

void serve_notification(provider& prov, const std::string& connection_id, std::string_view method,
                        const json::object& params) {
  if (method == "notifications/cancelled") {
    const auto* id = params.if_contains("requestId");
    if (id == nullptr) return;
    auto& calls = prov.connections.at(connection_id).calls;
    auto it = calls.find(json::serialize(*id));
    if (it != calls.end()) it->second->cancel();
    return;
  }
  // notifications/initialized and anything else: nothing to do.
  log::debug("mcp", "notification " + std::string(method) + " on " + connection_id);
}

} // namespace detail
} // namespace acp::mcp
