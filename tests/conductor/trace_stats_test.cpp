// `acp-conductor trace stats`: pairing, counts, percentiles, the slowest list, bounds, the command.
#include "../../conductor/src/trace_stats.hpp"

#include <acp/conductor/trace_tools.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace acp::conductor::stats {
namespace {
namespace json = boost::json;

// A hand-written trace: id 1 reused on two hops, a string id answered with an error, streamed
// notifications, a response nobody asked for, a request never answered, and a truncated last line.
// clang-format off
const std::string sample = R"jsonl({"type":"request","ts":0.000000,"protocol":"acp","from":"Client","to":"Proxy(0)","id":1,"method":"initialize","params":{}}
{"type":"request","ts":0.001000,"protocol":"acp","from":"Proxy(0)","to":"Agent","id":1,"method":"initialize","params":{}}
{"type":"response","ts":0.011000,"from":"Agent","to":"Proxy(0)","id":1,"is_error":false,"payload":{}}
{"type":"response","ts":0.020000,"from":"Proxy(0)","to":"Client","id":1,"is_error":false,"payload":{}}
{"type":"request","ts":1.000000,"protocol":"acp","from":"Client","to":"Proxy(0)","id":"a","method":"session/prompt","session":"s","params":{}}
{"type":"notification","ts":1.100000,"protocol":"acp","from":"Proxy(0)","to":"Client","method":"session/update","session":"s","params":{}}
{"type":"notification","ts":1.200000,"protocol":"acp","from":"Proxy(0)","to":"Client","method":"session/update","session":"s","params":{}}
{"type":"response","ts":1.500000,"from":"Proxy(0)","to":"Client","id":"a","is_error":true,"payload":{"code":-32603,"message":"x"}}
{"type":"response","ts":2.000000,"from":"Proxy(0)","to":"Client","id":"1","is_error":false,"payload":{}}
{"type":"request","ts":2.100000,"protocol":"acp","from":"Client","to":"Proxy(0)","id":null,"method":"x/never","params":null}
{"type":"request","ts":2.2,"protocol":"acp","from":"Client","to":"Pro)jsonl";
// clang-format on

void feed(trace_stats& s, trace_read_result& r, const std::string& text) {
  std::FILE* f = ::fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  ASSERT_NE(f, nullptr);
  r = read_trace(f, [&](const json::object& e, std::string_view line) { s.add(e, line); });
  std::fclose(f);
  s.finish();
}

const row* find_row(const trace_stats& s, std::string_view method, std::string_view from, std::string_view to) {
  for (const row* r : s.rows_by_count())
    if (r->method == method && r->from == from && r->to == to) return r;
  return nullptr;
}

std::uint64_t line_bytes(int index) { // bytes of the sample's line `index` (0-based), newline included
  std::istringstream in(sample);
  std::string line;
  for (int i = 0; i <= index; ++i) std::getline(in, line);
  return line.size() + 1;
}

TEST(trace_stats, pairs_reused_ids_per_hop_and_counts_errors_unpaired_and_unanswered) {
  trace_stats s;
  trace_read_result r;
  feed(s, r, sample);
  EXPECT_EQ(r.events, 10u);
  EXPECT_EQ(r.skipped, 1u); // the truncated last line
  EXPECT_EQ(r.first_skipped_line, 11u);
  const auto& t = s.total();
  EXPECT_EQ(t.events, 10u);
  EXPECT_EQ(t.requests, 4u);
  EXPECT_EQ(t.responses, 4u);
  EXPECT_EQ(t.notifications, 2u);
  EXPECT_EQ(t.errors, 1u);
  EXPECT_EQ(t.unpaired_responses, 1u); // id "1" is not id 1
  EXPECT_EQ(t.unanswered, 1u);         // x/never
  EXPECT_DOUBLE_EQ(t.last_ts - t.first_ts, 2.1);

  const row* outer = find_row(s, "initialize", "Client", "Proxy(0)");
  const row* inner = find_row(s, "initialize", "Proxy(0)", "Agent");
  ASSERT_TRUE(outer && inner);
  EXPECT_EQ(outer->count, 1u);
  EXPECT_EQ(outer->latency.count(), 1u);
  EXPECT_EQ(outer->latency.percentile(50), 20000u); // 0.000 -> 0.020, not the inner hop's answer
  EXPECT_EQ(inner->latency.percentile(50), 10000u);
  EXPECT_EQ(outer->bytes, line_bytes(0) + line_bytes(3));
  EXPECT_EQ(inner->bytes, line_bytes(1) + line_bytes(2));

  const row* prompt = find_row(s, "session/prompt", "Client", "Proxy(0)");
  ASSERT_TRUE(prompt);
  EXPECT_EQ(prompt->errors, 1u);
  EXPECT_EQ(prompt->latency.max(), 500000u);
  const row* updates = find_row(s, "session/update", "Proxy(0)", "Client");
  ASSERT_TRUE(updates);
  EXPECT_TRUE(updates->notification);
  EXPECT_EQ(updates->count, 2u);
  EXPECT_EQ(updates->latency.count(), 0u);
  const row* never = find_row(s, "x/never", "Client", "Proxy(0)");
  ASSERT_TRUE(never);
  EXPECT_EQ(never->unanswered, 1u);

  // Sorted by count: the notifications' row first.
  EXPECT_EQ(s.rows_by_count().front(), updates);
  std::uint64_t bytes = 0;
  for (const row* x : s.rows_by_count()) bytes += x->bytes;
  EXPECT_EQ(bytes + line_bytes(8), t.bytes); // everything but the unpaired response is in a row
}

TEST(trace_stats, slowest_requests_are_a_bounded_list_slowest_first) {
  trace_stats s(stats_limits{.slowest = 2});
  trace_read_result r;
  feed(s, r, sample);
  const auto slow = s.slowest();
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(slow[0].method, "session/prompt");
  EXPECT_EQ(slow[0].latency_us, 500000u);
  EXPECT_EQ(slow[0].id, R"("a")");
  EXPECT_TRUE(slow[0].is_error);
  EXPECT_EQ(slow[1].latency_us, 20000u);
  EXPECT_EQ(slow[1].from, "Client");
  EXPECT_EQ(slow[1].id, "1");
}

TEST(trace_stats, a_reused_id_before_its_answer_leaves_the_first_unanswered) {
  trace_stats s;
  trace_read_result r;
  feed(s, r,
       R"({"type":"request","ts":0,"from":"Client","to":"Agent","id":5,"method":"a","params":null})"
       "\n"
       R"({"type":"request","ts":1,"from":"Client","to":"Agent","id":5,"method":"a","params":null})"
       "\n"
       R"({"type":"response","ts":1.25,"from":"Agent","to":"Client","id":5,"is_error":false,"payload":null})"
       "\n");
  const row* a = find_row(s, "a", "Client", "Agent");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->count, 2u);
  EXPECT_EQ(a->unanswered, 1u);
  EXPECT_EQ(a->latency.percentile(50), 250000u); // paired with the second
}

TEST(trace_stats, percentiles_are_exact_for_few_samples) {
  latency_histogram h;
  for (std::uint64_t v = 100; v >= 1; --v) h.add(v);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(95), 95u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(trace_stats, percentiles_of_many_samples_are_within_the_documented_precision) {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.add(v * 37);
  for (double p : {50.0, 95.0, 99.0}) {
    const double want = p / 100.0 * 100000 * 37;
    const double got = static_cast<double>(h.percentile(p));
    EXPECT_NEAR(got, want, want * 0.016) << "p" << p;
  }
  EXPECT_EQ(h.max(), 3700000u);
  EXPECT_EQ(h.percentile(100), 3700000u); // clamped to the maximum
  // Buckets tile the numbers: each starts where the previous ended.
  for (std::size_t i = 1; i < 1900; ++i)
    ASSERT_EQ(latency_histogram::bucket_low(i),
              latency_histogram::bucket_low(i - 1) + latency_histogram::bucket_width(i - 1))
        << i;
  for (std::uint64_t v : {0ull, 31ull, 32ull, 33ull, 1000ull, 123456789ull, ~0ull}) {
    const auto b = latency_histogram::bucket_of(v);
    EXPECT_LE(latency_histogram::bucket_low(b), v);
    EXPECT_GE(latency_histogram::bucket_low(b) + (latency_histogram::bucket_width(b) - 1), v);
  }
}

TEST(trace_stats, memory_stays_bounded_with_many_ids_and_methods) {
  const stats_limits limits{.max_pending = 1000, .max_rows = 50, .slowest = 5};
  trace_stats s(limits);
  std::string line;
  for (int i = 0; i < 200000; ++i) {
    line = R"({"type":"request","ts":)" + std::to_string(i) + R"(,"from":"Client","to":"Agent","id":)" +
           std::to_string(i) + R"(,"method":"m)" + std::to_string(i % 5000) + R"(","params":null})";
    const auto v = json::parse(line);
    s.add(v.as_object(), line);
    if (i % 2 == 0) { // every other one is answered, a while later
      line = R"({"type":"response","ts":)" + std::to_string(i) + R"(.5,"from":"Agent","to":"Client","id":)" +
             std::to_string(i) + R"(,"is_error":false,"payload":null})";
      s.add(json::parse(line).as_object(), line);
    }
    ASSERT_LE(s.pending(), limits.max_pending);
    ASSERT_LE(s.row_count(), limits.max_rows);
  }
  s.finish();
  EXPECT_EQ(s.total().unanswered, 100000u);
  EXPECT_EQ(s.total().evicted_pending, 100000u - 1000u);
  EXPECT_GT(s.total().folded_events, 0u);
  EXPECT_EQ(s.slowest().size(), 5u);
  latency_histogram h;
  for (std::uint64_t v = 1; v < (std::uint64_t{1} << 40); v = v * 3 + 1) h.add(v);
  for (int i = 0; i < 100000; ++i) h.add(static_cast<std::uint64_t>(i) * 99991);
  EXPECT_LE(h.heap_bytes(), std::size_t{16} << 10);
}

// ---- the command ----------------------------------------------------------------------------

class trace_stats_command : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-stats-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/t.jsons") << sample;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  /// Runs the command with stdout and stderr into files (and stdin from `stdin_file` if set).
  int run(const trace_command& c, const std::string& stdin_file = {}) {
    std::fflush(stdout);
    std::fflush(stderr);
    const int out = ::open((dir_ + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open((dir_ + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int saved_out = ::dup(1), saved_err = ::dup(2), saved_in = ::dup(0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!stdin_file.empty()) {
      const int in = ::open(stdin_file.c_str(), O_RDONLY);
      ::dup2(in, 0);
      ::close(in);
      std::clearerr(stdin);
    }
    const int code = run_trace_stats(c);
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved_out, 1);
    ::dup2(saved_err, 2);
    ::dup2(saved_in, 0);
    std::clearerr(stdin);
    for (int fd : {out, err, saved_out, saved_err, saved_in}) ::close(fd);
    return code;
  }
  std::string slurp(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  std::string dir_;
};

TEST_F(trace_stats_command, json_document_and_skipped_lines_on_stderr) {
  trace_command c;
  c.action = trace_command::action::stats;
  c.file = dir_ + "/t.jsons";
  c.json = true;
  ASSERT_EQ(run(c), 0);
  const auto doc = json::parse(slurp("out")).as_object();
  EXPECT_EQ(doc.at("events").as_int64(), 10);
  EXPECT_EQ(doc.at("skipped_lines").as_int64(), 1);
  EXPECT_EQ(doc.at("unpaired_responses").as_int64(), 1);
  EXPECT_EQ(doc.at("unanswered").as_int64(), 1);
  EXPECT_EQ(doc.at("rows").as_array().size(), 5u);
  EXPECT_EQ(doc.at("slowest").as_array().at(0).at("id"), json::value("a"));
  EXPECT_EQ(doc.at("slowest").as_array().at(0).at("latency_us").as_int64(), 500000);
  EXPECT_EQ(slurp("err"), "acp-conductor: trace stats: skipped 1 line that is not trace events (the first: line 11)\n")
      << "(the reader's wording)";
}

TEST_F(trace_stats_command, table_from_standard_input) {
  trace_command c;
  c.action = trace_command::action::stats;
  c.file = "-";
  ASSERT_EQ(run(c, dir_ + "/t.jsons"), 0);
  const auto out = slurp("out");
  EXPECT_NE(out.find("10 events"), std::string::npos) << out;
  EXPECT_NE(out.find("METHOD"), std::string::npos) << out;
  EXPECT_NE(out.find("session/prompt  Client \u2192 Proxy(0)"), std::string::npos) << out;
  EXPECT_NE(out.find("500.0ms"), std::string::npos) << out;
  EXPECT_NE(out.find("slowest requests:"), std::string::npos) << out;
}

TEST_F(trace_stats_command, a_missing_file_is_one_line_and_exit_1) {
  trace_command c;
  c.action = trace_command::action::stats;
  c.file = dir_ + "/nope.jsons";
  EXPECT_EQ(run(c), 1);
  const auto err = slurp("err");
  EXPECT_EQ(err.find("acp-conductor: trace stats: cannot read "), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  c.file = dir_; // a directory
  EXPECT_EQ(run(c), 1);
}

TEST_F(trace_stats_command, control_characters_in_names_never_reach_the_terminal) {
  std::ofstream(dir_ + "/evil.jsons")
      << R"({"type":"notification","ts":0,"from":"Client","to":"Agent","method":"a\u001b[31mred","params":null})"
      << "\n";
  trace_command c;
  c.action = trace_command::action::stats;
  c.file = dir_ + "/evil.jsons";
  ASSERT_EQ(run(c), 0);
  const auto out = slurp("out");
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_NE(out.find("a?[31mred"), std::string::npos) << out;
}

} // namespace
} // namespace acp::conductor::stats
