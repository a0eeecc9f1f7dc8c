// fuzz_json_scan: the validating scanner (json_scan.hpp) and the text form of messages
// (jsonrpc.hpp `message::scan`) against Boost.JSON and the DOM path.
//
// Byte 0 chooses a depth limit, 1..70; the rest is the text, used as JSON and as a line. Checks:
//   (1) whatever `scan_value` / `scan_object` accept, Boost.JSON with `max_depth` = the limit
//       accepts: `scan_value` returns the text without surrounding whitespace; `scan_object`'s
//       members are the object's, in order (their positions cover the text exactly: ws '{' ws
//       '"' key '"' ws ':' ws value ws ',' ... '}' ws), keys' raw text decodes to the keys,
//       values parse to the values (the last of duplicate keys wins, as in Boost.JSON). Valid
//       JSON is refused only for nesting deeper than min(limit, 64), `\u` escapes of surrogates,
//       exponents of more than three digits or numbers of 10^300 or more; a span too small
//       refuses exactly then; the
//       trusted re-scan (`members_of_valid_object`) finds the same members, and
//       `find_member_of_valid_object` the first member of each key (spelled without escapes);
//   (2) when `message::scan` gives a message (default depth, and the chosen limit), the DOM path
//       (`check(parse(line))`) gives the same kind, id, method and JSON; `append_line` writes one
//       line that parses to the DOM message; `line_parser` gives the text message. Whether or
//       not, `line_parser` gives the DOM path's result;
//   (3) `wrap_message` / `unwrap_message` of the text message give the DOM message's result
//       (kind, id, method, JSON; the same error string), both generations, with and without an
//       outer id, also after the envelope went through the wire; unwrapping a response fails
//       on both paths;
//   scanning in place (`owner`: the line inside a larger buffer) gives the same message, and a
//   refused line leaves the buffer as it was.
// Numbers: the scanner also leaves numbers of 10^300 or more to Boost.JSON, and the line parser
// rejects numbers Boost.JSON reads as infinity or NaN (it would write them as `Infinity` / `NaN`),
// so the DOM path here does too. Boost.JSON 1.81 rounds a long decimal one way or the other
// depending on how many bytes follow it in the buffer; a text payload is parsed followed by the
// rest of its line, but a wrapped one by `}` only, so doubles compare within two ulps.
#include "fuzz_check.hpp"

#include <acp/protocol/envelope.hpp>
#include <acp/protocol/framing.hpp>
#include <acp/protocol/json_scan.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/protocol/text_buffer.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {
namespace json = boost::json;
namespace js = acp::json_scan;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::check;
using acp::jsonrpc::invalid_message;
using acp::jsonrpc::line_parser;
using acp::jsonrpc::message;
using acp::jsonrpc::parsed_line;

std::string show(std::string_view s) { return std::string(s.substr(0, 300)); }
std::string show(const json::value& v) { return show(json::serialize(v)); }

std::optional<json::value> boost_parse(std::string_view text, std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  boost::system::error_code ec;
  auto v = json::parse(text, ec, {}, opt);
  if (ec) return std::nullopt;
  return v;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

/// For text Boost.JSON accepted: whether it holds something the scanner may refuse.
bool may_be_refused(std::string_view t, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      ++i;
    } else if (c == ']' || c == '}') {
      --depth;
      ++i;
    } else if (c == '"') {
      ++i;
      while (i < t.size() && t[i] != '"') {
        if (t[i] != '\\') {
          ++i;
          continue;
        }
        if (i + 5 < t.size() && t[i + 1] == 'u') {
          const int code = hex(t[i + 2]) << 12 | hex(t[i + 3]) << 8 | hex(t[i + 4]) << 4 | hex(t[i + 5]);
          if (code >= 0xD800 && code <= 0xDFFF) return true;
          i += 6;
        } else {
          i += 2;
        }
      }
      ++i;
    } else if (c == '-' || is_digit(c)) {
      if (c == '-') ++i;
      long magnitude = 0; // digits before the point, plus the exponent: 10^300 or more may be refused
      while (i < t.size() && is_digit(t[i])) ++i, ++magnitude;
      while (i < t.size() && (is_digit(t[i]) || t[i] == '.')) ++i;
      if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        bool negative = false;
        if (i < t.size() && (t[i] == '+' || t[i] == '-')) negative = t[i++] == '-';
        std::size_t digits = 0;
        long exponent = 0;
        while (i < t.size() && is_digit(t[i])) {
          if (digits < 6) exponent = exponent * 10 + (t[i] - '0');
          ++i, ++digits;
        }
        if (digits > 3) return true;
        magnitude += negative ? -exponent : exponent;
      }
      if (magnitude >= 300) return true;
    } else {
      ++i; // whitespace, ',', ':', the letters of a literal
    }
  }
  return deepest > std::min(limit, js::max_depth);
}

