// acp-tools-proxy: offers commands from a JSON config to the agent as MCP tools (see
// tools_proxy.hpp).
#include "tools_proxy.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>

int main(int argc, char** argv) {
  std::string config;
  CLI::App app{"acp-tools-proxy: an ACP proxy that offers commands from a JSON config to the agent as MCP tools,\n"
               "over the ACP connection (MCP over ACP). Run it as a component of a conductor chain; it speaks\n"
               "ACP on stdin/stdout.",
               "acp-tools-proxy"};
  app.add_option("--config", config,
                 "The tools: a JSON FILE (server, tools[name, description, inputSchema, argv, "
                 "cwd, timeoutMs, maxOutputBytes])")
      ->type_name("FILE")
      ->required();
  app.set_version_flag("--version", std::string("acp-tools-proxy ") + ACP_VERSION);
  app.footer(
      "Config example:\n"
      "  {\"tools\": [{\"name\": \"grep\", \"description\": \"Search the project\",\n"
      "    \"inputSchema\": {\"type\": \"object\", \"properties\": {\"pattern\": {\"type\": \"string\"}},\n"
      "                    \"required\": [\"pattern\"]},\n"
      "    \"argv\": [\"grep\", \"-rn\", \"--\", \"{pattern}\", \".\"], \"cwd\": \"/srv/project\", \"timeoutMs\": "
      "10000}]}\n\n"
      "Example:\n  acp-conductor agent \"acp-tools-proxy --config tools.json\" \"claude-code-acp\"\n\n"
      "Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage\n"
      "or configuration error.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-tools-proxy", ACP_VERSION)) return *code;

  auto loaded = acp::examples::load_tools_config(config);
  if (!loaded) return acp::examples::usage_error("acp-tools-proxy", loaded.error().message, false);

  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-tools-proxy");
  return acp::examples::make_tools_proxy({.config = std::move(*loaded), .call_log = {}}).run_stdio();
}
