#include <acp/conductor/trace.hpp>

#include <acp/protocol/json_scan.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::conductor {
namespace json = boost::json;

namespace {

boost::system::error_code errno_code(int e = errno) {
  return {e, boost::system::system_category()};
}

/// The writer waits this long after the first event of a batch, or until this much has gathered,
/// so that a write(2) carries many events and a steady stream wakes it rarely.
constexpr auto batch_delay = std::chrono::milliseconds(2);
constexpr std::size_t batch_bytes = std::size_t{64} << 10;

/// Scratch strings above this capacity are given back after use (one large message must not pin
/// its size for the rest of the run).
constexpr std::size_t keep_capacity = std::size_t{1} << 20;

void trim(std::string& s) {
  if (s.capacity() > keep_capacity) std::string().swap(s);
  else s.clear();
}

void append_endpoint(std::string& out, const endpoint& e) {
  switch (e.which) {
  case endpoint::kind::client: out += "Client"; return;
  case endpoint::kind::agent: out += "Agent"; return;
  case endpoint::kind::proxy: break;
  }
  out += "Proxy(";
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), e.index);
  out.append(buf.data(), r.ptr);
  out += ')';
}

void append_seconds(std::string& out, double seconds) {
  std::array<char, 48> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), seconds, std::chars_format::fixed, 6);
  out.append(buf.data(), r.ptr);
}

void append_id(std::string& out, const json::value& id) {
  if (id.is_int64()) {
    std::array<char, 24> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), id.get_int64());
    out.append(buf.data(), r.ptr);
  } else if (id.is_string()) {
    jsonrpc::append_json_string(out, id.get_string());
  } else {
    out += json::serialize(id);
  }
}

/// Whether a scanned member's key is `name` (escapes in the key decoded).
bool key_is(const json_scan::member& m, std::string_view name) {
  if (!m.key_escaped) return m.key == name;
  std::string quoted;
  quoted.reserve(m.key.size() + 2);
  quoted += '"';
  quoted += m.key;
  quoted += '"';
  boost::system::error_code ec;
  const json::value v = json::parse(quoted, ec);
  return !ec && v.is_string() && v.get_string() == name;
}

/// `params.sessionId` as JSON string text, from params as JSON text, without a DOM: the value's
/// text as it arrived (quotes and escapes included). The last member wins, as in a DOM.
/// `fallback`: where a DOM-found id is written when the object has too many members to scan.
std::optional<std::string_view> session_in_text(std::string_view params, std::string& fallback) {
  if (params.empty() || params.front() != '{') return std::nullopt;
  std::array<json_scan::member, 64> members;
  if (const auto n = json_scan::members_of_valid_object(params, members)) {
    std::optional<std::string_view> found;
    for (std::size_t i = 0; i < *n; ++i)
      if (key_is(members[i], "sessionId")) found = members[i].value;
    if (found && found->front() == '"') return found;
    return std::nullopt;
  }
  // More members than scanned at once (rare): the DOM finds it.
  boost::system::error_code ec;
  const json::value v = json::parse(params, ec);
  const json::value* s = !ec && v.is_object() ? v.get_object().if_contains("sessionId") : nullptr;
  if (!s || !s->is_string()) return std::nullopt;
  fallback.clear();
  jsonrpc::append_json_string(fallback, s->get_string());
  return fallback;
}

/// Writes all of `data`; the errno of the first failure.
boost::system::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_code();
    }
    if (n == 0) return errno_code(EIO);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

} // namespace

std::string to_string(const endpoint& e) {
  std::string s;
  append_endpoint(s, e);
  return s;
}

std::string_view to_string(trace_protocol p) noexcept {
  return p == trace_protocol::mcp ? "mcp" : "acp";
}

// ---- the queue and the writer thread -----------------------------------------------------

struct trace_writer::state {
  state(int fd, trace_options o) : fd_(fd), options_(o), start_(std::chrono::steady_clock::now()) {}

  const int fd_;
  const trace_options options_;
  const std::chrono::steady_clock::time_point start_;

  // Shared with the writer thread, under `mu_`.
  mutable std::mutex mu_;
  std::condition_variable work_; // the queue has events, or closing
  std::condition_variable done_; // a batch was written
  std::string queued_;
  std::size_t in_flight_ = 0;           // bytes of the batch being written
  std::uint64_t enqueued_total_ = 0;    // bytes ever queued
  std::uint64_t processed_total_ = 0;   // bytes ever written (or failed)
  std::uint64_t dropped_total_ = 0;
  std::uint64_t dropped_pending_ = 0;   // dropped since the last marker
  bool closing_ = false;
  boost::system::error_code error_;

  std::thread thread_;
  bool closed_ = false; // close() ran (owner only)