/// Doubles one or two ulps apart, or both NaN (see the top of this file).
bool close(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  const double next = std::nextafter(a, b);
  return next == b || std::nextafter(next, b) == b;
}

/// `a == b`, except for doubles: see `close`.
bool same_json(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) return close(a.get_double(), b.get_double());
  if (a.is_array() && b.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same_json(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object() && b.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const auto* v = y.if_contains(kv.key());
      if (!v || !same_json(kv.value(), *v)) return false;
    }
    return true;
  }
  return a == b;
}
bool same_json(const json::object& a, const json::object& b) { return same_json(json::value(a), json::value(b)); }

/// The members cover the object's text exactly and are its members.
void check_members(std::string_view text, const std::vector<js::member>& ms, const json::object& obj,
                   std::size_t limit) {
  const char* p = text.data();
  const char* const end = p + text.size();
  const auto skip = [&] {
    while (p != end && is_ws(*p)) ++p;
  };
  const auto at = [&](char c) { return p != end && *p == c; };
  skip();
  FUZZ_CHECK(at('{'), "object does not start with '{'");
  ++p;
  skip();
  std::unordered_map<std::string, std::size_t> last; // decoded key -> index of its last member
  std::vector<json::value> values;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const auto& m = ms[i];
    if (i > 0) {
      FUZZ_CHECK(at(','), "no ',' before member " + std::to_string(i) + " of " + show(text));
      ++p;
      skip();
    }
    FUZZ_CHECK(at('"') && p + 1 == m.key.data(), "key " + std::to_string(i) + " not where it is in " + show(text));
    p = m.key.data() + m.key.size();
    FUZZ_CHECK(at('"'), "key " + std::to_string(i) + " does not end at a quote in " + show(text));
    ++p;
    skip();
    FUZZ_CHECK(at(':'), "no ':' after key " + std::to_string(i));
    ++p;
    skip();
    FUZZ_CHECK(p == m.value.data() && m.value.size() <= static_cast<std::size_t>(end - p),
               "value " + std::to_string(i) + " not where it is in " + show(text));
    p += m.value.size();
    skip();

    FUZZ_CHECK(m.key_escaped == (m.key.find('\\') != std::string_view::npos), "key_escaped of " + show(m.key));
    const auto key = boost_parse("\"" + std::string(m.key) + "\"", 1);
    FUZZ_CHECK(key && key->is_string(), "raw key is not a JSON string body: " + show(m.key));
    const auto value = boost_parse(m.value, limit - 1);
    FUZZ_CHECK(value.has_value(),
               "member value is not JSON at depth " + std::to_string(limit - 1) + ": " + show(m.value));
    last[std::string(key->get_string())] = i;
    values.push_back(*value);
  }
  FUZZ_CHECK(at('}'), "object does not end after its members: " + show(text));
  ++p;
  skip();
  FUZZ_CHECK(p == end, "text after the object");
  FUZZ_CHECK(last.size() == obj.size(), "members " + std::to_string(last.size()) + " keys vs object size " +
                                            std::to_string(obj.size()) + ": " + show(text));
  for (const auto& [key, index] : last) {
    const auto* v = obj.if_contains(key);
    FUZZ_CHECK(v != nullptr, "key not in the object: " + key);
    FUZZ_CHECK(same_json(*v, values[index]), "value of " + key + ": " + show(values[index]) + " vs " + show(*v));
  }
}

// ---- (1) the scanner ------------------------------------------------------------------------

