// `acp-conductor trace stats`: the table, the JSON document and the command
// (acp/conductor/trace_tools.hpp, trace_stats.hpp).
#include "trace_stats.hpp"

#include <acp/conductor/trace_tools.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace acp::conductor {
namespace stats {
namespace json = boost::json;

namespace {

/// Columns on a terminal: UTF-8 continuation bytes take none.
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// Names come from the trace (from a peer): no control character reaches the terminal.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string fixed(double v, int decimals) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", decimals, v);
  return buf.data();
}

std::string with_unit(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  if (bytes < (std::uint64_t{1} << 20)) return fixed(static_cast<double>(bytes) / 1024.0, 1) + " KiB";
  if (bytes < (std::uint64_t{1} << 30)) return fixed(static_cast<double>(bytes) / (1024.0 * 1024.0), 1) + " MiB";
  return fixed(static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0), 2) + " GiB";
}

using table = std::vector<std::vector<std::string>>;

/// Left-aligned text columns, right-aligned numbers (`numeric[i]`), two spaces apart.
void render(std::string& out, const table& t, const std::vector<bool>& numeric) {
  std::vector<std::size_t> width(numeric.size(), 0);
  for (const auto& r : t)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], columns(r[i]));
  for (const auto& r : t) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::size_t pad = width[i] - columns(r[i]);
      if (i) line += "  ";
      if (numeric[i]) line.append(pad, ' ');
      line += r[i];
      if (!numeric[i] && i + 1 < r.size()) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

} // namespace

std::string format_latency(std::uint64_t us) {
  if (us < 1000) return std::to_string(us) + "\u00b5s";
  if (us < 1000000) return fixed(static_cast<double>(us) / 1000.0, 1) + "ms";
  return fixed(static_cast<double>(us) / 1e6, 3) + "s";
}

std::string format_table(const trace_stats& s, const trace_read_result& /*read: skipped lines go to stderr*/) {
  const auto& t = s.total();
  std::string out;
  out += plural(t.events, "event", "events") + " (" + with_unit(t.bytes) + ") over " +
         fixed(std::max(t.last_ts - t.first_ts, 0.0), 3) + "s: " + plural(t.requests, "request", "requests") + ", " +
         plural(t.responses, "response", "responses") + ", " +
         plural(t.notifications, "notification", "notifications") + "; " + plural(t.errors, "error", "errors") + ", " +
         plural(t.unanswered, "unanswered request", "unanswered requests") + ", " +
         plural(t.unpaired_responses, "unpaired response", "unpaired responses") + "\n";
  if (t.dropped_events) out += "the writer dropped " + plural(t.dropped_events, "event", "events") + " (queue full)\n";
  if (t.other_events) out += plural(t.other_events, "other event", "other events") + " (not counted in the rows)\n";
  if (t.evicted_pending)
    out += plural(t.evicted_pending, "request", "requests") + " given up as unanswered (more than " +
           std::to_string(s.limits().max_pending) + " pending at once)\n";
  if (t.folded_events)
    out += plural(t.folded_events, "message", "messages") + " folded into `(other methods)` (more than " +
           std::to_string(s.limits().max_rows) + " rows)\n";
  out += '\n';

  table rows{{"METHOD", "HOP", "KIND", "COUNT", "BYTES", "ERRORS", "UNANSWERED", "P50", "P95", "P99", "MAX"}};
  for (const row* r : s.rows_by_count()) {
    const bool timed = r->latency.count() > 0;
    auto lat = [&](double p) { return timed ? format_latency(r->latency.percentile(p)) : std::string("-"); };
    rows.push_back({printable(r->method), printable(r->hop()), r->notification ? "notification" : "request",
                    std::to_string(r->count), std::to_string(r->bytes),
                    r->notification ? "-" : std::to_string(r->errors),
                    r->notification ? "-" : std::to_string(r->unanswered), lat(50), lat(95), lat(99),
                    timed ? format_latency(r->latency.max()) : std::string("-")});
  }
  render(out, rows, {false, false, false, true, true, true, true, true, true, true, true});

  const auto slow = s.slowest();
  if (!slow.empty()) {
    out += "\nslowest requests:\n";
    table st{{"LATENCY", "METHOD", "HOP", "ID", "AT", "RESULT"}};
    for (const auto& r : slow)
      st.push_back({format_latency(r.latency_us), printable(r.method), printable(r.from + " \u2192 " + r.to),
                    printable(r.id.size() > 40 ? r.id.substr(0, 40) + "..." : r.id), fixed(r.ts, 6) + "s",
                    r.is_error ? "error" : "ok"});
    render(out, st, {true, false, false, false, true, false});
  }
  return out;
}

