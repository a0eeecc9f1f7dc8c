#pragma once
// Private: RFC 6455 framing without I/O. `ws_decoder` parses frames out of bytes a channel
// reads (64 KiB per transport read), so every complete message buffered is available without
// another wait; `append_ws_frame` frames a payload into an output string.
//
// The decoder checks what RFC 6455 requires of a peer: reserved bits clear, known opcodes,
// control frames short and unfragmented, masking by role (a server requires masked frames from
// its client; a client refuses masked frames), continuation frames only inside a fragmented
// message, 64-bit lengths under 2^63. A violation ends decoding (`violation`, close code 1002).
// A data message over `max_message_bytes` is reported from its frame header (`oversized`,
// close code 1009) before its payload is buffered, so memory stays bounded. UTF-8 in text
// messages is not checked here: the JSON parser refuses invalid text.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

namespace acp::net::detail {

enum class ws_role { client, server };

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

/// One decoded unit: a whole data message, a control frame, or the end of decoding.
struct ws_event {
  enum class kind { text, binary, ping, pong, close, oversized, violation };
  kind type = kind::text;
  /// The payload (a data message reassembled, a control frame's body), valid until the next
  /// call to the decoder.
  std::string_view payload;
  std::size_t size = 0;    ///< oversized: the message bytes announced (at least)
  std::uint16_t code = 0;  ///< close: the peer's close code (1005 when none); violation: 1002
  std::string_view detail; ///< violation: what was wrong
};

class ws_decoder {
public:
  ws_decoder(ws_role role, std::size_t max_message_bytes) : role_(role), max_(max_message_bytes) {}

  /// Space for `n` more bytes (valid until `commit`).
  [[nodiscard]] std::span<char> prepare(std::size_t n);
  /// `n` bytes of what `prepare` gave were filled.
  void commit(std::size_t n) noexcept { end_ += n; }
  /// The next complete unit buffered, or nullopt (more bytes needed, or decoding has ended after
  /// `oversized` or `violation`).
  [[nodiscard]] std::optional<ws_event> next();
  /// Bytes buffered and not yet decoded.
  [[nodiscard]] std::size_t buffered_bytes() const noexcept { return end_ - start_; }

private:
  ws_event fail(std::string_view detail) {
    stopped_ = true;
    return ws_event{.type = ws_event::kind::violation, .code = 1002, .detail = detail};
  }

  ws_role role_;
  std::size_t max_;
  std::string buf_;
  std::size_t start_ = 0; // first byte not decoded
  std::size_t end_ = 0;   // end of the bytes read
  std::string message_;   // a fragmented message being reassembled
  bool in_message_ = false;
  ws_opcode message_op_ = ws_opcode::text;
  bool stopped_ = false;
};

/// Masking keys for the client role.
class ws_masker {
public:
  ws_masker() : rng_(std::random_device{}()) {}
  [[nodiscard]] std::uint32_t next_key() { return static_cast<std::uint32_t>(rng_()); }

private:
  std::mt19937 rng_;
};

/// Appends one final frame (`op`, `payload`) to `out`: masked with a fresh key when `masker` is
/// given (the client role), unmasked otherwise.
void append_ws_frame(std::string& out, ws_opcode op, std::string_view payload, ws_masker* masker);
/// Appends a close frame with `code` (and no reason).
void append_ws_close(std::string& out, std::uint16_t code, ws_masker* masker);

} // namespace acp::net::detail