  // The producer's scratch (the routing thread only): reused, so tracing does not allocate.
  std::string head_;
  std::string dom_;
  std::string session_;

  [[nodiscard]] double elapsed() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  void run() {
    std::string writing;
    std::unique_lock lk(mu_);
    for (;;) {
      work_.wait(lk, [&] { return !queued_.empty() || closing_; });
      work_.wait_for(lk, batch_delay, [&] { return queued_.size() >= batch_bytes || closing_; });
      if (queued_.empty()) break; // closing, and everything written
      writing.swap(queued_);
      in_flight_ = writing.size();
      lk.unlock();
      const auto ec = write_all(fd_, writing);
      const std::size_t n = writing.size();
      trim(writing);
      lk.lock();
      in_flight_ = 0;
      processed_total_ += n;
      if (ec && !error_) error_ = ec;
      done_.notify_all();
    }
  }

  /// Under `mu_`: the `dropped` marker, if events were dropped since the last one.
  void append_marker_locked() {
    if (dropped_pending_ == 0) return;
    const std::size_t before = queued_.size();
    queued_ += R"({"type":"dropped","ts":)";
    append_seconds(queued_, elapsed());
    queued_ += R"(,"count":)";
    std::array<char, 24> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), dropped_pending_);
    queued_.append(buf.data(), r.ptr);
    queued_ += "}\n";
    enqueued_total_ += queued_.size() - before;
    dropped_pending_ = 0;
  }

  /// Queues `head_`, then `payload` (JSON text; empty: null) and the end of the event; or drops it.
  void enqueue(std::string_view payload) {
    const bool has_newline = !payload.empty() && std::memchr(payload.data(), '\n', payload.size()) != nullptr;
    const std::size_t size = head_.size() + (payload.empty() ? 4 : payload.size()) + 2;
    std::unique_lock lk(mu_);
    if (closing_) return;
    const std::size_t waiting = queued_.size() + in_flight_;
    if (waiting != 0 && waiting + size > options_.max_queued_bytes) {
      ++dropped_total_;
      ++dropped_pending_;
      return;
    }
    const std::size_t was = queued_.size();
    append_marker_locked();
    const std::size_t before = queued_.size();
    queued_ += head_;
    if (payload.empty()) {
      queued_ += "null";
    } else {
      const std::size_t at = queued_.size();
      queued_ += payload;
      // A newline can only be whitespace between tokens: a space means the same, on one line.
      if (has_newline)
        for (std::size_t i = at; i < queued_.size(); ++i)
          if (queued_[i] == '\n') queued_[i] = ' ';
    }
    queued_ += "}\n";
    enqueued_total_ += queued_.size() - before;
    // The writer waits for a first event, then for a batch's worth: wake it at those two points only.
    const bool wake = was == 0 || (was < batch_bytes && queued_.size() >= batch_bytes);
    lk.unlock();
    if (wake) work_.notify_one();
  }

  // ---- composing events (the routing thread) ----

  /// `{"type":T,"ts":S[,"protocol":P],"from":F,"to":T` into `head_`.
  void begin(std::string_view type, const trace_protocol* protocol, endpoint from, endpoint to) {
    head_.clear();
    head_ += R"({"type":")";
    head_ += type;
    head_ += R"(","ts":)";
    append_seconds(head_, elapsed());
    if (protocol) {
      head_ += R"(,"protocol":")";
      head_ += to_string(*protocol);
      head_ += '"';
    }
    head_ += R"(,"from":")";
    append_endpoint(head_, from);
    head_ += R"(","to":")";
    append_endpoint(head_, to);
    head_ += '"';
  }

  /// A request (with `id`) or a notification (`id` null); `session` and `params` are JSON text
  /// (empty: absent, null).
  void call(endpoint from, endpoint to, const json::value* id, std::string_view method,
            std::optional<std::string_view> session, std::string_view params, trace_protocol protocol) {
    begin(id ? "request" : "notification", &protocol, from, to);
    if (id) {
      head_ += R"(,"id":)";
      append_id(head_, *id);
    }
    head_ += R"(,"method":)";
    jsonrpc::append_json_string(head_, method);
    if (session) {
      head_ += R"(,"session":)";
      head_ += *session;
    }
    head_ += R"(,"params":)";
    enqueue(params);
  }

  void response(endpoint from, endpoint to, const json::value& id, bool is_error, std::string_view payload) {
    begin("response", nullptr, from, to);
    head_ += R"(,"id":)";
    append_id(head_, id);
    head_ += is_error ? R"(,"is_error":true,"payload":)" : R"(,"is_error":false,"payload":)";
    enqueue(payload);
  }

  /// DOM params: serialized into `dom_`; the session into `session_`.
  void call_dom(endpoint from, endpoint to, const json::value* id, std::string_view method,
                const json::value* params, trace_protocol protocol) {
    std::optional<std::string_view> session;
    if (params && params->is_object())
      if (const auto* s = params->get_object().if_contains("sessionId"); s && s->is_string()) {
        session_.clear();
        jsonrpc::append_json_string(session_, s->get_string());
        session = session_;
      }
    dom_.clear();
    if (params && !params->is_null()) dom_ = json::serialize(*params);
    call(from, to, id, method, session, dom_, protocol);
    trim(dom_);
  }

  void response_dom(endpoint from, endpoint to, const json::value& id, bool is_error, const json::value& payload) {
    dom_ = json::serialize(payload);
    response(from, to, id, is_error, dom_);
    trim(dom_);
  }
};

