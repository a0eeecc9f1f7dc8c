// fuzz_line_decoder: the newline framing of docs/PROTOCOL.md §1 under arbitrary chunking.
//
// Input: byte 0 picks the line limit, bytes 1..8 the chunk sizes (cycled) and whether each chunk
// goes through feed() or prepare()/commit(); the rest is the stream. Checks:
//   - a line event has no '\n', is not blank and fits the limit (one trailing '\r' is stripped:
//     the reference model checks that);
//   - after draining, at most limit + 1 bytes stay buffered (limit + chunk while a chunk is in);
//   - the events do not depend on the chunking: they equal a one-line-at-a-time reference model,
//     except that an over-long *blank* line may be reported as oversized (it is detected before
//     its '\n' arrives, when it cannot be known to be blank) or skipped.
#include "fuzz_check.hpp"

#include <acp/protocol/framing.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {
using acp::framing::frame;
using acp::framing::line_decoder;

struct event {
  frame::kind kind;
  std::string text;      // lines and headers
  bool optional = false; // reference only: may be absent from the decoder's events
};

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

bool is_header(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  constexpr std::string_view h = "content-length:";
  if (first == std::string_view::npos || s.size() - first < h.size()) return false;
  for (std::size_t i = 0; i < h.size(); ++i) {
    char c = s[first + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != h[i]) return false;
  }
  return true;
}

std::vector<event> reference(std::string_view in, std::size_t limit) {
  std::vector<event> out;
  while (!in.empty()) {
    const auto nl = in.find('\n');
    std::string_view raw = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) {
      if (raw.size() > limit + 1) out.push_back({frame::kind::oversized, {}, true});
      continue;
    }
    if (line.size() > limit)
      out.push_back({frame::kind::oversized, {}});
    else if (is_header(line))
      out.push_back({frame::kind::header, std::string(line)});
    else
      out.push_back({frame::kind::line, std::string(line)});
  }
  return out;
}

void check_frame(const frame& f, std::size_t limit, std::vector<event>& got) {
  if (f.type == frame::kind::oversized) {
    FUZZ_CHECK(f.size > limit, "oversized frame of " + std::to_string(f.size) + " bytes");
    got.push_back({f.type, {}});
    return;
  }
  FUZZ_CHECK(f.text.find('\n') == std::string_view::npos, "a line holds '\\n'");
  FUZZ_CHECK(!is_blank(f.text), "a blank line was reported");
  FUZZ_CHECK(f.text.size() <= limit, "a line over the limit was reported as a line");
  FUZZ_CHECK(f.size == f.text.size(), "size differs from the text");
  FUZZ_CHECK((f.type == frame::kind::header) == is_header(f.text), "header classification");
  got.push_back({f.type, std::string(f.text)});
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  const std::size_t limit = data[0] < 240 ? 1 + data[0] % 96 : acp::framing::default_max_line_bytes;
  std::uint8_t plan[8];
  std::memcpy(plan, data + 1, 8);
  std::string_view in(reinterpret_cast<const char*>(data + 9), size - 9);

  line_decoder d(limit);
  FUZZ_CHECK(d.max_line_bytes() == limit, "limit");
  std::vector<event> got;
  std::size_t offset = 0;
  for (std::size_t i = 0; offset < in.size(); ++i) {
    const std::uint8_t p = plan[i % 8];
    const std::size_t chunk = std::min<std::size_t>(in.size() - offset, p & 0x80 ? 1 + (p & 0x3f) * 8 : 1 + (p & 0x0f));
    if (p & 0x40) {
      auto dst = d.prepare(chunk);
      FUZZ_CHECK(dst.size() >= chunk, "prepare gave less room than asked");
      std::memcpy(dst.data(), in.data() + offset, chunk);
      d.commit(chunk);
    } else {
      d.feed(in.substr(offset, chunk));
    }
    offset += chunk;
    FUZZ_CHECK(d.buffered_bytes() <= limit + 1 + chunk, "buffered " + std::to_string(d.buffered_bytes()));
    while (auto f = d.next()) check_frame(*f, limit, got);
    FUZZ_CHECK(d.buffered_bytes() <= limit + 1, "buffered after draining " + std::to_string(d.buffered_bytes()));
  }
  if (auto f = d.finish()) check_frame(*f, limit, got);
  FUZZ_CHECK(!d.finish(), "finish() twice gave a frame");
  FUZZ_CHECK(!d.next(), "next() after finish() gave a frame");

  // got must equal want with any subset of the optional events left out (a small DP).
  const auto want = reference(in, limit);
  std::vector<std::vector<std::int8_t>> memo(want.size() + 1, std::vector<std::int8_t>(got.size() + 1, -1));
  auto matches = [&](auto&& self, std::size_t w, std::size_t g) -> bool {
    if (w == want.size()) return g == got.size();
    auto& m = memo[w][g];
    if (m >= 0) return m;
    bool ok = want[w].optional && self(self, w + 1, g);
    if (!ok && g < got.size() && got[g].kind == want[w].kind && got[g].text == want[w].text)
      ok = self(self, w + 1, g + 1);
    m = ok;
    return ok;
  };
  FUZZ_CHECK(matches(matches, 0, 0), "the events differ from the reference (" + std::to_string(got.size()) +
                                         " events, " + std::to_string(want.size()) + " expected)");
  return 0;
}
