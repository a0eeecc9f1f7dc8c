// line_decoder::take_buffer: a large line's buffer is handed over as it is and the decoder goes
// on with the bytes after it; line_parser::parse(line, &owner) adopts that buffer.

#include <acp/protocol/framing.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/protocol/text_buffer.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace acp {
namespace {

using framing::frame;
using framing::line_decoder;

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = KiB * KiB;
constexpr std::size_t chunk = 64 * KiB;

/// A JSON-RPC notification line of exactly `size` bytes whose string body follows a pattern
/// seeded by `seed` (no small period: a shifted or repeated page shows).
std::string big_line(std::size_t size, unsigned seed,
                     std::string_view head = R"({"jsonrpc":"2.0","method":"big","params":{"data":")") {
  constexpr std::string_view tail = R"("}})";
  std::string s(head);
  const std::size_t body = size - head.size() - tail.size();
  s.reserve(size);
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < body; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s.push_back(static_cast<char>('a' + x % 26));
  }
  s.append(tail);
  return s;
}

/// A line the decoder produced: large ones with the buffer handed over.
struct taken_line {
  std::string small;  // a line under 1 MiB, copied
  text_buffer buffer; // a large line's buffer
  std::size_t offset = 0;
  std::size_t size = 0;
  [[nodiscard]] bool large() const { return !buffer.empty(); }
  [[nodiscard]] std::string_view text() const {
    return large() ? buffer.view().substr(offset, size) : std::string_view(small);
  }
};

/// Handles one frame as the connection does: takes the buffer of a large line.
void take(line_decoder& d, const frame& f, std::vector<taken_line>& out) {
  ASSERT_EQ(f.type, frame::kind::line);
  std::size_t offset = 999;
  auto buf = d.take_buffer(f, offset);
  taken_line t;
  t.size = f.text.size();
  if (f.text.size() < text_buffer::large_bytes) {
    EXPECT_TRUE(buf.empty());
    EXPECT_EQ(buf.data(), nullptr);
    EXPECT_EQ(offset, 0u);
    t.small = std::string(f.text);
  } else {
    ASSERT_FALSE(buf.empty()) << "a line of " << f.text.size() << " bytes was not handed over";
    ASSERT_LE(offset + f.text.size(), buf.size());
    EXPECT_EQ(buf.data() + offset, f.text.data()) << "offset is where the frame's text starts";
    t.buffer = std::move(buf);
    t.offset = offset;
  }
  out.push_back(std::move(t));
}

void drain(line_decoder& d, std::vector<taken_line>& out) {
  while (auto f = d.next()) {
    take(d, *f, out);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

enum class feeding { whole, feed_chunks, prepare_commit };

/// Feeds `bytes` the given way, taking lines after every chunk; then finish().
std::vector<taken_line> decode(std::string_view bytes, feeding how, std::size_t max = framing::default_max_line_bytes) {
  line_decoder d(max);
  std::vector<taken_line> out;
  if (how == feeding::whole) {
    d.feed(bytes);
    drain(d, out);
  } else {
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
      const auto part = bytes.substr(at, chunk);
      if (how == feeding::feed_chunks) {
        d.feed(part);
      } else {
        auto room = d.prepare(chunk); // as the connection reads: into the decoder's buffer
        std::memcpy(room.data(), part.data(), part.size());
        d.commit(part.size());
      }
      drain(d, out);
    }
  }
  if (auto f = d.finish()) take(d, *f, out);
  EXPECT_FALSE(d.finish());
  EXPECT_EQ(d.buffered_bytes(), 0u);
  return out;
}

std::string_view to_string(feeding f) {
  return f == feeding::whole ? "whole" : f == feeding::feed_chunks ? "feed 64 KiB" : "prepare/commit 64 KiB";
}

/// Compares the lines (the decoder is gone by now: taken buffers must stand on their own).
void expect_lines(const std::vector<taken_line>& got, const std::vector<std::string>& want, std::string_view what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].large(), want[i].size() >= text_buffer::large_bytes) << what << ", line " << i;
    EXPECT_EQ(got[i].size, want[i].size()) << what << ", line " << i;
    // Not EXPECT_EQ on the strings: a 9 MiB diff is no help.
    EXPECT_TRUE(got[i].text() == want[i])
        << what << ", line " << i << " differs (" << got[i].text().size() << " bytes, want " << want[i].size() << ")";
  }
}

