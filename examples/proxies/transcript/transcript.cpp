#include "transcript.hpp"

#include "markdown.hpp"

#include <acp/protocol/types.hpp>
#include <acp/sdk/log.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {
namespace json = boost::json;
namespace fs = std::filesystem;
using clock = std::chrono::system_clock;

std::string prepare_transcript_dir(const std::string& dir) {
  if (dir.empty()) return "--dir: empty path";
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) return "--dir " + dir + ": not a directory";
  const bool created = fs::create_directories(dir, ec);
  if (ec) return "--dir " + dir + ": cannot create directory: " + ec.message();
  if (created) fs::permissions(dir, fs::perms::owner_all, ec); // transcripts are private
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return "--dir " + dir + ": not writable: " + std::strerror(errno);
  return {};
}

std::string transcript_file_name(std::string_view id) {
  std::string name;
  for (char c : id) {
    const bool safe =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    name += safe ? c : '_';
  }
  if (name.empty() || name.front() == '.') name.insert(name.begin(), '_'); // no "..", no hidden files
  if (name.size() > 100) name.resize(100);
  if (name != id) {
    std::uint32_t h = 2166136261u; // FNV-1a of the original id
    for (unsigned char c : id) h = (h ^ c) * 16777619u;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "-%08x", static_cast<unsigned>(h));
    name += suffix;
  }
  return name + ".md";
}

namespace {

struct session_file {
  std::string path;
  int fd = -1;
  int turns = 0;
  bool loading = false;
  bool write_failed = false;
  std::optional<turn_record> turn;

  session_file() = default;
  session_file(const session_file&) = delete;
  session_file& operator=(const session_file&) = delete;
  ~session_file() {
    if (fd >= 0) ::close(fd);
  }

  void write(std::string_view text) {
    while (fd >= 0 && !text.empty()) {
      const auto n = ::write(fd, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!write_failed) log::warn("transcript", path + ": write failed: " + std::strerror(errno));
        write_failed = true;
        return;
      }
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  /// Writes what the agent did between turns (late updates), if anything.
  void flush_between_turns() {
    if (turn && !turn->in_turn && !turn->empty()) write(render_reply(*turn, "Agent (between turns)", ""));
    if (turn && !turn->in_turn) turn.reset();
  }
};

struct transcript_state {
  transcript_options options;
  std::string agent;  // from the initialize result
  std::string client; // from the initialize params
  std::map<std::string, session_file, std::less<>> sessions;

  transcript_state(const transcript_state&) = delete;
  transcript_state& operator=(const transcript_state&) = delete;
  explicit transcript_state(transcript_options o) : options(std::move(o)) {}
  ~transcript_state() {
    for (auto& [id, s] : sessions) {
      if (s.turn && s.turn->in_turn)
        s.write(render_reply(*s.turn, "Agent (turn unfinished)", ""));
      else
        s.flush_between_turns();
    }
  }

  session_file* find(std::string_view id) {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : &it->second;
  }

  /// Opens (creating with mode 0600) the session's file for appending.
  session_file& open(const std::string& id) {
    auto& s = sessions[id];
    if (s.fd >= 0) return s;
    s.path = (fs::path(options.dir) / transcript_file_name(id)).string();
    // O_NOFOLLOW: a symlink planted in the directory must not redirect the transcript.
    s.fd = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s.fd < 0) log::warn("transcript", s.path + ": cannot open: " + std::strerror(errno));
    return s;
  }
};

// Turns already in the file, so a loaded session continues its numbering.
int count_turns(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  int n = 0;
  char line[256];
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "## Turn ", 8) == 0) ++n;
  std::fclose(f);
  return n;
}

// Sends the request on unchanged, relays the answer unchanged, and lets `observe` read it
// first. The answer arrives later, on the connection's thread (never wait for it here).
template <peer_tag P, class F>
void forward_observing(P to, jsonrpc::message& msg, responder& r, context& cx, F observe) {
  std::optional<json::value> params;
  if (auto* p = msg.params()) params = std::move(*p);
  auto sent = cx.send_request_to(to, msg.method(), std::move(params));
  r.on_cancel([sent] { sent.cancel(); }); // as forward_response_to would
  std::move(sent).on_receiving_result([observe = std::move(observe), r = std::move(r)](rpc_result outcome) mutable {
    observe(outcome);
    r.respond_with(std::move(outcome));
  });
}

std::string error_text(const rpc_result& outcome) { return outcome ? "" : outcome.error().message; }

} // namespace

