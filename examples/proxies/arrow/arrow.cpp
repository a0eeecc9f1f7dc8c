#include "arrow.hpp"

#include <boost/json/string.hpp>

namespace acp::examples {
namespace json = boost::json;

bool add_arrow(json::value& params) {
  auto* p = params.if_object();
  auto* update = p ? p->if_contains("update") : nullptr;
  auto* u = update ? update->if_object() : nullptr;
  if (!u) return false;
  const auto* kind = u->if_contains("sessionUpdate");
  if (!kind || !kind->is_string() || kind->get_string() != "agent_message_chunk") return false;
  auto* content = u->if_contains("content");
  auto* c = content ? content->if_object() : nullptr;
  if (!c) return false;
  const auto* type = c->if_contains("type");
  auto* text = c->if_contains("text");
  if (!type || !type->is_string() || type->get_string() != "text" || !text || !text->is_string()) return false;
  text->get_string().insert(0, ">");
  return true;
}

proxy_builder make_arrow_proxy() {
  proxy_builder proxy;
  // Raw handler: edit the original JSON in place and let the default forwarding send it on.
  proxy.on_receive_notification_from(acp::agent, "session/update", [](jsonrpc::message& msg, context&) {
    if (auto* params = msg.params()) add_arrow(*params);
    return handled::no;
  });
  return proxy;
}

} // namespace acp::examples
