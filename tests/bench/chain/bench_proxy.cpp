// acp-bench-proxy: proxies built with the SDK, for the benchmarks.
//   acp-bench-proxy           an empty proxy (pure pass-through)
//   acp-bench-proxy --typed   a typed `session/update` handler that edits every agent_message_chunk
//                             (prefixes its text with '>', as acp-arrow-proxy does): what typed
//                             handling costs per streamed update
#include <acp/sdk.hpp>

#include <csignal>
#include <cstring>
#include <iostream>
#include <variant>

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  acp::proxy_builder proxy;
  if (argc == 2 && std::strcmp(argv[1], "--typed") == 0) {
    proxy.on_receive_notification_from(acp::agent, [](acp::session_notification& n, acp::context&) {
      if (auto* chunk = std::get_if<acp::agent_message_chunk>(&n.update)) {
        if (auto* text = std::get_if<acp::text_content>(&chunk->content)) text->text.insert(0, ">");
      }
      return acp::handled::no; // passed on, edited
    });
  } else if (argc != 1) {
    std::cerr << "usage: acp-bench-proxy [--typed]\n";
    return 2;
  }
  return proxy.run_stdio();
}
