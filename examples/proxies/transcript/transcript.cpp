#include "transcript.hpp"

#include "markdown.hpp"

#include <acp/protocol/types.hpp>
#include <acp/sdk/log.hpp>
#include <acp/sdk/private_file.hpp>

#include <array>
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

namespace {

/// Why `dir` (an open directory) cannot hold transcripts, as the rest of a `--dir DIR: ` line.
std::string directory_problem(int fd, const std::string& dir) {
  const auto problem = private_directory_problem(fd);
  if (problem.empty()) return {};
  return problem + "; transcripts are private: use a directory only you can write to (chmod go-w " + dir +
         ", or choose another --dir)";
}

// SHA-256 (FIPS 180-4), for the names of long session ids.
std::array<std::uint8_t, 32> sha256(std::string_view data) {
  static constexpr std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg(data);
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (i * 8)) & 0xff);
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (std::size_t off = 0; off < msg.size(); off += 64) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int j = 0; j < 4; ++j) w[i] = (w[i] << 8) | static_cast<std::uint8_t>(msg[off + 4 * i + j]);
    }
    for (int i = 16; i < 64; ++i) {
      const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const auto t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const auto t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    const std::uint32_t add[8] = {a, b, c, d, e, f, g, hh};
    for (int i = 0; i < 8; ++i) h[i] += add[i];
  }
  std::array<std::uint8_t, 32> out{};
  for (int i = 0; i < 32; ++i) out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

constexpr char hex_digits[] = "0123456789ABCDEF";
constexpr char lower_hex_digits[] = "0123456789abcdef";

} // namespace

std::string prepare_transcript_dir(const std::string& dir) {
  if (dir.empty()) return "--dir: empty path";
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) return "--dir " + dir + ": not a directory";
  const bool created = fs::create_directories(dir, ec);
  if (ec) return "--dir " + dir + ": cannot create directory: " + ec.message();
  if (created) fs::permissions(dir, fs::perms::owner_all, ec); // transcripts are private
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return "--dir " + dir + ": " + std::strerror(errno);
  auto problem = directory_problem(fd, dir);
  ::close(fd);
  if (!problem.empty()) return "--dir " + dir + ": " + problem;
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return "--dir " + dir + ": not writable: " + std::strerror(errno);
  return {};
}

