#include "test_agent.hpp"

#include "mcp_commands.hpp"
#include "session_features.hpp"

#include <acp/sdk.hpp>
#include <acp/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete in long
// coroutines (a false positive: the frame's class-specific operator new and delete pair up).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::examples {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::array<std::string_view, 13> command_names = {
    "echo",  "stream", "permission", "read",    "write",  "terminal", "wait-for-cancel",
    "crash", "exit",   "hang",       "garbage", "stderr", "mcp"};

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  return s;
}

/// "stream 3" -> {"stream", "3"}: the first word and the rest (leading blanks removed).
struct command {
  std::string name;
  std::string args;
};

command split_command(std::string_view text) {
  text = trim_left(text);
  const auto end = text.find_first_of(" \t\r\n");
  if (end == std::string_view::npos) return {std::string(text), {}};
  return {std::string(text.substr(0, end)), std::string(trim_left(text.substr(end)))};
}

bool is_command(std::string_view name) {
  return std::find(command_names.begin(), command_names.end(), name) != command_names.end();
}

/// The prompt's own command, else the default mode (with the prompt text as its argument).
command select_command(std::string_view prompt_text, std::string_view mode) {
  auto c = split_command(prompt_text);
  if (is_command(c.name)) return c;
  auto m = split_command(mode);
  if (m.args.empty()) m.args = std::string(trim_left(prompt_text));
  return m;
}

std::string first_text(const std::vector<content_block>& prompt) {
  for (const auto& block : prompt)
    if (const auto* t = std::get_if<text_content>(&block)) return t->text;
  return {};
}

void write_fd(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { // the SDK made the pipe non-blocking
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, 1000);
      continue;
    }
    return;
  }
}

/// One prompt turn. `cancel` wakes whatever the turn is waiting on.
struct turn {
  explicit turn(const asio::any_io_executor& ex) : wake(ex) {}
  std::string session_id;
  bool cancelled = false;
  asio::steady_timer wake;
  std::function<void()> on_cancel; // cuts pending MCP I/O short (mcp_command)
  void cancel() {
    cancelled = true;
    wake.cancel();
    if (on_cancel) on_cancel();
  }
};

struct agent_state {
  test_agent_options opts;
  int sessions = 0;
  std::unordered_set<std::string> open_sessions; // created and not closed
  int tool_calls = 0;
  bool hung = false;
  std::vector<responder> held; // `hang`: requests that are never answered
  std::list<std::shared_ptr<turn>> turns;
  std::unordered_map<std::string, json::value> mcp_servers; // per session: its `mcpServers` JSON
  std::shared_ptr<session_features> features = std::make_shared<session_features>();
};

session_notification text_chunk(const std::string& session_id, std::string text, std::optional<json::value> meta = {}) {
  text_content tc;
  tc.text = std::move(text);
  agent_message_chunk chunk;
  chunk.content = std::move(tc);
  chunk.meta = std::move(meta);
  session_notification n;
  n.session_id = session_id;
  n.update = std::move(chunk);
  return n;
}

prompt_response stop(std::string_view reason) {
  prompt_response r;
  r.stop_reason = acp::stop_reason(reason);
  return r;
}

// The turn's coroutines. GCC 12 miscompiles some coroutine shapes (a `co_await` inside an `if`
// condition or a larger expression, member coroutines awaiting each other), so these are free
// functions taking everything by value and every awaited result is first stored in a local.

/// What every step of a turn needs.
struct turn_env {
  std::shared_ptr<agent_state> st;
  std::shared_ptr<turn> t;
  context cx;
};
using env_ptr = std::shared_ptr<turn_env>;

