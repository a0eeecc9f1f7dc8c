// RFC 6455 framing without I/O (see ws_framing.hpp).

#include "ws_framing.hpp"

#include <cstring>

namespace acp::net::detail {

namespace {

constexpr std::size_t keep_capacity = std::size_t{1} << 20;

void unmask(char* p, std::size_t n, const unsigned char key[4]) noexcept {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ key[i & 3]);
}

} // namespace

std::span<char> ws_decoder::prepare(std::size_t n) {
  if (start_ == end_) {
    start_ = end_ = 0;
    if (buf_.capacity() > keep_capacity && n <= keep_capacity) std::string().swap(buf_);
  } else if (start_ > 0 && buf_.size() - end_ < n) {
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (buf_.size() - end_ < n) buf_.resize(end_ + n);
  return {buf_.data() + end_, n};
}

std::optional<ws_event> ws_decoder::next() {
  while (!stopped_) {
    const auto avail = end_ - start_;
    if (avail < 2) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + start_);
    const bool fin = (p[0] & 0x80) != 0;
    const auto op = static_cast<ws_opcode>(p[0] & 0x0F);
    const bool masked = (p[1] & 0x80) != 0;
    std::uint64_t len = p[1] & 0x7F;
    if ((p[0] & 0x70) != 0) return fail("a frame with reserved bits set");
    const bool control = (p[0] & 0x08) != 0;
    if (op != ws_opcode::continuation && op != ws_opcode::text && op != ws_opcode::binary && op != ws_opcode::close &&
        op != ws_opcode::ping && op != ws_opcode::pong)
      return fail("a frame with an unknown opcode");
    if (role_ == ws_role::server && !masked) return fail("an unmasked frame from the client");
    if (role_ == ws_role::client && masked) return fail("a masked frame from the server");
    if (control && (!fin || len > 125)) return fail("a fragmented or long control frame");
    std::size_t header = 2;
    if (len == 126) {
      if (avail < 4) return std::nullopt;
      len = (std::uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (avail < 10) return std::nullopt;
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | p[i];
      if ((len >> 63) != 0) return fail("a frame length over 2^63");
      header = 10;
    }
    if (!control) {
      if (op == ws_opcode::continuation && !in_message_) return fail("a continuation frame outside a message");
      if (op != ws_opcode::continuation && in_message_) return fail("a new message inside a fragmented one");
      const std::uint64_t total = (in_message_ ? message_.size() : 0) + len;
      if (total > max_) {
        stopped_ = true;
        return ws_event{.type = ws_event::kind::oversized, .size = static_cast<std::size_t>(total), .code = 1009};
      }
    }
    const std::size_t key_bytes = masked ? 4 : 0;
    const std::size_t frame = header + key_bytes + static_cast<std::size_t>(len);
    if (avail < frame) return std::nullopt;
    char* payload = buf_.data() + start_ + header + key_bytes;
    if (masked) {
      unsigned char key[4];
      std::memcpy(key, buf_.data() + start_ + header, 4);
      unmask(payload, static_cast<std::size_t>(len), key);
    }
    start_ += frame;
    const std::string_view body(payload, static_cast<std::size_t>(len));
    switch (op) {
    case ws_opcode::ping:
      return ws_event{.type = ws_event::kind::ping, .payload = body};
    case ws_opcode::pong:
      return ws_event{.type = ws_event::kind::pong, .payload = body};
    case ws_opcode::close: {
      if (body.size() == 1) return fail("a close frame with a one-byte body");
      std::uint16_t code = 1005;
      if (body.size() >= 2)
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(body[0]) << 8) |
                                          static_cast<unsigned char>(body[1]));
      stopped_ = true;
      return ws_event{.type = ws_event::kind::close, .payload = body, .code = code};
    }
    default:
      break;
    }
    const auto kind_of = [](ws_opcode o) {
      return o == ws_opcode::text ? ws_event::kind::text : ws_event::kind::binary;
    };
    if (op != ws_opcode::continuation) {
      if (fin) return ws_event{.type = kind_of(op), .payload = body};
      in_message_ = true;
      message_op_ = op;
      message_.assign(body);
      continue;
    }
    message_.append(body);
    if (!fin) continue;
    in_message_ = false;
    return ws_event{.type = kind_of(message_op_), .payload = message_};
  }
  return std::nullopt;
}

void append_ws_frame(std::string& out, ws_opcode op, std::string_view payload, ws_masker* masker) {
  const auto n = payload.size();
  unsigned char h[14];
  std::size_t hn = 2;
  h[0] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(op));
  const unsigned char mask_bit = masker != nullptr ? 0x80 : 0;
  if (n < 126) {
    h[1] = static_cast<unsigned char>(mask_bit | n);
  } else if (n < 65536) {
    h[1] = mask_bit | 126;
    h[2] = static_cast<unsigned char>(n >> 8);
    h[3] = static_cast<unsigned char>(n);
    hn = 4;
  } else {
    h[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (56 - 8 * i));
    hn = 10;
  }
  if (masker == nullptr) {
    out.append(reinterpret_cast<const char*>(h), hn);
    out.append(payload);
    return;
  }
  const auto k = masker->next_key();
  unsigned char key[4] = {static_cast<unsigned char>(k >> 24), static_cast<unsigned char>(k >> 16),
                          static_cast<unsigned char>(k >> 8), static_cast<unsigned char>(k)};
  std::memcpy(h + hn, key, 4);
  hn += 4;
  out.append(reinterpret_cast<const char*>(h), hn);
  const auto at = out.size();
  out.append(payload);
  unmask(out.data() + at, n, key);
}

void append_ws_close(std::string& out, std::uint16_t code, ws_masker* masker) {
  const char body[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  append_ws_frame(out, ws_opcode::close, std::string_view(body, 2), masker);
}

} // namespace acp::net::detail
