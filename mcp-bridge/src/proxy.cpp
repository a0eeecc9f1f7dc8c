// acp-mcp-bridge as a proxy: bridges `acp` MCP declarations for an agent that lacks them.

#include "core.hpp"

#include <acp/mcp_bridge/tool.hpp>
#include <acp/sdk/log.hpp>

#include <utility>

namespace acp::mcp_bridge {

namespace {
struct proxy_state {
  proxy_options opt;
  std::shared_ptr<bridge> b; ///< set when the agent lacks `acp`
  ~proxy_state() {
    if (b) b->close();
  }
};
} // namespace

void configure_proxy(acp::proxy_builder& p, proxy_options o) {
  auto st = std::make_shared<proxy_state>();
  st->opt = std::move(o);
  std::weak_ptr<proxy_state> weak = st;
  p.on_receive_request_from(acp::client, "initialize", [st](jsonrpc::message& msg, responder& r, context& cx) {
    cx.forward_request_to(acp::agent, std::move(msg))
        .forward_response_to(std::move(r), [st, cx](rpc_result& outcome) mutable {
          if (!outcome || agent_speaks_acp(*outcome)) return;
          if (!st->b) {
            auto bo = st->opt.bridge;
            bo.kind = st->opt.forced_mode ? *st->opt.forced_mode : choose_mode(*outcome);
            st->b = bridge::create(cx.get_executor(), std::move(bo));
            st->b->start(cx);
          }
          advertise_acp(*outcome);
        });
    return handled::yes;
  });
  for (const char* method : {"session/new", "session/load", "session/resume", "session/fork"}) {
    p.on_receive_request_from(acp::client, method, [st](jsonrpc::message& msg, responder&, context&) {
      if (!st->b) return handled::no;
      // Only an `acp` entry changes the message: read a copy, write back only when rewritten.
      if (const auto* params = std::as_const(msg).params()) {
        boost::json::value copy = *params;
        if (st->b->rewrite_declarations(copy) > 0) *msg.params() = std::move(copy);
      }
      return handled::no;
    });
  }
  for (const char* method : {"mcp/message", "_mcp/message"}) {
    p.on_receive_request_from(acp::client, method, [weak](jsonrpc::message& msg, responder& r, context& cx) {
      auto live = weak.lock();
      return live && live->b ? live->b->core().upstream_request(msg, r, cx) : handled::no;
    });
    p.on_receive_notification_from(acp::client, method, [weak](jsonrpc::message& msg, context& cx) {
      auto live = weak.lock();
      return live && live->b ? live->b->core().upstream_notification(msg, cx) : handled::no;
    });
  }
}

} // namespace acp::mcp_bridge
