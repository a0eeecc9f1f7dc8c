#include "trace_blocks.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <limits.h>
#include <sys/uio.h>

namespace acp::conductor::detail {

void trace_blocks::append(std::string_view s, std::vector<trace_block>& spares, bool newlines_to_spaces) {
  while (!s.empty()) {
    if (blocks_.empty() || blocks_.back().used == trace_block::capacity) {
      if (spares.empty()) {
        blocks_.push_back({std::make_unique_for_overwrite<char[]>(trace_block::capacity), 0});
      } else {
        blocks_.push_back(std::move(spares.back()));
        spares.pop_back();
        blocks_.back().used = 0;
      }
    }
    auto& b = blocks_.back();
    const std::size_t n = std::min(s.size(), trace_block::capacity - b.used);
    char* at = b.data.get() + b.used;
    std::memcpy(at, s.data(), n);
    if (newlines_to_spaces) std::replace(at, at + n, '\n', ' ');
    b.used += n;
    bytes_ += n;
    s.remove_prefix(n);
  }
}

boost::system::error_code write_blocks(int fd, const std::vector<trace_block>& blocks) {
  std::vector<iovec> iov;
  std::size_t next = 0;   // the first block not completely written
  std::size_t offset = 0; // bytes of it already written
  while (next < blocks.size()) {
    iov.clear();
    for (std::size_t k = next; k < blocks.size() && iov.size() < IOV_MAX; ++k) {
      const std::size_t skip = k == next ? offset : 0;
      iov.push_back({blocks[k].data.get() + skip, blocks[k].used - skip});
    }
    const ssize_t n = ::writev(fd, iov.data(), static_cast<int>(iov.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return {errno, boost::system::system_category()};
    }
    if (n == 0) return {EIO, boost::system::system_category()};
    for (auto left = static_cast<std::size_t>(n); left > 0;) {
      const std::size_t rest = blocks[next].used - offset;
      if (left < rest) {
        offset += left;
        break;
      }
      left -= rest;
      ++next;
      offset = 0;
    }
  }
  return {};
}

} // namespace acp::conductor::detail
