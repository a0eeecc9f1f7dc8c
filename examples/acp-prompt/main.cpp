// acp-prompt: send one prompt to an ACP agent and print the answer (see prompt.hpp).
#include "prompt.hpp"

#include <acp/examples/cli.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string_view>

namespace {

constexpr std::string_view usage_line = "usage: acp-prompt [OPTIONS] PROMPT -- AGENT_COMMAND [ARGS...]";

int usage_error(std::string what) { return acp::examples::usage_error("acp-prompt", std::move(what)); }

} // namespace

int main(int argc, char** argv) {
  // Everything after the first "--" is the agent's command line, untouched by option parsing.
  std::vector<char*> ours(argv, argv + argc);
  std::vector<std::string> command;
  bool has_separator = false;
  if (auto it = std::find_if(ours.begin() + 1, ours.end(), [](const char* a) { return std::string_view(a) == "--"; });
      it != ours.end()) {
    has_separator = true;
    command.assign(it + 1, ours.end());
    ours.erase(it, ours.end());
  }

  acp::examples::prompt_options opts;
  std::string session_meta;
  double timeout_s = 60;
  bool allow = false, deny = false;
  CLI::App app{"acp-prompt: send one prompt to an ACP agent and print its answer.\n" + std::string(usage_line),
               "acp-prompt"};
  app.add_option("PROMPT", opts.prompt, "The prompt text")->required();
  app.add_option("--cwd", opts.cwd, "Working directory of the session (default: the current directory)");
  app.add_option("--session-meta", session_meta, "JSON object sent as _meta of session/new");
  auto* allow_flag = app.add_flag("--allow", allow, "Answer permission requests with the first allow option (default)");
  app.add_flag("--deny", deny, "Answer permission requests with the first reject option")->excludes(allow_flag);
  app.add_option("--timeout", timeout_s, "Give up after SECONDS (default: 60)")
      ->check(CLI::PositiveNumber)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", std::string("acp-prompt ") + ACP_VERSION);
  app.footer("The agent is started without a shell (PATH lookup), its stderr goes to ours. Message text goes to\n"
             "stdout as it streams; tool calls are shown as \"[tool] TITLE\" on stderr. fs/read_text_file and\n"
             "fs/write_text_file are served from the local file system.\n\n"
             "Example:\n  acp-prompt --cwd /tmp \"hello\" -- acp-test-agent\n\n"
             "Exit status: 0 when the turn ended with stopReason end_turn; 1 for another stop reason, an error\n"
             "response, a dead agent or the timeout; 2 for a usage error.");
  if (auto code =
          acp::examples::parse_command_line(app, static_cast<int>(ours.size()), ours.data(), "acp-prompt", ACP_VERSION))
    return *code;
  if (!has_separator) return usage_error("missing -- AGENT_COMMAND after the prompt");
  if (command.empty() || command.front().empty()) return usage_error("missing the agent command after --");
  opts.command = std::move(command);
  opts.allow = !deny;
  opts.timeout = std::chrono::milliseconds(static_cast<long long>(std::ceil(timeout_s * 1000)));
  if (!session_meta.empty()) {
    boost::system::error_code ec;
    auto meta = boost::json::parse(session_meta, ec);
    if (ec || !meta.is_object()) return usage_error("--session-meta must be a JSON object");
    opts.session_meta = std::move(meta.get_object());
  }
  acp::log::set_program_name("acp-prompt");
  return acp::examples::run_prompt(opts);
}
