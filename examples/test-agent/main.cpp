// acp-test-agent: a deterministic ACP agent with scripted modes (see test_agent.hpp).
#include "test_agent.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  acp::examples::test_agent_options opts;
  long delay_ms = 0;
  CLI::App app{"acp-test-agent: a deterministic ACP agent for tests; speaks ACP on stdin/stdout.", "acp-test-agent"};
  app.add_option("--mode", opts.mode, "Default behaviour for prompts that are not a command (default: echo)");
  app.add_option("--delay-ms", delay_ms, "Pause before each session/update, in milliseconds (default: 0)")
      ->check(CLI::NonNegativeNumber);
  app.set_version_flag("--version", std::string("acp-test-agent ") + ACP_VERSION);
  app.footer(std::string(acp::examples::test_agent_commands()) +
             "\nExit status: 0 when the client closed the connection, 1 on a broken connection, 2 for a usage "
             "error; 3 in crash mode; 130 or 143 after SIGINT or SIGTERM (an orderly shutdown: the turn in progress "
             "gets its grace period and its answer is flushed; a second signal ends it at once).");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-test-agent", ACP_VERSION)) return *code;
  if (!acp::examples::is_test_agent_command(opts.mode))
    return acp::examples::usage_error("acp-test-agent", "unknown --mode '" + opts.mode + "'");
  opts.delay = std::chrono::milliseconds(delay_ms);
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-test-agent");
  return acp::examples::run_test_agent(std::move(opts));
}
