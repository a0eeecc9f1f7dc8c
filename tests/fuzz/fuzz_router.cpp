// fuzz_router: the conductor's routing (conductor/src/routing.cpp and its neighbours) fed from a byte script, with a
// fake editor and fake components in this one process (the `start_in_process` seam of
// acp/conductor/router.hpp: socket pairs instead of spawned children).
//
// Input:
//   byte 0   bits 0-1: components - 1 (1..3); bit 2: proxy mode (the upstream is a parent
//            conductor); bit 3: the editor answers the conductor's requests with `{}`
//   byte 1   2 bits per component: 0 silent (script only), 1 answers every request (result: its
//            params), 2 answers every request -32601, 3 behaves (a forwarding proxy; the agent
//            sends a `session/update` before each answer)
//   then records: [op][len lo][len hi][len bytes]; op bits 0-1 the link (0 editor, k component
//            k-1; beyond the chain: editor), bit 7 closes our write side afterwards (editor EOF,
//            component exit), bit 6 lets the conductor run before the next record.
// After the script the editor's side is closed (EOF) and the io_context runs until the
// conductor stops, with a step bound. Checks:
//   - the conductor closes the editor's link after its EOF (no hang), nothing keeps the router
//     alive afterwards, nothing leaks (LeakSanitizer);
//   - every line the conductor writes on any link is a valid JSON-RPC message (or a batch);
//   - no editor request is answered twice; when the conductor read the editor's whole input,
//     every editor request with a unique id is answered exactly once.
#include "fuzz_check.hpp"

#include <acp/conductor/router.hpp>
#include <acp/protocol/envelope.hpp>
#include <acp/protocol/framing.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {
namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::message;

constexpr std::size_t max_line = 2048; // the conductor's limit here: over-long lines happen
constexpr int max_rounds = 4000;       // bound on io_context rounds per pump

enum class behaviour { silent, answer, refuse, proper };

struct fake_link {
  int fd = -1;
  bool is_editor = false;
  bool is_agent = false;
  behaviour mode = behaviour::silent;
  bool auto_answer_editor = false;
  bool write_closed = false;
  bool eof = false; // the conductor closed this fake_link
  std::string out;  // bytes waiting for room in the socket
  acp::framing::line_decoder decoder{std::size_t{1} << 22};
  acp::jsonrpc::line_parser parser;
  std::int64_t next_id = 1000;
  std::map<std::int64_t, json::value> forwarded; // our request id -> the conductor's id
  std::map<std::string, int> answers;            // editor only: responses per id key
};

void write_bytes(fake_link& l, std::string_view bytes) {
  if (l.write_closed) return;
  l.out.append(bytes);
}

void write_json(fake_link& l, const json::object& o) {
  std::string s = json::serialize(o);
  s.push_back('\n');
  write_bytes(l, s);
}

json::object result_of(const json::value& id, json::value result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

/// A component's reaction to one message from the conductor.
void behave(fake_link& l, const message& m) {
  if (l.mode == behaviour::silent) return;
  if (m.is_response()) {
    if (l.mode != behaviour::proper) return;
    if (!m.id().is_int64()) return;
    auto it = l.forwarded.find(m.id().get_int64());
    if (it == l.forwarded.end()) return;
    json::object resp = m.json();
    resp["id"] = it->second;
    l.forwarded.erase(it);
    write_json(l, resp);
    return;
  }
  if (l.mode == behaviour::refuse) {
    if (m.is_request())
      write_json(l, {{"jsonrpc", "2.0"}, {"id", m.id()}, {"error", {{"code", -32601}, {"message", "no"}}}});
    return;
  }
  const json::value params = m.params() ? *m.params() : json::value(json::object());
  if (l.mode == behaviour::answer || l.is_agent) {
    if (l.mode == behaviour::proper && m.is_request())
      write_json(
          l, {{"jsonrpc", "2.0"}, {"method", "session/update"}, {"params", {{"sessionId", "s"}, {"update", params}}}});
    if (!m.is_request()) return;
    if (m.method() == "initialize" || pp::is_proxy_initialize_method(m.method()))
      write_json(l, result_of(m.id(), {{"protocolVersion", 1}, {"agentCapabilities", json::object()}}));
    else
      write_json(l, result_of(m.id(), params));
    return;
  }
  // A forwarding proxy: plain messages go on toward the agent (enveloped), enveloped ones back
  // toward the client (plain); requests get our own ids and their answers are relayed back.
  const bool from_successor = pp::is_successor_method(m.method());
  std::optional<message> inner;
  if (from_successor) {
    inner = pp::unwrap_message(m);
    if (!inner) return;
  } else {
    inner = m;
    if (pp::is_proxy_initialize_method(inner->method())) inner->json()["method"] = "initialize";
  }
  std::optional<json::value> id;
  if (m.is_request()) {
    const auto mine = l.next_id++;
    l.forwarded[mine] = m.id();
    id = json::value(mine);
  }
  if (from_successor) {
    if (id) inner->set_id(*id);
    write_json(l, inner->json());
  } else {
    write_json(l, pp::wrap_message(std::move(*inner), id).json());
  }
}

/// Reads what the conductor wrote to `l`: every line must be a valid message.
bool drain(fake_link& l) {
  bool moved = false;
  char buf[65536];
  while (!l.eof) {
    const auto n = ::recv(l.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) l.eof = true;
    if (n <= 0) break;
    moved = true;
    l.decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    while (auto f = l.decoder.next()) {
      FUZZ_CHECK(f->type == acp::framing::frame::kind::line, "the conductor wrote an over-long line or a header");
      if (std::getenv("FUZZ_ROUTER_DEBUG"))
        std::fprintf(stderr, "%s <- %.*s\n", l.is_editor ? "editor" : "component",
                     static_cast<int>(std::min<std::size_t>(f->text.size(), 200)), f->text.data());
      auto parsed = l.parser.parse(f->text);
      for (auto& item : parsed.items) {
        auto* m = std::get_if<message>(&item);
        FUZZ_CHECK(m != nullptr, "the conductor wrote an invalid message: " + std::string(f->text.substr(0, 300)));
        if (l.is_editor) {
          if (m->is_response()) {
            if (!m->id().is_null()) ++l.answers[acp::jsonrpc::id_key(m->id())];
          } else if (m->is_request() && l.auto_answer_editor) {
            write_json(l, result_of(m->id(), json::object()));
          }
        } else {
          behave(l, *m);
        }
      }
    }
  }
  if (l.eof) FUZZ_CHECK(!l.decoder.finish(), "the conductor's last line has no newline");
  // Flush what we owe the conductor.
  while (!l.out.empty() && !l.write_closed) {
    const auto n = ::send(l.fd, l.out.data(), l.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) l.out.clear(); // the conductor closed
      break;
    }
    l.out.erase(0, static_cast<std::size_t>(n));
    moved = true;
  }
  return moved;
}

