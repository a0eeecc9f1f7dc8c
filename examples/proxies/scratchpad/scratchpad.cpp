// acp-scratchpad-proxy: gives the agent a scratchpad per session as two MCP tools, `note` (keeps a
// line) and `notes` (gives them back), over the ACP connection: no port, no process, no setup.
#include <acp/sdk.hpp>

#include <map>

int main(int argc, char** argv) {
  acp::command_line cli("acp-scratchpad-proxy", "gives the agent a scratchpad per session as MCP tools");
  if (auto exit_code = cli.parse(argc, argv)) return *exit_code;
  std::map<std::string, std::string> pads; // per ACP session: the lines noted so far
  const boost::json::object text_argument = {
      {"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}, {"required", {"text"}}};
  acp::mcp::server scratchpad("scratchpad", "1");
  scratchpad.add_tool({.name = "note", .description = "Keep a line for later", .input_schema = text_argument},
                      [&](const boost::json::object& args, acp::mcp::call_context& call) {
                        const auto* text = args.if_contains("text");
                        if (!text || !text->is_string()) return acp::mcp::tool_result::error("`text`: a string");
                        pads[call.session_id().value_or("")] += std::string(text->get_string()) + "\n";
                        return acp::mcp::tool_result::text("noted");
                      });
  scratchpad.add_tool({.name = "notes", .description = "The lines kept so far"},
                      [&](const boost::json::object&, acp::mcp::call_context& call) {
                        const auto& pad = pads[call.session_id().value_or("")];
                        return acp::mcp::tool_result::text(pad.empty() ? "(no notes yet)" : pad);
                      });
  acp::proxy_builder proxy;
  proxy.provide_mcp_server(std::move(scratchpad));
  return proxy.run_stdio();
}
