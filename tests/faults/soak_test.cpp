// Soak (CTest label `soak`, registered only with -DACP_SOAK=ON): mixed traffic through three
// slow proxies (acp-fault-delay-proxy, random delays) to the test agent for ACP_SOAK_MINUTES
// (default 2). Every round runs prompts on several sessions at once (streams of random length,
// echoes) plus new sessions; every update must arrive, in order, before its prompt's response,
// and the memory of every process must stay flat after the warm-up.
//   cmake -B build -DACP_SOAK=ON && cmake --build build && ctest --test-dir build -L soak
//   ACP_SOAK_MINUTES=10 ACP_SOAK_SEED=42 build/tests/faults/acp_soak_test
#include "harness.hpp"
#include "process_stats.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

namespace acp::test {
namespace {
namespace json = boost::json;
using clock = std::chrono::steady_clock;

constexpr long growth_ceiling_kib = 8 * 1024; // after the warm-up, per process

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : fallback;
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

struct turn {
  std::string session;
  std::uint64_t stream = 0; // chunks expected (0: an echo)
  std::string echo;
  std::uint64_t seen = 0; // chunks seen so far
  bool echoed = false;
};

TEST(soak, mixed_traffic_through_three_slow_proxies_keeps_order_and_memory) {
  const auto minutes = env_long("ACP_SOAK_MINUTES", 2);
  const auto seed = static_cast<unsigned>(env_long("ACP_SOAK_SEED", static_cast<long>(std::random_device{}())));
  std::cout << "soak: " << minutes << " min, seed " << seed << " (ACP_SOAK_SEED replays it)\n";
  std::mt19937 rng(seed);
  std::vector<std::string> argv{conductor_path(), "agent"};
  for (int p = 0; p < 3; ++p) argv.push_back(component(delay_proxy_path(), {"300", std::to_string(seed + p)}));
  argv.push_back(component(test_agent_path()));
  scripted_peer editor(argv);
  ASSERT_TRUE(editor.initialize()) << editor.stderr_text();
  std::vector<pid_t> pids{editor.pid()};
  for (auto p : editor.descendants()) pids.push_back(p);
  ASSERT_EQ(pids.size(), 5u);

  std::vector<std::string> sessions;
  for (int i = 0; i < 4; ++i) sessions.push_back(editor.new_session());
  const auto start = clock::now();
  const auto deadline = start + std::chrono::minutes(minutes);
  const auto warm_up = start + std::chrono::minutes(minutes) / 5;
  std::optional<memory_watch> memory;
  std::int64_t next_id = 100;
  std::uint64_t rounds = 0, prompts = 0, updates = 0, created = 0;

  while (clock::now() < deadline) {
    ++rounds;
    // Up to one turn per session, all in flight together, plus a few new sessions.
    std::map<std::int64_t, turn> turns;
    std::map<std::string, std::int64_t> turn_of_session;
    std::vector<std::int64_t> news;
    const int count = std::uniform_int_distribution<int>(1, static_cast<int>(sessions.size()))(rng);
    for (int k = 0; k < count; ++k) {
      turn t;
      t.session = sessions[static_cast<std::size_t>(k)];
      std::string text;
      if (rng() % 3) {
        t.stream = std::uniform_int_distribution<std::uint64_t>(1, 3000)(rng);
        text = "stream " + std::to_string(t.stream);
      } else {
        t.echo = "round " + std::to_string(rounds) + " turn " + std::to_string(k);
        text = "echo " + t.echo;
      }
      const auto id = next_id++;
      json::object block{{"type", "text"}, {"text", text}};
      editor.send(
          request(id, "session/prompt", json::object{{"sessionId", t.session}, {"prompt", json::array{block}}}));
      turn_of_session[t.session] = id;
      turns.emplace(id, std::move(t));
      if (rng() % 2) {
        news.push_back(next_id);
        editor.send(request(next_id++, "session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array()}}));
      }
    }
    std::size_t open = turns.size() + news.size();
    while (open > 0) {
      auto m = editor.read(30s);
      ASSERT_TRUE(m) << "round " << rounds << " stalled\n" << editor.stderr_text();
      if (const auto* method = find(*m, {"method"})) {
        ASSERT_EQ(*method, "session/update") << json::serialize(*m);
        const auto& sid = find(*m, {"params", "sessionId"})->as_string();
        auto it = turn_of_session.find(std::string(sid));
        ASSERT_NE(it, turn_of_session.end()) << "update for a session without a turn";
        auto& t = turns.at(it->second);
        if (t.stream) {
          const auto seq = find(*m, {"params", "update", "_meta", "seq"})->to_number<std::uint64_t>();
          ASSERT_EQ(seq, t.seen + 1) << "session " << sid << " round " << rounds;
          ++t.seen;
          ++updates;
        } else {
          EXPECT_EQ(*find(*m, {"params", "update", "content", "text"}), json::value("echo: " + t.echo));
          t.echoed = true;
        }
        continue;
      }
      const auto id = find(*m, {"id"})->to_number<std::int64_t>();
      --open;
      if (auto it = turns.find(id); it != turns.end()) {
        ++prompts;
        auto& t = it->second;
        ASSERT_EQ(*find(*m, {"result", "stopReason"}), "end_turn") << json::serialize(*m);
        if (t.stream)
          ASSERT_EQ(t.seen, t.stream) << "updates missing before the response";
        else
          ASSERT_TRUE(t.echoed) << "echo missing before the response";
        turn_of_session.erase(t.session);
        turns.erase(it);
      } else {
        ASSERT_TRUE(std::find(news.begin(), news.end(), id) != news.end()) << "unknown id " << id;
        ASSERT_TRUE(find(*m, {"result", "sessionId"})) << json::serialize(*m);
        ++created;
      }
    }
    if (!memory && clock::now() >= warm_up) memory.emplace(pids);
    if (memory && rounds % 10 == 0) memory->sample();
  }
  ASSERT_TRUE(memory);
  memory->sample();
  std::cout << "soak: " << rounds << " rounds, " << prompts << " prompts, " << updates << " updates, " << created
            << " sessions created\nsoak memory after warm-up: " << memory->describe() << "\n";
  for (auto pid : pids)
    EXPECT_LT(memory->peak_kib(pid) - memory->first_kib(pid), growth_ceiling_kib) << memory->describe();
  editor.close_stdin();
  EXPECT_EQ(editor.wait_exit(10s), 0);
  EXPECT_TRUE(all_gone(pids));
}

} // namespace
} // namespace acp::test
