// Decode + re-encode throughput of newline-framed ACP traffic (docs/benchmarks.md).
//
// The input is built once: a realistic mix of many small `session/update` agent_message_chunk
// notifications (~170 bytes each), one `session/prompt` request with an embedded ~20 KiB
// resource, and one 1 MiB `fs/read_text_file` result. Variants:
//   baseline — split lines by hand, boost::json::parse, boost::json::serialize (a new string per line);
//   ours     — framing::line_decoder (64 KiB prepare/commit reads), jsonrpc::line_parser,
//              framing::append_line into one reused output string;
//   typed    — ours, plus acp::decode of session/update and session/prompt params into
//              acp::session_notification / acp::prompt_request and acp::encode back into the message.
// Bytes processed are input bytes; items are messages.
#include <acp/protocol/framing.hpp>
#include <acp/protocol/json_scan.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/protocol/types.hpp>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

namespace json = boost::json;

// Source-like text: quotes, tabs, backslashes and a little non-ASCII, so escaping is exercised.
std::string source_text(std::size_t bytes) {
  static constexpr std::string_view lines[] = {
      "#include <vector>\n",
      "// Computes the \"checksum\" of a buffer \xE2\x80\x94 see RFC 1071.\n",
      "static int sum(const std::vector<int>& v) {\n",
      "\tint s = 0; for (int x : v) s += x; // naïve\n",
      "\treturn s; /* path: C:\\tmp\\x */\n",
      "}\n",
  };
  std::string out;
  out.reserve(bytes + 64);
  for (std::size_t i = 0; out.size() < bytes; ++i) out += lines[i % std::size(lines)];
  out.resize(bytes); // may cut a multi-byte sequence; trim it below
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
  return out;
}

std::string chunk_line(std::size_t i) {
  static constexpr std::string_view words[] = {"Let me ", "look at ", "the build ", "script ",
                                               "first. ", "It uses ", "CMake ",     "presets\n"};
  json::object content{{"type", "text"}, {"text", std::string(words[i % std::size(words)])}};
  json::object update{{"sessionUpdate", "agent_message_chunk"}, {"content", std::move(content)}};
  json::object params{{"sessionId", "sess_abc123"}, {"update", std::move(update)}};
  json::object msg{{"jsonrpc", "2.0"}, {"method", "session/update"}, {"params", std::move(params)}};
  return json::serialize(msg) + "\n";
}

std::string prompt_line() {
  json::object text_block{{"type", "text"}, {"text", "Review this file and explain the checksum function."}};
  json::object resource{{"uri", "file:///home/dev/project/src/checksum.cpp"},
                        {"mimeType", "text/x-c++src"},
                        {"text", source_text(20 * 1024)}};
  json::object resource_block{{"type", "resource"}, {"resource", std::move(resource)}};
  json::object params{{"sessionId", "sess_abc123"},
                      {"prompt", json::array{std::move(text_block), std::move(resource_block)}}};
  json::object msg{{"jsonrpc", "2.0"}, {"id", 3}, {"method", "session/prompt"}, {"params", std::move(params)}};
  return json::serialize(msg) + "\n";
}

std::string file_result_line() {
  json::object msg{{"jsonrpc", "2.0"}, {"id", 12}, {"result", json::object{{"content", source_text(1 << 20)}}}};
  return json::serialize(msg) + "\n";
}

struct traffic {
  std::string bytes;
  std::size_t messages = 0;
};

enum class mix_kind { turn, chunks, prompt, file };

// One agent turn: the prompt, 2000 streamed chunks with a 1 MiB file read in the middle.
const traffic& get_traffic(mix_kind k) {
  static const traffic turn = [] {
    traffic t;
    t.bytes = prompt_line();
    for (std::size_t i = 0; i < 2000; ++i) {
      if (i == 1000) t.bytes += file_result_line();
      t.bytes += chunk_line(i);
    }
    t.messages = 2002;
    return t;
  }();
  static const traffic chunks = [] {
    traffic t;
    for (std::size_t i = 0; i < 2000; ++i) t.bytes += chunk_line(i);
    t.messages = 2000;
    return t;
  }();
  static const traffic prompt = [] {
    traffic t;
    for (int i = 0; i < 16; ++i) t.bytes += prompt_line();
    t.messages = 16;
    return t;
  }();
  static const traffic file = traffic{file_result_line(), 1};
  switch (k) {
  case mix_kind::turn:
    return turn;
  case mix_kind::chunks:
    return chunks;
  case mix_kind::prompt:
    return prompt;
  case mix_kind::file:
    return file;
  }
  return turn;
}

// ---- (a) baseline -----------------------------------------------------------------------------

std::size_t run_baseline(std::string_view in, std::string* sink) {
  std::size_t n = 0;
  while (!in.empty()) {
    const auto nl = in.find('\n');
    const auto line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    if (line.empty()) continue;
    const std::string out = json::serialize(json::parse(line)) + "\n";
    benchmark::DoNotOptimize(out.data());
    if (sink) *sink += out;
    ++n;
  }
  return n;
}

// ---- (b) ours and (c) typed -------------------------------------------------------------------

template <bool Typed> void retype(acp::jsonrpc::message& m) {
  if constexpr (Typed) {
    auto* params = m.params();
    if (!params) return;
    if (m.method() == "session/update") {
      auto n = acp::decode<acp::session_notification>(*params);
      if (n) *params = acp::encode(*n);
    } else if (m.method() == "session/prompt") {
      auto p = acp::decode<acp::prompt_request>(*params);
      if (p) *params = acp::encode(*p);
    }
  }
}

