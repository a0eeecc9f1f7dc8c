// acp-bench-client: the measuring client of the chain benchmarks, built with the SDK. It starts
// a command (an agent, a conductor chain or a relay chain), runs initialize and session/new, then
// one measurement, and prints one JSON line:
//
//   acp-bench-client MODE [--turns N] [--updates N] [--size B] [--bytes N] -- COMMAND [ARGS...]
//     rtt       N sequential session/prompt turns ("rtt": one update each): latency percentiles
//     stream    N turns of --updates agent_message_chunk updates of --size bytes: updates/s
//     bigfile   one turn in which the agent reads a --bytes file through fs/read_text_file: time
//     startup   spawn to `initialize` answered
//     idle      memory of the tree after session/new and a pause
// Every mode reports the memory (VmRSS, VmHWM) of each process of the tree at the end, before it
// closes the chain.
#include "proc_util.hpp"

#include <acp/sdk.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace asio = boost::asio;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string mode;
  std::size_t turns = 1000, updates = 10000, size = 150, bytes = std::size_t{50} << 20;
  std::vector<std::string> command;
};

struct run_state {
  options opts;
  pid_t child = -1;
  clock_type::time_point spawned;
  std::size_t updates = 0;
  json::object out;
  bool done = false;
  int code = 0;
};

double us_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100 * static_cast<double>(v.size())))];
}

json::array memory(pid_t root) {
  json::array procs;
  for (const auto& m : acp::bench::tree_memory(root))
    procs.push_back(
        json::object{{"pid", m.pid}, {"name", m.name}, {"rss_kb", m.rss_kb}, {"hwm_kb", m.hwm_kb}, {"cpu_s", m.cpu_s}});
  return procs;
}

json::value prompt_params(const json::value& session, std::string text) {
  json::array prompt{json::object{{"type", "text"}, {"text", std::move(text)}}};
  return json::object{{"sessionId", session}, {"prompt", std::move(prompt)}};
}

