// acp-test-agent: a deterministic ACP agent with scripted modes (see test_agent.hpp).
#include "test_agent.hpp"

#include <acp/sdk/log.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

namespace {

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

} // namespace

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
             "error; 3 in crash mode.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << "acp-test-agent " << ACP_VERSION << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "acp-test-agent: " << one_line(e.what()) << " (try --help)\n";
    return 2;
  }
  if (!acp::examples::is_test_agent_command(opts.mode)) {
    std::cerr << "acp-test-agent: unknown --mode '" << one_line(opts.mode) << "' (try --help)\n";
    return 2;
  }
  opts.delay = std::chrono::milliseconds(delay_ms);
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-test-agent");
  return acp::examples::run_test_agent(std::move(opts));
}
