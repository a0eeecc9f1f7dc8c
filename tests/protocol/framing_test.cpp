// Exact-byte tests of newline framing (docs/PROTOCOL.md §1): acp::framing::line_decoder and the
// writers append_line / encode_line.
#include <acp/protocol/framing.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using acp::framing::frame;
using acp::framing::line_decoder;

// What a decoder produced, copied out (frame::text is only valid until the next call).
struct event {
  frame::kind type;
  std::string text;
  std::size_t size;
  friend bool operator==(const event&, const event&) = default;
};

std::ostream& operator<<(std::ostream& os, const event& e) {
  const char* k = e.type == frame::kind::line ? "line" : e.type == frame::kind::oversized ? "oversized" : "header";
  return os << k << "(" << e.size << ", \"" << e.text << "\")";
}

event copy(const frame& f) { return {f.type, std::string(f.text), f.size}; }

event line(std::string_view text) { return {frame::kind::line, std::string(text), text.size()}; }

void drain(line_decoder& d, std::vector<event>& out) {
  while (auto f = d.next()) out.push_back(copy(*f));
}

std::vector<event> finish(line_decoder& d, std::vector<event> out) {
  drain(d, out);
  if (auto f = d.finish()) out.push_back(copy(*f));
  EXPECT_FALSE(d.finish()) << "finish() returns the last line once";
  return out;
}

// Feeds `chunks` one after the other, draining after each, then finishes.
std::vector<event> decode_chunks(const std::vector<std::string_view>& chunks,
                                 std::size_t max = acp::framing::default_max_line_bytes) {
  line_decoder d(max);
  std::vector<event> out;
  for (auto c : chunks) {
    d.feed(c);
    drain(d, out);
  }
  return finish(d, std::move(out));
}

std::vector<event> decode(std::string_view bytes, std::size_t max = acp::framing::default_max_line_bytes) {
  return decode_chunks({bytes}, max);
}

// Several realistic messages, CRLF and LF, a blank and a whitespace-only line in between.
constexpr std::string_view stream =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":1}}\n"
    "\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\"}}\r\n"
    " \t \r\n"
    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"text\":\"h\\u00e9 \xC3\xA9\"}}\n"
    "[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"a\"},{\"jsonrpc\":\"2.0\",\"method\":\"b\"}]\n";

const std::vector<event> stream_lines = {
    line("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":1}}"),
    line("{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\"}}"),
    line("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"text\":\"h\\u00e9 \xC3\xA9\"}}"),
    line("[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"a\"},{\"jsonrpc\":\"2.0\",\"method\":\"b\"}]"),
};

TEST(framing, whole_stream_in_one_chunk) { EXPECT_EQ(decode(stream), stream_lines); }

TEST(framing, every_split_point_gives_the_same_lines) {
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    EXPECT_EQ(decode_chunks({stream.substr(0, i), stream.substr(i)}), stream_lines) << "split at " << i;
  }
}

TEST(framing, every_pair_of_split_points_gives_the_same_lines) {
  for (std::size_t i = 0; i <= stream.size(); i += 3) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      EXPECT_EQ(decode_chunks({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)}), stream_lines)
          << "split at " << i << " and " << j;
    }
  }
}

TEST(framing, one_byte_at_a_time_gives_the_same_lines) {
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  EXPECT_EQ(decode_chunks(bytes), stream_lines);
}

TEST(framing, prepare_commit_one_byte_at_a_time_gives_the_same_lines) {
  line_decoder d;
  std::vector<event> out;
  for (char c : stream) {
    auto dst = d.prepare(1);
    ASSERT_GE(dst.size(), 1u);
    dst[0] = c;
    d.commit(1);
    drain(d, out);
  }
  EXPECT_EQ(finish(d, std::move(out)), stream_lines);
}

