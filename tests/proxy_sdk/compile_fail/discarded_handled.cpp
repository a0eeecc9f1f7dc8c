// A typed request handler that takes the responder by value cannot pass the request on: its
// `return acp::handled::no;` would be discarded and the request answered -32603.
#include <acp/sdk.hpp>

int main() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::agent, [](acp::request_permission_request, acp::responder r, acp::context) {
    (void)r;
    return acp::handled::no;
  });
}
