#include <acp/conductor/trace.hpp>

#include "trace_blocks.hpp"

#include <acp/protocol/json_scan.hpp>
#include <acp/protocol/json_write.hpp>
#include <acp/sdk/private_file.hpp>

#include <algorithm>
#include <array>
#include <atomic>
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

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace acp::conductor {
namespace json = boost::json;

namespace {

boost::system::error_code errno_code(int e = errno) { return {e, boost::system::system_category()}; }

/// The writer gathers events this long before it writes them, so that a write(2) carries many
/// events and a steady stream costs the routing thread no wake-ups (see `run`).
constexpr auto batch_delay = std::chrono::milliseconds(5);

/// Scratch strings above this capacity are given back after use (one large message must not pin
/// its size for the rest of the run).
constexpr std::size_t keep_scratch = std::size_t{1} << 20;

/// The owner's batch is handed to the writer thread when it reaches this size, without waiting for
/// `publish` (see `trace_writer::publish_on_request`); an event this large bypasses the batch.
constexpr std::size_t batch_limit = std::size_t{64} << 10;

/// Queue blocks kept for reuse after a batch is written (2 MiB): a steady stream needs no more;
/// a burst's blocks beyond that are freed.
constexpr std::size_t keep_blocks = (std::size_t{2} << 20) / detail::trace_block::capacity;

void trim(std::string& s) {
  if (s.capacity() > keep_scratch)
    std::string().swap(s);
  else
    s.clear();
}

void append_endpoint(std::string& out, const chain_position& e) {
  switch (e.which) {
  case chain_role::client:
    out += "Client";
    return;
  case chain_role::agent:
    out += "Agent";
    return;
  case chain_role::proxy:
    break;
  }
  out += "Proxy(";
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), e.index);
  out.append(buf.data(), r.ptr);
  out += ')';
}

/// Seconds with six decimals.
void append_seconds(std::string& out, std::chrono::microseconds t) {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(t.count(), 0));
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), us / 1000000);
  out.append(buf.data(), r.ptr);
  std::array<char, 7> frac{'.', '0', '0', '0', '0', '0', '0'};
  auto rest = us % 1000000;
  for (std::size_t i = 6; i > 0; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
  out.append(frac.data(), frac.size());
}

void append_id(std::string& out, const json::value& id) {
  if (id.is_int64()) {
    std::array<char, 24> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), id.get_int64());
    out.append(buf.data(), r.ptr);
  } else if (id.is_string()) {
    jsonrpc::append_json_string(out, id.get_string());
  } else {
    json_write::append(out, id);
  }
}

/// `params.sessionId` as JSON string text, from params as JSON text, without a DOM: the value's
/// text as it arrived (quotes and escapes included). The scan stops at the first `sessionId`
/// member, so the rest of the params (the update, the prompt) is not walked.
std::optional<std::string_view> session_in_text(std::string_view params) {
  if (params.empty() || params.front() != '{') return std::nullopt;
  const auto m = json_scan::find_member_of_valid_object(params, "sessionId");
  if (!m || m->value.front() != '"') return std::nullopt;
  return m->value;
}

} // namespace

std::string to_string(const chain_position& e) {
  std::string s;
  append_endpoint(s, e);
  return s;
}

std::string_view to_string(trace_protocol p) noexcept { return p == trace_protocol::mcp ? "mcp" : "acp"; }

// ---- the queue and the writer thread -----------------------------------------------------

struct trace_writer::state {
  state(int fd, trace_options o) : fd_(fd), options_(std::move(o)), start_(std::chrono::steady_clock::now()) {}

  const int fd_; // -1: no file (`without_file`)
  const trace_options options_;
  const std::chrono::steady_clock::time_point start_;

