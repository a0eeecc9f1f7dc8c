// The RFC 6455 decoder and encoder on exact bytes: fragments reassembled, control frames,
// masking by role, the three length forms, the size limit, and many frames per read.

#include "ws_framing.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace acp::net::detail {
namespace {

/// Feeds `bytes` to `d` in one read.
void feed(ws_decoder& d, const std::string& bytes) {
  auto buf = d.prepare(bytes.size());
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  d.commit(bytes.size());
}

/// One frame by hand: `fin`, `op`, `payload`, masked with a fixed key when `masked`.
std::string frame(bool fin, unsigned op, const std::string& payload, bool masked) {
  std::string out;
  ws_masker m;
  append_ws_frame(out, static_cast<ws_opcode>(op), payload, masked ? &m : nullptr);
  if (!fin) out[0] = static_cast<char>(out[0] & 0x7F);
  return out;
}

TEST(ws_framing, a_fragmented_text_message_is_reassembled) {
  ws_decoder d(ws_role::server, 1000);
  feed(d, frame(false, 1, "{\"a\":", true) + frame(false, 0, "1", true) + frame(true, 9, "p", true) +
              frame(true, 0, "}", true));
  auto ping = d.next();
  ASSERT_TRUE(ping); // a control frame between fragments comes first
  EXPECT_EQ(ping->type, ws_event::kind::ping);
  EXPECT_EQ(ping->payload, "p");
  auto msg = d.next();
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->type, ws_event::kind::text);
  EXPECT_EQ(msg->payload, "{\"a\":1}");
  EXPECT_FALSE(d.next());
}

TEST(ws_framing, an_unmasked_frame_from_the_client_is_a_protocol_violation) {
  ws_decoder d(ws_role::server, 1000);
  feed(d, frame(true, 1, "{}", false));
  auto ev = d.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, ws_event::kind::violation);
  EXPECT_EQ(ev->code, 1002);
  EXPECT_FALSE(d.next());
}

TEST(ws_framing, a_masked_frame_from_the_server_and_reserved_bits_are_violations) {
  ws_decoder c(ws_role::client, 1000);
  feed(c, frame(true, 1, "{}", true));
  auto ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, ws_event::kind::violation);
  ws_decoder r(ws_role::client, 1000);
  auto f = frame(true, 1, "{}", false);
  f[0] = static_cast<char>(f[0] | 0x40);
  feed(r, f);
  ev = r.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, ws_event::kind::violation);
  EXPECT_EQ(ev->code, 1002);
}

TEST(ws_framing, the_three_length_forms_decode_byte_by_byte) {
  for (const std::size_t n :
       {std::size_t{125}, std::size_t{126}, std::size_t{65535}, std::size_t{65536}, std::size_t{70000}}) {
    const std::string payload(n, 'x');
    const auto f = frame(true, 1, payload, true);
    EXPECT_EQ(f.size(), n + 4 + (n < 126 ? 2 : n < 65536 ? 4 : 10)) << n;
    if (n >= 65536) {
      EXPECT_EQ(static_cast<unsigned char>(f[1]), 0x80 | 127);
    }
    ws_decoder d(ws_role::server, 100000);
    // Split anywhere: a header cut in two waits for the rest.
    feed(d, f.substr(0, 3));
    EXPECT_FALSE(d.next());
    feed(d, f.substr(3));
    auto ev = d.next();
    ASSERT_TRUE(ev) << n;
    EXPECT_EQ(ev->payload.size(), n);
    EXPECT_EQ(ev->payload, payload);
  }
}

TEST(ws_framing, a_message_over_the_limit_is_oversized_from_its_header) {
  ws_decoder d(ws_role::client, 1000);
  std::string f = frame(true, 1, std::string(70000, 'a'), false);
  feed(d, f.substr(0, 10)); // only the header: refused before the payload is buffered
  auto ev = d.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, ws_event::kind::oversized);
  EXPECT_EQ(ev->size, 70000U);
  EXPECT_EQ(ev->code, 1009);
  // Fragments adding up over the limit too.
  ws_decoder g(ws_role::client, 1000);
  feed(g, frame(false, 1, std::string(600, 'a'), false) + frame(true, 0, std::string(600, 'a'), false));
  ev = g.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, ws_event::kind::oversized);
  EXPECT_EQ(ev->size, 1200U);
}

TEST(ws_framing, many_frames_in_one_read_are_all_decoded_without_another_read) {
  ws_decoder d(ws_role::client, 1000);
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes += frame(true, 1, "{\"i\":" + std::to_string(i) + "}", false);
  feed(d, bytes);
  for (int i = 0; i < 100; ++i) {
    auto ev = d.next();
    ASSERT_TRUE(ev) << i;
    EXPECT_EQ(ev->payload, "{\"i\":" + std::to_string(i) + "}");
  }
  EXPECT_FALSE(d.next());
}

TEST(ws_framing, a_close_frame_carries_its_code_and_ends_decoding) {
  ws_decoder d(ws_role::server, 1000);
  std::string out;
  ws_masker m;
  append_ws_close(out, 1001, &m);
  feed(d, out + frame(true, 1, "{}", true));
  auto ev = d.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, ws_event::kind::close);
  EXPECT_EQ(ev->code, 1001);
  EXPECT_FALSE(d.next());
}

} // namespace
} // namespace acp::net::detail
