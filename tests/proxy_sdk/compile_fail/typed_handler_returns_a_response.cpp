// A typed request handler that returns the response instead of answering with the responder.
#include <acp/sdk.hpp>

int main() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, [](acp::prompt_request, acp::responder, acp::context) {
    return acp::prompt_response{.stop_reason = acp::stop_reason::end_turn};
  });
}