asio::awaitable<bool> shutting_down() {
  auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

/// The configured delay, cut short by a cancellation. False when the turn is cancelled.
asio::awaitable<bool> pause(env_ptr env) {
  if (env->st->opts.delay.count() > 0 && !env->t->cancelled) {
    env->t->wake.expires_after(env->st->opts.delay);
    auto [ec] = co_await env->t->wake.async_wait(use_tuple);
    (void)ec;
  }
  const bool stopping = co_await shutting_down();
  co_return !env->t->cancelled && !stopping;
}

/// Pauses, then sends a session/update. False when the turn is cancelled.
asio::awaitable<bool> update(env_ptr env, session_notification n) {
  const bool go_on = co_await pause(env);
  if (!go_on) co_return false;
  env->cx.send_notification_to(acp::client, n);
  co_return true;
}

/// One text chunk, then the turn's stop reason.
asio::awaitable<std::string_view> say(env_ptr env, std::string text) {
  auto n = text_chunk(env->t->session_id, std::move(text));
  const bool sent = co_await update(env, std::move(n));
  co_return sent ? stop_reason::end_turn.str() : stop_reason::cancelled.str();
}

asio::awaitable<std::string_view> stream(env_ptr env, std::string args) {
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), count);
  if (ec != std::errc{} || args.empty() || end != args.data() + args.size()) {
    auto reason = co_await say(env, "stream: expected a count, got '" + args + "'");
    co_return reason;
  }
  for (std::uint64_t i = 1; i <= count; ++i) {
    json::object meta;
    meta["seq"] = i;
    auto n = text_chunk(env->t->session_id, "chunk " + std::to_string(i), json::value(std::move(meta)));
    const bool sent = co_await update(env, std::move(n));
    if (!sent) co_return stop_reason::cancelled.str();
  }
  co_return stop_reason::end_turn.str();
}

/// Every ToolKind with the title the permission command gives it by default.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> tool_kinds = {{
    {tool_kind::read.str(), "Read file"},
    {tool_kind::edit.str(), "Write file"},
    {tool_kind::delete_.str(), "Delete file"},
    {tool_kind::move.str(), "Move file"},
    {tool_kind::search.str(), "Search"},
    {tool_kind::execute.str(), "Run command"},
    {tool_kind::think.str(), "Think"},
    {tool_kind::fetch.str(), "Fetch URL"},
    {tool_kind::switch_mode.str(), "Switch mode"},
    {tool_kind::other.str(), "Other tool"},
}};

// `permission [KIND [TITLE…]]`: a tool call of that kind (default edit) and its permission request.
asio::awaitable<std::string_view> permission(env_ptr env, std::string_view args) {
  const auto kind_end = args.find_first_of(" \t");
  const std::string_view kind = args.empty() ? tool_kind::edit.str() : args.substr(0, kind_end);
  const auto* known =
      std::find_if(tool_kinds.begin(), tool_kinds.end(), [&](const auto& k) { return k.first == kind; });
  if (known == tool_kinds.end()) {
    std::string names;
    for (const auto& k : tool_kinds) names += (names.empty() ? "" : ", ") + std::string(k.first);
    auto reason =
        co_await say(env, "permission: unknown tool kind \"" + std::string(kind) + "\" (one of " + names + ")");
    co_return reason;
  }
  const std::string_view rest = kind_end == std::string_view::npos ? "" : trim_left(args.substr(kind_end));
  const std::string title(rest.empty() ? known->second : rest);
  const std::string call_id = "call-" + std::to_string(++env->st->tool_calls);
  tool_call call;
  call.tool_call_id = call_id;
  call.title = title;
  call.kind = tool_kind(kind);
  call.status = tool_call_status::pending;
  session_notification announce;
  announce.session_id = env->t->session_id;
  announce.update = call;
  const bool sent = co_await update(env, std::move(announce));
  if (!sent) co_return stop_reason::cancelled.str();

  request_permission_request req;
  req.session_id = env->t->session_id;
  req.tool_call.tool_call_id = call_id;
  req.tool_call.title = title;
  req.tool_call.kind = tool_kind(kind);
  req.tool_call.status = tool_call_status::pending;
  req.options.push_back({"allow", "Allow", permission_option_kind::allow_once, {}, {}});
  req.options.push_back({"reject", "Reject", permission_option_kind::reject_once, {}, {}});
  auto answer = co_await env->cx.send_request_to(acp::client, req).response();
  std::string text;
  if (!answer) {
    text = "permission: error: " + answer.error().message;
  } else if (const auto* sel = std::get_if<selected_permission_outcome>(&answer->outcome)) {
    text = "permission: selected " + sel->option_id;
  } else if (std::holds_alternative<cancelled_permission_outcome>(answer->outcome)) {
    text = "permission: cancelled";
  } else {
    text = "permission: unknown outcome";
  }
  auto reason = co_await say(env, std::move(text));
  co_return env->t->cancelled ? stop_reason::cancelled.str() : reason;
}

