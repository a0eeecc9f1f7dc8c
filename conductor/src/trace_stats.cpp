// `acp-conductor trace stats`: the accumulation (trace_stats.hpp); the output is in
// trace_stats_format.cpp.
#include "trace_stats.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace acp::conductor::stats {
namespace json = boost::json;

namespace {

/// Sub-buckets per power of two (2^sub_bits).
constexpr unsigned sub_bits = 5;
constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
constexpr std::size_t max_method = 200;

std::string_view string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

bool number_member(const json::object& o, std::string_view key, double& out) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return false;
  out = v->to_number<double>();
  return true;
}

std::string pair_key(std::string_view from, std::string_view to, const json::value& id) {
  std::string key;
  key.reserve(from.size() + to.size() + 16);
  key += from;
  key += '\x1f';
  key += to;
  key += '\x1f';
  key += json::serialize(id);
  return key;
}

bool slower(const slow_request& a, const slow_request& b) {
  if (a.latency_us != b.latency_us) return a.latency_us > b.latency_us;
  return a.ts < b.ts;
}

} // namespace

// ---- latency_histogram --------------------------------------------------------------------

std::size_t latency_histogram::bucket_of(std::uint64_t us) noexcept {
  if (us < sub_count) return static_cast<std::size_t>(us);
  const unsigned e = static_cast<unsigned>(std::bit_width(us)) - 1; // floor(log2 us) >= sub_bits
  const unsigned shift = e - sub_bits;
  const std::uint64_t sub = (us >> shift) & (sub_count - 1);
  return static_cast<std::size_t>(sub_count + shift * sub_count + sub);
}

std::uint64_t latency_histogram::bucket_low(std::size_t index) noexcept {
  if (index < sub_count) return index;
  const std::uint64_t shift = (index - sub_count) / sub_count;
  const std::uint64_t sub = (index - sub_count) % sub_count;
  return (sub_count + sub) << shift;
}

std::uint64_t latency_histogram::bucket_width(std::size_t index) noexcept {
  if (index < sub_count) return 1;
  return std::uint64_t{1} << ((index - sub_count) / sub_count);
}

void latency_histogram::add(std::uint64_t us) {
  min_ = count_ == 0 ? us : std::min(min_, us);
  max_ = std::max(max_, us);
  ++count_;
  if (count_ <= exact_samples) {
    samples_.push_back(us);
    return;
  }
  if (!samples_.empty()) { // the samples go into the histogram once, then the vector is freed
    for (auto s : samples_) {
      const auto b = bucket_of(s);
      if (buckets_.size() <= b) buckets_.resize(b + 1);
      ++buckets_[b];
    }
    std::vector<std::uint64_t>().swap(samples_);
  }
  const auto b = bucket_of(us);
  if (buckets_.size() <= b) buckets_.resize(b + 1);
  ++buckets_[b];
}

