// session/prompt goes to the agent; sending it to the client is a mistake the types can see.
#include <acp/sdk.hpp>

int main() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, [](acp::prompt_request req, acp::responder r, acp::context cx) {
    cx.send_request_to(acp::client, req).forward_response_to(std::move(r));
  });
}
