// acp-timing-proxy: one stderr line per prompt turn: ms to the first agent chunk and to the end. Observes only.
#include <acp/sdk.hpp>

#include <chrono>
#include <iostream>
#include <map>

int main(int argc, char** argv) {
  if (auto code = acp::command_line("acp-timing-proxy", "logs the timing of each turn").parse(argc, argv)) return *code;
  using clock = std::chrono::steady_clock;
  std::map<std::string, clock::time_point> started, first_chunk; // per session, for the turn in flight
  auto ms = [](clock::duration d) { return std::to_string(d / std::chrono::milliseconds(1)) + " ms"; };
  acp::proxy_builder proxy;
  proxy.on_observe_request_from(acp::client, [&](const acp::prompt_request& req, acp::context&) {
    started[req.session_id] = clock::now(); // the turn's answer removes both entries
  });
  proxy.on_observe_notification_from(acp::agent, [&](const acp::session_notification& n, acp::context&) {
    if (started.contains(n.session_id) && std::holds_alternative<acp::agent_message_chunk>(n.update))
      first_chunk.try_emplace(n.session_id, clock::now()); // keeps the first
  });
  auto turn_ended = [&](const acp::prompt_request& req, const acp::rpc_result& outcome, acp::context&) {
    const auto start = started.extract(req.session_id), first = first_chunk.extract(req.session_id);
    if (start.empty()) return;
    const auto resp = acp::typed_outcome<acp::prompt_request>(outcome); // the decoded answer, or the error
    std::cerr << "acp-timing-proxy: session " + req.session_id + ": first chunk " +
                     (first.empty() ? "none" : ms(first.mapped() - start.mapped())) + ", end " +
                     ms(clock::now() - start.mapped()) + ", stop " + (resp ? resp->stop_reason.str() : "error") + "\n";
  };
  return proxy.on_observe_response_to(acp::client, turn_ended).run_stdio();
}