asio::awaitable<std::string_view> read(env_ptr env, std::string path) {
  read_text_file_request req;
  req.session_id = env->t->session_id;
  req.path = std::move(path);
  auto answer = co_await env->cx.send_request_to(acp::client, req).response();
  std::string text = answer ? std::move(answer->content) : "error: " + answer.error().message;
  auto reason = co_await say(env, std::move(text));
  co_return reason;
}

asio::awaitable<std::string_view> write(env_ptr env, std::string args) {
  auto target = split_command(args);
  write_text_file_request req;
  req.session_id = env->t->session_id;
  req.path = target.name;
  req.content = target.args;
  auto answer = co_await env->cx.send_request_to(acp::client, req).response();
  std::string text = answer ? "wrote " + target.name : "error: " + answer.error().message;
  auto reason = co_await say(env, std::move(text));
  co_return reason;
}

asio::awaitable<std::string_view> terminal(env_ptr env, std::string args) {
  std::vector<std::string> words;
  for (auto rest = split_command(args); !rest.name.empty(); rest = split_command(rest.args)) words.push_back(rest.name);
  std::string text;
  if (words.empty()) {
    text = "terminal: expected a command";
  } else {
    create_terminal_request create;
    create.session_id = env->t->session_id;
    create.command = words.front();
    create.args = std::vector<std::string>(words.begin() + 1, words.end());
    auto created = co_await env->cx.send_request_to(acp::client, create).response();
    if (!created) {
      text = "error: terminal/create: " + created.error().message;
    } else {
      const std::string id = created->terminal_id;
      wait_for_terminal_exit_request wait_req{env->t->session_id, id, {}, {}};
      auto exited = co_await env->cx.send_request_to(acp::client, wait_req).response();
      terminal_output_request output_req{env->t->session_id, id, {}, {}};
      auto out = co_await env->cx.send_request_to(acp::client, output_req).response();
      release_terminal_request release_req{env->t->session_id, id, {}, {}};
      auto released = co_await env->cx.send_request_to(acp::client, release_req).response();
      (void)released;
      if (!exited)
        text = "error: terminal/wait_for_exit: " + exited.error().message;
      else if (!out)
        text = "error: terminal/output: " + out.error().message;
      else
        text = std::move(out->output);
    }
  }
  auto reason = co_await say(env, std::move(text));
  co_return reason;
}

asio::awaitable<std::string_view> wait_for_cancel(env_ptr env) {
  for (;;) {
    const bool stopping = co_await shutting_down();
    if (env->t->cancelled || stopping) break;
    env->t->wake.expires_at(asio::steady_timer::time_point::max());
    auto [ec] = co_await env->t->wake.async_wait(use_tuple);
    (void)ec;
  }
  co_return stop_reason::cancelled.str();
}

