#include "prompt.hpp"

#include <acp/sdk.hpp>
#include <acp/sdk/process.hpp>
#include <acp/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace acp::examples {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void write_stream(std::FILE* f, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), f);
  std::fflush(f);
}

/// One diagnostic line on stderr.
void complain(std::string_view what) {
  std::string line = "acp-prompt: ";
  line += what;
  line += '\n';
  write_stream(stderr, line);
}

std::string describe_exit(const exit_status& st) {
  if (st.how == exit_status::kind::signaled) {
    const char* name = ::strsignal(st.value);
    return "was killed by signal " + std::to_string(st.value) + (name ? std::string(" (") + name + ")" : "");
  }
  if (st.how == exit_status::kind::exited) return to_string(st);
  return "ended";
}

std::string describe_duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

boost::system::result<std::string, rpc_error> read_file(const read_text_file_request& req) {
  std::FILE* f = std::fopen(req.path.c_str(), "rb");
  if (!f) {
    const int e = errno;
    std::string msg = "cannot read " + req.path + ": " + std::strerror(e);
    if (e == ENOENT) return rpc_error::resource_not_found(std::move(msg));
    return rpc_error::internal_error(std::move(msg));
  }
  std::string content;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) content.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return rpc_error::internal_error("cannot read " + req.path + ": read error");
  if (!req.line && !req.limit) return content;
  // Lines are 1-based; `limit` counts lines from there.
  const std::uint64_t first = req.line.value_or(1) == 0 ? 1 : req.line.value_or(1);
  std::string out;
  std::uint64_t line_no = 1, taken = 0;
  for (std::size_t pos = 0; pos < content.size();) {
    auto nl = content.find('\n', pos);
    const std::size_t end = nl == std::string::npos ? content.size() : nl + 1;
    if (line_no >= first) {
      if (req.limit && taken >= *req.limit) break;
      out.append(content, pos, end - pos);
      ++taken;
    }
    ++line_no;
    pos = end;
  }
  return out;
}

std::optional<rpc_error> write_file(const write_text_file_request& req) {
  std::FILE* f = std::fopen(req.path.c_str(), "wb");
  if (!f) return rpc_error::internal_error("cannot write " + req.path + ": " + std::strerror(errno));
  const bool ok = std::fwrite(req.content.data(), 1, req.content.size(), f) == req.content.size();
  const int e = errno;
  if (std::fclose(f) != 0 || !ok)
    return rpc_error::internal_error("cannot write " + req.path + ": " + std::strerror(e));
  return std::nullopt;
}

class prompt_session {
public:
  explicit prompt_session(const prompt_options& opts) : opts_(opts), deadline_(io_) {}

  int run() {
    if (!spawn_agent()) return 1;
    deadline_.expires_after(opts_.timeout);
    deadline_.async_wait([this](error_code ec) {
      if (ec || done_) return;
      timed_out_ = true;
      complain("timed out after " + describe_duration(opts_.timeout) + " waiting for the agent; killing it");
      kill_agent(); // its output ends: what we wait for fails, and the exchange ends
    });
    int code = 1;
    try {
      // Runs the exchange, then closes the agent's stdin (output flushed first).
      code = make_client().run_until(io_, child_->take_transport(),
                                     [this](context cx) -> asio::awaitable<int> { return exchange(std::move(cx)); });
    } catch (const std::exception& e) {
      complain(std::string("internal error: ") + e.what());
      kill_agent();
    }
    done_ = true;
    deadline_.cancel();
    if (printed_ && !ends_with_newline_) write_stream(stdout, "\n");
    // Give the agent its grace period to exit, then kill its group.
    bool finished = false;
    asio::co_spawn(io_, reap_agent(), [&](std::exception_ptr) { finished = true; });
    while (!finished && io_.run_one() > 0) {
    }
    // Let the child watcher wind down, briefly (a stuck one is abandoned).
    io_.run_for(500ms);
    return code;
  }

private:
  bool spawn_agent() {
    const auto& cmd = opts_.command;
    process_spec spec{cmd.front(), cmd.front(), std::vector<std::string>(cmd.begin() + 1, cmd.end()), {}};
    // The agent's stderr is the user's: it writes there directly.
    auto child = child_process::spawn(io_.get_executor(), spec, stderr_options{stderr_mode::inherit, {}});
    if (!child) {
      complain("cannot start the agent: " + child.error().message);
      return false;
    }
    child_.emplace(std::move(*child));
    return true;
  }

