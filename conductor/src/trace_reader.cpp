#include "trace_reader.hpp"

#include <boost/json/parser.hpp>

#include <cerrno>
#include <cstring>
#include <vector>

#include <sys/stat.h>

namespace acp::conductor {
namespace json = boost::json;

namespace {
boost::system::error_code errno_code(int e) { return {e, boost::system::system_category()}; }
} // namespace

trace_read_result read_trace(std::FILE* in, const trace_event_handler& on_event, std::size_t max_line) {
  trace_read_result r;
  std::string line;
  bool too_long = false; // the current line passed max_line: the rest of it is dropped
  std::uint64_t number = 0;
  json::parser parser;
  std::vector<char> buffer(std::size_t{1} << 16);

  auto finish_line = [&] {
    ++number;
    if (too_long) {
      ++r.skipped;
      if (r.first_skipped_line == 0) r.first_skipped_line = number;
    } else if (line.find_first_not_of(" \t\r") != std::string::npos) {
      boost::system::error_code ec;
      parser.reset();
      parser.write(line, ec);
      bool ok = false;
      if (!ec) {
        const json::value v = parser.release();
        if (const auto* o = v.if_object()) {
          const auto* type = o->if_contains("type");
          if (type && type->is_string()) {
            ok = true;
            ++r.events;
            on_event(*o, line);
          }
        }
      }
      if (!ok) {
        ++r.skipped;
        if (r.first_skipped_line == 0) r.first_skipped_line = number;
      }
    }
    line.clear();
    if (line.capacity() > (std::size_t{1} << 20)) std::string().swap(line);
    too_long = false;
  };

  for (;;) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), in);
    if (n == 0) {
      if (std::ferror(in)) r.error = errno_code(errno ? errno : EIO);
      break;
    }
    std::string_view chunk(buffer.data(), n);
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      const auto part = chunk.substr(0, nl);
      if (!too_long) {
        if (line.size() + part.size() > max_line) {
          too_long = true;
          line.clear();
        } else {
          line.append(part);
        }
      }
      if (nl == std::string_view::npos) break;
      finish_line();
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!line.empty() || too_long) finish_line(); // a last line without a newline (truncated or not)
  return r;
}

std::FILE* open_trace_input(const std::string& path, boost::system::error_code& error) {
  if (path == "-") return stdin;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = errno_code(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    error = errno_code(EISDIR);
    return nullptr;
  }
  return f;
}

void close_trace_input(std::FILE* in) {
  if (in && in != stdin) std::fclose(in);
}

std::string skipped_summary(const trace_read_result& r) {
  if (r.skipped == 0) return {};
  return "skipped " + std::to_string(r.skipped) + (r.skipped == 1 ? " line" : " lines") +
         " that " + (r.skipped == 1 ? "is" : "are") + " not trace events (the first: line " +
         std::to_string(r.first_skipped_line) + ")";
}

} // namespace acp::conductor