std::uint64_t latency_histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const double exact_rank = std::ceil(p / 100.0 * static_cast<double>(count_));
  const auto rank = static_cast<std::uint64_t>(std::clamp(exact_rank, 1.0, static_cast<double>(count_)));
  if (buckets_.empty()) {
    std::vector<std::uint64_t> sorted = samples_;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(rank - 1), sorted.end());
    return sorted[rank - 1];
  }
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_low(i) + (bucket_width(i) - 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

std::size_t latency_histogram::heap_bytes() const noexcept {
  return (samples_.capacity() + buckets_.capacity()) * sizeof(std::uint64_t);
}

// ---- trace_stats ------------------------------------------------------------------------------

trace_stats::trace_stats(stats_limits limits) : limits_(limits) {
  limits_.max_pending = std::max<std::size_t>(limits_.max_pending, 1);
  limits_.max_rows = std::max<std::size_t>(limits_.max_rows, 1);
}

std::size_t trace_stats::row_for(std::string_view method, std::string_view from, std::string_view to,
                                 bool notification) {
  if (method.size() > max_method) method = method.substr(0, max_method);
  std::string key;
  key.reserve(method.size() + from.size() + to.size() + 4);
  key += notification ? 'n' : 'r';
  key += method;
  key += '\x1f';
  key += from;
  key += '\x1f';
  key += to;
  if (auto it = row_index_.find(key); it != row_index_.end()) return it->second;
  if (rows_.size() + 1 >= limits_.max_rows) { // the last row is kept for the others
    if (other_row_ == static_cast<std::size_t>(-1)) {
      other_row_ = rows_.size();
      rows_.push_back(row{.method = "(other methods)", .from = "*", .to = "*"});
    }
    ++totals_.folded_events;
    return other_row_;
  }
  rows_.push_back(row{
      .method = std::string(method), .from = std::string(from), .to = std::string(to), .notification = notification});
  row_index_.emplace(std::move(key), rows_.size() - 1);
  return rows_.size() - 1;
}

void trace_stats::remember(std::string key, double ts, std::size_t row_index) {
  if (auto it = pending_.find(key); it != pending_.end()) { // an id reused before its answer
    ++rows_[it->second.row].unanswered;
    ++totals_.unanswered;
    pending_order_.erase(it->second.seq);
    pending_.erase(it);
  }
  if (pending_.size() >= limits_.max_pending) { // the oldest is given up
    auto oldest = pending_order_.begin();
    auto it = pending_.find(oldest->second);
    ++rows_[it->second.row].unanswered;
    ++totals_.unanswered;
    ++totals_.evicted_pending;
    pending_.erase(it);
    pending_order_.erase(oldest);
  }
  const auto seq = next_seq_++;
  pending_order_.emplace(seq, key);
  pending_.emplace(std::move(key), pending_request{seq, ts, row_index});
}

void trace_stats::answered(std::string_view key, const json::object& event, double ts, std::uint64_t bytes) {
  auto it = pending_.find(std::string(key));
  if (it == pending_.end()) {
    ++totals_.unpaired_responses;
    return;
  }
  const auto req = it->second;
  pending_order_.erase(req.seq);
  pending_.erase(it);
  row& r = rows_[req.row];
  r.bytes += bytes;
  const auto* is_error = event.if_contains("is_error");
  const bool error = is_error && is_error->is_bool() && is_error->get_bool();
  if (error) {
    ++r.errors;
    ++totals_.errors;
  }
  const double seconds = std::max(ts - req.ts, 0.0);
  const auto us = static_cast<std::uint64_t>(std::llround(std::min(seconds * 1e6, 1e18)));
  r.latency.add(us);
  if (limits_.slowest == 0) return;
  const auto* id = event.if_contains("id");
  offer_slow(slow_request{.latency_us = us,
                          .ts = req.ts,
                          .method = r.method,
                          .from = r.from,
                          .to = r.to,
                          .id = id ? json::serialize(*id) : std::string("null"),
                          .is_error = error});
}

void trace_stats::offer_slow(slow_request r) {
  // `slower` as the heap's "less": the front is the fastest of those kept.
  if (slow_heap_.size() == limits_.slowest) {
    if (!slower(r, slow_heap_.front())) return;
    std::pop_heap(slow_heap_.begin(), slow_heap_.end(), slower);
    slow_heap_.back() = std::move(r);
  } else {
    slow_heap_.push_back(std::move(r));
  }
  std::push_heap(slow_heap_.begin(), slow_heap_.end(), slower);
}

void trace_stats::add(const json::object& event, std::string_view line) {
  const std::uint64_t bytes = line.size() + 1;
  ++totals_.events;
  totals_.bytes += bytes;
  double ts = 0;
  if (number_member(event, "ts", ts)) {
    if (!have_ts_) totals_.first_ts = ts;
    totals_.first_ts = std::min(totals_.first_ts, ts);
    totals_.last_ts = std::max(have_ts_ ? totals_.last_ts : ts, ts);
    have_ts_ = true;
  }
  const std::string_view type = string_member(event, "type");
  if (type == "dropped") {
    double n = 0;
    if (number_member(event, "count", n) && n > 0) totals_.dropped_events += static_cast<std::uint64_t>(n);
    return;
  }
  const std::string_view from = string_member(event, "from");
  const std::string_view to = string_member(event, "to");
  const auto* id = event.if_contains("id");
  const std::string_view method = string_member(event, "method");
  const bool known = type == "request" || type == "notification" || type == "response";
  const bool has_method = type == "response" || !method.empty();
  const bool has_id = type == "notification" || id != nullptr;
  if (!known || from.empty() || to.empty() || !has_method || !has_id) {
    ++totals_.other_events;
    return;
  }
  if (type == "response") {
    ++totals_.responses;
    answered(pair_key(to, from, *id), event, ts, bytes);
    return;
  }
  const bool notification = type == "notification";
  const auto index = row_for(method, from, to, notification);
  row& r = rows_[index];
  ++r.count;
  r.bytes += bytes;
  if (notification) {
    ++totals_.notifications;
    return;
  }
  ++totals_.requests;
  remember(pair_key(from, to, *id), ts, index);
}

void trace_stats::finish() {
  for (const auto& [key, p] : pending_) {
    ++rows_[p.row].unanswered;
    ++totals_.unanswered;
  }
  pending_.clear();
  pending_order_.clear();
}

std::vector<const row*> trace_stats::rows_by_count() const {
  std::vector<const row*> out;
  out.reserve(rows_.size());
  for (const auto& r : rows_) out.push_back(&r);
  std::sort(out.begin(), out.end(), [](const row* a, const row* b) {
    if (a->count != b->count) return a->count > b->count;
    if (a->method != b->method) return a->method < b->method;
    if (a->from != b->from) return a->from < b->from;
    return a->to < b->to;
  });
  return out;
}

std::vector<slow_request> trace_stats::slowest() const {
  std::vector<slow_request> out = slow_heap_;
  std::sort(out.begin(), out.end(), slower);
  return out;
}

} // namespace acp::conductor::stats