std::string format_json(const trace_stats& s, const trace_read_result& read) {
  const auto& t = s.total();
  json::object doc;
  doc["events"] = t.events;
  doc["bytes"] = t.bytes;
  doc["duration_s"] = std::max(t.last_ts - t.first_ts, 0.0);
  doc["requests"] = t.requests;
  doc["responses"] = t.responses;
  doc["notifications"] = t.notifications;
  doc["errors"] = t.errors;
  doc["unanswered"] = t.unanswered;
  doc["unpaired_responses"] = t.unpaired_responses;
  doc["dropped_events"] = t.dropped_events;
  doc["other_events"] = t.other_events;
  doc["skipped_lines"] = read.skipped;
  if (read.skipped) doc["first_skipped_line"] = read.first_skipped_line;
  doc["limits"] = {{"max_pending", s.limits().max_pending},
                   {"max_rows", s.limits().max_rows},
                   {"evicted_pending", t.evicted_pending},
                   {"folded_events", t.folded_events}};
  json::array rows;
  for (const row* r : s.rows_by_count()) {
    json::object o;
    o["method"] = r->method;
    o["from"] = r->from;
    o["to"] = r->to;
    o["kind"] = r->notification ? "notification" : "request";
    o["count"] = r->count;
    o["bytes"] = r->bytes;
    if (!r->notification) {
      o["errors"] = r->errors;
      o["unanswered"] = r->unanswered;
      o["answered"] = r->latency.count();
      if (r->latency.count() > 0)
        o["latency_us"] = {{"p50", r->latency.percentile(50)},
                           {"p95", r->latency.percentile(95)},
                           {"p99", r->latency.percentile(99)},
                           {"max", r->latency.max()}};
    }
    rows.push_back(std::move(o));
  }
  doc["rows"] = std::move(rows);
  json::array slow;
  for (const auto& r : s.slowest()) {
    json::object o;
    o["latency_us"] = r.latency_us;
    o["ts"] = r.ts;
    o["method"] = r.method;
    o["from"] = r.from;
    o["to"] = r.to;
    boost::system::error_code ec;
    auto id = json::parse(r.id, ec);
    o["id"] = ec ? json::value(r.id) : std::move(id);
    o["is_error"] = r.is_error;
    slow.push_back(std::move(o));
  }
  doc["slowest"] = std::move(slow);
  return json::serialize(doc) + "\n";
}

} // namespace stats

int run_trace_stats(const trace_command& command) {
  boost::system::error_code ec;
  std::FILE* in = open_trace_input(command.file, ec);
  if (!in) {
    std::fprintf(stderr, "acp-conductor: trace stats: cannot read %s: %s\n", command.file.c_str(),
                 ec.message().c_str());
    return 1;
  }
  stats::trace_stats s(stats::stats_limits{.slowest = command.slowest});
  const auto read = read_trace(in, [&](const boost::json::object& e, std::string_view line) { s.add(e, line); });
  close_trace_input(in);
  if (read.error) {
    std::fprintf(stderr, "acp-conductor: trace stats: error reading %s: %s\n", command.file.c_str(),
                 read.error.message().c_str());
    return 1;
  }
  s.finish();
  if (const auto skipped = skipped_summary(read); !skipped.empty())
    std::fprintf(stderr, "acp-conductor: trace stats: %s\n", skipped.c_str());
  const std::string out = command.json ? stats::format_json(s, read) : stats::format_table(s, read);
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "acp-conductor: trace stats: cannot write the output: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}

} // namespace acp::conductor