void check_scanner(std::string_view text, std::size_t limit) {
  const auto dom = boost_parse(text, limit);
  const auto value = js::scan_value(text, limit);
  if (value) {
    FUZZ_CHECK(dom.has_value(),
               "scan_value accepts what Boost.JSON refuses at depth " + std::to_string(limit) + ": " + show(text));
    const auto trimmed = trim(text);
    FUZZ_CHECK(value->data() == trimmed.data() && value->size() == trimmed.size(),
               "scan_value's text: " + show(*value));
  } else if (dom) {
    FUZZ_CHECK(may_be_refused(text, limit),
               "scan_value refuses valid JSON at depth " + std::to_string(limit) + ": " + show(text));
  }

  std::vector<js::member> members(text.size() / 4 + 1);
  const auto n = js::scan_object(text, members, limit);
  const bool object_text = !trim(text).empty() && trim(text).front() == '{';
  FUZZ_CHECK(n.has_value() == (value.has_value() && object_text),
             "scan_object and scan_value disagree on " + show(text));
  if (n) {
    FUZZ_CHECK(dom->is_object(), "scan_object accepts a non-object");
    members.resize(*n);
    check_members(text, members, dom->get_object(), limit);
    // The trusted re-scan (no validation) of the same text finds the same members.
    std::vector<js::member> trusted(*n + 1);
    const auto t = js::members_of_valid_object(text, trusted);
    FUZZ_CHECK(t && *t == *n, "members_of_valid_object finds another number of members in " + show(text));
    for (std::size_t i = 0; i < *n; ++i)
      FUZZ_CHECK(trusted[i].key.data() == members[i].key.data() && trusted[i].key.size() == members[i].key.size() &&
                     trusted[i].value.data() == members[i].value.data() &&
                     trusted[i].value.size() == members[i].value.size() &&
                     trusted[i].key_escaped == members[i].key_escaped,
                 "members_of_valid_object: member " + std::to_string(i) + " differs in " + show(text));
    // find_member_of_valid_object: the first member with a key as written (none spelled with escapes).
    for (std::size_t i = 0; i < *n; ++i) {
      const auto f = js::find_member_of_valid_object(text, members[i].key);
      std::size_t first = 0;
      while (first < *n && (members[first].key_escaped || members[first].key != members[i].key)) ++first;
      if (first == *n) {
        FUZZ_CHECK(!f, "find_member_of_valid_object finds a key spelled with escapes in " + show(text));
        continue;
      }
      FUZZ_CHECK(f && f->key.data() == members[first].key.data() && f->value.data() == members[first].value.data() &&
                     f->value.size() == members[first].value.size(),
                 "find_member_of_valid_object misses the first member " + std::to_string(first) + " in " + show(text));
    }
  }
  // Recording the members of a member's object value (that of the text's first member, or
  // `params`) in the same pass: the same verdict, and, for a key that occurs once, the members a
  // trusted re-scan of that value finds.
  std::array<js::member, 2> inner;
  const std::string key(n && *n > 0 && !members[0].key_escaped ? members[0].key : std::string_view("params"));
  js::nested_members nested{.key = key, .out = inner};
  std::vector<js::member> all(text.size() / 4 + 1);
  const auto n_nested = js::scan_object(text, all, limit, false, nested);
  FUZZ_CHECK(n_nested == n, "scan_object recording nested members gives another verdict on " + show(text));
  const auto named = [&](const js::member& m) { return !m.key_escaped && m.key == key; };
  const auto end = members.begin() + static_cast<std::ptrdiff_t>(n ? *n : 0);
  if (n && std::count_if(members.begin(), end, named) == 1) {
    const auto it = std::find_if(members.begin(), end, named);
    const bool object_value = it->value.front() == '{';
    std::array<js::member, 2> again;
    const auto t = object_value ? js::members_of_valid_object(it->value, again) : std::nullopt;
    FUZZ_CHECK(nested.recorded == t.has_value(), "members recorded or not, unlike a re-scan, in " + show(text));
    for (std::size_t i = 0; nested.recorded && t && i < *t; ++i)
      FUZZ_CHECK(*t == nested.count && again[i].key.data() == inner[i].key.data() &&
                     again[i].value.data() == inner[i].value.data() && again[i].value.size() == inner[i].value.size() &&
                     again[i].key_escaped == inner[i].key_escaped,
                 "recorded member " + std::to_string(i) + " differs in " + show(text));
  }
  std::array<js::member, 3> few;
  const auto n_few = js::scan_object(text, few, limit);
  FUZZ_CHECK(n_few.has_value() == (n && *n <= few.size()), "scan_object with a small span: " + show(text));
  for (std::size_t i = 0; n_few && i < *n_few; ++i)
    FUZZ_CHECK(few[i].key.data() == members[i].key.data() && few[i].value == members[i].value &&
                   few[i].value.data() == members[i].value.data(),
               "members differ with a small span");
}

// ---- (2) and (3) the text form --------------------------------------------------------------

bool has_non_finite(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (const auto* a = v.if_array())
    return std::any_of(a->begin(), a->end(), [](const json::value& e) { return has_non_finite(e); });
  if (const auto* o = v.if_object())
    return std::any_of(o->begin(), o->end(), [](const json::key_value_pair& kv) { return has_non_finite(kv.value()); });
  return false;
}

