// acp-conductor: parses the command line, runs the chain, maps the outcome to an exit code.
#include <acp/conductor/options.hpp>
#include <acp/conductor/router.hpp>
#include <acp/conductor/trace_tools.hpp>
#include <acp/sdk/log.hpp>

#include <cstdio>
#include <exception>
#include <variant>

int main(int argc, char** argv) {
  using namespace acp::conductor;
  acp::log::set_program_name("acp-conductor");
  try {
    auto parsed = parse_command_line(argc, argv);
    if (auto* exit = std::get_if<early_exit>(&parsed)) {
      std::fputs(exit->text.c_str(), exit->to_stderr ? stderr : stdout);
      return exit->code;
    }
    if (const auto* tool = std::get_if<trace_command>(&parsed))
      return tool->action == trace_command::action::view ? run_trace_view(*tool) : run_trace_stats(*tool);
    const auto& options = std::get<conductor_options>(parsed);
    acp::log::set_level(static_cast<acp::log::level>(static_cast<int>(options.log_level)));
    return run_stdio(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "acp-conductor: fatal: %s\n", e.what());
    return 1;
  }
}