TEST(framing, prepare_larger_than_commit) {
  // A reader prepares a big buffer and the OS fills only part of it.
  line_decoder d;
  std::vector<event> out;
  std::string_view rest = stream;
  while (!rest.empty()) {
    auto dst = d.prepare(4096);
    ASSERT_GE(dst.size(), 4096u);
    const std::size_t n = std::min<std::size_t>(7, rest.size());
    std::memcpy(dst.data(), rest.data(), n);
    d.commit(n);
    rest.remove_prefix(n);
    drain(d, out);
  }
  EXPECT_EQ(finish(d, std::move(out)), stream_lines);
}

TEST(framing, crlf_is_stripped_once) {
  EXPECT_EQ(decode("{}\r\n"), std::vector<event>{line("{}")});
  // Only the one '\r' before '\n' belongs to the terminator.
  EXPECT_EQ(decode("{}\r\r\n"), std::vector<event>{line("{}\r")});
  // A '\r' inside a line is data.
  EXPECT_EQ(decode("a\rb\n"), std::vector<event>{line("a\rb")});
}

TEST(framing, blank_and_whitespace_only_lines_are_skipped) {
  EXPECT_EQ(decode("\n\n\r\n \n\t\n \t\r\n{}\n\n"), std::vector<event>{line("{}")});
  EXPECT_EQ(decode(""), std::vector<event>{});
  EXPECT_EQ(decode("   "), std::vector<event>{}) << "a whitespace-only tail at EOF is blank too";
}

TEST(framing, leading_and_trailing_spaces_of_a_line_are_kept) {
  EXPECT_EQ(decode("  {} \n"), std::vector<event>{line("  {} ")});
}

TEST(framing, line_without_final_newline_is_returned_by_finish) {
  line_decoder d;
  d.feed("{\"a\":1}\n{\"b\":2}");
  auto f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "{\"a\":1}");
  EXPECT_FALSE(d.next()) << "the unterminated line waits for more bytes";
  auto last = d.finish();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->type, frame::kind::line);
  EXPECT_EQ(last->text, "{\"b\":2}");
  EXPECT_EQ(last->size, 7u);
  EXPECT_FALSE(d.finish());
  EXPECT_EQ(decode("{}\r"), std::vector<event>{line("{}")}) << "a final '\\r' is stripped at EOF too";
}

TEST(framing, finish_on_empty_input_gives_nothing) {
  line_decoder d;
  EXPECT_FALSE(d.next());
  EXPECT_FALSE(d.finish());
}

TEST(framing, line_exactly_at_the_limit_passes) {
  const std::string body(16, 'x');
  EXPECT_EQ(decode(body + "\n", 16), std::vector<event>{line(body)});
  EXPECT_EQ(decode(body + "\r\n", 16), std::vector<event>{line(body)}) << "the '\\r' does not count";
  EXPECT_EQ(decode(body, 16), std::vector<event>{line(body)}) << "at EOF";
  // Fed one byte at a time the decoder must not give up early either.
  std::vector<std::string_view> bytes;
  const std::string all = body + "\r\n" + body + "\n";
  for (std::size_t i = 0; i < all.size(); ++i) bytes.push_back(std::string_view(all).substr(i, 1));
  EXPECT_EQ(decode_chunks(bytes, 16), (std::vector<event>{line(body), line(body)}));
}

TEST(framing, line_over_the_limit_in_one_chunk_is_reported_once_and_the_next_decodes) {
  const std::string big(17, 'x');
  const auto got = decode(big + "\n{}\n", 16);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, frame::kind::oversized);
  EXPECT_EQ(got[0].size, 17u);
  EXPECT_TRUE(got[0].text.empty()) << "no bytes of an oversized line are handed out";
  EXPECT_EQ(got[1], line("{}"));
}

TEST(framing, line_over_the_limit_at_eof_is_reported) {
  const auto got = decode(std::string(17, 'x'), 16);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, frame::kind::oversized);
}

