// acp-arrow-proxy: prefixes the agent's message text with '>' (see arrow.hpp).
#include "arrow.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"acp-arrow-proxy: an ACP proxy that prefixes every agent message chunk's text with '>'.\n"
               "Run it as a component of a conductor chain; it speaks ACP on stdin/stdout.",
               "acp-arrow-proxy"};
  app.set_version_flag("--version", std::string("acp-arrow-proxy ") + ACP_VERSION);
  app.footer("Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage "
             "error.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-arrow-proxy", ACP_VERSION)) return *code;
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-arrow-proxy");
  return acp::examples::make_arrow_proxy().run_stdio();
}
