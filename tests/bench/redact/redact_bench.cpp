// acp-redact-proxy's redaction of 1 MiB texts: the worst cases found for the old std::regex rules
// (trigger floods, a user pattern starting with a repetition on one long line, nested
// repetition) and ordinary text. The reported time per iteration is the time per MiB.
#include "redact.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {
using acp::examples::load_redactor;
using acp::examples::redact_options;
using acp::examples::redactor;

constexpr std::size_t mib = 1u << 20;

std::string repeat(std::string_view unit) {
  std::string out;
  out.reserve(mib + unit.size());
  while (out.size() < mib) out += unit;
  out.resize(mib);
  return out;
}

redactor load(const redact_options& o) {
  auto r = load_redactor(o);
  if (!r) {
    std::fprintf(stderr, "acp_bench_redact: %s\n", r.error().c_str());
    std::exit(2);
  }
  return std::move(*r);
}

void run(benchmark::State& state, const redactor& r, const std::string& text) {
  for (auto _ : state) {
    std::string copy = text;
    benchmark::DoNotOptimize(r.redact(copy));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

const redactor& builtins() {
  static const redactor r = load({});
  return r;
}

// The setup of the man page's figure: every builtin, a 20-value .env file, one user pattern.
const redactor& everything() {
  static const redactor r = [] {
    const auto env = std::filesystem::temp_directory_path() / "acp_bench_redact.env";
    {
      std::ofstream out(env);
      for (int i = 0; i < 20; ++i) out << "VAR" << i << "=value-number-" << i << "-xyz\n";
    }
    auto loaded = load({.env_files = {env.string()}, .patterns = {"corp-[0-9]{6}"}});
    std::filesystem::remove(env);
    return loaded;
  }();
  return r;
}

void begin_flood(benchmark::State& s) { run(s, builtins(), repeat("-----BEGIN RSA PRIVATE KEY-----\n")); }
void xoxb_flood(benchmark::State& s) { run(s, builtins(), repeat("xoxb-")); }
void xoxb_miss_flood(benchmark::State& s) { run(s, builtins(), repeat("xoxb-!")); }
void api_key_flood(benchmark::State& s) { run(s, builtins(), repeat("api_key=")); }
void bearer_flood(benchmark::State& s) { run(s, builtins(), repeat("Bearer ")); }
void percent_flood(benchmark::State& s) { run(s, builtins(), repeat("%41")); }
void token_flood(benchmark::State& s) { run(s, builtins(), repeat("Xq7Lm2Pz9Rt4Vw8Ky3Nb6Hc1Jd5Fg0Sa2Ue7 ")); }
void base64_lines(benchmark::State& s) {
  run(s, builtins(), repeat("MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM4OiXk9Q1JpYqcVzH8sLz0d2f3nTq\n"));
}
void user_repetition_long_line(benchmark::State& s) {
  static const redactor r = load({.patterns = {"[a-z]+="}, .builtins = false});
  run(s, r, std::string(mib, 'a'));
}
void user_repetition_short_lines(benchmark::State& s) {
  static const redactor r = load({.patterns = {"[a-z]+="}, .builtins = false});
  run(s, r, repeat("a\n"));
}
void user_nested_repetition(benchmark::State& s) {
  static const redactor r = load({.patterns = {"(a+)+b"}, .builtins = false});
  run(s, r, std::string(mib, 'a'));
}
// Searching successive matches restarts after each one: `a*b|a` reads to the end of the line
// from every `a` (quadratic; bounded by the per-message budget in the proxy). 16 KiB line.
void user_rescanning_alternation(benchmark::State& s) {
  static const redactor r = load({.patterns = {"a*b|a"}, .builtins = false});
  const std::string line(16 * 1024, 'a');
  for (auto _ : s) {
    std::string copy = line;
    benchmark::DoNotOptimize(r.redact(copy));
  }
  s.SetBytesProcessed(static_cast<std::int64_t>(s.iterations() * line.size()));
}
void prose(benchmark::State& s) { run(s, builtins(), repeat("The quick brown fox jumps over the lazy dog. ")); }
void source_code_everything(benchmark::State& s) {
  run(s, everything(),
      repeat("    const auto api = client.request(\"GET\", \"/v1/items\"); // Bearer auth, see ghp docs\n"));
}

} // namespace

BENCHMARK(begin_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(xoxb_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(xoxb_miss_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(api_key_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(bearer_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(percent_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(token_flood)->Unit(benchmark::kMillisecond);
BENCHMARK(base64_lines)->Unit(benchmark::kMillisecond);
BENCHMARK(user_repetition_long_line)->Unit(benchmark::kMillisecond);
BENCHMARK(user_repetition_short_lines)->Unit(benchmark::kMillisecond);
BENCHMARK(user_nested_repetition)->Unit(benchmark::kMillisecond);
BENCHMARK(user_rescanning_alternation)->Unit(benchmark::kMillisecond);
BENCHMARK(prose)->Unit(benchmark::kMillisecond);
BENCHMARK(source_code_everything)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