TEST(framing_take_buffer, a_small_line_gives_an_empty_buffer_and_the_decoder_goes_on) {
  line_decoder d;
  d.feed("{\"a\":1}\n{\"b\":2}\r\npartial");
  auto f = d.next();
  ASSERT_TRUE(f);
  std::size_t offset = 42;
  const auto buf = d.take_buffer(*f, offset);
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(buf.capacity(), 0u);
  EXPECT_EQ(offset, 0u);
  EXPECT_EQ(f->text, "{\"a\":1}"); // still valid: nothing moved
  EXPECT_EQ(d.buffered_bytes(), std::string_view("{\"b\":2}\r\npartial").size());
  f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "{\"b\":2}");
  (void)d.take_buffer(*f, offset);
  EXPECT_FALSE(d.next());
  d.feed(" end\n");
  f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "partial end");
}

TEST(framing_take_buffer, the_threshold_is_1_mib_of_line_text_without_cr) {
  const auto below = big_line(text_buffer::large_bytes - 1, 1);
  const auto at = big_line(text_buffer::large_bytes, 2);
  // A line of exactly 1 MiB plus '\r': the text is 1 MiB and is handed over.
  const auto at_cr = big_line(text_buffer::large_bytes, 3);
  // 1 MiB including the '\r': the text is one byte short.
  const auto below_cr = big_line(text_buffer::large_bytes - 1, 4);
  const std::string bytes = below + "\n" + at + "\n" + at_cr + "\r\n" + below_cr + "\r\n";
  for (const auto how : {feeding::whole, feeding::feed_chunks, feeding::prepare_commit}) {
    const auto got = decode(bytes, how);
    expect_lines(got, {below, at, at_cr, below_cr}, to_string(how));
    ASSERT_EQ(got.size(), 4u);
    EXPECT_FALSE(got[0].large());
    EXPECT_TRUE(got[1].large());
    EXPECT_TRUE(got[2].large());
    EXPECT_FALSE(got[3].large());
  }
}

// The matrix of the brief: 2 MiB and 9 MiB, three ways of feeding, and what follows the line.
struct following {
  std::string name;
  std::string bytes;              // after the large line's '\n'
  std::vector<std::string> lines; // the lines they hold (finish() included)
};

std::vector<following> followings() {
  const std::string s1 = R"({"jsonrpc":"2.0","method":"after","params":{"i":1}})";
  const std::string s2 = R"({"jsonrpc":"2.0","id":2,"result":{}})";
  const std::string partial = R"({"jsonrpc":"2.0","method":"cut","params":{"x":")";
  return {
      {"nothing", "", {}},
      {"one byte", "{", {"{"}},
      {"complete and partial lines, CRLF and blank", s1 + "\n" + s2 + "\r\n\n \r\n" + partial, {s1, s2, partial}},
      {"another large line and a small one",
       big_line(3 * MiB + 17, 9) + "\r\n" + s1 + "\n",
       {big_line(3 * MiB + 17, 9), s1}},
  };
}

