#pragma once
// The trace writer's queue storage (private to trace.cpp): bytes in fixed-size blocks that are
// reused, so that a steady stream of events neither reallocates, nor copies what is queued, nor
// touches fresh pages; a batch goes out with writev(2). Not synchronized: the trace writer
// guards it with its mutex.

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace acp::conductor::detail {

struct trace_block {
  static constexpr std::size_t capacity = std::size_t{64} << 10;
  std::unique_ptr<char[]> data;
  std::size_t used = 0;
};

class trace_blocks {
public:
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] bool empty() const noexcept { return bytes_ == 0; }

  /// Appends `s`; with `newlines_to_spaces` every '\n' of it becomes ' '. New blocks are taken
  /// from `spares` (else allocated).
  void append(std::string_view s, std::vector<trace_block>& spares, bool newlines_to_spaces = false);

  /// Hands the queued blocks to `out` (which must be empty) and leaves the queue empty; the two
  /// vectors trade their storage, so this allocates nothing.
  void take(std::vector<trace_block>& out) noexcept {
    out.swap(blocks_);
    bytes_ = 0;
  }

private:
  std::vector<trace_block> blocks_;
  std::size_t bytes_ = 0;
};

/// Writes every block's bytes in order with writev(2), resuming after partial writes and EINTR.
/// The errno of the first failure.
[[nodiscard]] boost::system::error_code write_blocks(int fd, const std::vector<trace_block>& blocks);

} // namespace acp::conductor::detail
