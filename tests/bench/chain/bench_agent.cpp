// acp-bench-agent: an agent built with the SDK for the chain benchmarks. Each `session/prompt`
// does what its first text block says:
//   rtt               one agent_message_chunk "ok", then end_turn
//   stream N SIZE     N agent_message_chunk updates of about SIZE bytes each, then end_turn
//   read PATH         fs/read_text_file PATH from the client; end_turn with `_meta.bytes`
#include <acp/sdk.hpp>

#include <csignal>
#include <sstream>
#include <string>

namespace json = boost::json;

namespace {

json::value chunk_params(const json::value& session_id, std::string text) {
  json::object content{{"type", "text"}, {"text", std::move(text)}};
  json::object update{{"sessionUpdate", "agent_message_chunk"}, {"content", std::move(content)}};
  return json::object{{"sessionId", session_id}, {"update", std::move(update)}};
}

std::string first_text(const json::value* params) {
  const auto* p = params ? params->if_object() : nullptr;
  const auto* prompt = p ? p->if_contains("prompt") : nullptr;
  if (!prompt || !prompt->is_array()) return {};
  for (const auto& block : prompt->get_array()) {
    const auto* b = block.if_object();
    const auto* text = b ? b->if_contains("text") : nullptr;
    if (text && text->is_string()) return std::string(text->get_string());
  }
  return {};
}

json::value end_turn() { return json::object{{"stopReason", "end_turn"}}; }

} // namespace

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  acp::agent_builder agent;
  agent.on_receive_request_from(
      acp::client, "initialize", [](acp::jsonrpc::message&, acp::responder& r, acp::context&) {
        r.respond(json::object{{"protocolVersion", 1}, {"agentCapabilities", json::object()}});
        return acp::handled::yes;
      });
  agent.on_receive_request_from(acp::client, "session/new",
                                [](acp::jsonrpc::message&, acp::responder& r, acp::context&) {
                                  r.respond(json::object{{"sessionId", "bench-1"}});
                                  return acp::handled::yes;
                                });
  agent.on_receive_request_from(
      acp::client, "session/prompt", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context& cx) {
        const json::value session_id = msg.params()->as_object().at("sessionId");
        std::istringstream words(first_text(msg.params()));
        std::string command;
        words >> command;
        if (command == "stream") {
          std::size_t n = 0, size = 150;
          words >> n >> size;
          // The JSON around the text is about 110 bytes.
          const json::value params = chunk_params(session_id, std::string(size > 120 ? size - 110 : 10, 'x'));
          for (std::size_t i = 0; i < n; ++i) cx.send_notification_to(acp::client, "session/update", params);
          r.respond(end_turn());
        } else if (command == "read") {
          std::string path;
          words >> path;
          auto sent = cx.send_request_to(acp::client, "fs/read_text_file",
                                         json::value(json::object{{"sessionId", session_id}, {"path", path}}));
          std::move(sent).on_receiving_result([resp = std::move(r)](acp::rpc_result res) mutable {
            if (!res) return resp.respond_error(res.error());
            const auto* content = res->is_object() ? res->get_object().if_contains("content") : nullptr;
            const auto bytes = content && content->is_string() ? content->get_string().size() : 0;
            resp.respond(json::object{{"stopReason", "end_turn"}, {"_meta", json::object{{"bytes", bytes}}}});
          });
        } else {
          cx.send_notification_to(acp::client, "session/update", chunk_params(session_id, "ok"));
          r.respond(end_turn());
        }
        return acp::handled::yes;
      });
  agent.on_receive_notification_from(acp::client, "session/cancel",
                                     [](acp::jsonrpc::message&, acp::context&) { return acp::handled::yes; });
  return agent.run_stdio();
}
