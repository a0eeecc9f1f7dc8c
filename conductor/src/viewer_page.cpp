#include "viewer_page.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace acp::conductor {
namespace viewer_assets {
// Defined in the generated viewer_assets.cpp (cmake/embed_viewer.cmake).
extern const std::string_view html;
extern const std::string_view css;
extern const std::string_view js;
} // namespace viewer_assets

namespace {

constexpr std::string_view style_marker = "/*@ACP_STYLE@*/";
constexpr std::string_view data_marker = "/*@ACP_DATA@*/";
constexpr std::string_view script_marker = "/*@ACP_SCRIPT@*/";

// The template's three parts around the data: [head with style][data][tail with script].
struct page_parts {
  std::string head;
  std::string tail;
};

const page_parts& parts() {
  static const page_parts p = [] {
    const std::string_view page = viewer_assets::html;
    const auto s = page.find(style_marker);
    const auto d = page.find(data_marker);
    const auto j = page.find(script_marker);
    page_parts r;
    // The markers are in the template checked in next to the code (a test renders the page).
    r.head.append(page.substr(0, s)).append(viewer_assets::css);
    r.head.append(page.substr(s + style_marker.size(), d - s - style_marker.size()));
    r.tail.append(page.substr(d + data_marker.size(), j - d - data_marker.size()));
    r.tail.append(viewer_assets::js).append(page.substr(j + script_marker.size()));
    return r;
  }();
  return p;
}

} // namespace

void append_script_safe_json(std::string& out, std::string_view json) {
  out.reserve(out.size() + json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    switch (c) {
    case '<':
      out += "\\u003c";
      continue;
    case '>':
      out += "\\u003e";
      continue;
    case '&':
      out += "\\u0026";
      continue;
    default:
      break;
    }
    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
    if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
        (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out += c;
  }
}

void trace_page_writer::begin(std::string_view file_name) {
  buffer_ = parts().head;
  buffer_ += "{\"file\":";
  append_script_safe_json(buffer_, boost::json::serialize(boost::json::string(file_name)));
  buffer_ += ",\"events\":[\n";
  out_(buffer_);
  buffer_.clear();
  first_ = true;
}

void trace_page_writer::event(std::string_view line) {
  if (!first_) buffer_ += ",\n";
  first_ = false;
  append_script_safe_json(buffer_, line);
  if (buffer_.size() >= (std::size_t{1} << 16)) {
    out_(buffer_);
    buffer_.clear();
  }
}

void trace_page_writer::finish(std::uint64_t skipped) {
  buffer_ += "\n],\"skipped\":" + std::to_string(skipped) + "}";
  buffer_ += parts().tail;
  out_(buffer_);
  buffer_.clear();
}

std::string render_trace_page(std::string_view file_name, const std::vector<std::string>& lines,
                              std::uint64_t skipped) {
  std::string page;
  trace_page_writer w([&](std::string_view s) { page.append(s); });
  w.begin(file_name);
  for (const auto& l : lines) w.event(l);
  w.finish(skipped);
  return page;
}

std::string live_viewer_page() {
  const auto& p = parts();
  return p.head + "null" + p.tail;
}

} // namespace acp::conductor
