// An agent has no agent peer: a handler for messages from acp::agent would never run.
#include <acp/sdk.hpp>

int main() {
  acp::agent_builder agent;
  agent.on_receive_notification_from(acp::agent, "session/update",
                                     [](acp::jsonrpc::message&, acp::context&) { return acp::handled::yes; });
}