proxy_builder make_transcript_proxy(transcript_options options) {
  auto st = std::make_shared<transcript_state>(std::move(options));
  proxy_builder proxy;

  proxy.on_receive_request_from(acp::client, "initialize", [st](jsonrpc::message& msg, responder& r, context& cx) {
    if (auto req = decode_params<initialize_request>(msg.params()); req && req->client_info)
      st->client = describe(*req->client_info);
    forward_observing(acp::agent, msg, r, cx, [st](const rpc_result& outcome) {
      if (!outcome) return;
      if (auto res = decode_result<initialize_response>(&*outcome); res && res->agent_info)
        st->agent = describe(*res->agent_info);
    });
    return handled::yes;
  });

  proxy.on_receive_request_from(acp::client, "session/new", [st](jsonrpc::message& msg, responder& r, context& cx) {
    auto req = decode_params<new_session_request>(msg.params());
    if (!req) return handled::no; // the agent will answer the invalid params; nothing to record
    forward_observing(acp::agent, msg, r, cx, [st, cwd = req->cwd](const rpc_result& outcome) {
      if (!outcome) return;
      auto res = decode_result<new_session_response>(&*outcome);
      if (!res) return;
      auto& s = st->open(res->session_id);
      s.write(render_header({res->session_id, cwd, st->agent, st->client, false}, clock::now()));
    });
    return handled::yes;
  });

  proxy.on_receive_request_from(acp::client, "session/load", [st](jsonrpc::message& msg, responder& r, context& cx) {
    auto req = decode_params<load_session_request>(msg.params());
    if (!req) return handled::no;
    auto& s = st->open(req->session_id);
    s.flush_between_turns();
    s.turns = count_turns(s.path);
    s.loading = true;
    s.write(render_header({req->session_id, req->cwd, st->agent, st->client, true}, clock::now()));
    forward_observing(acp::agent, msg, r, cx, [st, id = req->session_id](const rpc_result& outcome) {
      auto* sess = st->find(id);
      if (!sess) return;
      sess->loading = false;
      sess->turn.reset(); // what was replayed is already on file
      if (!outcome) sess->write("_session/load failed: " + error_text(outcome) + "_\n\n");
    });
    return handled::yes;
  });

  proxy.on_receive_request_from(acp::client, "session/prompt", [st](jsonrpc::message& msg, responder& r, context& cx) {
    auto req = decode_params<prompt_request>(msg.params());
    if (!req) return handled::no;
    auto* s = st->find(req->session_id);
    if (!s) { // a session we did not see start (created before this proxy ran)
      s = &st->open(req->session_id);
      s->write(render_header({req->session_id, "", st->agent, st->client, false}, clock::now()));
    }
    s->flush_between_turns();
    s->write(render_prompt(++s->turns, req->prompt, clock::now()));
    s->turn.emplace().in_turn = true;
    forward_observing(acp::agent, msg, r, cx, [st, id = req->session_id](const rpc_result& outcome) {
      auto* sess = st->find(id);
      if (!sess) return;
      std::string stop = outcome ? "(unreadable result)" : "error: " + error_text(outcome);
      if (outcome) {
        if (auto res = decode_result<prompt_response>(&*outcome)) stop = res->stop_reason;
      }
      sess->write(render_reply(sess->turn ? *sess->turn : turn_record{}, "Agent", stop));
      sess->turn.reset();
    });
    return handled::yes;
  });

  // Observe and pass on: the default forwarding sends the original message.
  proxy.on_receive_notification_from(acp::agent, "session/update", [st](jsonrpc::message& msg, context&) {
    auto note = decode_params<session_notification>(msg.params());
    auto* s = note ? st->find(note->session_id) : nullptr;
    if (s && !s->loading) {
      if (!s->turn) s->turn.emplace(); // an update between turns
      s->turn->apply(note->update);
    }
    return handled::no;
  });

  proxy.on_receive_request_from(
      acp::agent, "session/request_permission", [st](jsonrpc::message& msg, responder& r, context& cx) {
        auto req = decode_params<request_permission_request>(msg.params());
        auto* s = req ? st->find(req->session_id) : nullptr;
        if (!s) return handled::no;
        if (!s->turn) s->turn.emplace();
        const auto index = s->turn->add_permission(*req);
        forward_observing(acp::client, msg, r, cx, [st, index, req = std::move(*req)](const rpc_result& outcome) {
          auto* sess = st->find(req.session_id);
          if (!sess || !sess->turn) return;
          std::optional<request_permission_response> res;
          if (outcome) {
            if (auto decoded = decode_result<request_permission_response>(&*outcome)) res = std::move(*decoded);
          }
          sess->turn->answer_permission(index, req, res ? &*res : nullptr,
                                        outcome ? "invalid answer" : error_text(outcome));
        });
        return handled::yes;
      });
  return proxy;
}

} // namespace acp::examples
