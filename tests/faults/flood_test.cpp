// Floods and slow peers through the real conductor and real proxies (issue 7): an editor that
// stops reading while the agent streams, a thousand requests in flight, 100,000 sessions
// created and closed.
// Memory of every process of the chain is sampled from /proc and held under measured ceilings;
// every message is checked end to end (sequence numbers, ids).
#include "harness.hpp"
#include "process_stats.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <thread>

namespace acp::test {
namespace {
namespace json = boost::json;
using clock = std::chrono::steady_clock;

// Ceilings (KiB of VmRSS). Measured on the 2-core CI machine (RelWithDebInfo): see the report
// in each test's output (`memory:` lines). Idle processes are ~4-6 MiB; the conductor's and
// proxies' write queues stop their readers at 8 MiB queued (flow_gate), so a flooded process
// holds about one queue's worth.
// The conductor's bound by design: four links (editor, two proxies, agent), each holding at most
// its write watermark (8 MiB) queued plus the batch being written, plus the read buffers. It does
// not depend on how many updates flow (measured: 38 MiB peak for 200,000, 50 MiB for 1,000,000).
constexpr long conductor_ceiling_kib = 72 * 1024;
constexpr long proxy_ceiling_kib = 48 * 1024;
constexpr long session_growth_kib = 2 * 1024;

std::vector<std::string> chain(const std::vector<std::string>& components) {
  std::vector<std::string> argv{conductor_path(), "agent"};
  argv.insert(argv.end(), components.begin(), components.end());
  return argv;
}

json::value prompt_request(const json::value& id, const std::string& session, const std::string& text) {
  json::object block{{"type", "text"}, {"text", text}};
  return request(id, "session/prompt", json::object{{"sessionId", session}, {"prompt", json::array{block}}});
}

const json::value* find(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    const auto* o = cur->if_object();
    cur = o ? o->if_contains(key) : nullptr;
    if (!cur) return nullptr;
  }
  return cur;
}

/// The chain's processes: the conductor first, then its components in start order.
std::vector<pid_t> chain_pids(const scripted_peer& editor) {
  std::vector<pid_t> pids{editor.pid()};
  auto d = editor.descendants();
  std::sort(d.begin(), d.end());
  pids.insert(pids.end(), d.begin(), d.end());
  return pids;
}

TEST(flood, paused_editor_bounds_memory_then_gets_every_update_in_order) {
  // ACP_FLOOD_UPDATES overrides the count (1000000 is the figure; 200,000 keeps CI short).
  const std::uint64_t updates =
      std::getenv("ACP_FLOOD_UPDATES") ? std::strtoull(std::getenv("ACP_FLOOD_UPDATES"), nullptr, 10) : 200000;
  scripted_peer editor(chain({component(arrow_path()), component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto session = editor.new_session();
  ASSERT_FALSE(session.empty());
  const auto pids = chain_pids(editor);
  ASSERT_EQ(pids.size(), 4u) << "conductor, two proxies, agent";
  memory_watch paused(pids);

  const auto started = clock::now();
  editor.send(prompt_request(1, session, "stream " + std::to_string(updates)));
  // The editor stops reading for 4 s: pipes fill, queues fill to their watermark, readers stop.
  const auto pause = std::chrono::milliseconds(
      std::getenv("ACP_FLOOD_PAUSE_MS") ? std::atol(std::getenv("ACP_FLOOD_PAUSE_MS")) : 4000);
  for (auto until = clock::now() + pause; clock::now() < until;) {
    paused.sample();
    std::this_thread::sleep_for(50ms);
  }
  std::cout << "memory while paused: " << paused.describe() << "\n";

  memory_watch resumed(pids);
  std::uint64_t expected = 1;
  bool in_order = true;
  std::optional<json::value> response;
  while (!response) {
    auto m = editor.read(10s);
    ASSERT_TRUE(m) << "stalled after update " << expected - 1 << "\n" << editor.stderr_text();
    if (const auto* id = find(*m, {"id"}); id && *id == 1 && !find(*m, {"method"})) {
      response = std::move(*m);
      break;
    }
    ASSERT_EQ(*find(*m, {"method"}), "session/update");
    const auto* seq = find(*m, {"params", "update", "_meta", "seq"});
    ASSERT_TRUE(seq) << json::serialize(*m);
    if (in_order && seq->to_number<std::uint64_t>() != expected) {
      in_order = false;
      ADD_FAILURE() << "update " << seq->to_number<std::uint64_t>() << " arrived where " << expected << " was due";
    }
    ++expected;
    if (expected % 5000 == 0) resumed.sample();
  }
  resumed.sample();
  std::cout << "memory while draining: " << resumed.describe() << "\n";
  std::cout << "timing: " << std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count()
            << " ms for " << updates << " updates (4 s paused)\n";
  EXPECT_EQ(expected - 1, updates) << "every update arrives, then the response";
  EXPECT_EQ(*find(*response, {"result", "stopReason"}), "end_turn");

  for (auto* watch : {&paused, &resumed}) {
    EXPECT_LT(watch->peak_kib(pids[0]), conductor_ceiling_kib) << "conductor: " << watch->describe();
    EXPECT_LT(watch->peak_kib(pids[1]), proxy_ceiling_kib) << "first proxy: " << watch->describe();
    EXPECT_LT(watch->peak_kib(pids[2]), proxy_ceiling_kib) << "second proxy: " << watch->describe();
  }
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_TRUE(all_gone(pids));
}

TEST(flood, a_thousand_requests_in_flight_are_answered_exactly_once) {
  constexpr int requests = 1000;
  scripted_peer editor(
      chain({component(arrow_path()), component(arrow_path()), component(component_path(), {"echo-agent"})}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto started = clock::now();
  // Integer and string ids, every one of them in flight before the first answer is read.
  auto id_of = [](int n) { return n % 2 ? json::value(n) : json::value("r-" + std::to_string(n)); };
  for (int n = 0; n < requests; ++n) editor.send(request(id_of(n), "test/flood", json::object{{"n", n}}));

  std::map<std::string, int> answers;
  for (int got = 0; got < requests; ++got) {
    auto m = editor.read(20s);
    ASSERT_TRUE(m) << "only " << got << " answers\n" << editor.stderr_text();
    const auto* id = find(*m, {"id"});
    const auto* n = find(*m, {"result", "params", "n"});
    ASSERT_TRUE(id && n) << json::serialize(*m);
    EXPECT_EQ(*id, id_of(static_cast<int>(n->to_number<std::int64_t>()))) << "answer matched to the wrong request";
    EXPECT_EQ(*find(*m, {"result", "method"}), "test/flood");
    ++answers[json::serialize(*id)];
  }
  EXPECT_EQ(answers.size(), static_cast<std::size_t>(requests));
  for (const auto& [id, count] : answers) EXPECT_EQ(count, 1) << "id " << id;
  EXPECT_FALSE(editor.read(300ms)) << "nothing more";
  std::cout << "timing: " << std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count()
            << " ms for " << requests << " concurrent requests\n";
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
}

TEST(flood, a_hundred_thousand_sessions_created_and_closed_keep_memory_flat) {
  constexpr int sessions = 100000;
  constexpr int window = 200; // requests in flight at once
  scripted_peer editor(chain({component(arrow_path()), component(test_agent_path())}));
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  const auto pids = chain_pids(editor);
  ASSERT_EQ(pids.size(), 3u);
  const auto started = clock::now();
  std::set<std::string> ids;
  std::optional<memory_watch> warm;
  std::int64_t next = 1;
  for (int done = 0; done < sessions; done += window) {
    for (int k = 0; k < window; ++k)
      editor.send(request(next + k, "session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array()}}));
    for (int k = 0; k < window; ++k) {
      auto m = editor.read(20s);
      ASSERT_TRUE(m) << "session " << done + k << "\n" << editor.stderr_text();
      ASSERT_EQ(*find(*m, {"id"}), next + k) << json::serialize(*m);
      const auto* sid = find(*m, {"result", "sessionId"});
      ASSERT_TRUE(sid && sid->is_string()) << json::serialize(*m);
      EXPECT_TRUE(ids.insert(std::string(sid->get_string())).second) << "duplicate session id";
      editor.send(request(-(next + k), "session/close", json::object{{"sessionId", *sid}}));
    }
    for (int k = 0; k < window; ++k) {
      auto m = editor.read(20s);
      ASSERT_TRUE(m) << "close " << done + k << "\n" << editor.stderr_text();
      ASSERT_EQ(*find(*m, {"id"}), -(next + k)) << json::serialize(*m);
      ASSERT_TRUE(find(*m, {"result"})) << "session/close failed: " << json::serialize(*m);
    }
    next += window;
    if (done + window == 1000) warm.emplace(pids); // baseline after the first thousand
    if (warm) warm->sample();
  }
  ASSERT_TRUE(warm);
  std::cout << "memory from session 1000 to " << sessions << ": " << warm->describe() << "\n";
  std::cout << "timing: " << std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count()
            << " ms for " << sessions << " sessions\n";
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(sessions));
  for (auto pid : pids)
    EXPECT_LT(warm->peak_kib(pid) - warm->first_kib(pid), session_growth_kib)
        << "growth over 99000 sessions: " << warm->describe();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
}

} // namespace
} // namespace acp::test
