// acp-bench-tools-proxy: a pass-through proxy that provides one MCP server over ACP ("tools",
// tool "echo"), for tests/bench/run_mcp_benchmarks.sh. The tool answers at once, in the dispatch
// loop, with its `text` argument as one text block — the reply direct_mcp_server.cpp gives, so
// that every setup of the benchmark moves the same bytes.
#include <acp/sdk.hpp>
#include <acp/sdk/mcp_server.hpp>

#include <csignal>

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  acp::mcp::server tools("tools", "1.0");
  boost::json::object schema{{"type", "object"},
                             {"properties", boost::json::object{{"text", boost::json::object{{"type", "string"}}}}}};
  tools.add_tool({.name = "echo", .description = "Answers its text argument", .input_schema = std::move(schema)},
                 [](const boost::json::object& arguments, acp::mcp::call_context&) {
                   const auto* text = arguments.if_contains("text");
                   return acp::mcp::tool_result::text(text && text->is_string() ? std::string(text->as_string())
                                                                                : std::string());
                 });
  acp::proxy_builder proxy;
  proxy.provide_mcp_server(tools);
  return proxy.run_stdio();
}