std::string transcript_file_name(std::string_view id) {
  if (id.empty()) return "%-empty.md";
  std::string name;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || (c == '.' && i > 0); // a leading '.' is encoded: no "..", no hidden files
    if (keep) {
      name += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      name += '%';
      name += hex_digits[u >> 4];
      name += hex_digits[u & 15];
    }
  }
  if (name.size() <= max_plain_name) return name + ".md";
  // Too long for a file name: a readable prefix (not cut inside a %XX) and a hash of the whole id.
  std::size_t cut = long_name_prefix;
  if (name[cut - 1] == '%')
    cut -= 1;
  else if (name[cut - 2] == '%')
    cut -= 2;
  name.resize(cut);
  name += "%-";
  const auto digest = sha256(id);
  for (std::size_t i = 0; i < 16; ++i) {
    name += lower_hex_digits[digest[i] >> 4];
    name += lower_hex_digits[digest[i] & 15];
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
  std::uint64_t turn_serial = 0; ///< counts the records `turn` has held: an answer finds its own

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
  /// The record of the turn in progress, or of what happens between turns.
  turn_record& current_turn() {
    if (!turn) {
      turn.emplace();
      ++turn_serial;
    }
    return *turn;
  }
  turn_record& start_turn() {
    turn.emplace().in_turn = true;
    ++turn_serial;
    return *turn;
  }
  /// The current record, if it is still the one numbered `serial`.
  turn_record* turn_numbered(std::uint64_t serial) { return turn && turn_serial == serial ? &*turn : nullptr; }

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
  int dir_fd = -1; // the directory, opened once: files are created relative to it

  transcript_state(const transcript_state&) = delete;
  transcript_state& operator=(const transcript_state&) = delete;
  explicit transcript_state(transcript_options o) : options(std::move(o)) {
    dir_fd = ::open(options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::string problem = dir_fd < 0 ? std::string(std::strerror(errno)) : directory_problem(dir_fd, options.dir);
    if (problem.empty()) return;
    log::error("transcript", options.dir + ": " + problem + "; nothing is recorded");
    if (dir_fd >= 0) ::close(dir_fd);
    dir_fd = -1;
  }
  ~transcript_state() {
    for (auto& [id, s] : sessions) {
      if (s.turn && s.turn->in_turn)
        s.write(render_reply(*s.turn, "Agent (turn unfinished)", ""));
      else
        s.flush_between_turns();
    }
    sessions.clear();
    if (dir_fd >= 0) ::close(dir_fd);
  }

  session_file* find(std::string_view id) {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : &it->second;
  }
  /// A session whose requests are recorded: known, and not replaying its history.
  session_file* recording(std::string_view id) {
    auto* s = find(id);
    return s && !s->loading ? s : nullptr;
  }

  /// Opens (creating with mode 0600) the session's file for appending: never through a link
  /// planted in the directory, never a file of another user or with other hard links.
  session_file& open(const std::string& id) {
    auto& s = sessions[id];
    if (s.fd >= 0 || s.write_failed) return s;
    const auto name = transcript_file_name(id);
    s.path = (fs::path(options.dir) / name).string();
    if (dir_fd < 0) {
      s.write_failed = true; // already reported
      return s;
    }
    auto fd = open_private_file(name, {.append = true, .readable = true, .directory_fd = dir_fd});
    if (!fd) {
      log::warn("transcript", s.path + ": " + fd.error().reason + "; this session is not recorded");
      s.write_failed = true;
      return s;
    }
    s.fd = *fd;
    return s;
  }
};

// Turns already in the file, so a loaded session continues its numbering.
int count_turns(int fd) {
  if (fd < 0) return 0;
  int n = 0;
  std::string open_fence, line;
  char buf[8192];
  off_t at = 0;
  for (;;) {
    const auto got = ::pread(fd, buf, sizeof buf, at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    at += got;
    for (ssize_t i = 0; i < got; ++i) {
      if (buf[i] != '\n') {
        if (line.size() < (std::size_t{1} << 20)) line += buf[i];
        continue;
      }
      if (starts_turn(line, open_fence)) ++n;
      line.clear();
    }
  }
  return n;
}

// Sends the request on unchanged and relays the answer as it came, after `observe` has read it
// (`forward_response_to` with an observer). The answer arrives later, on the connection's
// thread: never wait for it here.
template <peer_tag P, class F>
void forward_observing(P to, jsonrpc::message& msg, responder& r, context& cx, F observe) {
  cx.forward_request_to(to, std::move(msg)).forward_response_to(std::move(r), std::move(observe));
}

std::string error_text(const rpc_result& outcome) { return outcome ? "" : outcome.error().message; }

// A string member of an object, read in place: file contents are not copied to be measured.
std::optional<std::string_view> string_member(const json::value* v, std::string_view key) {
  const auto* o = v ? v->if_object() : nullptr;
  const auto* m = o ? o->if_contains(key) : nullptr;
  const auto* s = m ? m->if_string() : nullptr;
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

// Where a request of the agent was recorded, for its answer to find it: the answer is only
// recorded while that record is still the session's current one.
struct entry_ref {
  std::string session_id;
  std::uint64_t serial = 0;
  std::size_t index = 0;
};

entry_ref record(session_file& s, std::string session_id, turn_entry entry) {
  const auto index = s.current_turn().add(std::move(entry));
  return {std::move(session_id), s.turn_serial, index};
}

turn_record* recorded_turn(transcript_state& st, const entry_ref& ref) {
  auto* s = st.find(ref.session_id);
  return s ? s->turn_numbered(ref.serial) : nullptr;
}

template <class T> T* recorded(transcript_state& st, const entry_ref& ref) {
  auto* turn = recorded_turn(st, ref);
  return turn ? turn->at<T>(ref.index) : nullptr;
}

std::string exit_text(const std::optional<std::uint32_t>& code, const std::optional<std::string>& signal) {
  std::string out;
  if (code) out = "exit code " + std::to_string(*code);
  if (signal) out += (out.empty() ? "signal " : ", signal ") + *signal;
  return out;
}

// The agent's requests to the editor's file system and terminals: recorded in the session's
// current record, sent on unchanged, the answers relayed unchanged.
void observe_editor_requests(proxy_builder& proxy, const std::shared_ptr<transcript_state>& st) {
  auto read = [st](jsonrpc::message& msg, responder& r, context& cx) {
    auto req = decode_params<read_text_file_request>(msg.params());
    auto* s = req ? st->recording(req->session_id) : nullptr;
    if (!s) return handled::no;
    auto ref = record(*s, req->session_id, file_record{.path = req->path, .line = req->line, .limit = req->limit});
    forward_observing(acp::client, msg, r, cx, [st, ref = std::move(ref)](const rpc_result& outcome) {
      auto* f = recorded<file_record>(*st, ref);
      if (!f) return;
      if (!outcome) {
        f->answer = "error: " + error_text(outcome);
      } else if (const auto content = string_member(&*outcome, "content")) {
        f->answer = "ok";
        f->bytes = content->size();
        f->lines = count_lines(*content);
      } else {
        f->answer = "invalid answer";
      }
    });
    return handled::yes;
  };
  proxy.on_receive_request_from(acp::agent, "fs/read_text_file", std::move(read));

  auto write = [st](jsonrpc::message& msg, responder& r, context& cx) {
    const auto id = string_member(msg.params(), "sessionId"), path = string_member(msg.params(), "path"),
               content = string_member(msg.params(), "content");
    auto* s = id && path && content ? st->recording(*id) : nullptr;
    if (!s) return handled::no;
    auto ref = record(*s, std::string(*id),
                      file_record{.write = true,
                                  .path = std::string(*path),
                                  .bytes = content->size(),
                                  .lines = count_lines(*content),
                                  .excerpt = excerpt_head(*content)});
    forward_observing(acp::client, msg, r, cx, [st, ref = std::move(ref)](const rpc_result& outcome) {
      if (auto* f = recorded<file_record>(*st, ref)) f->answer = outcome ? "ok" : "error: " + error_text(outcome);
    });
    return handled::yes;
  };
  proxy.on_receive_request_from(acp::agent, "fs/write_text_file", std::move(write));

  auto create = [st](jsonrpc::message& msg, responder& r, context& cx) {
    auto req = decode_params<create_terminal_request>(msg.params());
    auto* s = req ? st->recording(req->session_id) : nullptr;
    if (!s) return handled::no;
    auto ref = record(*s, req->session_id,
                      terminal_record{.command = req->command,
                                      .args = req->args.value_or(std::vector<std::string>{}),
                                      .cwd = req->cwd.value_or("")});
    forward_observing(acp::client, msg, r, cx, [st, ref = std::move(ref)](const rpc_result& outcome) {
      auto* t = recorded<terminal_record>(*st, ref);
      if (!t) return;
      if (!outcome)
        t->error = "error: " + error_text(outcome);
      else if (auto res = decode_result<create_terminal_response>(&*outcome))
        t->terminal_id = res->terminal_id;
      else
        t->error = "invalid answer";
    });
    return handled::yes;
  };
  proxy.on_receive_request_from(acp::agent, "terminal/create", std::move(create));

  // Requests about a terminal: what a successful answer tells is added to the terminal's record.
  auto about_terminal = [st](auto learn) {
    return [st, learn](jsonrpc::message& msg, responder& r, context& cx) {
      auto req = decode_params<terminal_output_request>(msg.params()); // each names a terminal alike
      auto* s = req ? st->recording(req->session_id) : nullptr;
      if (!s) return handled::no;
      s->current_turn();
      entry_ref ref{req->session_id, s->turn_serial, 0};
      forward_observing(acp::client, msg, r, cx, [st, ref, id = req->terminal_id, learn](const rpc_result& outcome) {
        auto* turn = outcome ? recorded_turn(*st, ref) : nullptr;
        if (turn) learn(turn->terminal(id), *outcome);
      });
      return handled::yes;
    };
  };
  auto output = [](terminal_record& t, const json::value& result) {
    auto res = decode_result<terminal_output_response>(&result);
    if (!res) return;
    t.output = excerpt_tail(res->output);
    t.output_bytes = res->output.size();
    t.truncated = res->truncated;
    if (res->exit_status) t.exit = exit_text(res->exit_status->exit_code, res->exit_status->signal);
  };
  auto exited = [](terminal_record& t, const json::value& result) {
    if (auto res = decode_result<wait_for_terminal_exit_response>(&result))
      t.exit = exit_text(res->exit_code, res->signal);
  };
  auto killed = [](terminal_record& t, const json::value&) { t.killed = true; };
  proxy.on_receive_request_from(acp::agent, "terminal/output", about_terminal(output));
  proxy.on_receive_request_from(acp::agent, "terminal/wait_for_exit", about_terminal(exited));
  proxy.on_receive_request_from(acp::agent, "terminal/kill", about_terminal(killed));
}

} // namespace

proxy_builder make_transcript_proxy(transcript_options options) {
  auto st = std::make_shared<transcript_state>(std::move(options));
  proxy_builder proxy;

  // Observers: they never consume or change a message, so the default forwarding sends each one
  // on as it came; a response observer sees the answer to the request it names just before it
  // is relayed.
  proxy.on_observe_request_from(acp::client, [st](const initialize_request& req, context&) {
    if (req.client_info) st->client = describe(*req.client_info);
  });
  proxy.on_observe_response_to(acp::client, [st](const initialize_request&, const rpc_result& outcome, context&) {
    if (!outcome) return;
    if (auto res = decode_result<initialize_response>(&*outcome); res && res->agent_info)
      st->agent = describe(*res->agent_info);
  });

  proxy.on_observe_response_to(acp::client, [st](const new_session_request& req, const rpc_result& outcome, context&) {
    if (!outcome) return;
    auto res = decode_result<new_session_response>(&*outcome);
    if (!res) return;
    auto& s = st->open(res->session_id);
    s.write(render_header({res->session_id, req.cwd, st->agent, st->client, false}, clock::now()));
  });

  proxy.on_observe_request_from(acp::client, [st](const load_session_request& req, context&) {
    auto& s = st->open(req.session_id);
    s.flush_between_turns();
    s.turns = count_turns(s.fd);
    s.loading = true;
    s.write(render_header({req.session_id, req.cwd, st->agent, st->client, true}, clock::now()));
  });
  proxy.on_observe_response_to(acp::client, [st](const load_session_request& req, const rpc_result& outcome, context&) {
    auto* sess = st->find(req.session_id);
    if (!sess) return;
    sess->loading = false;
    sess->turn.reset(); // what was replayed is already on file
    if (!outcome) sess->write("_session/load failed: " + error_text(outcome) + "_\n\n");
  });

  proxy.on_observe_request_from(acp::client, [st](const prompt_request& req, context&) {
    auto* s = st->find(req.session_id);
    if (!s) { // a session we did not see start (created before this proxy ran)
      s = &st->open(req.session_id);
      s->write(render_header({req.session_id, "", st->agent, st->client, false}, clock::now()));
    }
    s->flush_between_turns();
    s->write(render_prompt(++s->turns, req.prompt, clock::now()));
    s->start_turn();
  });
  proxy.on_observe_response_to(acp::client, [st](const prompt_request& req, const rpc_result& outcome, context&) {
    auto* sess = st->find(req.session_id);
    if (!sess) return;
    std::string stop = outcome ? "(unreadable result)" : "error: " + error_text(outcome);
    if (outcome) {
      if (auto res = decode_result<prompt_response>(&*outcome)) stop = res->stop_reason.str();
    }
    sess->write(render_reply(sess->turn ? *sess->turn : turn_record{}, "Agent", stop));
    sess->turn.reset();
  });

  proxy.on_observe_notification_from(acp::agent, [st](const session_notification& note, context&) {
    auto* s = st->find(note.session_id);
    if (s && !s->loading) s->current_turn().apply(note.update); // between turns too
  });

  proxy.on_receive_request_from(
      acp::agent, "session/request_permission", [st](jsonrpc::message& msg, responder& r, context& cx) {
        auto req = decode_params<request_permission_request>(msg.params());
        auto* s = req ? st->find(req->session_id) : nullptr;
        if (!s) return handled::no;
        const auto index = s->current_turn().add_permission(*req);
        entry_ref ref{req->session_id, s->turn_serial, index};
        forward_observing(acp::client, msg, r, cx,
                          [st, ref = std::move(ref), req = std::move(*req)](const rpc_result& outcome) {
                            auto* turn = recorded_turn(*st, ref);
                            if (!turn) return;
                            std::optional<request_permission_response> res;
                            if (outcome) {
                              if (auto decoded = decode_result<request_permission_response>(&*outcome))
                                res = std::move(*decoded);
                            }
                            turn->answer_permission(ref.index, req, res ? &*res : nullptr,
                                                    outcome ? "invalid answer" : error_text(outcome));
                          });
        return handled::yes;
      });
  observe_editor_requests(proxy, st);
  return proxy;
}

} // namespace acp::examples