asio::awaitable<std::string_view> garbage(env_ptr env) {
  // Only between two messages: wait until the SDK's writer has sent everything queued.
  asio::steady_timer poll(env->cx.get_executor());
  for (;;) {
    const bool stopping = co_await shutting_down();
    if (env->cx.conn().queued_bytes() == 0 || stopping) break;
    poll.expires_after(1ms);
    auto [ec] = co_await poll.async_wait(use_tuple);
    (void)ec;
  }
  write_fd(env->st->opts.raw_stdout_fd, "this is not JSON (acp-test-agent garbage mode)\n");
  auto reason = co_await say(env, "garbage: sent");
  co_return reason;
}

asio::awaitable<bool> say_line(env_ptr env, std::string text) {
  auto sent = co_await update(env, text_chunk(env->t->session_id, std::move(text)));
  co_return sent;
}

asio::awaitable<std::string_view> mcp_command(env_ptr env, std::string args) {
  const auto found = env->st->mcp_servers.find(env->t->session_id);
  json::value servers = found == env->st->mcp_servers.end() ? json::value(json::array()) : found->second;
  const auto& o = env->st->opts;
  mcp::command_settings settings;
  settings.advertised = {o.mcp_http, o.mcp_sse, o.mcp_acp};
  settings.client.connect_timeout = o.mcp_connect_timeout;
  settings.client.request_timeout = o.mcp_request_timeout;
  settings.client.interrupt = std::make_shared<mcp::interrupter>();
  if (env->t->cancelled) settings.client.interrupt->cancel();
  env->t->on_cancel = [stop = settings.client.interrupt] { stop->cancel(); };
  mcp::chunk_sink sink = [env](std::string text) { return say_line(env, std::move(text)); };
  co_await mcp::run_command(std::move(args), std::move(servers), env->cx, settings, std::move(sink));
  env->t->on_cancel = nullptr;
  co_return env->t->cancelled ? stop_reason::cancelled.str() : stop_reason::end_turn.str();
}

asio::awaitable<std::string_view> run_command(env_ptr env, command c) {
  const std::string& n = c.name;
  if (n == "crash") std::_Exit(3);
  if (n == "exit") std::_Exit(0);
  std::string_view reason;
  if (n == "stream") {
    reason = co_await stream(env, c.args);
  } else if (n == "permission") {
    reason = co_await permission(env, c.args);
  } else if (n == "read") {
    reason = co_await read(env, c.args);
  } else if (n == "write") {
    reason = co_await write(env, c.args);
  } else if (n == "terminal") {
    reason = co_await terminal(env, c.args);
  } else if (n == "wait-for-cancel") {
    reason = co_await wait_for_cancel(env);
  } else if (n == "garbage") {
    reason = co_await garbage(env);
  } else if (n == "mcp") {
    reason = co_await mcp_command(env, c.args);
  } else if (n == "stderr") {
    write_fd(STDERR_FILENO, c.args + "\n");
    reason = co_await say(env, "stderr: " + c.args);
  } else {
    reason = co_await say(env, "echo: " + c.args);
  }
  co_return reason;
}

asio::awaitable<void> run_turn(env_ptr env, command c, responder r) {
  co_await asio::this_coro::throw_if_cancelled(false); // shutdown: finish the turn, don't throw
  const std::string_view reason = co_await run_command(env, std::move(c));
  env->st->turns.remove(env->t);
  r.respond(stop(reason));
}

} // namespace

