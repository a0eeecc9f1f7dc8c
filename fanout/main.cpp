// acp-fanout: several ACP agents as one (see acp/fanout/fanout.hpp).
#include <acp/examples/cli.hpp>
#include <acp/fanout/fanout.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

int main(int argc, char** argv) {
  constexpr std::string_view program = "acp-fanout";
  std::vector<std::string> components;
  std::string mode = "all";
  long grace_ms = 2000;
  CLI::App app{"acp-fanout: runs several ACP agents and speaks to the client as one agent.\n"
               "usage: acp-fanout [OPTIONS] AGENT AGENT...",
               "acp-fanout"};
  app.add_option("AGENT", components,
                 "An agent to run, as a component string (quoted words, NAME=value env words, or a JSON spec "
                 "{\"command\",\"args\",\"env\",\"name\"}); at least one")
      ->required();
  app.add_option("--mode", mode,
                 "all: a turn ends when every agent has ended; first: the first agent to end wins and the others "
                 "are cancelled (default: all)");
  app.add_option("--grace-ms", grace_ms,
                 "At shutdown, how long each agent may take to exit once its input closed (default: 2000)")
      ->check(CLI::NonNegativeNumber);
  app.set_version_flag("--version", std::string(program) + " " + ACP_VERSION);
  app.footer("Agents are named after their command's basename, made unique (codex-acp, codex-acp#2); the JSON "
             "spec's \"name\" sets one.\nEach agent's stderr goes to ours as \"[NAME] line\".\n\nExample:\n"
             "  acp-conductor agent \"acp-fanout claude-agent-acp codex-acp\"\n\n"
             "Exit status: 0 when the client closed the connection, 1 on a broken connection, 2 for a usage "
             "error, 130 or 143 after SIGINT or SIGTERM.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, program, ACP_VERSION)) return *code;
  acp::fanout::fanout_options opts;
  if (mode == "all") {
    opts.mode = acp::fanout::turn_mode::all;
  } else if (mode == "first") {
    opts.mode = acp::fanout::turn_mode::first;
  } else {
    return acp::examples::usage_error(program, "--mode must be all or first, not '" + mode + "'");
  }
  std::string error;
  opts.agents = acp::fanout::parse_agents(components, error);
  if (!error.empty()) return acp::examples::usage_error(program, error);
  opts.grace = std::chrono::milliseconds(grace_ms);
  acp::log::set_program_name(program);
  return acp::fanout::run_fanout(opts);
}