template <bool Typed>
std::size_t run_ours(std::string_view in, acp::framing::line_decoder& decoder, acp::jsonrpc::line_parser& parser,
                     std::string& out, std::string* sink) {
  constexpr std::size_t read_size = 64 * 1024;
  std::size_t n = 0;
  auto drain = [&](std::optional<acp::framing::frame> f) {
    for (; f; f = decoder.next()) {
      if (f->type != acp::framing::frame::kind::line) continue;
      auto parsed = parser.parse(f->text);
      for (auto& item : parsed.items) {
        auto* m = std::get_if<acp::jsonrpc::message>(&item);
        if (!m) continue;
        retype<Typed>(*m);
        acp::framing::append_line(out, *m); // a text message is written from its parts
        ++n;
        benchmark::DoNotOptimize(out.data());
        if (sink) *sink += out;
        out.clear(); // the writer has flushed it; the capacity stays
      }
    }
  };
  while (!in.empty()) {
    const auto len = std::min(read_size, in.size());
    auto dst = decoder.prepare(len); // stands for read(fd, dst)
    std::memcpy(dst.data(), in.data(), len);
    decoder.commit(len);
    in.remove_prefix(len);
    drain(decoder.next());
  }
  drain(decoder.finish());
  return n;
}

bool same_values(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    const auto na = a.find('\n');
    const auto nb = b.find('\n');
    if (json::parse(a.substr(0, na)) != json::parse(b.substr(0, nb))) return false;
    a.remove_prefix(na == std::string_view::npos ? a.size() : na + 1);
    b.remove_prefix(nb == std::string_view::npos ? b.size() : nb + 1);
  }
  return a.empty() && b.empty();
}

// ---- benchmarks -------------------------------------------------------------------------------

void set_counters(benchmark::State& state, const traffic& t) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * t.messages));
  state.SetLabel(std::to_string(t.bytes.size()) + " B, " + std::to_string(t.messages) + " msgs");
}

void bm_baseline(benchmark::State& state, mix_kind k) {
  const auto& t = get_traffic(k);
  for (auto _ : state) {
    if (run_baseline(t.bytes, nullptr) != t.messages) state.SkipWithError("message count mismatch");
  }
  set_counters(state, t);
}

template <bool Typed> void bm_ours(benchmark::State& state, mix_kind k) {
  const auto& t = get_traffic(k);
  acp::framing::line_decoder decoder;
  acp::jsonrpc::line_parser parser;
  std::string out;
  {
    // The output must be the input: byte for byte for the raw path (the input is compact JSON),
    // the same JSON values for the typed one (member order may differ).
    std::string ours_out;
    run_ours<Typed>(t.bytes, decoder, parser, out, &ours_out);
    if (ours_out != t.bytes && !(Typed && same_values(ours_out, t.bytes))) {
      state.SkipWithError("output differs from the input");
      return;
    }
  }
  for (auto _ : state) {
    if (run_ours<Typed>(t.bytes, decoder, parser, out, nullptr) != t.messages)
      state.SkipWithError("message count mismatch");
  }
  set_counters(state, t);
}

void bm_ours_raw(benchmark::State& state, mix_kind k) { bm_ours<false>(state, k); }
void bm_ours_typed(benchmark::State& state, mix_kind k) { bm_ours<true>(state, k); }

BENCHMARK_CAPTURE(bm_baseline, turn, mix_kind::turn);
BENCHMARK_CAPTURE(bm_ours_raw, turn, mix_kind::turn);
BENCHMARK_CAPTURE(bm_ours_typed, turn, mix_kind::turn);
BENCHMARK_CAPTURE(bm_baseline, chunks, mix_kind::chunks);
BENCHMARK_CAPTURE(bm_ours_raw, chunks, mix_kind::chunks);
BENCHMARK_CAPTURE(bm_ours_typed, chunks, mix_kind::chunks);
BENCHMARK_CAPTURE(bm_baseline, prompt, mix_kind::prompt);
BENCHMARK_CAPTURE(bm_ours_raw, prompt, mix_kind::prompt);
BENCHMARK_CAPTURE(bm_ours_typed, prompt, mix_kind::prompt);
BENCHMARK_CAPTURE(bm_baseline, file, mix_kind::file);
BENCHMARK_CAPTURE(bm_ours_raw, file, mix_kind::file);

// The validating scan alone (docs/PERFORMANCE.md, issue 15): one long string (the 50 MiB case's
// shape, 8 MiB here) and one streamed update line (~200 bytes, 14 short strings).
void bm_scan_long_string(benchmark::State& state) {
  const std::string text = "\"" + std::string(std::size_t{8} << 20, 'x') + "\"";
  for (auto _ : state) benchmark::DoNotOptimize(acp::json_scan::scan_value(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(text.size()));
}
void bm_scan_update_line(benchmark::State& state) {
  const std::string text =
      R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"sess_0123456789","update":)"
      R"({"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}}})";
  for (auto _ : state) benchmark::DoNotOptimize(acp::json_scan::scan_value(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(bm_scan_long_string);
BENCHMARK(bm_scan_update_line);

} // namespace

BENCHMARK_MAIN();
