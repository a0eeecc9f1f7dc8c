// `acp-conductor trace view` (acp/conductor/trace_tools.hpp): a trace file as one self-contained
// HTML page (viewer_page.hpp), written as the trace is read (bounded memory). The page holds what
// the trace holds (prompts, file contents): like the trace, it is created with mode 0600.
#include "trace_reader.hpp"
#include "viewer_page.hpp"

#include <acp/conductor/trace_tools.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace acp::conductor {
namespace {

void fail(const std::string& what) { std::fprintf(stderr, "acp-conductor: trace view: %s\n", what.c_str()); }

std::string default_output(const std::string& file) {
  if (file == "-") return "-";
  std::filesystem::path p(file);
  if (p.extension() == ".html") return file + ".html";
  return p.replace_extension(".html").string();
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return a != "-" && b != "-" && std::filesystem::equivalent(a, b, ec) && !ec;
}

std::FILE* open_output(const std::string& path, int& error) {
  if (path == "-") return stdout;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errno;
    return nullptr;
  }
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    error = errno;
    ::close(fd);
  }
  return f;
}

} // namespace

int run_trace_view(const trace_command& command) {
  const std::string output = command.output.empty() ? default_output(command.file) : command.output;
  if (same_file(command.file, output)) {
    fail("the output " + output + " is the trace itself");
    return 1;
  }
  boost::system::error_code ec;
  std::FILE* in = open_trace_input(command.file, ec);
  if (!in) {
    fail("cannot read " + command.file + ": " + ec.message());
    return 1;
  }
  int out_error = 0;
  std::FILE* out = open_output(output, out_error);
  if (!out) {
    close_trace_input(in);
    fail("cannot write " + output + ": " + std::strerror(out_error));
    return 1;
  }

  bool write_failed = false;
  int write_error = 0;
  trace_page_writer page([&](std::string_view s) {
    if (!write_failed && std::fwrite(s.data(), 1, s.size(), out) != s.size()) {
      write_failed = true;
      write_error = errno;
    }
  });
  const std::string name =
      command.file == "-" ? std::string("standard input") : std::filesystem::path(command.file).filename().string();
  page.begin(name);
  const trace_read_result r =
      read_trace(in, [&](const boost::json::object&, std::string_view line) { page.event(line); });
  page.finish(r.skipped);
  close_trace_input(in);
  if (std::fflush(out) != 0 || std::ferror(out)) {
    write_failed = true;
    write_error = errno;
  }
  if (out != stdout && std::fclose(out) != 0 && !write_failed) {
    write_failed = true;
    write_error = errno;
  }

  auto discard = [&] {
    if (output != "-") std::remove(output.c_str());
  };
  if (r.error) {
    discard();
    fail("cannot read " + command.file + ": " + r.error.message());
    return 1;
  }
  if (write_failed) {
    discard();
    fail("cannot write " + output + ": " + std::strerror(write_error ? write_error : EIO));
    return 1;
  }
  if (r.events == 0) {
    discard();
    const std::string why = skipped_summary(r);
    fail(command.file + " has no trace events" + (why.empty() ? "" : " (" + why + ")"));
    return 1;
  }
  if (r.skipped != 0) fail(skipped_summary(r));
  return 0;
}

} // namespace acp::conductor
