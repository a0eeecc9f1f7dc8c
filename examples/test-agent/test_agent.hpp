#pragma once
// acp-test-agent: a deterministic ACP agent for end-to-end tests.
//
// Each `session/prompt` runs a scripted behaviour chosen by the first word of the prompt's first
// text block; when that word is not a command, the default mode (`--mode`, "echo" unless set)
// runs, with the prompt text as its argument when the mode has none of its own:
//
//   echo TEXT            one agent_message_chunk "echo: TEXT", then end_turn
//   stream N             N chunks "chunk 1".."chunk N", each with `_meta: {"seq": i}`, end_turn
//   permission [KIND [TITLE…]]
//                        a tool_call update of that ToolKind (read, edit, delete, move, search,
//                        execute, think, fetch, switch_mode, other; default edit, title "Write
//                        file" or the kind's own), then session/request_permission (allow_once
//                        "allow" / reject_once "reject"); a chunk "permission: selected allow"
//                        or "permission: cancelled"; end_turn. An unknown KIND: a chunk saying so
//   read PATH            fs/read_text_file; a chunk with the content (or "error: MESSAGE")
//   write PATH TEXT      fs/write_text_file; a chunk "wrote PATH" (or "error: MESSAGE")
//   terminal CMD ARGS…   terminal/create, wait_for_exit, output, release; a chunk with the output
//   (session/close ends a session: its turns are cancelled; an unknown id gets -32002)
//   wait-for-cancel      answers stopReason "cancelled" once session/cancel (or $/cancel_request)
//                        arrives for the turn
//   crash / exit         std::_Exit(3) / std::_Exit(0) in the middle of the turn
//   hang                 never answers, ignores every later message and, under run_test_agent,
//                        the end of its input too (it waits for a signal)
//   garbage              writes a non-JSON line straight to stdout, then a chunk "garbage: sent"
//   stderr TEXT          writes TEXT to stderr, then a chunk "stderr: TEXT"
//   mcp list             one chunk per MCP server of the session: "NAME: tool1, tool2" (tools/list)
//   mcp call SERVER TOOL {json arguments}
//                        tools/call on the server named SERVER; each text content as a chunk, or
//                        one chunk "mcp error: MESSAGE" (isError, a JSON-RPC error, a failed
//                        connection); an unknown SERVER: a chunk naming the known ones
//   mcp bench SERVER TOOL N {json arguments}
//                        one connection, N sequential tools/call, then one chunk "mcp bench
//                        SERVER TOOL: calls=N p50_us=… p90_us=… p99_us=… mean_us=… max_us=…"
//                        (connect and initialize not counted), or "mcp error: call K of N: …"
//
// MCP servers come from the `mcpServers` of session/new and session/load (the latest wins):
// `acp` (mcp/connect, mcp/message, mcp/disconnect sent to the client), `http` (Streamable HTTP,
// plain http:// only) and stdio (a child process, killed at the end of the command). Each
// command opens its own connections and closes them before the turn ends (mcp_client.hpp).
// `--mcp-capabilities` only chooses what `initialize` advertises: a declaration of a transport
// not advertised is still served, and the chunk says which transport it used (`mcp list`:
// "NAME: tools (via acp, not advertised)"; `mcp call`: a first chunk "mcp: NAME uses transport
// acp, which this agent does not advertise"). Every MCP step has a deadline
// (`mcp_connect_timeout`, `mcp_request_timeout`); a session/cancel cuts the pending MCP request
// short ($/cancel_request for an acp one), closes the connections and ends the turn "cancelled".
//
// Optional session features (session_features.hpp), for tests of routers: `--auth-methods`
// offers auth methods in initialize, and session/new then answers -32000 "Authentication
// required" until `authenticate` used one of them; `--modes` gives each new session those modes
// (the first current; session/set_mode answers {} after a current_mode_update); `--config-options`
// gives it select options (values "off", the default, and "on"; session/set_config_option answers
// every option). session/load of an open session replays one chunk "loaded SESSION".
//
// Sessions are "sess-1", "sess-2", … in creation order. Requests to the client follow the
// deadlock rule: each turn runs as a task (`context::spawn`) that awaits the responses.

#include <acp/sdk/endpoint.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

struct test_agent_options {
  /// The default behaviour: a command line as in a prompt ("echo", "stream 3", "crash").
  std::string mode = "echo";
  /// Pause before every session/update the agent sends.
  std::chrono::milliseconds delay{0};
  /// Where `garbage` writes (a descriptor of the real stdout); -1: `run_test_agent` makes one.
  int raw_stdout_fd = -1;
  /// MCP transports advertised in initialize's `agentCapabilities.mcpCapabilities`.
  bool mcp_http = true;
  bool mcp_sse = false;
  bool mcp_acp = false;
  /// Deadlines of the MCP client: opening a connection, and each request's answer.
  std::chrono::milliseconds mcp_connect_timeout{5000};
  std::chrono::milliseconds mcp_request_timeout{10000};
  /// Optional session features: ids of auth methods, modes and config options.
  std::vector<std::string> auth_methods;
  std::vector<std::string> modes;
  std::vector<std::string> config_options;
};

/// Sets the advertised MCP transports from "acp,http,sse" (any subset, comma-separated) or
/// "none"; an empty string, or what is wrong with `list` (the options are then unchanged).
[[nodiscard]] std::string set_mcp_capabilities(test_agent_options& options, std::string_view list);

/// Whether the first word of `command_line` names a behaviour.
[[nodiscard]] bool is_test_agent_command(std::string_view command_line);

/// The command list for --help.
[[nodiscard]] std::string_view test_agent_commands() noexcept;

/// The agent's handlers; connect it to any transport.
[[nodiscard]] agent_builder make_test_agent(test_agent_options options);

/// Serves stdin/stdout until the client closes; returns the exit code.
int run_test_agent(test_agent_options options);

} // namespace acp::examples