/// Same kind, id, method and JSON (compared on copies: `json()` builds a text message's DOM).
void check_same(const message& a, const message& b, const std::string& what) {
  FUZZ_CHECK(a.kind() == b.kind(), what + ": kind");
  FUZZ_CHECK(a.id() == b.id() && acp::jsonrpc::id_key(a.id()) == acp::jsonrpc::id_key(b.id()),
             what + ": id " + show(a.id()) + " vs " + show(b.id()));
  FUZZ_CHECK(a.method() == b.method(), what + ": method " + std::string(a.method()) + " vs " + std::string(b.method()));
  message ca = a;
  message cb = b;
  FUZZ_CHECK(same_json(ca.json(), cb.json()),
             what + ": JSON " + show(json::value(ca.json())) + " vs " + show(json::value(cb.json())));
}

/// `append_line(m)`: one line (when `m` came from text without '\n') that parses to `expected`.
void check_writes(const message& m, const json::object& expected, const std::string& what) {
  if (!m.is_text() && has_non_finite(json::value(expected))) return; // see the top of this file
  std::string out;
  acp::framing::append_line(out, m);
  FUZZ_CHECK(!out.empty() && out.back() == '\n', what + ": no final newline");
  out.pop_back();
  const auto v = boost_parse(out, line_parser::default_max_depth);
  FUZZ_CHECK(v.has_value(), what + ": writes no JSON: " + show(out));
  FUZZ_CHECK(v->is_object() && same_json(v->get_object(), expected),
             what + ": writes " + show(out) + " for " + show(json::value(expected)));
}

std::string wire(const message& m) {
  std::string out;
  acp::framing::append_line(out, m);
  out.pop_back();
  return out;
}

void check_same_unwrap(const std::optional<message>& a, const std::string& why_a, const std::optional<message>& b,
                       const std::string& why_b, const std::string& what) {
  FUZZ_CHECK(a.has_value() == b.has_value(), what + ": text path " + (a ? "unwraps" : "fails: " + why_a) +
                                                 ", DOM path " + (b ? "unwraps" : "fails: " + why_b));
  if (!a) {
    FUZZ_CHECK(why_a == why_b, what + ": error '" + why_a + "' vs '" + why_b + "'");
    return;
  }
  check_same(*a, *b, what);
  check_writes(*a, message(*b).json(), what + " (written)");
}

/// What `line_parser` gives on the DOM path.
parsed_line dom_parse(std::string_view line) {
  parsed_line out;
  auto v = boost_parse(line, line_parser::default_max_depth);
  // The line parser rejects numbers a double cannot hold (Boost.JSON would read them as infinity).
  if (!v || has_non_finite(*v)) {
    out.items.emplace_back(invalid_message{acp::rpc_error::parse_error("Parse error"), nullptr, false});
    return out;
  }
  if (auto* arr = v->if_array()) {
    if (arr->empty()) {
      out.items.emplace_back(
          invalid_message{acp::rpc_error::invalid_request("Invalid request: empty batch"), nullptr, false});
      return out;
    }
    out.batch = true;
    for (auto& item : *arr) out.items.push_back(check(std::move(item)));
    return out;
  }
  out.items.push_back(check(std::move(*v)));
  return out;
}

void check_line_parser(const parsed_line& got, const parsed_line& expected, std::string_view line) {
  FUZZ_CHECK(got.batch == expected.batch && got.items.size() == expected.items.size(),
             "line_parser's shape differs from the DOM path for " + show(line));
  for (std::size_t i = 0; i < got.items.size(); ++i) {
    const auto* gm = std::get_if<message>(&got.items[i]);
    const auto* em = std::get_if<message>(&expected.items[i]);
    FUZZ_CHECK((gm != nullptr) == (em != nullptr), "line_parser: message vs invalid for " + show(line));
    if (gm) {
      check_same(*gm, *em, "line_parser vs DOM path");
      continue;
    }
    const auto& gi = std::get<invalid_message>(got.items[i]);
    const auto& ei = std::get<invalid_message>(expected.items[i]);
    FUZZ_CHECK(gi.error.code == ei.error.code, "line_parser: error code for " + show(line));
    if (gi.error.code != -32700) FUZZ_CHECK(gi.error.message == ei.error.message, "line_parser: error message");
    FUZZ_CHECK(gi.id == ei.id && gi.response_shaped == ei.response_shaped, "line_parser: invalid message's id");
  }
}

