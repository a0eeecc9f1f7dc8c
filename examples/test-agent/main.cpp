// acp-test-agent: a deterministic ACP agent with scripted modes (see test_agent.hpp).
#include "test_agent.hpp"

#include <acp/examples/cli.hpp>
#include <acp/net/serve.hpp>
#include <acp/sdk/log.hpp>
#include <acp/version.hpp>

#include <csignal>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  acp::examples::test_agent_options opts;
  long delay_ms = 0;
  CLI::App app{"acp-test-agent: a deterministic ACP agent for tests; speaks ACP on stdin/stdout.", "acp-test-agent"};
  app.add_option("--mode", opts.mode, "Default behaviour for prompts that are not a command (default: echo)");
  app.add_option("--delay-ms", delay_ms, "Pause before each session/update, in milliseconds (default: 0)")
      ->check(CLI::NonNegativeNumber);
  std::string mcp_caps = "http";
  app.add_option("--mcp-capabilities", mcp_caps,
                 "MCP transports advertised in initialize (agentCapabilities.mcpCapabilities): a comma-separated "
                 "list of acp, http, sse, or none (default: http). Declarations of other transports are served all "
                 "the same");
  long mcp_connect_ms = 5000;
  long mcp_request_ms = 10000;
  app.add_option("--mcp-connect-timeout-ms", mcp_connect_ms,
                 "Deadline for opening an MCP connection (TCP connect, mcp/connect), in milliseconds (default: 5000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--mcp-request-timeout-ms", mcp_request_ms,
                 "Deadline for each MCP request's answer, in milliseconds (default: 10000)")
      ->check(CLI::PositiveNumber);
  std::string listen;
  app.add_option("--listen", listen,
                 "Serve on this address instead of stdin/stdout (tcp://HOST:PORT, unix:/PATH, ws://HOST:PORT/PATH; "
                 "port 0: any free port, printed on stderr): one agent per connection");
  std::string token_file;
  app.add_option("--token-file", token_file, "With --listen: the bearer token clients must present (its first line)");
  app.add_option("--auth-methods", opts.auth_methods,
                 "Auth method ids offered in initialize; session/new then answers -32000 until authenticate used one")
      ->delimiter(',');
  app.add_option("--modes", opts.modes, "Mode ids of every new session (the first is current), for session/set_mode")
      ->delimiter(',');
  app.add_option("--config-options", opts.config_options,
                 "Ids of select config options (values off, on) of every new session, for session/set_config_option")
      ->delimiter(',');
  app.set_version_flag("--version", std::string("acp-test-agent ") + ACP_VERSION);
  app.footer(std::string(acp::examples::test_agent_commands()) +
             "\nExit status: 0 when the client closed the connection, 1 on a broken connection, 2 for a usage "
             "error; 3 in crash mode; 130 or 143 after SIGINT or SIGTERM (an orderly shutdown: the turn in progress "
             "gets its grace period and its answer is flushed; a second signal ends it at once).");
  if (auto code = acp::examples::parse_command_line(app, argc, argv, "acp-test-agent", ACP_VERSION)) return *code;
  if (!acp::examples::is_test_agent_command(opts.mode))
    return acp::examples::usage_error("acp-test-agent", "unknown --mode '" + opts.mode + "'");
  if (auto error = acp::examples::set_mcp_capabilities(opts, mcp_caps); !error.empty())
    return acp::examples::usage_error("acp-test-agent", error);
  opts.delay = std::chrono::milliseconds(delay_ms);
  opts.mcp_connect_timeout = std::chrono::milliseconds(mcp_connect_ms);
  opts.mcp_request_timeout = std::chrono::milliseconds(mcp_request_ms);
  std::signal(SIGPIPE, SIG_IGN);
  acp::log::set_program_name("acp-test-agent");
  if (listen.empty()) {
    if (!token_file.empty()) return acp::examples::usage_error("acp-test-agent", "--token-file needs --listen");
    return acp::examples::run_test_agent(std::move(opts));
  }
  auto where = acp::net::parse_url(listen);
  if (!where) return acp::examples::usage_error("acp-test-agent", "--listen: " + where.error());
  if (where->secure())
    return acp::examples::usage_error("acp-test-agent", "--listen: tls:// and wss:// are not offered");
  acp::net::listen_options lo;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    std::string token;
    if (!in || !std::getline(in, token) || token.empty())
      return acp::examples::usage_error("acp-test-agent", "--token-file: cannot read a token from " + token_file);
    lo.bearer_token = std::move(token);
  }
  return acp::net::serve(*where, std::move(lo),
                         [&opts](const boost::asio::any_io_executor& ex, acp::message_channel_ptr ch) {
                           return acp::examples::make_test_agent(opts).connect_to(ex, std::move(ch));
                         });
}