TEST(framing_take_buffer, a_large_line_is_handed_over_byte_exact_whatever_follows_and_however_fed) {
  const std::string before = R"({"jsonrpc":"2.0","method":"before"})";
  for (const std::size_t size : {2 * MiB, 9 * MiB + 3}) {
    const auto line = big_line(size, static_cast<unsigned>(size));
    for (const auto& next : followings()) {
      for (const bool small_first : {false, true}) {
        std::string bytes = small_first ? before + "\n" + line + "\n" + next.bytes : line + "\n" + next.bytes;
        std::vector<std::string> want;
        if (small_first) want.push_back(before);
        want.push_back(line);
        want.insert(want.end(), next.lines.begin(), next.lines.end());
        for (const auto how : {feeding::whole, feeding::feed_chunks, feeding::prepare_commit}) {
          const auto what = std::to_string(size) + " bytes, followed by " + next.name +
                            (small_first ? ", after a small line" : "") + ", " + std::string(to_string(how));
          expect_lines(decode(bytes, how), want, what);
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
}

TEST(framing_take_buffer, the_rest_goes_on_in_a_new_buffer_after_the_take) {
  // One piece: a large line, then a complete line, then a partial one completed later.
  const auto line = big_line(2 * MiB, 5);
  line_decoder d;
  d.feed(line + "\n{\"n\":1}\n{\"n\":");
  auto f = d.next();
  ASSERT_TRUE(f);
  std::size_t offset = 0;
  auto buf = d.take_buffer(*f, offset);
  ASSERT_FALSE(buf.empty());
  EXPECT_EQ(offset, 0u);
  EXPECT_EQ(d.buffered_bytes(), std::string_view("{\"n\":1}\n{\"n\":").size());
  // The decoder's further writes do not touch the taken buffer.
  d.feed(std::string(100, ' ') + "2}\n");
  d.feed(big_line(4 * MiB, 6) + "\n"); // enough to reuse any memory it still held
  f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "{\"n\":1}");
  f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "{\"n\":" + std::string(100, ' ') + "2}");
  f = d.next();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->text == big_line(4 * MiB, 6));
  EXPECT_TRUE(buf.view().substr(offset, line.size()) == line);
  EXPECT_FALSE(d.next());
}

TEST(framing_take_buffer, a_large_line_ending_exactly_at_a_chunk_end) {
  const std::string small = R"({"jsonrpc":"2.0","method":"next"})";
  // '\n' as the last byte of a chunk; '\n' as the first byte of the next; "\r" | "\n" split.
  const auto ends_at_chunk = big_line(32 * chunk - 1, 11);
  const auto nl_next_chunk = big_line(32 * chunk, 12);
  const auto cr_split = big_line(32 * chunk - 1, 13);
  for (const auto how : {feeding::feed_chunks, feeding::prepare_commit, feeding::whole}) {
    expect_lines(decode(ends_at_chunk + "\n" + small + "\n", how), {ends_at_chunk, small},
                 "newline ends the chunk, " + std::string(to_string(how)));
    expect_lines(decode(nl_next_chunk + "\n" + small + "\n", how), {nl_next_chunk, small},
                 "newline starts the next chunk, " + std::string(to_string(how)));
    expect_lines(decode(cr_split + "\r\n" + small + "\r\n", how), {cr_split, small},
                 "CR ends the chunk, " + std::string(to_string(how)));
    // Exactly chunk-sized input: the line and its '\n' fill the chunks, nothing follows.
    expect_lines(decode(ends_at_chunk + "\n", how), {ends_at_chunk}, "nothing after, " + std::string(to_string(how)));
  }
}

TEST(framing_take_buffer, a_large_last_line_without_newline_is_handed_over_by_finish) {
  const auto line = big_line(3 * MiB, 21);
  for (const auto how : {feeding::whole, feeding::feed_chunks, feeding::prepare_commit}) {
    expect_lines(decode("{\"first\":1}\n" + line, how), {"{\"first\":1}", line}, to_string(how));
    expect_lines(decode(line + "\r", how), {line}, std::string(to_string(how)) + ", CR last");
  }
}

TEST(framing_take_buffer, headers_oversized_lines_and_foreign_frames_are_not_handed_over) {
  line_decoder d(4 * MiB);
  const std::string header = "Content-Length: " + std::string(2 * MiB, '9');
  d.feed(header + "\n");
  auto f = d.next();
  ASSERT_TRUE(f);
  ASSERT_EQ(f->type, frame::kind::header);
  std::size_t offset = 7;
  EXPECT_TRUE(d.take_buffer(*f, offset).empty());
  EXPECT_EQ(offset, 0u);

  d.feed(std::string(5 * MiB, 'x') + "\n{\"after\":1}\n");
  f = d.next();
  ASSERT_TRUE(f);
  ASSERT_EQ(f->type, frame::kind::oversized);
  EXPECT_TRUE(d.take_buffer(*f, offset).empty());

  // A frame whose text is not in the decoder's buffer.
  const std::string elsewhere = big_line(2 * MiB, 3);
  const frame foreign{frame::kind::line, elsewhere, elsewhere.size()};
  EXPECT_TRUE(d.take_buffer(foreign, offset).empty());
  EXPECT_EQ(offset, 0u);

  f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "{\"after\":1}");
}