std::string set_mcp_capabilities(test_agent_options& options, std::string_view list) {
  bool http = false, sse = false, acp = false;
  if (list != "none") {
    for (std::string_view rest = list;;) {
      const auto comma = rest.find(',');
      const auto name = rest.substr(0, comma);
      if (name == "http")
        http = true;
      else if (name == "sse")
        sse = true;
      else if (name == "acp")
        acp = true;
      else
        return "unknown MCP transport '" + std::string(name) + "' in '" + std::string(list) +
               "' (a comma-separated list of acp, http, sse; or none)";
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  options.mcp_http = http;
  options.mcp_sse = sse;
  options.mcp_acp = acp;
  return {};
}

bool is_test_agent_command(std::string_view command_line) { return is_command(split_command(command_line).name); }

std::string_view test_agent_commands() noexcept {
  return "Commands (first word of the prompt, or --mode):\n"
         "  echo TEXT          one chunk \"echo: TEXT\" (also any prompt that is not a command)\n"
         "  stream N           N chunks \"chunk 1\"..\"chunk N\" with _meta.seq\n"
         "  permission [KIND [TITLE]]\n"
         "                     session/request_permission for a tool call of KIND (read, edit,\n"
         "                     delete, move, search, execute, think, fetch, switch_mode, other;\n"
         "                     default edit), then the outcome as a chunk\n"
         "  read PATH          fs/read_text_file, then the content as a chunk\n"
         "  write PATH TEXT    fs/write_text_file\n"
         "  terminal CMD ARGS  terminal/create, wait_for_exit, output, release; the output as a chunk\n"
         "  wait-for-cancel    stopReason \"cancelled\" once session/cancel arrives\n"
         "  crash | exit       exit with status 3 | 0 in the middle of the turn\n"
         "  hang               never answer, ignore everything\n"
         "  garbage            write a non-JSON line to stdout, then answer\n"
         "  stderr TEXT        write TEXT to stderr, then answer\n"
         "  mcp list           one chunk per MCP server of the session: \"NAME: tool1, tool2\"\n"
         "  mcp call SERVER TOOL {json arguments}\n"
         "                     tools/call on that server; the text content as chunks, or a chunk\n"
         "                     \"mcp error: MESSAGE\" (MCP servers: acp, http (plain http://) and\n"
         "                     stdio from session/new or session/load; one connection per command)\n"
         "  mcp bench SERVER TOOL N {json arguments}\n"
         "                     N sequential tools/call on one connection, then one chunk\n"
         "                     \"mcp bench SERVER TOOL: calls=N p50_us=.. p90_us=.. p99_us=..\n"
         "                     mean_us=.. max_us=..\" (connect and initialize not counted)\n";
}

namespace {

agent_builder make_agent(const std::shared_ptr<agent_state>& st) {
  agent_builder agent;

  // After `hang`, nothing is answered or acted on (the held responders never answer).
  agent.on_receive_request_from(acp::client, "", [st](jsonrpc::message&, responder& r, context&) {
    if (!st->hung) return handled::no;
    st->held.push_back(std::move(r));
    return handled::yes;
  });
  agent.on_receive_notification_from(
      acp::client, "", [st](jsonrpc::message&, context&) { return st->hung ? handled::yes : handled::no; });

  agent.on_receive_request_from(acp::client, [st](initialize_request, responder r, context) {
    initialize_response res;
    res.protocol_version = protocol_version_v1;
    agent_capabilities caps;
    caps.load_session = false;
    caps.prompt_capabilities = prompt_capabilities{false, false, false, {}, {}};
    res.agent_capabilities = std::move(caps);
    res.auth_methods = std::vector<auth_method>{};
    res.agent_info = implementation{"acp-test-agent", "ACP test agent", ACP_VERSION, {}, {}};
    // mcpCapabilities written as JSON: `acp` is not a member of every version of the typed struct.
    json::value answer = json::value_from(res);
    answer.as_object()["agentCapabilities"].as_object()["mcpCapabilities"] =
        json::object{{"http", st->opts.mcp_http}, {"sse", st->opts.mcp_sse}, {"acp", st->opts.mcp_acp}};
    answer.as_object()["authMethods"] = auth_methods_json(*st->features);
    r.respond(std::move(answer));
  });

  // Declarations are kept as JSON (read by mcp_client.cpp), whatever the typed variant holds.
  agent.on_receive_request_from(acp::client, [st](new_session_request req, responder r, context) {
    if (auto refusal = refuse_new_session(*st->features)) return r.respond_error(std::move(*refusal));
    new_session_response res;
    res.session_id = "sess-" + std::to_string(++st->sessions);
    st->open_sessions.insert(res.session_id);
    st->mcp_servers[res.session_id] = json::value_from(req.mcp_servers);
    auto answer = json::value_from(res);
    add_session_fields(*st->features, res.session_id, answer.as_object());
    r.respond(std::move(answer));
  });

  // session/load of a session this agent opened (there is no history to replay): new servers.
  agent.on_receive_request_from(acp::client, [st](load_session_request req, responder r, context cx) {
    if (st->open_sessions.count(req.session_id) == 0)
      return r.respond_error(rpc_error::resource_not_found("no open session " + req.session_id));
    st->mcp_servers[req.session_id] = json::value_from(req.mcp_servers);
    cx.send_notification_to(acp::client, text_chunk(req.session_id, "loaded " + req.session_id)); // the replay
    r.respond(load_session_response{});
  });

  add_feature_handlers(agent, st->features, [st](const std::string& id) { return st->open_sessions.count(id) > 0; });

  // Server-initiated MCP traffic over ACP (list_changed, progress, sampling): nothing asked for
  // it, so requests get -32601 and notifications are dropped.
  agent.on_receive_request_from(acp::client, "mcp/message", [](jsonrpc::message&, responder& r, context&) {
    r.respond_error(rpc_error::method_not_found("mcp/message"));
    return handled::yes;
  });
  agent.on_receive_notification_from(acp::client, "mcp/message",
                                     [](jsonrpc::message&, context&) { return handled::yes; });

  agent.on_receive_request_from(acp::client, [st](close_session_request req, responder r, context) {
    if (st->open_sessions.erase(req.session_id) == 0)
      return r.respond_error(rpc_error::resource_not_found("no open session " + req.session_id));
    st->mcp_servers.erase(req.session_id);
    auto turns = st->turns; // cancel() may end a turn, which edits the list
    for (auto& t : turns)
      if (t->session_id == req.session_id) t->cancel();
    r.respond(close_session_response{});
  });

  agent.on_receive_notification_from(acp::client, [st](cancel_notification n, context) {
    auto turns = st->turns; // cancel() may end a turn, which edits the list
    for (auto& t : turns)
      if (t->session_id == n.session_id) t->cancel();
  });

  agent.on_receive_request_from(acp::client, [st](prompt_request req, responder r, context cx) {
    auto c = select_command(first_text(req.prompt), st->opts.mode);
    if (c.name == "hang") {
      st->hung = true;
      st->held.push_back(std::move(r));
      return;
    }
    auto t = std::make_shared<turn>(cx.get_executor());
    t->session_id = req.session_id;
    st->turns.push_back(t);
    r.on_cancel([weak = std::weak_ptr<turn>(t)] {
      if (auto tt = weak.lock()) tt->cancel();
    });
    cx.spawn(run_turn(std::make_shared<turn_env>(turn_env{st, t, cx}), std::move(c), std::move(r)));
  });

  return agent;
}

std::shared_ptr<agent_state> make_state(test_agent_options options) {
  auto st = std::make_shared<agent_state>();
  st->features->auth_methods = options.auth_methods;
  st->features->modes = options.modes;
  st->features->config_options = options.config_options;
  st->opts = std::move(options);
  return st;
}

} // namespace

agent_builder make_test_agent(test_agent_options options) {
  auto st = make_state(std::move(options));
  return make_agent(st);
}

int run_test_agent(test_agent_options options) {
  if (options.raw_stdout_fd < 0) options.raw_stdout_fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  auto st = make_state(std::move(options));
  const int code = make_agent(st).run_stdio();
  // A hung agent does not notice that its input closed either: it waits for a signal (one that
  // already ended run_stdio, 128 + N, ends it too).
  while (st->hung && code < 128) ::pause();
  return code;
}

} // namespace acp::examples