// Feeds `total` bytes of one over-long line in `chunk`-sized pieces, then "\n{}\n", checking
// that the decoder never holds more than limit + chunk bytes.
void oversized_across_chunks(std::size_t limit, std::size_t chunk, std::size_t total, bool zero_copy) {
  SCOPED_TRACE("limit " + std::to_string(limit) + ", chunk " + std::to_string(chunk) + ", total " +
               std::to_string(total) + (zero_copy ? ", prepare/commit" : ", feed"));
  line_decoder d(limit);
  std::vector<event> out;
  std::size_t max_buffered = 0;
  const std::string piece(chunk, 'y');
  auto push = [&](std::string_view bytes) {
    if (zero_copy) {
      auto dst = d.prepare(bytes.size());
      std::memcpy(dst.data(), bytes.data(), bytes.size());
      d.commit(bytes.size());
    } else {
      d.feed(bytes);
    }
    max_buffered = std::max(max_buffered, d.buffered_bytes());
    drain(d, out);
    max_buffered = std::max(max_buffered, d.buffered_bytes());
  };
  push("{\"first\":1}\n");
  for (std::size_t sent = 0; sent < total; sent += chunk)
    push(std::string_view(piece).substr(0, std::min(chunk, total - sent)));
  push("\n{}\n");
  out = finish(d, std::move(out));

  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], line("{\"first\":1}"));
  EXPECT_EQ(out[1].type, frame::kind::oversized) << "reported once";
  EXPECT_GT(out[1].size, limit);
  EXPECT_EQ(out[2], line("{}")) << "the line after the oversized one decodes normally";
  // The decoder notices an over-long line when next() runs, so it may hold up to limit + 1 bytes
  // (a final '\r' does not count) plus the chunk that arrived since.
  EXPECT_LE(max_buffered, limit + 1 + chunk) << "memory stays bounded by the limit";
}

TEST(framing, line_over_the_limit_across_small_chunks_is_reported_once_with_bounded_memory) {
  oversized_across_chunks(1024, 1, 10 * 1024, false);
  oversized_across_chunks(1024, 7, 100 * 1024, false);
  oversized_across_chunks(1024, 1000, 1024 * 1024, false);
  oversized_across_chunks(1 << 16, 4096, 4 << 20, false);
}

TEST(framing, line_over_the_limit_across_small_chunks_with_prepare_commit) {
  oversized_across_chunks(1024, 1, 10 * 1024, true);
  oversized_across_chunks(1024, 7, 100 * 1024, true);
  oversized_across_chunks(1 << 16, 4096, 4 << 20, true);
}

TEST(framing, oversized_line_ending_in_a_chunk_with_more_lines) {
  // The chunk that ends the over-long line also carries the next complete lines.
  line_decoder d(8);
  std::vector<event> out;
  d.feed("0123456789abcdef");
  drain(d, out);
  d.feed("ghij\n{\"a\":1}\n{\"b\":2}\n");
  drain(d, out);
  out = finish(d, std::move(out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].type, frame::kind::oversized);
  EXPECT_EQ(out[1], line("{\"a\":1}"));
  EXPECT_EQ(out[2], line("{\"b\":2}"));
}

TEST(framing, two_consecutive_oversized_lines_are_two_reports) {
  const std::string big(40, 'z');
  std::vector<std::string_view> bytes;
  const std::string all = big + "\n" + big + "\n{}\n";
  for (std::size_t i = 0; i < all.size(); i += 3) bytes.push_back(std::string_view(all).substr(i, 3));
  const auto got = decode_chunks(bytes, 8);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, frame::kind::oversized);
  EXPECT_EQ(got[1].type, frame::kind::oversized);
  EXPECT_EQ(got[2], line("{}"));
}

