// acp-turn-limit-proxy: after N prompts in a session (--max-turns N, default 50), answers further
// prompts itself with stop reason max_turn_requests and a line of text saying why.
#include <acp/sdk.hpp>

#include <map>

int main(int argc, char** argv) {
  acp::command_line cli("acp-turn-limit-proxy", "after N prompts in a session, answers further prompts itself");
  unsigned max_turns = 50;
  cli.option("--max-turns", "N", "prompts per session that reach the agent (default 50)", max_turns);
  if (auto exit_code = cli.parse(argc, argv)) return *exit_code;
  std::map<std::string, unsigned> turns; // prompts seen per session
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, [&](acp::prompt_request& req, acp::responder& r, acp::context& cx) {
    if (++turns[req.session_id] <= max_turns) return acp::handled::no; // passes on untouched
    const auto why =
        "Turn limit reached (" + std::to_string(max_turns) + " prompts per session): start a new session to go on.";
    cx.send_notification_to(acp::client, acp::agent_text(req.session_id, why));
    r.respond(acp::prompt_response{.stop_reason = acp::stop_reason::max_turn_requests});
    return acp::handled::yes;
  });
  return proxy.run_stdio();
}
