// The MCP client's stdio transport: a child process, newline-delimited JSON-RPC on its
// stdin/stdout (see mcp_client.hpp).
#include "mcp_transports.hpp"

#include <acp/sdk/process.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <span>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::examples::mcp {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

struct stdio_link {
  stdio_link(child_process c, asio::any_io_executor e) : child(std::move(c)), ex(std::move(e)) {}
  child_process child;
  asio::any_io_executor ex;
  transport_ptr io;
  std::string pending; // bytes read that are not a whole line yet
};

namespace {

/// Why the child is gone, as far as we can tell: " (exited with status 3; stderr: …)".
asio::awaitable<std::string> exit_note(std::shared_ptr<stdio_link> s) {
  auto status = co_await s->child.async_wait_for(500ms);
  std::string note;
  if (status) note = to_string(*status);
  std::string tail = s->child.stderr_tail();
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  if (const auto nl = tail.rfind('\n'); nl != std::string::npos) tail.erase(0, nl + 1);
  if (!tail.empty()) note += (note.empty() ? "" : "; ") + std::string("stderr: ") + tail;
  co_return note.empty() ? std::string() : " (" + note + ")";
}

asio::awaitable<std::string> write_message(std::shared_ptr<stdio_link> s, const json::value& message) {
  std::string line = json::serialize(message);
  line += '\n';
  auto ec = co_await s->io->write_all(std::span<const char>(line.data(), line.size()));
  if (!ec) co_return std::string();
  auto note = co_await exit_note(s);
  co_return "cannot write to the MCP server: " + ec.message() + note;
}

} // namespace

std::string stdio_open(const link_ptr& conn, const asio::any_io_executor& ex) {
  const auto& d = conn->decl.json;
  process_spec spec;
  spec.name = "mcp " + conn->decl.name;
  const auto* command = d.if_contains("command");
  if (!command || !command->is_string() || command->as_string().empty()) return "the stdio declaration has no command";
  spec.command = std::string(command->as_string());
  if (const auto* args = d.if_contains("args")) {
    if (!args->is_array()) return "the stdio declaration's args is not an array";
    for (const auto& a : args->as_array()) {
      if (!a.is_string()) return "the stdio declaration's args has an entry that is not a string";
      spec.args.emplace_back(a.as_string());
    }
  }
  if (const auto* env = d.if_contains("env")) {
    if (!env->is_array()) return "the stdio declaration's env is not an array";
    for (const auto& e : env->as_array()) {
      const auto* o = e.if_object();
      const auto* name = o ? o->if_contains("name") : nullptr;
      const auto* value = o ? o->if_contains("value") : nullptr;
      if (!name || !name->is_string() || !value || !value->is_string())
        return "the stdio declaration's env has an entry without a string name and value";
      spec.env.emplace_back(std::string(name->as_string()), std::string(value->as_string()));
    }
  }
  stderr_options err;
  err.mode = stderr_mode::tail_only;
  auto child = child_process::spawn(ex, spec, std::move(err));
  if (!child) return child.error().message;
  auto s = std::make_shared<stdio_link>(std::move(*child), ex);
  s->io = s->child.take_transport();
  if (!s->io) return "cannot take the MCP server's pipes";
  conn->stdio = std::move(s);
  return {};
}

asio::awaitable<rpc_result> stdio_request(link_ptr conn, json::object message) {
  auto s = conn->stdio;
  if (interrupted(conn->opts)) co_return transport_failure("cancelled");
  const armed guard(conn->opts.interrupt, [s] { s->io->close(); });
  const json::value id = message.at("id");
  // The deadline closes the pipes: the read below then ends, and so does the connection.
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer deadline(s->ex);
  deadline.expires_after(conn->opts.request_timeout);
  deadline.async_wait([s, timed_out](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    s->io->close();
  });
  const auto timeout_error = [&] {
    return transport_failure("no answer from the MCP server within " +
                             std::to_string(conn->opts.request_timeout.count()) + " ms");
  };
  auto written = co_await write_message(s, message);
  if (!written.empty()) {
    deadline.cancel();
    if (interrupted(conn->opts)) co_return transport_failure("cancelled");
    co_return *timed_out ? timeout_error() : transport_failure(written);
  }
  std::string chunk(64 * 1024, '\0');
  for (;;) {
    const auto nl = s->pending.find('\n');
    if (nl == std::string::npos) {
      if (s->pending.size() > conn->opts.max_message_bytes) {
        deadline.cancel();
        s->io->close();
        co_return transport_failure("the MCP server wrote a line longer than " +
                                    std::to_string(conn->opts.max_message_bytes) + " bytes");
      }
      auto [ec, n] = co_await s->io->read_some(std::span<char>(chunk.data(), chunk.size()));
      if (ec) {
        deadline.cancel();
        if (*timed_out) co_return timeout_error();
        if (interrupted(conn->opts)) co_return transport_failure("cancelled");
        auto note = co_await exit_note(s);
        co_return transport_failure("the MCP server closed its output" + note);
      }
      s->pending.append(chunk.data(), n);
      continue;
    }
    std::string line = s->pending.substr(0, nl);
    s->pending.erase(0, nl + 1);
    boost::system::error_code pec;
    auto v = json::parse(line, pec);
    const auto* o = pec ? nullptr : v.if_object();
    if (!o) continue; // not a JSON-RPC message (a server that logs on stdout): skipped
    if (o->contains("method")) {
      if (!o->contains("id")) continue; // a notification (progress, logging, list_changed)
      // A server-initiated request (sampling, roots, elicitation): this client offers none.
      json::object answer{{"jsonrpc", "2.0"},
                          {"id", o->at("id")},
                          {"error", rpc_error::method_not_found(o->at("method").is_string()
                                                                    ? std::string_view(o->at("method").as_string())
                                                                    : std::string_view())
                                        .to_json()}};
      auto err = co_await write_message(s, answer);
      (void)err; // a broken pipe shows up on the next read
      continue;
    }
    if (o->contains("id") && o->at("id") == id) {
      deadline.cancel();
      co_return outcome_of_response(*o);
    }
  }
}

asio::awaitable<std::string> stdio_notify(link_ptr conn, json::object message) {
  auto r = co_await write_message(conn->stdio, message);
  co_return r;
}

asio::awaitable<void> stdio_close(link_ptr conn) {
  auto s = std::move(conn->stdio);
  conn->stdio.reset();
  if (!s) co_return;
  s->io->shutdown_write(); // EOF: a well-behaved server exits on its own
  auto status = co_await s->child.terminate(500ms, 500ms);
  (void)status;
  s->io->close();
}

} // namespace acp::examples::mcp