// ---- line_parser::parse(line, &owner) ------------------------------------------------------

/// Decodes `bytes` (one large line plus `more`) and takes the line's buffer.
struct taken {
  line_decoder decoder;
  text_buffer owner;
  std::size_t offset = 0;
  std::size_t size = 0;
  [[nodiscard]] std::string_view line() const { return owner.view().substr(offset, size); }
};

void take_first(taken& t, std::string_view bytes) {
  t.decoder.feed(bytes);
  auto f = t.decoder.next();
  while (f && f->text.size() < text_buffer::large_bytes) f = t.decoder.next(); // small lines before it
  ASSERT_TRUE(f);
  t.size = f->text.size();
  t.owner = t.decoder.take_buffer(*f, t.offset);
  ASSERT_FALSE(t.owner.empty());
}

bool overlaps(std::string_view a, const char* b, std::size_t n) { return a.data() < b + n && b < a.data() + a.size(); }

TEST(framing_take_buffer, parse_adopts_the_buffer_of_a_large_text_message) {
  const std::string params = big_line(5 * MiB, 31, R"({"data":")").substr(0, 5 * MiB - 1); // {"data":"..."}
  ASSERT_EQ(params.back(), '}');
  const std::string line = R"({"jsonrpc":"2.0","id":7,"method":"session/prompt","params":)" + params + "}";
  ASSERT_TRUE(boost::json::parse(line).is_object());
  taken t;
  take_first(t, "{\"small\":0}\n" + line + "\n{\"jsonrpc\":\"2.0\",\"method\":\"after\"}\n");
  if (HasFatalFailure()) return;
  const char* owner_data = t.owner.data();
  const auto params_at = t.offset + line.find(R"("params":)") + 9;

  jsonrpc::line_parser parser;
  auto parsed = parser.parse(t.line(), &t.owner);
  ASSERT_FALSE(parsed.batch);
  ASSERT_EQ(parsed.items.size(), 1u);
  auto* msg = std::get_if<jsonrpc::message>(&parsed.items[0]);
  ASSERT_NE(msg, nullptr);
  EXPECT_TRUE(msg->is_request());
  EXPECT_EQ(msg->id(), 7);
  EXPECT_EQ(msg->method(), "session/prompt");
  ASSERT_TRUE(msg->is_text());
  // Adopted: the payload is the owner's memory, and the owner is left empty.
  const auto payload = *msg->payload_text();
  EXPECT_EQ(payload.data(), owner_data + params_at);
  EXPECT_TRUE(payload == params);
  EXPECT_TRUE(t.owner.empty());
  EXPECT_EQ(t.owner.data(), nullptr);
  EXPECT_EQ(t.owner.capacity(), 0u);

  // The decoder goes on in memory of its own: filling it leaves the message alone.
  auto room = t.decoder.prepare(2 * MiB);
  EXPECT_FALSE(overlaps(payload, room.data(), room.size()));
  std::memset(room.data(), '\n', room.size());
  t.decoder.commit(room.size());
  auto f = t.decoder.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->text, "{\"jsonrpc\":\"2.0\",\"method\":\"after\"}");
  EXPECT_FALSE(t.decoder.next()); // blank lines only
  EXPECT_TRUE(msg->payload_text() == params);

  // The message owns its bytes: it outlives the decoder, and its DOM is the line's.
  t.decoder = line_decoder();
  EXPECT_TRUE(msg->payload_text() == params);
  EXPECT_EQ(msg->json(), boost::json::parse(line).as_object());
}

TEST(framing_take_buffer, parse_adopts_the_buffer_of_a_large_notification_and_response) {
  const std::string body = big_line(2 * MiB, 41, "[\"").substr(0, 2 * MiB - 2) + "]"; // ["..."] (tail cut)
  ASSERT_TRUE(boost::json::parse(body).is_array());
  for (const bool response : {false, true}) {
    const std::string line = response ? R"({"jsonrpc":"2.0","id":"r-1","result":)" + body + "}"
                                      : R"({"jsonrpc":"2.0","method":"session/update","params":)" + body + "}";
    taken t;
    take_first(t, line + "\r\n");
    if (HasFatalFailure()) return;
    const char* owner_data = t.owner.data();
    jsonrpc::line_parser parser;
    auto parsed = parser.parse(t.line(), &t.owner);
    auto* msg = std::get_if<jsonrpc::message>(&parsed.items.at(0));
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(msg->is_response(), response);
    ASSERT_TRUE(msg->is_text());
    EXPECT_EQ(msg->payload_text()->data(), owner_data + t.offset + line.size() - body.size() - 1);
    EXPECT_TRUE(*msg->payload_text() == body);
    EXPECT_TRUE(t.owner.empty());
  }
}

