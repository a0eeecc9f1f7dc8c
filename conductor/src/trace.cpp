#include <acp/conductor/trace.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::conductor {
namespace json = boost::json;

namespace {

boost::system::error_code errno_code(int e = errno) {
  return {e, boost::system::system_category()};
}

// params.sessionId when it is a string.
const json::string* session_of(const json::value* params) {
  if (!params || !params->is_object())
    return nullptr;
  const json::value* s = params->get_object().if_contains("sessionId");
  return s && s->is_string() ? &s->get_string() : nullptr;
}

} // namespace

std::string to_string(const endpoint& e) {
  switch (e.which) {
  case endpoint::kind::client:
    return "Client";
  case endpoint::kind::proxy:
    return "Proxy(" + std::to_string(e.index) + ")";
  case endpoint::kind::agent:
    return "Agent";
  }
  return "Client";
}

std::string_view to_string(trace_protocol p) noexcept {
  return p == trace_protocol::mcp ? "mcp" : "acp";
}

boost::system::result<trace_writer> trace_writer::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno_code();
  // An existing file keeps its old mode through O_CREAT: narrow it.
  if (::fchmod(fd, 0600) != 0) {
    const auto ec = errno_code();
    ::close(fd);
    return ec;
  }
  return trace_writer(fd);
}

trace_writer::trace_writer(int fd) noexcept : fd_(fd), start_(std::chrono::steady_clock::now()) {}

trace_writer::trace_writer(trace_writer&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), start_(other.start_), error_(other.error_) {}

trace_writer& trace_writer::operator=(trace_writer&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    start_ = other.start_;
    error_ = other.error_;
  }
  return *this;
}

trace_writer::~trace_writer() {
  if (fd_ >= 0)
    ::close(fd_);
}

double trace_writer::elapsed() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void trace_writer::write_event(const json::value& event) {
  if (fd_ < 0)
    return;
  std::string line = json::serialize(event);
  line.push_back('\n');
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (!error_)
        error_ = errno_code();
      return;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

void trace_writer::request(endpoint from, endpoint to, const json::value& id,
                           std::string_view method, const json::value* params,
                           trace_protocol protocol) {
  json::object e;
  e["type"] = "request";
  e["ts"] = elapsed();
  e["protocol"] = to_string(protocol);
  e["from"] = to_string(from);
  e["to"] = to_string(to);
  e["id"] = id;
  e["method"] = method;
  if (const auto* s = session_of(params))
    e["session"] = *s;
  e["params"] = params ? *params : json::value(nullptr);
  write_event(e);
}

void trace_writer::response(endpoint from, endpoint to, const json::value& id, bool is_error,
                            const json::value& payload) {
  json::object e;
  e["type"] = "response";
  e["ts"] = elapsed();
  e["from"] = to_string(from);
  e["to"] = to_string(to);
  e["id"] = id;
  e["is_error"] = is_error;
  e["payload"] = payload;
  write_event(e);
}

void trace_writer::notification(endpoint from, endpoint to, std::string_view method,
                                const json::value* params, trace_protocol protocol) {
  json::object e;
  e["type"] = "notification";
  e["ts"] = elapsed();
  e["protocol"] = to_string(protocol);
  e["from"] = to_string(from);
  e["to"] = to_string(to);
  e["method"] = method;
  if (const auto* s = session_of(params))
    e["session"] = *s;
  e["params"] = params ? *params : json::value(nullptr);
  write_event(e);
}

void trace_writer::message(endpoint from, endpoint to, const jsonrpc::message& m,
                           trace_protocol protocol) {
  if (m.is_request()) {
    request(from, to, m.id(), m.method(), m.params(), protocol);
  } else if (m.is_notification()) {
    notification(from, to, m.method(), m.params(), protocol);
  } else if (m.is_error()) {
    const json::value* err = m.json().if_contains("error");
    response(from, to, m.id(), true, err ? *err : json::value(nullptr));
  } else {
    const json::value* result = m.result();
    response(from, to, m.id(), false, result ? *result : json::value(nullptr));
  }
}

} // namespace acp::conductor
