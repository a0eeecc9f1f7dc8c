#pragma once
// acp-tools-proxy: commands from a JSON config offered to the agent as MCP tools, through an MCP
// server the proxy provides over its ACP connection (acp::proxy_builder::provide_mcp_server).
//
// Config (tools.json):
//   {"server": "tools",                      optional MCP server name (default "tools")
//    "tools": [{
//      "name": "grep", "description": "Search the project",
//      "inputSchema": {"type": "object",
//                      "properties": {"pattern": {"type": "string"}, "path": {"type": "string"}},
//                      "required": ["pattern"]},
//      "argv": ["grep", "-rn", "--", "{pattern}", "{path}"],
//      "cwd": "/srv/project",                 optional (default: the proxy's)
//      "timeoutMs": 10000,                    optional (default 30000)
//      "maxOutputBytes": 65536}]}             optional (default 65536)
//
// argv words: `{name}` is replaced by argument `name` (a property of inputSchema of type string,
// integer, number or boolean; booleans as true/false); `{{` and `}}` are literal braces. A word
// that names an optional argument the call leaves out is dropped. Each word stays ONE argv word,
// whatever it contains: no shell is ever involved. A missing required argument, an argument of
// the wrong type or one the schema does not know is an isError result naming it.
//
// A call runs argv[0] (looked up in PATH) in its own process group with stdin at EOF; stdout is
// the result text (cut at maxOutputBytes with a note), stderr follows under "[stderr]" (same
// cap); a non-zero exit is an isError result saying the exit status; past timeoutMs the whole
// process group is killed and the result says so. Each call is logged as one line.

#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/mcp_server.hpp>

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

struct tool_command {
  std::string name;
  std::string description;
  boost::json::object input_schema;
  std::vector<std::string> argv; ///< templates
  std::string cwd;
  std::chrono::milliseconds timeout{30000};
  std::size_t max_output_bytes = 65536;
};

struct tools_config {
  std::string server_name = "tools";
  std::vector<tool_command> tools;
};

/// Why a config is unusable: one line naming the file and the member ("tools.json: tools[1].argv:
/// expected a non-empty array of strings").
struct config_error {
  std::string message;
};

/// Reads and checks a config file (every placeholder names a property, types are known, ...).
[[nodiscard]] boost::system::result<tools_config, config_error> load_tools_config(const std::string& path);
/// The same from JSON text; `origin` prefixes the errors.
[[nodiscard]] boost::system::result<tools_config, config_error> parse_tools_config(std::string_view text,
                                                                                   std::string_view origin);

/// The argv of a call: the templates filled from `arguments`, or the error text for the model
/// ("missing required argument: pattern", "argument count: expected integer", ...).
[[nodiscard]] boost::system::result<std::vector<std::string>, std::string>
fill_argv(const tool_command& tool, const boost::json::object& arguments);

struct tools_proxy_options {
  tools_config config;
  /// Receives the one line logged per call ("grep: exited with status 0 in 12 ms"); default:
  /// acp::log at info level, always written.
  std::function<void(std::string_view line)> call_log;
};

/// The MCP server with one tool per command.
[[nodiscard]] acp::mcp::server make_tools_server(tools_proxy_options options);
/// A proxy providing that server.
[[nodiscard]] acp::proxy_builder make_tools_proxy(tools_proxy_options options);

} // namespace acp::examples