// ---- trace_writer ----------------------------------------------------------------------------

boost::system::result<trace_writer> trace_writer::open(const std::filesystem::path& path, trace_options options) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_code();
  // An existing file keeps its old mode through O_CREAT: narrow it.
  if (::fchmod(fd, 0600) != 0) {
    const auto ec = errno_code();
    ::close(fd);
    return ec;
  }
  return adopt(fd, options);
}

boost::system::result<trace_writer> trace_writer::adopt(int fd, trace_options options) {
  auto s = std::make_unique<state>(fd, options);
  // The thread starts with every signal blocked: signals are the routing thread's business.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  boost::system::error_code ec;
  try {
    s->thread_ = std::thread([p = s.get()] { p->run(); });
  } catch (const std::system_error& e) {
    ec = errno_code(e.code().value());
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (ec) {
    ::close(fd);
    return ec;
  }
  return trace_writer(std::move(s));
}

trace_writer::trace_writer(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}

trace_writer::trace_writer(trace_writer&& other) noexcept = default;

trace_writer& trace_writer::operator=(trace_writer&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

trace_writer::~trace_writer() {
  close();
}

void trace_writer::close() {
  if (!state_ || state_->closed_) return;
  auto& s = *state_;
  s.closed_ = true;
  {
    const std::lock_guard lk(s.mu_);
    s.append_marker_locked();
    s.closing_ = true;
  }
  s.work_.notify_one();
  if (s.thread_.joinable()) s.thread_.join();
  ::close(s.fd_);
}

bool trace_writer::flush(std::chrono::milliseconds timeout) {
  if (!state_) return true;
  auto& s = *state_;
  std::unique_lock lk(s.mu_);
  const auto target = s.enqueued_total_;
  return s.done_.wait_for(lk, timeout, [&] { return s.processed_total_ >= target; });
}

boost::system::error_code trace_writer::last_error() const {
  if (!state_) return {};
  const std::lock_guard lk(state_->mu_);
  return state_->error_;
}

std::uint64_t trace_writer::dropped_events() const {
  if (!state_) return 0;
  const std::lock_guard lk(state_->mu_);
  return state_->dropped_total_;
}

void trace_writer::message(endpoint from, endpoint to, const jsonrpc::message& m, trace_protocol protocol) {
  if (m.is_response()) return response(from, to, m.id(), m);
  if (!state_) return;
  auto& s = *state_;
  const json::value* id = m.is_request() ? &m.id() : nullptr;
  if (const auto text = m.payload_text()) {
    s.call(from, to, id, m.method(), session_in_text(*text, s.session_), *text, protocol);
    return;
  }
  s.call_dom(from, to, id, m.method(), m.params(), protocol);
}

void trace_writer::response(endpoint from, endpoint to, const json::value& id, const jsonrpc::message& resp) {
  if (!state_) return;
  auto& s = *state_;
  if (const auto text = resp.payload_text()) {
    s.response(from, to, id, false, *text); // a text response is never an error
    return;
  }
  const bool is_error = resp.is_error();
  const json::value* payload = is_error ? resp.json().if_contains("error") : resp.result();
  static const json::value null_value;
  s.response_dom(from, to, id, is_error, payload ? *payload : null_value);
}

void trace_writer::request(endpoint from, endpoint to, const json::value& id, std::string_view method,
                           const json::value* params, trace_protocol protocol) {
  if (state_) state_->call_dom(from, to, &id, method, params, protocol);
}

void trace_writer::response(endpoint from, endpoint to, const json::value& id, bool is_error,
                            const json::value& payload) {
  if (state_) state_->response_dom(from, to, id, is_error, payload);
}

void trace_writer::notification(endpoint from, endpoint to, std::string_view method, const json::value* params,
                                trace_protocol protocol) {
  if (state_) state_->call_dom(from, to, nullptr, method, params, protocol);
}

} // namespace acp::conductor
