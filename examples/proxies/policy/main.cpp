// acp-policy-proxy: answers permission requests by rules, confines fs and terminal requests (see
// policy.hpp).
#include "policy.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>
#include <iostream>

namespace {

int usage_error(std::string what, bool hint = true) {
  return acp::examples::usage_error("acp-policy-proxy", std::move(what), hint);
}

} // namespace

int main(int argc, char** argv) {
  std::string config, decision_log;
  bool quiet = false;
  CLI::App app{"acp-policy-proxy: an ACP proxy that answers the agent's permission requests by rules and confines its\n"
               "file and terminal requests. Run it as a component of a conductor chain; it speaks ACP on stdin/stdout.",
               "acp-policy-proxy"};
  app.add_option("--config", config,
                 "The rules: a JSON FILE (roots, allowedCommands, commands, allowedEnv, confineArgs, permissions)")
      ->type_name("FILE")
      ->required();
  app.add_option("--decision-log", decision_log, "Append each decision as a JSON line to FILE (mode 0600)")
      ->type_name("FILE");
  app.add_flag("--quiet", quiet, "Do not write decision lines to stderr");
  app.set_version_flag("--version", std::string("acp-policy-proxy ") + ACP_VERSION);
  app.footer("Config example:\n"
             "  {\"roots\": [\"/srv/project\"], \"allowedCommands\": [\"ls\", \"cat\"],\n"
             "   \"commands\": {\"git\": {\"args\": [\"status\", \"diff\", \"log\", \"--oneline\"]}},\n"
             "   \"permissions\": [{\"kind\": \"read\", \"action\": \"allow\"}, {\"title\": \"rm *\", \"action\": "
             "\"reject\"},\n"
             "                   {\"paths\": [\"/srv/project/**\"], \"action\": \"allow\"}, {\"action\": \"ask\"}]}\n\n"
             "Example:\n  acp-conductor agent \"acp-policy-proxy --config policy.json\" \"claude-code-acp\"\n\n"
             "Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage\n"
             "or configuration error.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-policy-proxy", ACP_VERSION)) return *code;

  auto options = acp::examples::load_policy_config(config);
  if (!options) return usage_error(options.error().message, false);
  options->log_to_stderr = !quiet;
  if (!decision_log.empty()) {
    auto sink = acp::examples::open_decision_log(decision_log);
    if (!sink) return usage_error(sink.error().message, false);
    options->on_decision = std::move(*sink);
  }

  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-policy-proxy");
  return acp::examples::make_policy_proxy(std::move(*options)).run_stdio();
}
