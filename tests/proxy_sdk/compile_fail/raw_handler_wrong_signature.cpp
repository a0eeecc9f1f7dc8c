// A raw request handler with a notification handler's signature.
#include <acp/sdk.hpp>

int main() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, "session/prompt",
                                [](acp::jsonrpc::message&, acp::context&) { return acp::handled::no; });
}