void check_envelopes(const message& text, const message& dom, std::string_view line) {
  const std::optional<json::value> ids[] = {std::nullopt, json::value(7), json::value("c-1")};
  for (const auto gen : {pp::generation::current, pp::generation::legacy}) {
    for (const auto& id : ids) {
      const std::string what = std::string("wrap_message (") + (gen == pp::generation::current ? "current" : "legacy") +
                               ", id " + (id ? show(*id) : "none") + ") of " + show(line);
      const auto a = pp::wrap_message(text, id, gen);
      const auto b = pp::wrap_message(dom, id, gen);
      check_same(a, b, what);
      check_writes(a, message(b).json(), what + " (written)");
      if (text.is_response()) continue;
      FUZZ_CHECK(a.is_text(), what + ": the text path was not taken");
      // The envelope unwrapped as it is, and after the wire.
      std::string why_a, why_b;
      auto ua = pp::unwrap_message(a, &why_a);
      auto ub = pp::unwrap_message(b, &why_b);
      check_same_unwrap(ua, why_a, ub, why_b, "unwrap_message(" + what + ")");
      if (const auto env = message::scan(wire(a))) {
        std::string why_c;
        auto uc = pp::unwrap_message(*env, &why_c);
        check_same_unwrap(uc, why_c, ub, why_b, "unwrap_message(wire(" + what + "))");
      }
    }
  }
  std::string why_a, why_b;
  const auto ua = pp::unwrap_message(text, &why_a);
  const auto ub = pp::unwrap_message(dom, &why_b);
  check_same_unwrap(ua, why_a, ub, why_b, "unwrap_message of " + show(line));
}

void check_text_form(std::string_view line, std::size_t limit) {
  static line_parser parser; // reused across inputs, as a connection reuses it
  const auto got = parser.parse(line);
  const auto expected = dom_parse(line);
  check_line_parser(got, expected, line);

  const auto text = message::scan(line);
  if (text) {
    FUZZ_CHECK(text->is_text(), "message::scan gave a DOM message");
    FUZZ_CHECK(!expected.batch && expected.items.size() == 1,
               "message::scan took a line the DOM path reads as a batch");
    const auto* dom = std::get_if<message>(&expected.items.front());
    FUZZ_CHECK(dom != nullptr, "message::scan took a line the DOM path refuses: " + show(line));
    check_same(*text, *dom, "message::scan vs DOM path");
    const auto* fast = std::get_if<message>(&got.items.front());
    FUZZ_CHECK(fast && fast->is_text(), "line_parser did not take the fast path");
    check_writes(*text, dom->json(), "append_line of the text message");
    if (line.find('\n') == std::string_view::npos)
      FUZZ_CHECK(wire(*text).find('\n') == std::string::npos, "a line without '\\n' is written as several lines");
    check_envelopes(*text, *dom, line);
  }

  // In place: the line inside a buffer with bytes around it.
  const std::string around = "{}\n" + std::string(line) + "\r\n[";
  acp::text_buffer buffer(around);
  const auto in_place = message::scan(buffer.view().substr(3, line.size()), line_parser::default_max_depth, &buffer);
  FUZZ_CHECK(in_place.has_value() == text.has_value(), "message::scan in place decides otherwise");
  if (in_place) {
    check_same(*in_place, *text, "message::scan in place");
    FUZZ_CHECK(wire(*in_place) == wire(*text), "message::scan in place writes otherwise");
    std::string why_a, why_b;
    const auto ua = pp::unwrap_message(*in_place, &why_a);
    const auto ub = pp::unwrap_message(*text, &why_b);
    check_same_unwrap(ua, why_a, ub, why_b, "unwrap_message in place");
  } else {
    FUZZ_CHECK(buffer.view() == around, "a refused line changed its buffer");
  }

  // At the chosen depth limit: whatever it takes, Boost.JSON takes at that limit.
  if (const auto shallow = message::scan(line, limit)) {
    FUZZ_CHECK(text.has_value(), "message::scan takes at depth " + std::to_string(limit) + " but not at the default");
    const auto v = boost_parse(line, limit);
    FUZZ_CHECK(v.has_value(), "message::scan takes at depth " + std::to_string(limit) + " what Boost.JSON refuses");
    auto checked = check(*v);
    const auto* dom = std::get_if<message>(&checked);
    FUZZ_CHECK(dom != nullptr, "message::scan at a small depth took an invalid message");
    check_same(*shallow, *dom, "message::scan at depth " + std::to_string(limit));
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t limit = 1 + data[0] % 70;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_scanner(text, limit);
  check_scanner(text, js::max_depth);
  check_text_form(text, limit);
  return 0;
}
