#pragma once
// `acp-conductor trace stats` (private to the conductor library; acp/conductor/trace_tools.hpp):
// per method and hop, how many messages, how many bytes, how many errors and how long requests
// took; the slowest requests. Built one event at a time, in bounded memory, so that a trace of
// any size streams through it.
//
// Pairing: a response answers the request with the same id travelling the other way on the same
// hop, that is a request (from A, to B, id) is answered by a response (from B, to A, id). Ids are
// compared as JSON (1 and "1" differ; null is an id). A response with no such request pending is
// `unpaired`; a request still pending at the end (or pushed out of the pending table, or replaced
// by a later request with the same id on the same hop) is `unanswered`.
//
// Bounds: at most `stats_limits::max_pending` requests wait for their response (beyond, the oldest
// is counted unanswered and forgotten); at most `max_rows` (method, hop) rows (beyond, the others
// are folded into one row `(other methods)`); the `slowest` list is a bounded heap; method names
// longer than 200 bytes are cut. Latencies are kept exactly for the first 256 of a row, then in a
// log-scale histogram of 32 buckets per power of two: a percentile is then within 1.6% (the
// bucket's middle, clamped to the row's minimum and maximum).

#include "trace_reader.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acp::conductor::stats {

/// Microseconds; exact for the first `exact_samples`, then a log histogram (see the top).
class latency_histogram {
public:
  static constexpr std::size_t exact_samples = 256;

  void add(std::uint64_t us);
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  /// Nearest rank: the smallest value with at least `p`% of the samples at or below it. 0 when empty.
  [[nodiscard]] std::uint64_t percentile(double p) const;
  /// Bytes this histogram holds on the heap (for the boundedness tests).
  [[nodiscard]] std::size_t heap_bytes() const noexcept;

  [[nodiscard]] static std::size_t bucket_of(std::uint64_t us) noexcept;
  [[nodiscard]] static std::uint64_t bucket_low(std::size_t index) noexcept;
  [[nodiscard]] static std::uint64_t bucket_width(std::size_t index) noexcept;

private:
  std::vector<std::uint64_t> samples_; // while count_ <= exact_samples
  std::vector<std::uint64_t> buckets_; // afterwards
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
};

struct row {
  std::string method;
  std::string from;
  std::string to;
  bool notification = false;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0; ///< the requests' (or notifications') and their responses' lines, newlines included
  std::uint64_t errors = 0;
  std::uint64_t unanswered = 0;
  latency_histogram latency;

  [[nodiscard]] std::string hop() const { return from + " \u2192 " + to; }
};

struct slow_request {
  std::uint64_t latency_us = 0;
  double ts = 0; ///< when the request was traced
  std::string method;
  std::string from;
  std::string to;
  std::string id; ///< as JSON text
  bool is_error = false;
};

struct stats_limits {
  std::size_t max_pending = 100000;
  std::size_t max_rows = 4096;
  std::size_t slowest = 10;
};

struct totals {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  std::uint64_t requests = 0;
  std::uint64_t notifications = 0;
  std::uint64_t responses = 0;
  std::uint64_t unpaired_responses = 0;
  std::uint64_t unanswered = 0;
  std::uint64_t errors = 0;
  std::uint64_t dropped_events = 0;  ///< the writer's own `dropped` markers' counts
  std::uint64_t other_events = 0;    ///< unknown types, or events without from/to/method
  std::uint64_t evicted_pending = 0; ///< unanswered because the pending table was full
  std::uint64_t folded_events = 0;   ///< counted in the `(other methods)` row
  double first_ts = 0;
  double last_ts = 0;
};

class trace_stats {
public:
  explicit trace_stats(stats_limits limits = {});

  /// One event, with its line (without the newline).
  void add(const boost::json::object& event, std::string_view line);
  /// The requests still pending become unanswered. Call once, after the last `add`.
  void finish();

  [[nodiscard]] const totals& total() const noexcept { return totals_; }
  [[nodiscard]] const stats_limits& limits() const noexcept { return limits_; }
  /// By count (highest first), then method and hop.
  [[nodiscard]] std::vector<const row*> rows_by_count() const;
  /// Slowest first.
  [[nodiscard]] std::vector<slow_request> slowest() const;
  [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }
  [[nodiscard]] std::size_t row_count() const noexcept { return rows_.size(); }

private:
  struct pending_request {
    std::uint64_t seq = 0;
    double ts = 0;
    std::size_t row = 0;
  };

  std::size_t row_for(std::string_view method, std::string_view from, std::string_view to, bool notification);
  void remember(std::string key, double ts, std::size_t row_index);
  void answered(std::string_view key, const boost::json::object& event, double ts, std::uint64_t bytes);
  void offer_slow(slow_request r);

  stats_limits limits_;
  totals totals_;
  std::vector<row> rows_;
  std::unordered_map<std::string, std::size_t> row_index_;
  std::size_t other_row_ = static_cast<std::size_t>(-1);
  std::unordered_map<std::string, pending_request> pending_;
  std::map<std::uint64_t, std::string> pending_order_; // seq -> key, oldest first
  std::uint64_t next_seq_ = 0;
  std::vector<slow_request> slow_heap_; // a min-heap on latency, at most limits_.slowest
  bool have_ts_ = false;
};

/// The table for people (aligned columns; control characters in names shown as `?`).
[[nodiscard]] std::string format_table(const trace_stats& s, const trace_read_result& read);
/// One JSON document.
[[nodiscard]] std::string format_json(const trace_stats& s, const trace_read_result& read);
/// `850µs`, `12.3ms`, `1.250s`.
[[nodiscard]] std::string format_latency(std::uint64_t us);

} // namespace acp::conductor::stats