// buffered_bytes() counts the bytes held, not the spare capacity prepare() leaves behind.
TEST(framing, buffered_bytes_counts_unconsumed_input) {
  line_decoder d;
  EXPECT_EQ(d.buffered_bytes(), 0u);
  d.feed("{\"a\":1}\n{\"b\"");
  EXPECT_EQ(d.buffered_bytes(), 12u);
  ASSERT_TRUE(d.next());
  EXPECT_EQ(d.buffered_bytes(), 4u) << "the partial second line";
  EXPECT_FALSE(d.next());
  d.feed(":2}\n");
  ASSERT_TRUE(d.next());
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

TEST(framing, content_length_header_is_reported_as_header_in_any_case) {
  for (std::string_view h :
       {"Content-Length: 123", "content-length: 123", "CONTENT-LENGTH:123", "Content-length:  42\r"}) {
    const auto got = decode(std::string(h) + "\n{}\n");
    ASSERT_EQ(got.size(), 2u) << h;
    EXPECT_EQ(got[0].type, frame::kind::header) << h;
    std::string_view want = h;
    if (want.ends_with('\r')) want.remove_suffix(1);
    EXPECT_EQ(got[0].text, want);
    EXPECT_EQ(got[1], line("{}"));
  }
  // LSP framing: header, blank line, body without newline.
  const auto lsp = decode("Content-Length: 2\r\n\r\n{}");
  ASSERT_EQ(lsp.size(), 2u);
  EXPECT_EQ(lsp[0].type, frame::kind::header);
  EXPECT_EQ(lsp[1], line("{}"));
  // A JSON string mentioning the header is an ordinary line.
  EXPECT_EQ(decode("\"Content-Length: 1\"\n"), std::vector<event>{line("\"Content-Length: 1\"")});
  EXPECT_EQ(decode("Content-Type: x\n"), std::vector<event>{line("Content-Type: x")});
}

TEST(framing, invalid_utf8_passes_through_as_bytes) {
  const std::string bad = "{\"a\":\"\xFF\xFE\xC0\x80\xED\xA0\x80\"}";
  EXPECT_EQ(decode(bad + "\n"), std::vector<event>{line(bad)});
  // Split inside the invalid sequence.
  const std::string all = bad + "\n";
  for (std::size_t i = 0; i <= all.size(); ++i) {
    const std::string_view v = all;
    EXPECT_EQ(decode_chunks({v.substr(0, i), v.substr(i)}), std::vector<event>{line(bad)}) << "split at " << i;
  }
  // NUL bytes are data too.
  const std::string with_nul("a\0b", 3);
  EXPECT_EQ(decode(with_nul + "\n"), std::vector<event>{line(with_nul)});
}

TEST(framing, encode_line_is_compact_json_and_newline) {
  const auto v = boost::json::parse(R"( { "jsonrpc" : "2.0", "id" : 1,
      "params" : { "text" : "a\nb\u00e9", "list" : [ 1, 2.5, true, null ] } } )");
  EXPECT_EQ(
      acp::framing::encode_line(v),
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"params\":{\"text\":\"a\\nb\xC3\xA9\",\"list\":[1,2.5,true,null]}}\n"); // plain
                                                                                                              // decimals
                                                                                                              // (json_write.hpp)
  EXPECT_EQ(acp::framing::encode_line(boost::json::value(nullptr)), "null\n");
}

TEST(framing, append_line_appends_and_never_emits_a_raw_newline_inside) {
  std::string out = "prefix\n";
  boost::json::object o;
  o["s"] = "line1\nline2\r\n";
  acp::framing::append_line(out, o);
  acp::framing::append_line(out, boost::json::value(o));
  EXPECT_EQ(out, "prefix\n{\"s\":\"line1\\nline2\\r\\n\"}\n{\"s\":\"line1\\nline2\\r\\n\"}\n");
}

TEST(framing, append_line_large_value_round_trips_through_the_decoder) {
  // Bigger than the serializer's first buffer, to exercise the grow loop.
  boost::json::object o;
  o["text"] = std::string(300 * 1024, 'q');
  std::string out;
  acp::framing::append_line(out, o);
  acp::framing::append_line(out, o);
  line_decoder d;
  d.feed(out);
  for (int i = 0; i < 2; ++i) {
    auto f = d.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(boost::json::parse(f->text), boost::json::value(o));
  }
  EXPECT_FALSE(d.next());
  EXPECT_FALSE(d.finish());
}

} // namespace
