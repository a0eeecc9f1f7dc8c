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
    s.turns = count_turns(s.fd);
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
