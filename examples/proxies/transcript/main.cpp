// acp-transcript-proxy: writes a Markdown record of every session (see transcript.hpp).
#include "transcript.hpp"

#include <acp/sdk/log.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  acp::examples::transcript_options o;
  CLI::App app{"acp-transcript-proxy: an ACP proxy that writes a readable Markdown record of each session\n"
               "(DIR/<session id>.md) and passes every message through untouched. Run it as a component\n"
               "of a conductor chain; it speaks ACP on stdin/stdout.",
               "acp-transcript-proxy"};
  app.set_version_flag("--version", std::string("acp-transcript-proxy ") + ACP_VERSION);
  app.add_option("--dir", o.dir, "directory for the transcripts (created if missing)")->type_name("DIR")->required();
  app.footer("Exit status: 0 when the conductor closed the connection, 1 on a broken connection, 2 for a usage "
             "error or an unusable --dir.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << "acp-transcript-proxy " << ACP_VERSION << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n' || c == '\r') c = ' ';
    std::cerr << "acp-transcript-proxy: " << what << " (try --help)\n";
    return 2;
  }
  if (auto problem = acp::examples::prepare_transcript_dir(o.dir); !problem.empty()) {
    std::cerr << "acp-transcript-proxy: " << problem << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-transcript-proxy");
  return acp::examples::make_transcript_proxy(std::move(o)).run_stdio();
}
