// acp-auto-approve-reads-proxy: answers permission requests for `read` tool calls by choosing
// the allow option; every other message passes through untouched.
#include <acp/sdk.hpp>

#include <algorithm>

int main(int argc, char** argv) {
  acp::command_line cli("acp-auto-approve-reads-proxy", "answers permission requests for read tool calls with allow");
  if (auto exit_code = cli.parse(argc, argv)) return *exit_code;
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(acp::agent, [](acp::request_permission_request& req, acp::responder& r, acp::context&) {
    if (req.tool_call.kind != acp::tool_kind::read) return acp::handled::no; // the user decides
    auto allow = std::ranges::find(req.options, acp::permission_option_kind::allow_once, &acp::permission_option::kind);
    if (allow == req.options.end())
      allow = std::ranges::find(req.options, acp::permission_option_kind::allow_always, &acp::permission_option::kind);
    if (allow == req.options.end()) return acp::handled::no;
    r.respond(
        acp::request_permission_response{.outcome = acp::selected_permission_outcome{.option_id = allow->option_id}});
    return acp::handled::yes;
  });
  return proxy.run_stdio();
}