  // Shared with the writer thread, under `mu_`.
  mutable std::mutex mu_;
  std::condition_variable work_; // to the writer: the first event, a full queue, flush or close
  std::condition_variable done_; // from the writer: a batch was written
  detail::trace_blocks queued_;
  std::vector<detail::trace_block> spares_; // blocks for reuse
  std::size_t in_flight_ = 0;               // bytes of the batch being written
  std::uint64_t enqueued_total_ = 0;        // bytes ever queued
  std::uint64_t processed_total_ = 0;       // bytes ever written (or failed)
  bool closing_ = false;
  bool writer_idle_ = false; // the writer waits for a first event
  int flushing_ = 0;         // flush() calls waiting
  boost::system::error_code error_;

  // Written under `mu_`, read by the owner without it: an event's bound check must not lock.
  std::atomic<std::size_t> waiting_{0}; // queued_ + in_flight_
  std::atomic<std::uint64_t> dropped_total_{0};

  std::thread thread_;
  bool closed_ = false; // close() ran (owner only)

  // The owner's side (see `trace_writer::publish_on_request`).
  std::string batch_;                 // events traced since the last hand-over
  std::function<void()> request_;     // empty: every event is handed over at once
  bool requested_ = false;            // `request_` was called and `publish` has not run since
  std::uint64_t dropped_pending_ = 0; // dropped since the last marker

  // The producer's scratch (the routing thread only): reused, so tracing does not allocate.
  std::string head_;
  std::string dom_;
  std::string session_;

