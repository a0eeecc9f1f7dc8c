#include <acp/protocol/json_write.hpp>

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>

namespace acp::json_write {
namespace json = boost::json;

namespace {

void write(std::string& out, const json::value& v); // with our doubles (below)

constexpr char hex_digits[] = "0123456789abcdef";

void append_array(std::string& out, const json::array& a) {
  out.push_back('[');
  bool first = true;
  for (const auto& e : a) {
    if (!first) out.push_back(',');
    first = false;
    write(out, e);
  }
  out.push_back(']');
}

bool has_double(const json::value& v) noexcept;

bool has_double(const json::object& o) noexcept {
  for (const auto& m : o)
    if (has_double(m.value())) return true;
  return false;
}

bool has_double(const json::value& v) noexcept {
  switch (v.kind()) {
  case json::kind::double_:
    return true;
  case json::kind::array:
    for (const auto& e : v.get_array())
      if (has_double(e)) return true;
    return false;
  case json::kind::object:
    return has_double(v.get_object());
  default:
    return false;
  }
}

/// Without doubles our text is Boost.JSON's, which writes it faster: through its serializer
/// (reused, so it keeps its stack) and a stack buffer (no zero-filled growth of `out`).
template <class T> void append_with_boost(std::string& out, const T& v) {
  thread_local json::serializer sr;
  sr.reset(&v);
  char buf[16384];
  while (!sr.done()) {
    const auto chunk = sr.read(buf, sizeof buf);
    out.append(chunk.data(), chunk.size());
  }
}

template <class Integer> void append_integer(std::string& out, Integer n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

} // namespace

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t run = 0; // start of the bytes not yet appended
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
    case '"':
      out.push_back('"');
      break;
    case '\\':
      out.push_back('\\');
      break;
    case '\b':
      out.push_back('b');
      break;
    case '\f':
      out.push_back('f');
      break;
    case '\n':
      out.push_back('n');
      break;
    case '\r':
      out.push_back('r');
      break;
    case '\t':
      out.push_back('t');
      break;
    default:
      out.append("u00");
      out.push_back(hex_digits[c >> 4]);
      out.push_back(hex_digits[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out.append("null");
    return;
  }
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out.append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out.append(".0");
}

namespace {

void write(std::string& out, const json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const auto& m : o) {
    if (!first) out.push_back(',');
    first = false;
    append_string(out, m.key());
    out.push_back(':');
    write(out, m.value());
  }
  out.push_back('}');
}

void write(std::string& out, const json::value& v) {
  switch (v.kind()) {
  case json::kind::null:
    out.append("null");
    return;
  case json::kind::bool_:
    out.append(v.get_bool() ? "true" : "false");
    return;
  case json::kind::int64:
    append_integer(out, v.get_int64());
    return;
  case json::kind::uint64:
    append_integer(out, v.get_uint64());
    return;
  case json::kind::double_:
    append_double(out, v.get_double());
    return;
  case json::kind::string:
    append_string(out, v.get_string());
    return;
  case json::kind::array:
    append_array(out, v.get_array());
    return;
  case json::kind::object:
    write(out, v.get_object());
    return;
  }
}
} // namespace

void append(std::string& out, const json::value& v) {
  if (has_double(v))
    write(out, v);
  else
    append_with_boost(out, v);
}

void append(std::string& out, const json::object& o) {
  if (has_double(o))
    write(out, o);
  else
    append_with_boost(out, o);
}

std::string to_string(const json::value& v) {
  std::string out;
  append(out, v);
  return out;
}

std::string to_string(const json::object& v) {
  std::string out;
  append(out, v);
  return out;
}

} // namespace acp::json_write