/// Runs the conductor and the fakes until nothing moves (twice in a row) or `stop` holds.
template <class Stop> void pump(boost::asio::io_context& io, std::vector<fake_link>& links, Stop stop) {
  int idle = 0;
  for (int round = 0; round < max_rounds && !stop(); ++round) {
    const auto ran = io.poll();
    bool moved = false;
    for (auto& l : links) moved = drain(l) || moved;
    if (ran == 0 && !moved) {
      if (++idle >= 3) return;
    } else {
      idle = 0;
    }
  }
}

/// The editor's requests, as the conductor's reader will see them.
struct editor_view {
  std::map<std::string, int> request_ids; // valid requests per id key (null ids left out)
  std::map<std::string, int> all_ids;     // every id that may be answered
  std::vector<std::string> unsettled;     // requests written since the conductor last ran dry
  std::map<std::string, bool> settled;    // requests the conductor has certainly read
  bool oversized = false;
};

void observe_frame(editor_view& v, const acp::framing::frame& f, acp::jsonrpc::line_parser& p) {
  if (f.type == acp::framing::frame::kind::oversized) v.oversized = true;
  if (f.type != acp::framing::frame::kind::line) return;
  auto parsed = p.parse(f.text);
  for (auto& item : parsed.items) {
    if (auto* m = std::get_if<message>(&item)) {
      if (m->is_request() && !m->id().is_null()) {
        ++v.request_ids[acp::jsonrpc::id_key(m->id())];
        v.unsettled.push_back(acp::jsonrpc::id_key(m->id()));
        ++v.all_ids[acp::jsonrpc::id_key(m->id())];
      } else if (m->is_response() && !m->id().is_null()) {
        ++v.all_ids[acp::jsonrpc::id_key(m->id())];
      }
    } else if (const auto& bad = std::get<acp::jsonrpc::invalid_message>(item); !bad.id.is_null()) {
      ++v.all_ids[acp::jsonrpc::id_key(bad.id)];
    }
  }
}

void observe_editor(editor_view& v, acp::framing::line_decoder& d, acp::jsonrpc::line_parser& p) {
  while (auto f = d.next()) observe_frame(v, *f, p);
}

