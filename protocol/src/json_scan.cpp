#include <acp/protocol/json_scan.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace acp::json_scan {

namespace {

/// `Validate` false: the text is known to be valid JSON (it was scanned before); only its
/// structure is followed, which is several times faster.
template <bool Validate> class scanner {
public:
  scanner(std::string_view text, std::size_t depth_limit) noexcept
      : p_(text.data()), end_(text.data() + text.size()), limit_(std::min(depth_limit, max_depth)) {}

  void skip_ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || (*p_ == '\n' && !one_line_) || *p_ == '\r')) ++p_;
  }
  void one_line() noexcept { one_line_ = true; }
  [[nodiscard]] bool at_end() const noexcept { return p_ == end_; }
  [[nodiscard]] const char* pos() const noexcept { return p_; }

  /// One value of any kind at the current position.
  bool value(std::size_t depth) noexcept {
    if (p_ == end_) return false;
    switch (*p_) {
    case '{':
      return object(depth + 1, nullptr, nullptr);
    case '[':
      return array(depth + 1);
    case '"':
      return string(nullptr);
    case 't':
      return literal("true");
    case 'f':
      return literal("false");
    case 'n':
      return literal("null");
    default:
      return number();
    }
  }

  void record_nested(nested_members* nested) noexcept { nested_ = nested; }

  /// An object; when `out` is given, its members are recorded (false when they do not fit, or,
  /// with `overflow`, that set and the recording stopped).
  bool object(std::size_t depth, std::span<member>* out, std::size_t* count, bool* overflow = nullptr) noexcept {
    if (depth > limit_) return false;
    ++p_; // '{'
    skip_ws();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      const char* key_begin = p_ + 1;
      bool escaped = false;
      if (!string(&escaped)) return false;
      const char* key_end = p_ - 1;
      skip_ws();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      const char* value_begin = p_;
      if (depth == 1 && nested_ && !escaped && p_ != end_ && *p_ == '{' &&
          std::string_view(key_begin, static_cast<std::size_t>(key_end - key_begin)) == nested_->key) {
        std::span<member> inner = nested_->out;
        std::size_t n = 0;
        bool full = false;
        if (!object(depth + 1, &inner, &n, &full)) return false;
        nested_->count = n;
        nested_->recorded = !full;
      } else if (!value(depth)) {
        return false;
      }
      if (out && *count == out->size()) {
        if (!overflow) return false;
        *overflow = true;
        out = nullptr;
      }
      if (out) {
        (*out)[(*count)++] = member{std::string_view(key_begin, static_cast<std::size_t>(key_end - key_begin)),
                                    std::string_view(value_begin, static_cast<std::size_t>(p_ - value_begin)), escaped};
      }
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  /// In an object at p_ (its `{`): the first member whose key is `key` as written; the scan stops
  /// after its value.
  std::optional<member> find(std::string_view key) noexcept {
    ++p_; // '{'
    skip_ws();
    if (p_ != end_ && *p_ == '}') return std::nullopt;
    for (;;) {
      if (p_ == end_ || *p_ != '"') return std::nullopt;
      const char* key_begin = p_ + 1;
      bool escaped = false;
      if (!string(&escaped)) return std::nullopt;
      const std::string_view k(key_begin, static_cast<std::size_t>(p_ - 1 - key_begin));
      skip_ws();
      if (p_ == end_ || *p_ != ':') return std::nullopt;
      ++p_;
      skip_ws();
      const char* value_begin = p_;
      if (!value(1)) return std::nullopt;
      if (!escaped && k == key)
        return member{k, std::string_view(value_begin, static_cast<std::size_t>(p_ - value_begin)), false};
      skip_ws();
      if (p_ == end_ || *p_ != ',') return std::nullopt; // '}': not there
      ++p_;
      skip_ws();
    }
  }

private:
  bool array(std::size_t depth) noexcept {
    if (depth > limit_) return false;
    ++p_; // '['
    skip_ws();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!value(depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  bool literal(std::string_view word) noexcept {
    if constexpr (!Validate) {
      p_ += word.size();
      return true;
    }
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

  bool number() noexcept {
    if constexpr (!Validate) {
      while (p_ != end_ && (digit(*p_) || *p_ == '-' || *p_ == '+' || *p_ == '.' || *p_ == 'e' || *p_ == 'E')) ++p_;
      return true;
    }
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    long magnitude = 0; // decimal digits before the point, then plus the exponent
    if (*p_ == '0') {
      ++p_;
      magnitude = 1;
    } else if (*p_ >= '1' && *p_ <= '9') {
      const char* first = p_;
      while (p_ != end_ && digit(*p_)) ++p_;
      magnitude = p_ - first;
    } else {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      bool negative = false;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) negative = *p_++ == '-';
      const char* digits = p_;
      long exponent = 0;
      while (p_ != end_ && digit(*p_)) {
        if (p_ - digits < 3) exponent = exponent * 10 + (*p_ - '0');
        ++p_;
      }
      // No digits is invalid; more than three is left to the full parser (it can overflow).
      if (p_ == digits || p_ - digits > 3) return false;
      magnitude += negative ? -exponent : exponent;
    }
    // Near or beyond the range of a double (Boost.JSON reads those as infinity, some zeros with
    // a large exponent as NaN): left to the full parser, which the line parser rejects them in.
    return magnitude < 300;
  }

  static int hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  /// Of eight bytes, a mask with bit 7 of each byte set where a string may not simply go on:
  /// a quote or a backslash, and when validating also control and non-ASCII bytes. Only the
  /// lowest set bit is exact (borrows may set higher ones), which is all `string` uses.
  static std::uint64_t special8(const char* s) noexcept {
    std::uint64_t w;
    std::memcpy(&w, s, 8);
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const std::uint64_t q = w ^ (ones * '"');
    const std::uint64_t b = w ^ (ones * '\\');
    std::uint64_t mask = ((q - ones) & ~q) | ((b - ones) & ~b);
    if constexpr (Validate) mask |= (w - ones * 0x20) | w; // bytes < 0x20, bytes >= 0x80
    return mask & highs;
  }

  /// One multi-byte UTF-8 sequence starting at p_ (its lead byte is >= 0x80).
  bool utf8() noexcept {
    const auto c = static_cast<unsigned char>(*p_);
    std::size_t len = 0;
    if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
      len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
      len = 4;
    else
      return false;
    if (static_cast<std::size_t>(end_ - p_) < len) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(p_[k]) & 0xC0) != 0x80) return false;
    const auto c1 = static_cast<unsigned char>(p_[1]);
    if (c == 0xE0 && c1 < 0xA0) return false;  // overlong
    if (c == 0xED && c1 >= 0xA0) return false; // surrogate
    if (c == 0xF0 && c1 < 0x90) return false;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return false; // above U+10FFFF
    p_ += len;
    return true;
  }

#if defined(__SSE2__)
  /// `special8` for sixteen bytes, exact: bit i set where byte i may not simply go on.
  static unsigned special16(const char* s) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    // Signed: bytes >= 0x80 are negative, so one comparison finds control and non-ASCII bytes.
    if constexpr (Validate) m = _mm_or_si128(m, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return static_cast<unsigned>(_mm_movemask_epi8(m));
  }
#endif

  /// A string at p_ (the opening quote); p_ ends after the closing quote.
  bool string(bool* escaped) noexcept {
    ++p_; // '"'
    for (;;) {
      bool found = false; // p_ is at a byte the loops below stop at
#if defined(__SSE2__)
      while (end_ - p_ >= 16) {
        const unsigned mask = special16(p_);
        if (mask == 0) {
          p_ += 16;
          continue;
        }
        p_ += std::countr_zero(mask);
        found = true;
        break;
      }
#endif
      while (!found && end_ - p_ >= 8) {
        const std::uint64_t mask = special8(p_);
        if (mask == 0) {
          p_ += 8;
          continue;
        }
        p_ += static_cast<unsigned>(std::countr_zero(mask)) / 8; // little-endian: first byte first
        break;
      }
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (escaped) *escaped = true;
        if (end_ - p_ < 2) return false;
        if constexpr (!Validate) {
          p_ += 2;
          continue;
        }
        switch (p_[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          p_ += 2;
          continue;
        case 'u': {
          if (end_ - p_ < 6) return false;
          int code = 0;
          for (int k = 2; k < 6; ++k) {
            const int h = hex(p_[k]);
            if (h < 0) return false;
            code = code * 16 + h;
          }
          if (code >= 0xD800 && code <= 0xDFFF) return false; // surrogates: left to the full parser
          p_ += 6;
          continue;
        }
        default:
          return false;
        }
      }
      if constexpr (Validate) {
        if (c < 0x20) return false;
        if (c >= 0x80 && !utf8()) return false;
        if (c >= 0x80) continue;
      }
      ++p_;
    }
  }

  const char* p_;
  const char* end_;
  std::size_t limit_;
  bool one_line_ = false; // a newline is not whitespace here
  nested_members* nested_ = nullptr;
};

