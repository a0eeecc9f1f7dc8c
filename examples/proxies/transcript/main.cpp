// acp-transcript-proxy: writes a Markdown record of every session (see transcript.hpp).
#include "transcript.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  acp::examples::transcript_options o;
  CLI::App app{"acp-transcript-proxy: an ACP proxy that writes a readable Markdown record of each session\n"
               "(DIR/<session id>.md) and passes every message through untouched. Run it as a component\n"
               "of a conductor chain; it speaks ACP on stdin/stdout.",
               "acp-transcript-proxy"};
  app.set_version_flag("--version", std::string("acp-transcript-proxy ") + ACP_VERSION);
  app.add_option(
         "--dir", o.dir,
         "directory for the transcripts (created if missing; must be yours and not writable by group or others)")
      ->type_name("DIR")
      ->required();
  app.footer("Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage "
             "error or an unusable --dir.");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-transcript-proxy", ACP_VERSION)) return *code;
  if (auto problem = acp::examples::prepare_transcript_dir(o.dir); !problem.empty())
    return acp::examples::usage_error("acp-transcript-proxy", problem, false);
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-transcript-proxy");
  return acp::examples::make_transcript_proxy(std::move(o)).run_stdio();
}