  [[nodiscard]] std::chrono::microseconds elapsed() const noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_);
  }

  /// Half the bound: a queue this full is written at once rather than after the delay.
  [[nodiscard]] std::size_t high_water() const noexcept { return options_.max_queued_bytes / 2; }

  /// The writer thread. Idle, it waits for the first event (the one wake-up the routing thread
  /// gives while events keep coming); then it gathers for `batch_delay`, writes everything queued,
  /// and goes on so, on its own timer, until the queue is found empty.
  void run() {
    std::vector<detail::trace_block> writing;
    std::vector<std::string_view> pieces; // the batch, for the tap
    std::unique_lock lk(mu_);
    for (;;) {
      if (queued_.empty() && !closing_) {
        writer_idle_ = true;
        work_.wait(lk, [&] { return !queued_.empty() || closing_; });
        writer_idle_ = false;
      }
      work_.wait_for(lk, batch_delay, [&] { return closing_ || flushing_ > 0 || queued_.bytes() >= high_water(); });
      if (queued_.empty()) {
        if (closing_) break; // everything written
        continue;
      }
      const std::size_t n = queued_.bytes();
      queued_.take(writing);
      in_flight_ = n; // waiting_ is unchanged
      lk.unlock();
      boost::system::error_code ec;
      if (fd_ >= 0) ec = detail::write_blocks(fd_, writing);
      if (options_.tap) {
        pieces.clear();
        for (const auto& b : writing)
          if (b.used != 0) pieces.emplace_back(b.data.get(), b.used);
        options_.tap(pieces);
      }
      lk.lock();
      for (auto& b : writing)
        if (spares_.size() < keep_blocks) spares_.push_back(std::move(b));
      writing.clear();
      in_flight_ = 0;
      waiting_.store(queued_.bytes(), std::memory_order_relaxed);
      processed_total_ += n;
      if (ec && !error_) error_ = ec;
      done_.notify_all();
    }
  }

  /// Into `batch_` (owner): the `dropped` marker, if events were dropped since the last one.
  void append_marker() {
    if (dropped_pending_ == 0) return;
    batch_ += R"({"type":"dropped","ts":)";
    append_seconds(batch_, elapsed());
    batch_ += R"(,"count":)";
    std::array<char, 24> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), dropped_pending_);
    batch_.append(buf.data(), r.ptr);
    batch_ += "}\n";
    dropped_pending_ = 0;
  }

  /// Under `mu_`: appends bytes to the queue.
  void put_locked(std::string_view bytes, bool newlines_to_spaces = false) {
    queued_.append(bytes, spares_, newlines_to_spaces);
    enqueued_total_ += bytes.size();
  }

  /// Hands `batch_` to the writer thread, followed by `head_`, `payload` and the end of an event
  /// when `with_event` (an event too large for the batch): one lock for all of it.
  void hand_over(bool with_event = false, std::string_view payload = {}, bool has_newline = false) {
    if (batch_.empty() && !with_event) return;
    std::unique_lock lk(mu_);
    const std::size_t was = queued_.bytes();
    put_locked(batch_);
    if (with_event) {
      put_locked(head_);
      // A newline can only be whitespace between tokens: a space means the same, on one line.
      put_locked(payload, has_newline);
      put_locked("}\n");
    }
    waiting_.store(queued_.bytes() + in_flight_, std::memory_order_relaxed);
    // Wake the writer only when it is idle, or when the queue passes half the bound (not to drop
    // events while it waits out the delay). Otherwise it comes back on its own.
    const bool wake = writer_idle_ || (was < high_water() && queued_.bytes() >= high_water());
    writer_idle_ = false;
    lk.unlock();
    trim(batch_);
    if (wake) work_.notify_one();
  }

  /// Traces `head_`, then `payload` (JSON text; empty: null) and the end of the event; or drops it.
  /// The event joins `batch_`, which is handed over at once, when it is full, or when the owner
  /// calls `publish` (after `request_`).
  void enqueue(std::string_view payload) {
    if (closed_) return;
    if (payload.empty()) payload = "null";
    const bool has_newline = std::memchr(payload.data(), '\n', payload.size()) != nullptr;
    const std::size_t size = head_.size() + payload.size() + 2;
    // Without a lock: `waiting_` may not show the writer's last write yet, which errs towards
    // dropping (the owner always sees its own hand-overs): the bound holds.
    const std::size_t waiting = batch_.size() + waiting_.load(std::memory_order_relaxed);
    if (waiting != 0 && waiting + size > options_.max_queued_bytes) {
      ++dropped_pending_;
      dropped_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    append_marker();
    if (size >= batch_limit) return hand_over(true, payload, has_newline);
    batch_ += head_;
    const std::size_t at = batch_.size();
    batch_ += payload;
    if (has_newline) std::replace(batch_.begin() + static_cast<std::ptrdiff_t>(at), batch_.end(), '\n', ' ');
    batch_ += "}\n";
    if (!request_ || batch_.size() >= batch_limit) return hand_over();
    if (!requested_) {
      requested_ = true;
      request_();
    }
  }

  // ---- composing events (the routing thread) ----

  /// `{"type":T,"ts":S[,"protocol":P],"from":F,"to":T` into `head_`.
  void begin(std::string_view type, const trace_protocol* protocol, chain_position from, chain_position to) {
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
  void call(chain_position from, chain_position to, const json::value* id, std::string_view method,
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

  void response(chain_position from, chain_position to, const json::value& id, bool is_error,
                std::string_view payload) {
    begin("response", nullptr, from, to);
    head_ += R"(,"id":)";
    append_id(head_, id);
    head_ += is_error ? R"(,"is_error":true,"payload":)" : R"(,"is_error":false,"payload":)";
    enqueue(payload);
  }

  /// DOM params: serialized into `dom_`; the session into `session_`.
  void call_dom(chain_position from, chain_position to, const json::value* id, std::string_view method,
                const json::value* params, trace_protocol protocol) {
    std::optional<std::string_view> session;
    if (params && params->is_object())
      if (const auto* s = params->get_object().if_contains("sessionId"); s && s->is_string()) {
        session_.clear();
        jsonrpc::append_json_string(session_, s->get_string());
        session = session_;
      }
    dom_.clear();
    if (params && !params->is_null()) dom_ = json_write::to_string(*params);
    call(from, to, id, method, session, dom_, protocol);
    trim(dom_);
  }

  void response_dom(chain_position from, chain_position to, const json::value& id, bool is_error,
                    const json::value& payload) {
    dom_ = json_write::to_string(payload);
    response(from, to, id, is_error, dom_);
    trim(dom_);
  }
};

// ---- trace_writer ----------------------------------------------------------------------------

boost::system::result<trace_writer> trace_writer::open(const std::filesystem::path& path, trace_options options) {
  // Not through a link planted at the path, not into someone else's file (acp/sdk/private_file.hpp):
  // the checks come before the truncation, and the file ends up 0600.
  auto fd = open_private_file(path.string(), {.truncate = true});
  if (!fd) return fd.error().code;
  return adopt(*fd, std::move(options));
}

boost::system::result<trace_writer> trace_writer::without_file(trace_options options) {
  return adopt(-1, std::move(options));
}

boost::system::result<trace_writer> trace_writer::adopt(int fd, trace_options options) {
  auto s = std::make_unique<state>(fd, std::move(options));
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
    if (fd >= 0) ::close(fd);
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

trace_writer::~trace_writer() { close(); }

void trace_writer::close() {
  if (!state_ || state_->closed_) return;
  auto& s = *state_;
  s.closed_ = true;
  s.append_marker();
  s.hand_over();
  {
    const std::lock_guard lk(s.mu_);
    s.closing_ = true;
  }
  s.work_.notify_one();
  if (s.thread_.joinable()) s.thread_.join();
  if (s.fd_ >= 0) ::close(s.fd_);
}

bool trace_writer::flush(std::chrono::milliseconds timeout) {
  if (!state_) return true;
  auto& s = *state_;
  std::unique_lock lk(s.mu_);
  const auto target = s.enqueued_total_;
  ++s.flushing_; // the writer does not wait out its delay
  s.work_.notify_one();
  const bool done = s.done_.wait_for(lk, timeout, [&] { return s.processed_total_ >= target; });
  --s.flushing_;
  return done;
}

boost::system::error_code trace_writer::last_error() const {
  if (!state_) return {};
  const std::lock_guard lk(state_->mu_);
  return state_->error_;
}

std::uint64_t trace_writer::dropped_events() const {
  return state_ ? state_->dropped_total_.load(std::memory_order_relaxed) : 0;
}

void trace_writer::publish_on_request(std::function<void()> request) {
  if (!state_) return;
  publish();
  state_->request_ = std::move(request);
}

void trace_writer::publish() {
  if (!state_ || state_->closed_) return;
  state_->requested_ = false;
  state_->hand_over();
}

void trace_writer::message(chain_position from, chain_position to, const jsonrpc::message& m, trace_protocol protocol) {
  if (m.is_response()) return response(from, to, m.id(), m);
  if (!state_) return;
  auto& s = *state_;
  const json::value* id = m.is_request() ? &m.id() : nullptr;
  if (const auto text = m.payload_text()) {
    s.call(from, to, id, m.method(), session_in_text(*text), *text, protocol);
    return;
  }
  s.call_dom(from, to, id, m.method(), m.params(), protocol);
}

void trace_writer::request(chain_position from, chain_position to, const json::value& id, const jsonrpc::message& m,
                           trace_protocol protocol) {
  if (!state_) return;
  auto& s = *state_;
  if (const auto text = m.payload_text()) {
    s.call(from, to, &id, m.method(), session_in_text(*text), *text, protocol);
    return;
  }
  s.call_dom(from, to, &id, m.method(), m.params(), protocol);
}

void trace_writer::response(chain_position from, chain_position to, const json::value& id,
                            const jsonrpc::message& resp) {
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

void trace_writer::request(chain_position from, chain_position to, const json::value& id, std::string_view method,
                           const json::value* params, trace_protocol protocol) {
  if (state_) state_->call_dom(from, to, &id, method, params, protocol);
}

void trace_writer::response(chain_position from, chain_position to, const json::value& id, bool is_error,
                            const json::value& payload) {
  if (state_) state_->response_dom(from, to, id, is_error, payload);
}

void trace_writer::notification(chain_position from, chain_position to, std::string_view method,
                                const json::value* params, trace_protocol protocol) {
  if (state_) state_->call_dom(from, to, nullptr, method, params, protocol);
}

} // namespace acp::conductor
