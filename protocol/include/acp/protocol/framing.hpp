#pragma once
// Newline framing: one compact JSON value per line, terminated by '\n'.
//
// `line_decoder` is incremental: feed it byte chunks of any size (one byte at a time works) and
// pull events. It strips a trailing '\r', skips blank lines, and enforces the maximum line size
// on the bytes *before* any parsing: an over-long line is reported once and its bytes dropped up
// to the next '\n', so memory stays bounded by the limit. A line that starts with
// `Content-Length:` is reported as a header (LSP-style framing is not ACP) rather than as JSON.

#include <acp/protocol/text_buffer.hpp>

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace acp::jsonrpc {
class message;
} // namespace acp::jsonrpc

namespace acp::framing {

inline constexpr std::size_t default_max_line_bytes = std::size_t{64} << 20; // 64 MiB

struct frame {
  enum class kind {
    line,      ///< a complete, non-blank line (without '\n' and trailing '\r')
    oversized, ///< a line longer than the limit; `size` bytes were seen (and dropped) so far
    header,    ///< a `Content-Length:` header line; `text` is the line
  };
  kind type = kind::line;
  std::string_view text; ///< valid until the next call to feed/prepare/next/finish
  std::size_t size = 0;  ///< bytes of the line (for oversized: bytes seen when the limit was hit)
};

class line_decoder {
public:
  explicit line_decoder(std::size_t max_line_bytes = default_max_line_bytes);

  /// Appends bytes.
  void feed(std::string_view bytes);
  /// Zero-copy input: a writable region of at least `n` bytes; then `commit` what was written.
  [[nodiscard]] std::span<char> prepare(std::size_t n);
  void commit(std::size_t n);

  /// The next complete frame, or nullopt when more bytes are needed.
  [[nodiscard]] std::optional<frame> next();
  /// At end of input: the last line if it had no final '\n' (once), then nullopt.
  [[nodiscard]] std::optional<frame> finish();

  /// After `next()` returned `f` (a line): the buffer holding it, handed over as it is when the
  /// line is at least `text_buffer::large_bytes` long (the decoder goes on with a new buffer
  /// holding the bytes after the line), so a large message is never copied; `offset` is where
  /// `f.text` starts in it. For a shorter line: an empty buffer.
  [[nodiscard]] text_buffer take_buffer(const frame& f, std::size_t& offset);

  [[nodiscard]] std::size_t buffered_bytes() const noexcept { return buf_.size() - pos_; }
  [[nodiscard]] std::size_t max_line_bytes() const noexcept { return max_; }

private:
  std::optional<frame> classify(std::size_t begin, std::size_t end);
  void compact();

  std::size_t max_;
  text_buffer buf_;         // its size: the bytes read so far; not zero-filled, pages are touched as bytes arrive
  std::size_t pos_ = 0;     // start of unconsumed bytes
  std::size_t scanned_ = 0; // bytes from pos_ known to hold no '\n'
  bool discarding_ = false; // inside an over-long line: drop until '\n'
  std::size_t oversize_seen_ = 0;
};

/// Appends `v` as compact JSON plus '\n' to `out`.
void append_line(std::string& out, const boost::json::value& v);
void append_line(std::string& out, const boost::json::object& v);
/// A text message (jsonrpc.hpp) is written from its parts, its payload copied as it is.
void append_line(std::string& out, const jsonrpc::message& m);
/// `v` as compact JSON plus '\n'.
[[nodiscard]] std::string encode_line(const boost::json::value& v);

} // namespace acp::framing
