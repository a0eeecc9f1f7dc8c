// acp-context-proxy: adds project context to prompts (see context.hpp).
#include "context.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>
#include <iostream>

namespace {

int usage_error(std::string what, bool hint = true) {
  return acp::examples::usage_error("acp-context-proxy", std::move(what), hint);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> texts, files;
  std::string config, when;
  bool as_resource = false;
  CLI::App app{"acp-context-proxy: an ACP proxy that puts project context (texts, files) before the user's prompt.\n"
               "Run it as a component of a conductor chain; it speaks ACP on stdin/stdout.",
               "acp-context-proxy"};
  app.add_option("--text", texts, "Add STRING as a text block (repeatable)")
      ->type_name("STRING")
      ->allow_extra_args(false);
  app.add_option("--file", files, "Add the file at PATH, read at each prompt (repeatable)")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_flag("--as-resource", as_resource, "Send files as embedded resource blocks (file:// URI, MIME type)");
  app.add_option("--config", config, "Read texts, files, asResource and when from a JSON FILE")->type_name("FILE");
  app.add_option("--when", when, "first: the first prompt of each session only (default); every: every prompt")
      ->check(CLI::IsMember({"first", "every"}))
      ->type_name("WHEN");
  app.set_version_flag("--version", std::string("acp-context-proxy ") + ACP_VERSION);
  app.footer("Context blocks go before the prompt's blocks: texts, then files; config entries before\n"
             "command-line ones. A file that cannot be read at prompt time becomes a text block saying so.\n\n"
             "Example:\n  acp-conductor agent \"acp-context-proxy --file AGENTS.md\" \"claude-code-acp\"\n\n"
             "Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage\n"
             "or configuration error.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-context-proxy", ACP_VERSION)) return *code;

  acp::examples::context_options options;
  if (!config.empty()) {
    auto loaded = acp::examples::load_context_config(config);
    if (!loaded) return usage_error(loaded.error().message, false);
    options = std::move(*loaded);
  }
  options.texts.insert(options.texts.end(), texts.begin(), texts.end());
  options.files.insert(options.files.end(), files.begin(), files.end());
  if (as_resource) options.as_resource = true;
  if (!when.empty())
    options.when = when == "every" ? acp::examples::context_when::every : acp::examples::context_when::first;
  if (options.texts.empty() && options.files.empty()) return usage_error("no context: give --text, --file or --config");
  if (auto ready = acp::examples::prepare_context_options(options); !ready)
    return usage_error(ready.error().message, false);

  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-context-proxy");
  return acp::examples::make_context_proxy(std::move(options)).run_stdio();
}