  client_builder make_client() {
    client_builder client;
    client.on_receive_notification_from(acp::agent, [this](session_notification n, context) {
      if (const auto* chunk = std::get_if<agent_message_chunk>(&n.update)) {
        if (const auto* text = std::get_if<text_content>(&chunk->content)) print(text->text);
      } else if (const auto* call = std::get_if<tool_call>(&n.update)) {
        write_stream(stderr, "[tool] " + call->title + "\n");
      }
    });
    client.on_receive_request_from(acp::agent, [this](request_permission_request req, responder r, context) {
      request_permission_response res;
      res.outcome = cancelled_permission_outcome{};
      std::string chosen = "cancelled";
      for (const auto& option : req.options) {
        const bool allows =
            option.kind == permission_option_kind::allow_once || option.kind == permission_option_kind::allow_always;
        const bool rejects =
            option.kind == permission_option_kind::reject_once || option.kind == permission_option_kind::reject_always;
        if (opts_.allow ? allows : rejects) {
          res.outcome = selected_permission_outcome{option.option_id, {}, {}};
          chosen = option.option_id;
          break;
        }
      }
      write_stream(stderr,
                   "[permission] " + req.tool_call.title.value_or(req.tool_call.tool_call_id) + ": " + chosen + "\n");
      r.respond(res);
    });
    client.on_receive_request_from(acp::agent, [](read_text_file_request req, responder r, context) {
      auto content = read_file(req);
      if (!content) return r.respond_error(content.error());
      read_text_file_response res;
      res.content = std::move(*content);
      r.respond(res);
    });
    client.on_receive_request_from(acp::agent, [](write_text_file_request req, responder r, context) {
      if (auto err = write_file(req)) return r.respond_error(*err);
      r.respond(write_text_file_response{});
    });
    return client;
  }

  void print(std::string_view text) {
    if (text.empty()) return;
    write_stream(stdout, text);
    ends_with_newline_ = text.back() == '\n';
    printed_ = true;
  }

  void kill_agent() {
    if (child_) child_->kill_group(); // the whole group: the agent and whatever it started
  }

  /// Waits for the agent to exit, at most `d`. True when it has.
  asio::awaitable<bool> wait_exit(std::chrono::milliseconds d) {
    if (!child_->status()) (void)co_await child_->async_wait_for(d);
    co_return child_->status().has_value();
  }

  /// Explains a failed request; returns the exit status.
  asio::awaitable<int> fail(const context& cx, std::string_view method, const rpc_error& error) {
    if (timed_out_) co_return 1; // already explained
    if (cx.conn().close_status()) {
      // The connection ended: the agent died or closed its output.
      const bool exited = co_await wait_exit(1s);
      if (exited)
        complain("the agent " + describe_exit(*child_->status()) + " before answering " + std::string(method));
      else
        complain("the agent closed its output before answering " + std::string(method));
      co_return 1;
    }
    complain(std::string(method) + " failed: " + error.message + " (code " + std::to_string(error.code) + ")");
    co_return 1;
  }

  asio::awaitable<int> exchange(context cx) {
    initialize_request init;
    client_capabilities caps;
    caps.fs = file_system_capabilities{true, true, {}, {}};
    caps.terminal = false;
    init.client_capabilities = std::move(caps);
    init.client_info = implementation{"acp-prompt", std::nullopt, ACP_VERSION, {}, {}};
    auto initialized = co_await cx.send_request_to(acp::agent, init).response();
    if (!initialized) {
      const int code = co_await fail(cx, "initialize", initialized.error());
      co_return code;
    }

    new_session_request session;
    std::error_code fs_ec;
    session.cwd = opts_.cwd.empty() ? std::filesystem::current_path(fs_ec).string()
                                    : std::filesystem::absolute(opts_.cwd, fs_ec).string();
    if (opts_.session_meta) session.meta = json::value(*opts_.session_meta);
    auto created = co_await cx.send_request_to(acp::agent, session).response();
    if (!created) {
      const int code = co_await fail(cx, "session/new", created.error());
      co_return code;
    }

    prompt_request prompt;
    prompt.session_id = created->session_id;
    text_content text;
    text.text = opts_.prompt;
    prompt.prompt.emplace_back(std::move(text));
    auto answer = co_await cx.send_request_to(acp::agent, prompt).response();
    if (!answer) {
      const int code = co_await fail(cx, "session/prompt", answer.error());
      co_return code;
    }
    if (answer->stop_reason == stop_reason::end_turn) co_return 0;
    complain("the agent stopped with stopReason \"" + answer->stop_reason.str() + "\"");
    co_return 1;
  }

  asio::awaitable<void> reap_agent() {
    const bool exited = co_await wait_exit(opts_.exit_grace);
    if (!exited) {
      log::info("acp-prompt", "the agent did not exit after its input closed; killing it");
      kill_agent();
      (void)co_await wait_exit(2s);
    }
  }

  prompt_options opts_;
  asio::io_context io_;
  asio::steady_timer deadline_;
  std::optional<child_process> child_;
  bool timed_out_ = false;
  bool done_ = false;
  bool printed_ = false;
  bool ends_with_newline_ = false;
};

} // namespace

int run_prompt(const prompt_options& options) {
  if (options.command.empty()) {
    complain("no agent command");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN); // a dead agent is a failed write, not our death
  prompt_session session(options);
  return session.run();
}

} // namespace acp::examples
