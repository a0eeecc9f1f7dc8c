// acp-mcp-bridge: serves MCP-over-ACP servers to an agent that lacks `mcpCapabilities.acp`
// (proxy mode), or relays one such server over stdio for that agent (`--shim`).

#include <acp/mcp_bridge/tool.hpp>
#include <acp/sdk.hpp>

#include <filesystem>
#include <iostream>

int main(int argc, char** argv) {
  acp::command_line cli("acp-mcp-bridge",
                        "bridges MCP servers declared over ACP to an agent without mcpCapabilities.acp");
  bool shim = false;
  std::string mode = "auto";
  unsigned long long max_body = 16 << 20;
  cli.flag("--shim", "run as the stdio MCP server the agent starts (settings from the environment)", shim);
  cli.option("--mode", "auto|http|stdio", "how the agent reaches the servers (default auto: http when it says so)",
             mode);
  cli.option("--max-body-bytes", "N", "largest HTTP body or stdio line (default 16777216)", max_body);
  if (auto exit_code = cli.parse(argc, argv)) return *exit_code;
  if (shim) return acp::mcp_bridge::run_shim(std::cerr);

  acp::mcp_bridge::proxy_options o;
  if (mode == "http") {
    o.forced_mode = acp::mcp_bridge::mode::http;
  } else if (mode == "stdio") {
    o.forced_mode = acp::mcp_bridge::mode::stdio;
  } else if (mode != "auto") {
    std::cerr << "acp-mcp-bridge: error: --mode is auto, http or stdio, not '" << mode
              << "'. Try 'acp-mcp-bridge --help'.\n";
    return 2;
  }
  o.bridge.max_body_bytes = static_cast<std::size_t>(max_body);
  std::error_code ec; // the agent starts this very program as the shim
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  o.bridge.shim_program = ec ? std::string(argv[0]) : self.string();
  acp::proxy_builder proxy;
  acp::mcp_bridge::configure_proxy(proxy, std::move(o));
  return proxy.run_stdio();
}