/// The editor's end of input: the conductor reads a last line without '\n' too.
void observe_editor_end(editor_view& v, acp::framing::line_decoder& d, acp::jsonrpc::line_parser& p) {
  if (auto f = d.finish()) observe_frame(v, *f, p);
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  acp::log::set_level(acp::log::level::error);
  // As run_stdio does: a write to a link whose peer closed is an error on that link, not death.
  std::signal(SIGPIPE, SIG_IGN);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t count = 1 + data[0] % 4 % 3;
  const bool proxy_mode = data[0] & 4;

  acp::conductor::conductor_options options;
  options.mode =
      proxy_mode ? acp::conductor::conductor_options::mode::proxy : acp::conductor::conductor_options::mode::agent;
  // Long enough never to expire while the editor reads: when it expires the router stops the
  // io_context with its flush helper still waiting (harmless in `run`, which never runs the
  // io_context again; here the harness does).
  options.grace_period = std::chrono::milliseconds(2000);
  options.max_message_size = max_line;
  options.stderr_mode = acp::conductor::stderr_mode::discard;

  boost::asio::io_context io;
  std::vector<fake_link> links(count + 1);
  std::vector<acp::transport_ptr> components;
  acp::transport_ptr upstream;
  for (std::size_t i = 0; i <= count; ++i) {
    int fds[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
    links[i].fd = fds[0];
    auto t = acp::make_fd_transport(io.get_executor(), fds[1], fds[1], "fuzz link");
    if (i == 0) {
      upstream = std::move(t);
      links[i].is_editor = true;
      links[i].auto_answer_editor = data[0] & 8;
    } else {
      components.push_back(std::move(t));
      links[i].mode = static_cast<behaviour>((data[1] >> (2 * (i - 1))) & 3);
      links[i].is_agent = !proxy_mode && i == count;
      acp::conductor::component_spec spec;
      spec.name = i == count && !proxy_mode ? "agent" : "p" + std::to_string(i - 1);
      spec.command = "fuzz";
      options.components.push_back(std::move(spec));
    }
  }
  auto router = acp::conductor::start_in_process(io, options, std::move(upstream), std::move(components));

  editor_view view;
  acp::framing::line_decoder editor_lines(max_line);
  acp::jsonrpc::line_parser editor_parser;
  const auto never = [] { return false; };

  std::size_t at = 2;
  while (at + 3 <= size) {
    const std::uint8_t op = data[at];
    const std::size_t len = std::min<std::size_t>(data[at + 1] | (std::size_t{data[at + 2]} << 8), size - at - 3);
    const std::string_view bytes(reinterpret_cast<const char*>(data + at + 3), len);
    at += 3 + len;
    const std::size_t target = (op & 3) <= count ? (op & 3) : 0;
    auto& l = links[target];
    if (!l.write_closed) {
      write_bytes(l, bytes);
      if (target == 0) {
        editor_lines.feed(bytes);
        observe_editor(view, editor_lines, editor_parser);
      }
    }
    if (op & 0x80 && !l.write_closed) {
      if (target == 0) observe_editor_end(view, editor_lines, editor_parser);
      pump(io, links, [&] { return l.out.empty(); }); // what was written goes first
      l.out.clear();
      ::shutdown(l.fd, SHUT_WR);
      l.write_closed = true;
    }
    if (op & 0x40) {
      pump(io, links, never);
      // The conductor ran until idle with the editor's link open: it has read every request.
      if (!links[0].eof && links[0].out.empty()) {
        for (auto& id : view.unsettled) view.settled[id] = true;
        view.unsettled.clear();
      }
    }
  }

  // The editor goes away: the conductor must answer what is pending and stop.
  auto& editor = links[0];
  pump(io, links, [&] { return editor.out.empty(); });
  const bool read_all = editor.out.empty() && !editor.eof;
  if (!editor.write_closed) {
    observe_editor_end(view, editor_lines, editor_parser);
    editor.out.clear();
    ::shutdown(editor.fd, SHUT_WR);
    editor.write_closed = true;
  }
  // The conductor answers what is pending, flushes to the editor (which reads) well within the
  // grace period and closes every link. `io_context::stopped()` says little here (poll() also
  // stops an io_context that is out of work), so the links' ends are the signal. Bounded.
  // Components never started (no `initialize` got through) keep their links open: the editor's
  // end is the signal, then the conductor runs dry.
  auto all_closed = [&] { return links[0].eof; };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!all_closed() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    pump(io, links, all_closed);
    if (!all_closed()) io.run_one_for(std::chrono::milliseconds(2));
  }
  FUZZ_CHECK(all_closed(), "the conductor did not close the editor's link after its end of input");
  io.restart();
  pump(io, links, never);
  for (auto& l : links) ::close(l.fd);
  for (int round = 0; round < 100; ++round) { // the router's last handlers
    io.restart();
    if (io.poll() == 0) break;
  }
  if (std::getenv("FUZZ_ROUTER_DEBUG")) {
    std::fprintf(stderr, "read_all %d oversized %d settled %zu router refs %ld answers:", int(read_all),
                 int(view.oversized), view.settled.size(), router.use_count());
    for (const auto& [id, n] : editor.answers) std::fprintf(stderr, " %s=%d", id.c_str(), n);
    std::fprintf(stderr, "\n");
  }

  for (const auto& [id, n] : editor.answers) {
    FUZZ_CHECK(n == 1 || view.all_ids[id] > 1, "editor request " + id + " answered " + std::to_string(n) + " times");
  }
  // Every request the conductor read is answered exactly once: all of them when it read the
  // whole input, else those it had read before the chain ended.
  if (!view.oversized && editor.eof) {
    for (const auto& [id, n] : view.request_ids) {
      if (view.all_ids[id] != 1 || (!read_all && !view.settled.contains(id))) continue;
      FUZZ_CHECK(editor.answers[id] == 1, "editor request " + id + " was never answered");
    }
  }
  // Nothing of the chain is left holding the router (LeakSanitizer would report the cycle too).
  FUZZ_CHECK(router.use_count() == 1, "the router is still referenced after the chain ended");
  router.reset();
  return 0;
}
