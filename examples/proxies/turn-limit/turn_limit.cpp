// acp-turn-limit-proxy: after N prompts in a session (--max-turns N, default 50), answers further
// prompts itself with stop reason max_turn_requests and a line of text saying why.
#include <acp/sdk.hpp>

#include <charconv>
#include <iostream>
#include <map>

int main(int argc, char** argv) {
  const std::string_view flag = argc > 1 ? argv[1] : "", value = argc > 2 ? argv[2] : "";
  unsigned max_turns = 50;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), max_turns);
  if (argc > 1 && (argc != 3 || flag != "--max-turns" || ec != std::errc{} || end != value.data() + value.size())) {
    std::cerr << "acp-turn-limit-proxy: usage: acp-turn-limit-proxy [--max-turns N] (N a whole number)\n";
    return 2;
  }
  std::map<std::string, unsigned> turns; // prompts seen per session
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, [&](acp::prompt_request& req, acp::responder& r, acp::context& cx) {
    if (++turns[req.session_id] <= max_turns) return acp::handled::no; // passes on untouched
    const auto why =
        "Turn limit reached (" + std::to_string(max_turns) + " prompts per session): start a new session to go on.";
    cx.send_notification_to(acp::client, acp::agent_text(req.session_id, why));
    r.respond(acp::prompt_response{.stop_reason = std::string(acp::stop_reason::max_turn_requests)});
    return acp::handled::yes;
  });
  return proxy.run_stdio();
}
