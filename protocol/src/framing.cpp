#include <acp/protocol/framing.hpp>
#include <acp/protocol/json_write.hpp>
#include <acp/protocol/jsonrpc.hpp>

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace acp::framing {

line_decoder::line_decoder(std::size_t max_line_bytes) : max_(max_line_bytes == 0 ? 1 : max_line_bytes) {}

namespace {
constexpr std::size_t small_capacity = 64 * 1024;
constexpr std::size_t shrink_above = std::size_t{1} << 20;
} // namespace

void line_decoder::compact() {
  if (pos_ == 0) return;
  if (pos_ == buf_.size()) {
    pos_ = 0;
    buf_.clear();
    // After a large message, give the memory back instead of keeping it for the next one.
    if (buf_.capacity() > shrink_above) buf_.reset();
    return;
  }
  // Move the unconsumed tail to the front only when it is cheap relative to what we free.
  if (pos_ >= buf_.size() - pos_ || pos_ > (std::size_t{1} << 20)) {
    std::memmove(buf_.data(), buf_.data() + pos_, buf_.size() - pos_);
    buf_.set_size(buf_.size() - pos_);
    pos_ = 0;
  }
}

std::span<char> line_decoder::prepare(std::size_t n) {
  compact();
  if (buf_.capacity() < buf_.size() + n) {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, buf_.size() - pos_);
      buf_.set_size(buf_.size() - pos_);
      pos_ = 0;
    }
    // text_buffer grows by half; a large buffer grows without copying (mremap).
    buf_.reserve(std::max(buf_.size() + n, small_capacity));
  }
  return {buf_.data() + buf_.size(), n};
}

text_buffer line_decoder::take_buffer(const frame& f, std::size_t& offset) {
  offset = 0;
  if (f.type != frame::kind::line || f.text.size() < text_buffer::large_bytes || f.text.data() < buf_.data() ||
      f.text.data() + f.text.size() > buf_.data() + buf_.size())
    return {};
  offset = static_cast<std::size_t>(f.text.data() - buf_.data());
  text_buffer rest;
  rest.append(std::string_view(buf_.data() + pos_, buf_.size() - pos_));
  text_buffer out = std::move(buf_);
  out.set_size(offset + f.text.size());
  buf_ = std::move(rest);
  pos_ = 0;
  scanned_ = 0;
  return out;
}

void line_decoder::commit(std::size_t n) {
  buf_.set_size(buf_.size() + n);
  if (!discarding_) return;
  // Drop bytes of the over-long line up to (not including) the next '\n'.
  const char* start = buf_.data() + pos_;
  const void* nl = std::memchr(start, '\n', buf_.size() - pos_);
  if (!nl) {
    oversize_seen_ += buf_.size() - pos_;
    pos_ = 0;
    buf_.clear();
    return;
  }
  const auto skip = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
  oversize_seen_ += skip;
  pos_ += skip + 1;
  scanned_ = 0;
  discarding_ = false;
}

void line_decoder::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t n = discarding_ ? std::min<std::size_t>(bytes.size(), 1 << 16) : bytes.size();
    auto dst = prepare(n);
    std::memcpy(dst.data(), bytes.data(), n);
    commit(n);
    bytes.remove_prefix(n);
  }
}

std::optional<frame> line_decoder::classify(std::size_t begin, std::size_t end) {
  std::string_view line(buf_.data() + begin, end - begin);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return std::nullopt; // blank
  if (line.size() > max_) return frame{frame::kind::oversized, {}, line.size()};
  constexpr std::string_view header = "content-length:";
  if (line.size() >= header.size() &&
      std::equal(header.begin(), header.end(), line.begin() + static_cast<std::ptrdiff_t>(first),
                 [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); })) {
    return frame{frame::kind::header, line, line.size()};
  }
  return frame{frame::kind::line, line, line.size()};
}

std::optional<frame> line_decoder::next() {
  while (!discarding_) {
    const std::size_t avail = buf_.size() - pos_;
    const char* start = buf_.data() + pos_;
    const void* nl = scanned_ < avail ? std::memchr(start + scanned_, '\n', avail - scanned_) : nullptr;
    if (!nl) {
      scanned_ = avail;
      if (avail > max_ + 1) { // +1: a final '\r' does not count
        // The line is already too long: report it once, drop what we hold, skip to '\n'.
        discarding_ = true;
        oversize_seen_ = avail;
        pos_ = 0;
        buf_.clear();
        scanned_ = 0;
        return frame{frame::kind::oversized, {}, oversize_seen_};
      }
      return std::nullopt;
    }
    const auto end = pos_ + static_cast<std::size_t>(static_cast<const char*>(nl) - start);
    const auto begin = pos_;
    pos_ = end + 1;
    scanned_ = 0;
    if (auto f = classify(begin, end)) return f;
  }
  return std::nullopt;
}

std::optional<frame> line_decoder::finish() {
  if (discarding_) {
    discarding_ = false;
    pos_ = 0;
    buf_.clear();
    return std::nullopt; // already reported
  }
  if (buf_.size() == pos_) return std::nullopt;
  const auto begin = pos_;
  const auto end = buf_.size();
  pos_ = buf_.size();
  scanned_ = 0;
  return classify(begin, end);
}

namespace {
template <class T> void append_impl(std::string& out, const T& v) {
  // Appended in place (geometric growth, no zero-fill); numbers as people write them (json_write.hpp).
  json_write::append(out, v);
  out.push_back('\n');
}
} // namespace

void append_line(std::string& out, const boost::json::value& v) { append_impl(out, v); }
void append_line(std::string& out, const boost::json::object& v) { append_impl(out, v); }

void append_line(std::string& out, const jsonrpc::message& m) {
  m.write_to(out); // the text as it arrived when the message still says what it said
  out.push_back('\n');
}

std::string encode_line(const boost::json::value& v) {
  std::string out;
  append_line(out, v);
  return out;
}

} // namespace acp::framing
