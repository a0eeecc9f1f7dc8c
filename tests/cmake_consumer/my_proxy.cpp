// A complete proxy: tags every prompt with a note for the agent, passes everything else through.
#include <acp/sdk.hpp>

int main() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::client, [](acp::prompt_request req, acp::responder r, acp::context cx) {
    req.prompt.insert(req.prompt.begin(), acp::text_content{.text = "Be brief."});
    cx.send_request_to(acp::agent, req).forward_response_to(std::move(r));
  });
  return proxy.run_stdio();
}
