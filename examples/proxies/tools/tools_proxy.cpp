// acp-tools-proxy: running a configured command for a tools/call.
#include "tools_proxy.hpp"

#include <acp/sdk/log.hpp>
#include <acp/sdk/process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <memory>

namespace acp::examples {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// Bytes kept up to a cap; the rest only counted.
struct capped_text {
  explicit capped_text(std::size_t cap) : cap(cap) {}
  void append(std::string_view bytes) {
    total += bytes.size();
    if (text.size() < cap) text.append(bytes.substr(0, cap - text.size()));
  }
  /// The text, with a note when it was cut.
  [[nodiscard]] std::string shown() const {
    if (total <= cap) return text;
    return text + "\n[output truncated: " + std::to_string(text.size()) + " of " + std::to_string(total) +
           " bytes shown]";
  }
  std::size_t cap;
  std::size_t total = 0;
  std::string text;
};

asio::awaitable<void> read_all(transport& t, capped_text& out) {
  std::array<char, 8192> buf{};
  for (;;) {
    auto [ec, n] = co_await t.read_some(buf);
    if (ec) co_return;
    out.append(std::string_view(buf.data(), n));
  }
}

asio::awaitable<exit_status> read_and_wait(transport& t, capped_text& out, child_process& child) {
  co_await read_all(t, out);
  co_return co_await child.async_wait();
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<mcp::tool_result> run_command(const tool_command& tool, std::vector<std::string> argv,
                                              const std::function<void(std::string_view)>& call_log) {
  using namespace asio::experimental::awaitable_operators; // NOLINT(google-build-using-namespace): `||`
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                   .count()) +
           " ms";
  };
  auto out = std::make_shared<capped_text>(tool.max_output_bytes);
  auto err = std::make_shared<capped_text>(tool.max_output_bytes);
  process_spec spec{.name = tool.name,
                    .command = argv.front(),
                    .args = std::vector<std::string>(argv.begin() + 1, argv.end()),
                    .env = {},
                    .working_directory = tool.cwd};
  stderr_options stderr_opts{.mode = stderr_mode::forward, .sink = [err](std::string_view, std::string_view line) {
                               err->append(line);
                               err->append("\n");
                             }};
  auto child = child_process::spawn(co_await asio::this_coro::executor, spec, std::move(stderr_opts));
  if (!child) {
    call_log(tool.name + ": cannot start: " + child.error().message + " (" + elapsed() + ")");
    co_return mcp::tool_result::error("cannot start " + argv.front() + ": " + child.error().message);
  }
  auto pipes = child->take_transport();
  pipes->shutdown_write(); // stdin at EOF
  auto outcome = co_await (read_and_wait(*pipes, *out, *child) || sleep_for(tool.timeout));
  mcp::tool_result result;
  std::string status;
  if (const auto* exited = std::get_if<exit_status>(&outcome)) {
    status = to_string(*exited);
    result.is_error = !exited->success();
  } else {
    (void)co_await child->terminate(std::chrono::milliseconds(0)); // SIGTERM, then SIGKILL, to the group
    status = "timed out after " + std::to_string(tool.timeout.count()) + " ms, process group killed";
    result.is_error = true;
  }
  std::string text = out->shown();
  if (err->total > 0) text += (text.empty() ? "" : "\n") + std::string("[stderr]\n") + err->shown();
  if (result.is_error) text += (text.empty() ? "" : "\n") + std::string("[") + status + "]";
  result.add_text(std::move(text));
  call_log(tool.name + ": " + status + " in " + elapsed());
  co_return result;
}

} // namespace

mcp::server make_tools_server(tools_proxy_options options) {
  if (!options.call_log) options.call_log = [](std::string_view line) { log::write(log::level::info, "call", line); };
  mcp::server srv(options.config.server_name, "1");
  auto call_log = std::make_shared<std::function<void(std::string_view)>>(std::move(options.call_log));
  for (auto& t : options.config.tools) {
    mcp::tool info{.name = t.name, .description = t.description, .input_schema = t.input_schema, .title = {}};
    auto cmd = std::make_shared<tool_command>(std::move(t));
    srv.add_tool(std::move(info),
                 [cmd, call_log](json::object args, mcp::call_context) -> asio::awaitable<mcp::tool_result> {
                   auto argv = fill_argv(*cmd, args);
                   if (!argv) {
                     (*call_log)(cmd->name + ": refused: " + argv.error());
                     co_return mcp::tool_result::error(argv.error());
                   }
                   co_return co_await run_command(*cmd, std::move(*argv), *call_log);
                 });
  }
  return srv;
}

proxy_builder make_tools_proxy(tools_proxy_options options) {
  proxy_builder proxy;
  proxy.provide_mcp_server(make_tools_server(std::move(options)));
  return proxy;
}

} // namespace acp::examples
