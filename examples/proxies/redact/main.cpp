// acp-redact-proxy: removes secrets from what flows to the agent (see redact.hpp).
#include "redact.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>

int main(int argc, char** argv) {
  acp::examples::redact_options o;
  bool no_builtins = false;
  CLI::App app{"acp-redact-proxy: an ACP proxy that removes secrets from prompts, and from the file reads and\n"
               "terminal output the agent asks the editor for, before the agent sees them. It cannot see files\n"
               "the agent reads or commands it runs by itself. Run it as a component of a conductor chain; it\n"
               "speaks ACP on stdin/stdout and reports each redaction on stderr.",
               "acp-redact-proxy"};
  app.set_version_flag("--version", std::string("acp-redact-proxy ") + ACP_VERSION);
  app.add_option("--env-file", o.env_files, "redact every value (8+ characters) of this .env file; repeatable")
      ->type_name("PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--pattern", o.patterns,
                 "redact matches of this regex (RE2 syntax: no lookaround or backreferences; within a line); "
                 "repeatable")
      ->type_name("REGEX")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--config", o.config_file, "JSON file: {\"envFiles\", \"patterns\", \"builtins\", \"replacement\"}")
      ->type_name("FILE");
  std::int64_t budget_ms = o.budget.count();
  app.add_option("--budget-ms", budget_ms,
                 "time allowed to redact one message; a message over it is refused, not passed on (0: no limit; "
                 "default 250)")
      ->type_name("MS")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{3600000}));
  app.add_flag("--no-builtins", no_builtins, "turn off the built-in token and key patterns");
  app.add_option("--replacement", o.replacement,
                 "replacement text; {name} is the rule name (default: [REDACTED:{name}])")
      ->type_name("TEXT");
  app.footer("Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage or "
             "configuration error.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-redact-proxy", ACP_VERSION)) return *code;
  o.builtins = !no_builtins;
  o.budget = std::chrono::milliseconds(budget_ms);
  auto rules = acp::examples::load_redactor(o);
  if (!rules) return acp::examples::usage_error("acp-redact-proxy", rules.error(), false);
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-redact-proxy");
  auto shared_rules = std::make_shared<const acp::examples::redactor>(std::move(*rules));
  auto totals = std::make_shared<acp::examples::redact_totals>();
  const int code = acp::examples::make_redact_proxy(shared_rules, totals, std::cerr).run_stdio();
  std::cerr << acp::examples::summary_line(*shared_rules, *totals) << "\n";
  return code;
}
