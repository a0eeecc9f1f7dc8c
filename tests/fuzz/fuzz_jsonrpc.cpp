// fuzz_jsonrpc: JSON-RPC classification of arbitrary lines (docs/PROTOCOL.md §1-2).
//
// Every '\n'-separated line of the input goes through one reused `line_parser`. Checks:
//   - a line that does not parse is exactly one -32700 with a valid UTF-8 `data.line` sample of
//     bounded size; an invalid message is -32600 (or -32700) with a usable id;
//   - a valid message, serialized compactly and parsed again (by a fresh parser), is the same
//     message: same kind, same JSON (doubles within a few units in the last place: Boost 1.81's
//     parser does not round every number correctly, see same_json), same method, same id key;
//     accessors agree with the kind;
//   - `utf8_sample` returns valid UTF-8 (it is its own fixed point) of at most max + 3 bytes.
#include "fuzz_check.hpp"

#include <acp/protocol/jsonrpc.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace {
namespace json = boost::json;
using namespace acp::jsonrpc;

void check_sample(std::string_view text, std::size_t max) {
  const auto s = utf8_sample(text, max);
  FUZZ_CHECK(s.size() <= max + 3, "sample of " + std::to_string(s.size()) + " bytes for max " + std::to_string(max));
  FUZZ_CHECK(utf8_sample(s, s.size() + 8) == s, "sample is not valid UTF-8");
  if (text.size() <= max && utf8_sample(text, text.size() + 8) == text)
    FUZZ_CHECK(s == text, "a short valid text is not sampled whole");
}

/// Equal JSON, except that two doubles need only be within 1e-14 of each other (relative).
/// Boost.JSON 1.81 parses some numbers a few units in the last place off (it reads
/// "-9.223376305428775E18" as -9.223376305428777e18; correct rounding came with 1.83's
/// number_precision::precise), so a double can move by that much on a round trip through text.
bool same_json(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::abs(x - y) <= 1e-14 * std::max(std::abs(x), std::abs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (const auto* o = a.if_object()) {
    const auto& p = b.get_object();
    // Members in any order, as json::value's operator== has it: a message read from text
    // rebuilds its object in its own order (a duplicate "method" keeps its first place in one
    // and not in the other).
    if (o->size() != p.size()) return false;
    return std::all_of(o->begin(), o->end(), [&p](const auto& member) {
      const auto* other = p.if_contains(member.key());
      return other && same_json(member.value(), *other);
    });
  }
  if (const auto* v = a.if_array()) {
    const auto& w = b.get_array();
    return v->size() == w.size() && std::equal(v->begin(), v->end(), w.begin(), same_json);
  }
  return a == b;
}

void check_message(const message& m) {
  FUZZ_CHECK(is_valid_id(m.id()), "id kind");
  switch (m.kind()) {
  case message_kind::request:
  case message_kind::notification:
    FUZZ_CHECK(m.json().contains("method") && m.json().at("method").is_string(), "method");
    FUZZ_CHECK(m.is_request() == m.json().contains("id"), "request iff id");
    FUZZ_CHECK(!m.is_error() && m.result() == nullptr && !m.error(), "response accessors on a request");
    if (const auto* p = m.params()) FUZZ_CHECK(p->is_object() || p->is_array(), "params kind");
    break;
  case message_kind::response:
    FUZZ_CHECK(m.method().empty(), "response with a method");
    FUZZ_CHECK(m.is_error() != (m.result() != nullptr), "exactly one of result/error");
    FUZZ_CHECK(m.is_error() == m.error().has_value(), "error accessor");
    break;
  }
  // Serialize and read back: the same message.
  const auto text = json::serialize(m.json());
  FUZZ_CHECK(text.find('\n') == std::string::npos, "compact JSON holds a newline");
  line_parser fresh;
  auto again = fresh.parse(text);
  FUZZ_CHECK(!again.batch && again.items.size() == 1, "re-parse shape");
  const auto* m2 = std::get_if<message>(&again.items.front());
  FUZZ_CHECK(m2 != nullptr, "re-parse is not a message: " + text.substr(0, 200));
  FUZZ_CHECK(m2->kind() == m.kind(), "kind changed");
  FUZZ_CHECK(same_json(m2->json(), m.json()), "JSON changed: " + text.substr(0, 200));
  FUZZ_CHECK(m2->method() == m.method(), "method changed");
  FUZZ_CHECK(id_key(m2->id()) == id_key(m.id()), "id key changed");
}

void check_line(line_parser& parser, std::string_view line) {
  auto parsed = parser.parse(line);
  FUZZ_CHECK(!parsed.items.empty(), "no items");
  if (!parsed.batch) FUZZ_CHECK(parsed.items.size() == 1, "several items without a batch");
  for (auto& item : parsed.items) {
    if (auto* m = std::get_if<message>(&item)) {
      check_message(*m);
      continue;
    }
    const auto& bad = std::get<invalid_message>(item);
    FUZZ_CHECK(bad.error.code == -32700 || bad.error.code == -32600, "code " + std::to_string(bad.error.code));
    FUZZ_CHECK(is_valid_id(bad.id), "recovered id kind");
    if (bad.error.code == -32700) {
      FUZZ_CHECK(parsed.items.size() == 1 && !parsed.batch, "a parse error is alone");
      FUZZ_CHECK(bad.id.is_null(), "a parse error has a null id");
      const auto* data = bad.error.data ? bad.error.data->if_object() : nullptr;
      FUZZ_CHECK(data && data->contains("line") && data->at("line").is_string(), "-32700 without data.line");
      const auto& sample = data->at("line").get_string();
      FUZZ_CHECK(sample.size() <= line_parser::default_sample_bytes + 3, "data.line too long");
      const std::string_view sv(sample.data(), sample.size());
      FUZZ_CHECK(utf8_sample(sv, sv.size() + 8) == sv, "data.line is not valid UTF-8");
    }
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static line_parser parser; // reused across lines and inputs, as a connection reuses it
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (size > 0) check_sample(in.substr(1), data[0] % 64);
  while (!in.empty()) {
    const auto nl = in.find('\n');
    check_line(parser, in.substr(0, nl));
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  }
  return 0;
}