// A free function with by-value parameters (GCC 12 coroutine bugs): the whole measurement.
asio::awaitable<void> drive(std::shared_ptr<run_state> st, acp::context cx) {
  auto& out = st->out;
  const auto& o = st->opts;
  json::object init{
      {"protocolVersion", 1},
      {"clientCapabilities", json::object{{"fs", json::object{{"readTextFile", true}, {"writeTextFile", false}}}}}};
  auto init_sent = cx.send_request_to(acp::agent, "initialize", json::value(std::move(init)));
  acp::rpc_result init_res = co_await std::move(init_sent).response();
  out["startup_ms"] = us_since(st->spawned) / 1000;
  if (!init_res) {
    out["error"] = "initialize: " + init_res.error().message;
    st->code = 1;
    co_return;
  }
  if (o.mode == "startup") {
    out["procs"] = memory(st->child);
    co_return;
  }
  auto new_sent = cx.send_request_to(acp::agent, "session/new",
                                     json::value(json::object{{"cwd", "/"}, {"mcpServers", json::array()}}));
  acp::rpc_result session = co_await std::move(new_sent).response();
  if (!session) {
    out["error"] = "session/new: " + session.error().message;
    st->code = 1;
    co_return;
  }
  const json::value session_id = session->as_object().at("sessionId");
  if (o.mode == "rtt") {
    std::vector<double> lat;
    lat.reserve(o.turns);
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < o.turns; ++i) {
      const auto t = clock_type::now();
      auto sent = cx.send_request_to(acp::agent, "session/prompt", prompt_params(session_id, "rtt"));
      acp::rpc_result r = co_await std::move(sent).response();
      if (!r) {
        out["error"] = "session/prompt: " + r.error().message;
        st->code = 1;
        co_return;
      }
      lat.push_back(us_since(t));
    }
    out["total_s"] = us_since(t0) / 1e6;
    out["p50_us"] = percentile(lat, 50);
    out["p90_us"] = percentile(lat, 90);
    out["p99_us"] = percentile(lat, 99);
    out["updates"] = st->updates;
  } else if (o.mode == "stream") {
    std::vector<double> rates;
    const std::string text = "stream " + std::to_string(o.updates) + " " + std::to_string(o.size);
    for (std::size_t i = 0; i < o.turns; ++i) {
      const auto before = st->updates;
      const auto t = clock_type::now();
      auto sent = cx.send_request_to(acp::agent, "session/prompt", prompt_params(session_id, text));
      acp::rpc_result r = co_await std::move(sent).response();
      if (!r) {
        out["error"] = "session/prompt: " + r.error().message;
        st->code = 1;
        co_return;
      }
      rates.push_back(static_cast<double>(st->updates - before) / (us_since(t) / 1e6));
    }
    out["updates_per_s"] = percentile(rates, 50);
    out["updates"] = st->updates;
  } else if (o.mode == "bigfile") {
    const auto t = clock_type::now();
    auto sent = cx.send_request_to(acp::agent, "session/prompt", prompt_params(session_id, "read /bench/big-file"));
    acp::rpc_result r = co_await std::move(sent).response();
    out["seconds"] = us_since(t) / 1e6;
    if (!r) {
      out["error"] = "session/prompt: " + r.error().message;
      st->code = 1;
      co_return;
    }
    const auto* meta = r->as_object().if_contains("_meta");
    out["agent_received_bytes"] = meta ? meta->as_object().at("bytes") : json::value(0);
  } else if (o.mode == "idle") {
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
    (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  out["procs"] = memory(st->child);
  out["client_hwm_kb"] = acp::bench::memory_of(::getpid()).hwm_kb;
}

int usage() {
  std::fprintf(stderr, "usage: acp-bench-client rtt|stream|bigfile|startup|idle [--turns N] [--updates N] "
                       "[--size B] [--bytes N] -- COMMAND [ARGS...]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  auto st = std::make_shared<run_state>();
  auto& o = st->opts;
  int i = 1;
  if (argc < 2) return usage();
  o.mode = argv[i++];
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      o.command.assign(argv + i + 1, argv + argc);
      break;
    }
    if (i + 1 >= argc) return usage();
    const auto v = std::stoull(argv[++i]);
    if (a == "--turns")
      o.turns = v;
    else if (a == "--updates")
      o.updates = v;
    else if (a == "--size")
      o.size = v;
    else if (a == "--bytes")
      o.bytes = v;
    else
      return usage();
  }
  if (o.command.empty()) return usage();

  asio::io_context io;
  int to_child[2], from_child[2];
  if (!acp::bench::make_pipe(to_child) || !acp::bench::make_pipe(from_child)) return 1;
  st->spawned = clock_type::now();
  st->child = acp::bench::spawn_with_fds(o.command, {{to_child[0], 0}, {from_child[1], 1}});
  if (st->child < 0) {
    std::perror("acp-bench-client: spawn");
    return 1;
  }
  ::close(to_child[0]);
  ::close(from_child[1]);

  const std::string big_content(o.mode == "bigfile" ? o.bytes : 0, 'a');
  acp::client_builder client;
  acp::endpoint_options eo;
  eo.connection.max_message_bytes = std::max<std::size_t>(o.bytes + (1 << 20), std::size_t{64} << 20);
  client.options(eo);
  client.on_receive_notification_from(acp::agent, "session/update", [st](acp::jsonrpc::message&, acp::context&) {
    ++st->updates;
    return acp::handled::yes;
  });
  client.on_receive_request_from(acp::agent, "fs/read_text_file",
                                 [&big_content](acp::jsonrpc::message&, acp::responder& r, acp::context&) {
                                   r.respond(json::object{{"content", big_content}});
                                   return acp::handled::yes;
                                 });
  auto ep = client.connect_to(io.get_executor(),
                              acp::make_fd_transport(io.get_executor(), from_child[0], to_child[1], "chain"));
  st->out["mode"] = o.mode;
  asio::co_spawn(io, drive(st, ep.cx()), [st, ep](std::exception_ptr e) {
    if (e) {
      st->out["error"] = "exception";
      st->code = 1;
    }
    st->done = true;
    ep.shutdown();
  });
  while (!st->done && io.run_one() > 0) {
  }
  io.run_for(std::chrono::milliseconds(200));
  std::cout << json::serialize(st->out) << std::endl;
  // The chain got end of input; give it a moment, then make sure it is gone.
  int status = 0;
  for (int tries = 0; tries < 300 && ::waitpid(st->child, &status, WNOHANG) == 0; ++tries) ::usleep(10000);
  if (::waitpid(st->child, &status, WNOHANG) == 0) {
    ::kill(st->child, SIGKILL);
    ::waitpid(st->child, &status, 0);
  }
  return st->code;
}