template <bool Validate>
std::optional<std::size_t> scan_object_impl(std::string_view text, std::span<member> out, std::size_t depth_limit,
                                            bool one_line, nested_members* nested = nullptr) noexcept {
  scanner<Validate> s(text, depth_limit);
  if (one_line) s.one_line();
  s.record_nested(nested);
  s.skip_ws();
  if (s.at_end() || *s.pos() != '{') return std::nullopt;
  std::size_t count = 0;
  if (!s.object(1, &out, &count)) return std::nullopt;
  s.skip_ws();
  if (!s.at_end()) return std::nullopt;
  return count;
}

} // namespace

std::optional<std::string_view> scan_value(std::string_view text, std::size_t depth_limit) noexcept {
  scanner<true> s(text, depth_limit);
  s.skip_ws();
  const char* begin = s.pos();
  if (!s.value(0)) return std::nullopt;
  const char* end = s.pos();
  s.skip_ws();
  if (!s.at_end()) return std::nullopt;
  return std::string_view(begin, static_cast<std::size_t>(end - begin));
}

std::optional<std::size_t> scan_object(std::string_view text, std::span<member> out, std::size_t depth_limit,
                                       bool one_line) noexcept {
  return scan_object_impl<true>(text, out, depth_limit, one_line);
}

std::optional<std::size_t> scan_object(std::string_view text, std::span<member> out, std::size_t depth_limit,
                                       bool one_line, nested_members& nested) noexcept {
  nested.count = 0;
  nested.recorded = false;
  return scan_object_impl<true>(text, out, depth_limit, one_line, &nested);
}

std::optional<std::size_t> members_of_valid_object(std::string_view text, std::span<member> out) noexcept {
  return scan_object_impl<false>(text, out, max_depth, false);
}

std::optional<member> find_member_of_valid_object(std::string_view text, std::string_view key) noexcept {
  scanner<false> s(text, max_depth);
  s.skip_ws();
  if (s.at_end() || *s.pos() != '{') return std::nullopt;
  return s.find(key);
}

} // namespace acp::json_scan