TEST(framing_take_buffer, parse_leaves_the_owner_alone_when_the_line_is_not_a_text_message) {
  const std::string blob = big_line(2 * MiB, 51, "\"").substr(0, 2 * MiB - 3) + "\""; // "...", a JSON string
  ASSERT_TRUE(boost::json::parse(blob).is_string());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"error response", R"({"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"m","data":)" + blob + "}}"},
      {"invalid JSON", R"({"jsonrpc":"2.0","method":"m","params":{"data":)" + blob + ","},
      {"unknown member", R"({"jsonrpc":"2.0","method":"m","x-extra":1,"params":{"data":)" + blob + "}}"},
      {"batch", R"([{"jsonrpc":"2.0","method":"m","params":{"data":)" + blob + "}}]"},
      {"string params", R"({"jsonrpc":"2.0","method":"m","params":)" + blob + "}"},
  };
  for (const auto& [name, line] : cases) {
    taken t;
    take_first(t, line + "\n");
    if (HasFatalFailure()) return;
    const char* data = t.owner.data();
    const auto size = t.owner.size();
    const auto cap = t.owner.capacity();
    jsonrpc::line_parser parser;
    auto parsed = parser.parse(t.line(), &t.owner);
    EXPECT_EQ(t.owner.data(), data) << name;
    EXPECT_EQ(t.owner.size(), size) << name;
    EXPECT_EQ(t.owner.capacity(), cap) << name;
    EXPECT_TRUE(t.line() == line) << name << ": the owner's bytes changed";
    ASSERT_FALSE(parsed.items.empty()) << name;
    if (name == "error response") {
      auto* msg = std::get_if<jsonrpc::message>(&parsed.items[0]);
      ASSERT_NE(msg, nullptr);
      EXPECT_FALSE(msg->is_text());
      ASSERT_TRUE(msg->is_error());
      EXPECT_EQ(msg->error()->code, -32000);
      EXPECT_EQ(msg->error()->data, boost::json::parse(blob));
    } else if (name == "invalid JSON") {
      auto* bad = std::get_if<jsonrpc::invalid_message>(&parsed.items[0]);
      ASSERT_NE(bad, nullptr);
      EXPECT_EQ(bad->error.code, -32700);
    } else if (name == "unknown member") {
      auto* msg = std::get_if<jsonrpc::message>(&parsed.items[0]);
      ASSERT_NE(msg, nullptr);
      EXPECT_FALSE(msg->is_text());
      EXPECT_EQ(msg->json().at("x-extra"), 1);
    } else if (name == "batch") {
      EXPECT_TRUE(parsed.batch);
    } else {
      auto* bad = std::get_if<jsonrpc::invalid_message>(&parsed.items[0]);
      ASSERT_NE(bad, nullptr);
      EXPECT_EQ(bad->error.code, -32600);
    }
  }
}

TEST(framing_take_buffer, parse_without_an_owner_copies_the_line) {
  const std::string line =
      R"({"jsonrpc":"2.0","method":"m","params":)" + big_line(2 * MiB, 61, R"({"data":")").substr(0, 2 * MiB - 1) + "}";
  jsonrpc::line_parser parser;
  auto parsed = parser.parse(line);
  auto* msg = std::get_if<jsonrpc::message>(&parsed.items.at(0));
  ASSERT_NE(msg, nullptr);
  ASSERT_TRUE(msg->is_text());
  EXPECT_FALSE(overlaps(*msg->payload_text(), line.data(), line.size()));
  EXPECT_TRUE(*msg->payload_text() == std::string_view(line).substr(line.find(R"("params":)") + 9, 2 * MiB - 1));
}

} // namespace
} // namespace acp
